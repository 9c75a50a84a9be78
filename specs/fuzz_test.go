package specs_test

import (
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onramp-dev/onramp/specs"
)

// FuzzGenerate: sandbox data generation from arbitrary schemas never panics and is JSON.
func FuzzGenerate(f *testing.F) {
	for _, seed := range []string{
		`{"type":"object","required":["id"],"properties":{"id":{"type":"string","format":"uuid"},"n":{"type":"integer","minimum":5,"maximum":3}}}`,
		`{"type":"array","minItems":100000,"items":{"type":"number","minimum":-1e308,"maximum":1e308}}`,
		`{"type":"string","minLength":99999999,"maxLength":2}`,
		`{"oneOf":[{"type":"boolean"}],"allOf":[{"type":"object","properties":{"a":{"enum":[1,"x",null]}}}]}`,
		`{"type":"integer","exclusiveMinimum":true,"minimum":9223372036854775807}`,
		`{"type":["null","string"],"format":"date-time"}`,
		`{}`,
	} {
		f.Add([]byte(seed), uint64(42))
	}
	f.Fuzz(func(t *testing.T, raw []byte, seed uint64) {
		var s openapi3.Schema
		if err := json.Unmarshal(raw, &s); err != nil {
			return
		}
		v := specs.Generate(&openapi3.SchemaRef{Value: &s}, seed)
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("generated %v is not JSON: %v", v, err)
		}
		again := specs.Generate(&openapi3.SchemaRef{Value: &s}, seed)
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("not deterministic: %s vs %s", a, b)
		}
	})
}
