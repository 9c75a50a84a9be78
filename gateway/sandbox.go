package gateway

import (
	"encoding/json"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onramp-dev/onramp/specs"
)

// The sandbox answers like production with synthetic data: the operation's success response,
// its example when the spec has one that matches the schema, otherwise data generated from the
// schema. The data is seeded by the request, so a retried request sees the same answer.

// sandboxResponse picks the operation's success status and body for a request's seed.
func sandboxResponse(op *openapi3.Operation, seed uint64) (status int, contentType string, body []byte, err error) {
	code, resp := successResponse(op)
	status = code
	if resp == nil || len(resp.Content) == 0 {
		return status, "", nil, nil
	}
	mt, media := jsonMedia(resp.Content)
	if media == nil {
		return status, "", nil, nil
	}
	v := documentedExample(media)
	if v == nil {
		v = specs.Generate(media.Schema, seed)
	}
	body, err = json.Marshal(v)
	return status, mt, body, err
}

// documentedExample returns the media type's example, or its first named example by name, that is
// valid against its schema: real documents often have examples that are not, and serving one
// would teach partners the wrong shape. nil when there is none.
func documentedExample(media *openapi3.MediaType) any {
	candidates := []any{media.Example}
	names := make([]string, 0, len(media.Examples))
	for n := range media.Examples {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if ex := media.Examples[n]; ex != nil && ex.Value != nil {
			candidates = append(candidates, ex.Value.Value)
		}
	}
	for _, v := range candidates {
		if v != nil && (media.Schema == nil || media.Schema.Value == nil || specs.Fits(media.Schema.Value, v)) {
			return v
		}
	}
	return nil
}

// successResponse returns the lowest 2xx response (or default, answered as 200).
func successResponse(op *openapi3.Operation) (int, *openapi3.Response) {
	if op.Responses == nil {
		return 200, nil
	}
	best := 0
	var out *openapi3.Response
	for code, ref := range op.Responses.Map() {
		n, err := strconv.Atoi(code)
		if err != nil || n < 200 || n > 299 || ref == nil || ref.Value == nil {
			continue
		}
		if best == 0 || n < best {
			best, out = n, ref.Value
		}
	}
	if out != nil {
		return best, out
	}
	if d := op.Responses.Default(); d != nil && d.Value != nil {
		return 200, d.Value
	}
	return 200, nil
}

func jsonMedia(c openapi3.Content) (string, *openapi3.MediaType) {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "json") {
			return k, c[k]
		}
	}
	return "", nil
}

// seedOf derives the sandbox seed from what identifies a request (method, path, query, body).
func seedOf(parts ...[]byte) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return h.Sum64()
}
