package api_test

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp/api/apitest"
)

var (
	ginParam = regexp.MustCompile(`[:*][^/]+`)
	docParam = regexp.MustCompile(`\{[^}]+\}`)
)

// Every route the portal serves where api/openapi.yaml applies is in the document, and every
// operation the document describes is served, whether or not a test calls it.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	h := MustHarness(t, true) // dev mode, so the dev mailbox's routes are served too
	served := map[string]bool{}
	for _, r := range h.srv.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if apitest.Documented(path) {
			served[method+" "+ginParam.ReplaceAllString(path, "{}")] = true
		}
	}
	documented := map[string]bool{}
	for path, item := range h.contract.Doc.Paths.Map() {
		if !apitest.Documented(path) {
			t.Errorf("api/openapi.yaml describes %s, outside what apitest.Documented says it covers", path)
		}
		for method := range item.Operations() {
			documented[method+" "+docParam.ReplaceAllString(path, "{}")] = true
		}
	}
	for _, r := range slices.Sorted(maps.Keys(served)) {
		if !documented[r] {
			t.Errorf("%s is served but not in api/openapi.yaml", r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(documented)) {
		if !served[r] {
			t.Errorf("%s is in api/openapi.yaml but not served", r)
		}
	}
	if len(served) < 60 {
		t.Errorf("%d API routes served, want the 60 and more the portal has: is Routes empty?", len(served))
	}
}
