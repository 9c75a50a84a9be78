package e2e

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/onramp-dev/onramp/api/apitest"
	"github.com/onramp-dev/onramp/stack"
)

// portals are the origins of the portals this run started: api/openapi.yaml describes their
// answers, not those of Kratos, Temporal's UI or the gateways, which the same helpers call.
var portals sync.Map

// startStack is stack.Start that records the portal's origin for CheckAgainstSpec.
func startStack(ctx context.Context, cfg stack.Config) (*stack.Stack, error) {
	st, err := stack.Start(ctx, cfg)
	if err == nil && cfg.Roles.Portal {
		portalAt(st.PortalURL)
	}
	return st, err
}

// portalAt records that a portal answers at base.
func portalAt(base string) {
	if u, err := url.Parse(base); err == nil {
		portals.Store(u.Host, true)
	}
}

// CheckAgainstSpec checks a request to a portal of this run and its answer against
// api/openapi.yaml (apitest.Contract.Check): the request and the answer must match the document,
// and a route the portal serves where the document applies must be in it.
func CheckAgainstSpec(tb testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	tb.Helper()
	if ex, ok := portalExchange(req, reqBody, status, header, body); ok {
		apitest.MustContract(tb).Check(tb, ex)
	}
}

// CheckInvalidAgainstSpec is CheckAgainstSpec for a request that breaks the document on purpose.
func CheckInvalidAgainstSpec(tb testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	tb.Helper()
	ex, ok := portalExchange(req, reqBody, status, header, body)
	if !ok {
		tb.Fatalf("%s %s is marked as breaking api/openapi.yaml, but it is not a request to a portal", req.Method, req.URL)
	}
	apitest.MustContract(tb).CheckInvalid(tb, ex)
}

func portalExchange(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) (apitest.Exchange, bool) {
	if _, ok := portals.Load(req.URL.Host); !ok {
		return apitest.Exchange{}, false
	}
	return apitest.Exchange{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone(), Body: reqBody,
		Status: status, RHeader: header, Response: body}, true
}
