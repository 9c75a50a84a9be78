package gateway

import (
	"context"
	"net/http"
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

// findRoute resolves the operation of the request below /<product>/<version>; only found
// operations are remembered (a flood of wrong paths is not).
func (cp *compiled) findRoute(inner *http.Request) (*routers.Route, map[string]string, error) {
	m, err := cp.matches.get(inner.Method+" "+inner.URL.Path, func() (match, error) {
		route, params, err := cp.router.FindRoute(inner)
		return match{route, params}, err
	})
	return m.route, m.params, err
}

// validate checks the request against its operation.
func (cp *compiled) validate(ctx context.Context, inner *http.Request, route *routers.Route, params map[string]string, body []byte) error {
	check := func() (validation, error) {
		err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{Request: inner, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}})
		return validation{err}, nil
	}
	if len(body) > 0 || route.Operation.RequestBody != nil || readsHeaders(route.Operation.Parameters) || (route.PathItem != nil && readsHeaders(route.PathItem.Parameters)) {
		v, _ := check()
		return v.err
	}
	v, _ := cp.checks.get(inner.Method+" "+inner.URL.Path+"?"+inner.URL.RawQuery, check)
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
