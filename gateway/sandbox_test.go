package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/specs"
)

// MustPublishProduct publishes file (from specs/testdata) as slug v1, assigns every scope of it
// to orgID in the sandbox and returns a sandbox key.
func (h *harness) MustPublishProduct(tb testing.TB, slug, file, orgID string) string {
	tb.Helper()
	doc, err := os.ReadFile("../specs/testdata/" + file)
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.cat.SaveProduct(tb.Context(), onramp.Product{Slug: slug, Name: slug}); err != nil {
		tb.Fatal(err)
	}
	out, err := h.cat.Publish(tb.Context(), catalog.Publish{Product: slug, Version: "v1", Spec: doc})
	if err != nil {
		tb.Fatalf("publish %s: %v %+v", file, err, onramp.ErrorDetails(err))
	}
	a := onramp.Assignment{OrgID: orgID, Product: slug, Plan: "standard", UpdatedAt: time.Now(), Grant: onramp.Grant{
		Scopes: catalog.ScopesOf([]onramp.ProductVersion{out.Version}), Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 100, Period: "day"}}}
	if err := h.catalog.SaveAssignment(tb.Context(), a); err != nil {
		tb.Fatal(err)
	}
	_, key, err := h.creds.Issue(tb.Context(), credentials.Request{OrgID: orgID, Environment: onramp.Sandbox})
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// mustMatchResponseSchema fails unless rec is a valid answer to method path in the version's document.
func (h *harness) mustMatchResponseSchema(tb testing.TB, slug, method, path string, rec *httptest.ResponseRecorder) {
	tb.Helper()
	v, err := h.catalog.FindVersion(tb.Context(), slug, "v1")
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := specs.Load([]byte(v.Spec))
	if err != nil {
		tb.Fatal(err)
	}
	router, err := specs.Router(doc)
	if err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest(method, path, nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		tb.Fatal(err)
	}
	err = openapi3filter.ValidateResponse(tb.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{MultiError: true}})
	if err != nil {
		tb.Errorf("%s %s: the sandbox body does not match the schema: %v\n%s", method, path, err, rec.Body)
	}
}

// Real documents have examples that do not match their schemas: the sandbox generates data that
// does instead of serving them, for a schema's example (Ory's identitySchemaContainer has
// "schema": "{}" for an object) and for a media type's named example (a date written 05/11/2026).
func TestSandboxNeverServesAnExampleThatDoesNotFitItsSchema(t *testing.T) {
	h := MustHarness(t)
	ory := h.MustPublishProduct(t, "ory", "ory/client-go-v1.22.92-openapi.yaml", "org_ory")
	rec := call(t, h.sandbox, "GET", "/ory/v1/schemas", ory, "")
	if rec.Code != 200 || rec.Header().Get("X-Onramp-Sandbox") != "synthetic" {
		t.Fatalf("GET /schemas = %d %s", rec.Code, rec.Body)
	}
	var schemas []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &schemas); err != nil || len(schemas) == 0 {
		t.Fatalf("body %s: %v, want a list of identity schemas", rec.Body, err)
	}
	for _, s := range schemas {
		if _, isObject := s["schema"].(map[string]any); !isObject {
			t.Errorf("schema = %#v, want an object (the document's example has the string \"{}\")", s["schema"])
		}
	}
	h.mustMatchResponseSchema(t, "ory", "GET", "/schemas", rec)

	deliveries := h.MustPublishProduct(t, "deliveries", "deliveries-3.1.yaml", "org_deliveries")
	rec = call(t, h.sandbox, "GET", "/deliveries/v1/deliveries/dlv_7q2", deliveries, "")
	var delivery map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &delivery); rec.Code != 200 || err != nil {
		t.Fatalf("GET /deliveries/dlv_7q2 = %d %s", rec.Code, rec.Body)
	}
	if date, _ := delivery["pickup_date"].(string); date == "05/11/2026" || len(date) != len("2026-11-05") {
		t.Errorf("pickup_date = %q, want a generated RFC 3339 date, not the document's 05/11/2026", date)
	}
	h.mustMatchResponseSchema(t, "deliveries", "GET", "/deliveries/dlv_7q2", rec)
}
