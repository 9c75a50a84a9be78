package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// A published version never changes, so what a request resolves to in it, and whether a bodiless
// request without header or cookie parameters is valid, depend only on its method, path and query:
// both are remembered per version (gorilla/mux matching walks regular expressions, and
// kin-openapi's validation decodes every parameter on each call).
const maxRemembered = 10_000

// match is the operation a method and path resolve to.
type match struct {
	route  *routers.Route
	params map[string]string
}

// validation is a request's validation result (nil: valid).
type validation struct{ err error }

// inner is a call as seen below /<product>/<version>: the request routing and validation read,
// built only when what they answer is not remembered.
type inner struct {
	r    *http.Request
	rest string // the path below /<product>/<version>
	body []byte
	req  *http.Request
}

func (in *inner) request() *http.Request {
	if in.req == nil {
		req := in.r.WithContext(in.r.Context()) // a shallow copy: routing and validation only read its headers
		req.URL = &url.URL{Scheme: "http", Host: "gateway", Path: in.rest, RawQuery: in.r.URL.RawQuery}
		req.Host = "gateway"
		req.Body = io.NopCloser(bytes.NewReader(in.body))
		in.req = req
	}
	return in.req
}

// findRoute resolves the operation of the call; only found operations are remembered (a flood of
// wrong paths is not). The key, "<method> <path>", is built on the stack.
func (cp *compiled) findRoute(in *inner) (*routers.Route, map[string]string, error) {
	var buf [256]byte
	key := append(append(append(buf[:0], in.r.Method...), ' '), in.rest...)
	m, err := cp.matches.getBytes(key, func() (match, error) {
		route, params, err := cp.router.FindRoute(in.request())
		return match{route, params}, err
	})
	return m.route, m.params, err
}

// validate checks the call against its operation.
func (cp *compiled) validate(ctx context.Context, in *inner, route *routers.Route, params map[string]string) error {
	check := func() (validation, error) {
		err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{Request: in.request(), PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}})
		return validation{err}, nil
	}
	if len(in.body) > 0 || route.Operation.RequestBody != nil || readsHeaders(route.Operation.Parameters) || (route.PathItem != nil && readsHeaders(route.PathItem.Parameters)) {
		v, _ := check()
		return v.err
	}
	var buf [512]byte // "<method> <path>?<query>"
	key := append(append(append(append(append(buf[:0], in.r.Method...), ' '), in.rest...), '?'), in.r.URL.RawQuery...)
	v, _ := cp.checks.getBytes(key, check)
	return v.err
}

// readsHeaders reports whether a validation depends on headers or cookies.
func readsHeaders(ps openapi3.Parameters) bool {
	for _, p := range ps {
		if p.Value != nil && (p.Value.In == openapi3.ParameterInHeader || p.Value.In == openapi3.ParameterInCookie) {
			return true
		}
	}
	return false
}

func newRemembered() (*cache[match], *cache[validation]) {
	return newCache[match](0, maxRemembered, time.Now), newCache[validation](0, maxRemembered, time.Now)
}
