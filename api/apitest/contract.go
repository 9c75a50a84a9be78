// Package apitest checks exchanges with the portal against api/openapi.yaml, the contract that the
// api package's tests and the end-to-end tests hold the server to.
package apitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/onramp-dev/onramp/api"
)

// The document describes the portal's machine interface: the JSON APIs, Kratos's web hooks, the
// operations endpoints and the dev mailbox's JSON and courier. The HTML UI, its form posts and
// the data its pages fetch (/usage/data.json), /static and the Kratos proxy under /.ory are not in it.
var (
	documentedPrefixes = []string{"/api/", "/admin/api/", "/hooks/", "/feeds/"}
	documentedPaths    = []string{"/healthz", "/readyz", "/metrics", "/dev/mail.json", "/dev/mail/courier"}
)

// Documented reports whether path belongs to the part of the portal that api/openapi.yaml
// describes, so that every route the portal serves there must be in the document.
func Documented(path string) bool {
	return slices.Contains(documentedPaths, path) || slices.ContainsFunc(documentedPrefixes, func(p string) bool { return strings.HasPrefix(path, p) })
}

// Contract is api/openapi.yaml, loaded and validated.
type Contract struct {
	Doc    *openapi3.T
	router routers.Router
}

var loaded struct {
	once     sync.Once
	contract *Contract
	err      error
}

// MustContract returns api/openapi.yaml, loaded once; it fails tb when the document is invalid.
func MustContract(tb testing.TB) *Contract {
	tb.Helper()
	loaded.once.Do(func() { loaded.contract, loaded.err = load() })
	if loaded.err != nil {
		tb.Fatalf("api/openapi.yaml: %v", loaded.err)
	}
	return loaded.contract
}

func load() (*Contract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("invalid: %w", err)
	}
	// Routes match by path whatever host and port the test's portal listens on; the document's
	// server is the dev default, and the router takes its own copy of the paths.
	routed := *doc
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, err
	}
	return &Contract{Doc: doc, router: router}, nil
}

// Exchange is one request to the portal and the answer it got.
type Exchange struct {
	Method   string
	URL      string // the request's URL; only its path and query are matched
	Header   http.Header
	Body     []byte // the request's body
	Status   int
	RHeader  http.Header // the response's header
	Response []byte      // the response's body
}

// Check fails tb when ex's request or response does not match the document, or when the portal
// answered a path the document should describe (see Documented) with anything but 404 or 405
// while the document does not describe it.
func (c *Contract) Check(tb testing.TB, ex Exchange) {
	tb.Helper()
	c.check(tb, ex, false)
}

// CheckInvalid is Check for a request that breaks the document on purpose (an attack, a missing
// credential, a malformed body): it fails tb when the request does match the document, so that
// the mark cannot outlive the reason for it, and checks the response as Check does.
func (c *Contract) CheckInvalid(tb testing.TB, ex Exchange) {
	tb.Helper()
	c.check(tb, ex, true)
}

func (c *Contract) check(tb testing.TB, ex Exchange, invalid bool) {
	tb.Helper()
	req, err := ex.request()
	if err != nil {
		tb.Fatalf("%s %s: %v", ex.Method, ex.URL, err)
	}
	if !Documented(req.URL.Path) {
		if invalid {
			tb.Errorf("%s %s is marked as breaking api/openapi.yaml, but the document does not cover %s", ex.Method, ex.URL, req.URL.Path)
		}
		return
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		// 404 and 405 are the portal saying it serves nothing there either.
		if ex.Status != http.StatusNotFound && ex.Status != http.StatusMethodNotAllowed {
			tb.Errorf("%s %s → %d: the portal serves this, but api/openapi.yaml does not describe it (%v)", ex.Method, req.URL.Path, ex.Status, err)
		}
		return
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:                credentialPresent,
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		MultiError:                        true,
		SkipSettingDefaults:               true, // the request as sent, in messages too
		// date, date-time and byte are checked; kin-openapi defines no validator for email.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()},
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	switch err := openapi3filter.ValidateRequest(context.Background(), in); {
	case err != nil && !invalid:
		tb.Errorf("%s %s: the request does not match api/openapi.yaml: %v\nbody: %s", ex.Method, req.URL.RequestURI(), err, ex.Body)
	case err == nil && invalid:
		tb.Errorf("%s %s is marked as breaking api/openapi.yaml, but it matches the document; check it as a valid request", ex.Method, req.URL.RequestURI())
	}
	// Response validation reads no request body, but options like the security context do.
	in.Request, _ = ex.request()
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: ex.Status, Header: ex.RHeader, Body: io.NopCloser(bytes.NewReader(ex.Response)), Options: opts,
	})
	if err != nil {
		tb.Errorf("%s %s → %d does not match api/openapi.yaml: %v\nbody: %s", ex.Method, req.URL.RequestURI(), ex.Status, err, ex.Response)
	}
}

func (ex Exchange) request() (*http.Request, error) {
	req, err := http.NewRequest(ex.Method, ex.URL, bytes.NewReader(ex.Body))
	if err != nil {
		return nil, err
	}
	req.Header = ex.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	return req, nil
}

// credentialPresent admits a request that carries a credential in the form the security scheme
// declares; whether the credential is any good is the portal's to decide, and its answer is checked.
func credentialPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s, r := in.SecurityScheme, in.RequestValidationInput.Request
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != "" {
			return nil
		}
		return fmt.Errorf("%s: no `Authorization: Bearer` credential", in.SecuritySchemeName)
	case s.Type == "apiKey" && s.In == "header":
		if r.Header.Get(s.Name) != "" {
			return nil
		}
		return fmt.Errorf("%s: no %s header", in.SecuritySchemeName, s.Name)
	case s.Type == "apiKey" && s.In == "query": // feed tokens: what Atom readers can send
		if r.URL.Query().Get(s.Name) != "" {
			return nil
		}
		return fmt.Errorf("%s: no %s query parameter", in.SecuritySchemeName, s.Name)
	}
	return errors.New(in.SecuritySchemeName + ": a security scheme of type " + s.Type + " that this check does not know")
}
