package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/onramp-dev/onramp/api"
)

var spec struct {
	once   sync.Once
	router routers.Router
	err    error
}

// CheckAgainstSpec validates a real response of the running portal against api/openapi.yaml:
// every documented route's answers must match the document (undocumented paths are skipped).
func CheckAgainstSpec(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	tb.Helper()
	spec.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err == nil {
			spec.router, err = gorillamux.NewRouter(doc)
		}
		spec.err = err
	})
	if spec.err != nil {
		tb.Fatalf("api/openapi.yaml: %v", spec.err)
	}
	// The document's server is the dev default; match the path whatever host the test used.
	u, _ := url.Parse("http://localhost:4000" + req.URL.RequestURI())
	probe := &http.Request{Method: req.Method, URL: u, Header: req.Header.Clone(), Body: io.NopCloser(bytes.NewReader(nil))}
	route, params, err := spec.router.FindRoute(probe)
	if err != nil {
		return
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
	})
	if err != nil {
		tb.Errorf("%s %s → %d does not match api/openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, status, err, body)
	}
}
