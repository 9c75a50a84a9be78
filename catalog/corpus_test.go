package catalog_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/internal/speccheck"
	"github.com/onramp-dev/onramp/specs"
)

// specsTestdata holds the real documents (specs/testdata/ory/README.md says where each is from).
const specsTestdata = "../specs/testdata/"

func MustReadSpec(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(specsTestdata + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// finding is a finding a corpus document must have: at least one of rule at location.
type finding struct{ rule, location string }

// corpus is every real document the catalog must publish, with the findings that show it was
// really looked at, and how many findings of each rule it has exactly.
var corpus = []struct {
	file      string
	converted bool
	has       []finding
	counts    map[string]int // rule → exactly this many findings
}{
	{file: "ory/client-go-v1.22.92-openapi.yaml",
		has:    []finding{{specs.RuleExampleInvalid, "components.schemas.DeriveTokenResponse"}, {specs.RuleSecuritySchemeUndefined, "paths./self-service/settings.post"}},
		counts: map[string]int{specs.RuleExampleInvalid: 159, specs.RuleSecuritySchemeUndefined: 1, specs.RuleInvalid: 0}},
	{file: "ory/kratos-v1.3.1-api.json",
		has:    []finding{{specs.RuleInfoVersionEmpty, "info.version"}, {specs.RuleSecuritySchemeUndefined, "paths./self-service/settings.post"}},
		counts: map[string]int{specs.RuleInfoVersionEmpty: 1, specs.RuleSecuritySchemeUndefined: 1, specs.RuleInvalid: 0}},
	{file: "ory/kratos-v1.3.1-swagger.json", converted: true,
		has:    []finding{{specs.RuleSecuritySchemeUndefined, "paths./self-service/settings.post"}},
		counts: map[string]int{specs.RuleSecuritySchemeUndefined: 1, specs.RuleInvalid: 0}},
	{file: "oai-petstore.yaml", has: []finding{{specs.RuleInfoDescription, "info.description"}}, counts: map[string]int{specs.RuleInvalid: 0, specs.RuleOperationIDMissing: 0}},
	{file: "oai-petstore-expanded.yaml", counts: map[string]int{specs.RuleInvalid: 0, specs.RuleOperationIDMissing: 0, specs.RuleInfoDescription: 0}},
	{file: "oai-api-with-examples.yaml", has: []finding{{specs.RuleInfoDescription, "info.description"}}, counts: map[string]int{specs.RuleExampleInvalid: 0}},
	{file: "oai-uspto.yaml", counts: map[string]int{specs.RuleInvalid: 0, specs.RuleComponentUnused: 0}},
	{file: "oai-callback-example.yaml", has: []finding{{specs.RuleOperationIDMissing, "paths./streams.post"}}, counts: map[string]int{specs.RuleOperationIDMissing: 1}},
	{file: "oai-link-example.yaml", has: []finding{{specs.RuleOperationDescription, "paths./2.0/users/{username}.get"}}, counts: map[string]int{specs.RuleOperationDescription: 6}},
	{file: "swagger2-petstore.yaml", converted: true, has: []finding{{specs.RuleOperationDescription, "paths./pets.get"}}, counts: map[string]int{specs.RuleInvalid: 0}},
	{file: "deliveries-3.1.yaml",
		has: []finding{{specs.RuleExampleInvalid, "paths./deliveries/{deliveryId}.get"}, {specs.RuleOperationIDMissing, "paths./deliveries/{deliveryId}.get"},
			{specs.RuleComponentUnused, "components.schemas.LegacyAddress"}},
		counts: map[string]int{specs.RuleExampleInvalid: 1, specs.RuleComponentUnused: 1, specs.RuleOperationIDMissing: 1, specs.RuleInvalid: 0}},
}

// Every real document publishes with its findings, its scoped download is produced, and the
// download passes swagger-parser and generates a Go client that compiles.
func TestCorpusOfRealDocumentsPublishes(t *testing.T) {
	c, store := MustDemoCatalog(t)
	for i, doc := range corpus {
		t.Run(doc.file, func(t *testing.T) {
			slug := "corpus-" + strconv.Itoa(i)
			if err := c.SaveProduct(t.Context(), onramp.Product{Slug: slug, Name: doc.file}); err != nil {
				t.Fatal(err)
			}
			out, err := c.Publish(t.Context(), catalog.Publish{Product: slug, Version: "v1", Spec: MustReadSpec(t, doc.file)})
			if err != nil {
				t.Fatalf("Publish: %v %+v", err, onramp.ErrorDetails(err))
			}
			if out.Converted != doc.converted || len(out.Version.Operations) == 0 {
				t.Errorf("converted = %v, %d operations; want converted %v and operations", out.Converted, len(out.Version.Operations), doc.converted)
			}
			mustHaveFindings(t, out.Findings, doc.has, doc.counts)
			stored, err := store.FindVersion(t.Context(), slug, "v1")
			if err != nil || len(stored.Findings) != len(out.Findings) {
				t.Fatalf("stored findings = %d, %v; want the %d published", len(stored.Findings), err, len(out.Findings))
			}
			mustCheckDownload(t, c, slug, len(out.Version.Operations))
		})
	}
}

// mustHaveFindings checks that findings include each of has and exactly counts[rule] of each
// rule, and that every finding is located and explained.
func mustHaveFindings(tb testing.TB, findings []onramp.Finding, has []finding, counts map[string]int) {
	tb.Helper()
	got := map[string]int{}
	for _, f := range findings {
		got[f.Rule]++
		if f.Location == "" || f.Message == "" || !slices.Contains([]string{onramp.SeverityError, onramp.SeverityWarning, onramp.SeverityInfo}, f.Severity) {
			tb.Errorf("finding %+v lacks a location, a message or a severity", f)
		}
	}
	for _, want := range has {
		if !slices.ContainsFunc(findings, func(f onramp.Finding) bool { return f.Rule == want.rule && f.Location == want.location }) {
			tb.Errorf("no %s finding at %s (counts: %v)", want.rule, want.location, got)
		}
	}
	for rule, n := range counts {
		if got[rule] != n {
			tb.Errorf("%d %s findings, want exactly %d", got[rule], rule, n)
		}
	}
}

// mustCheckDownload assigns every scope of the product to an organisation, downloads the scoped
// document as YAML and JSON, and checks both with kin-openapi and swagger-parser, and the YAML
// with a generated Go client.
func mustCheckDownload(tb testing.TB, c *catalog.Catalog, slug string, operations int) {
	tb.Helper()
	scopes, err := c.Scopes(tb.Context(), slug)
	if err != nil {
		tb.Fatal(err)
	}
	org := onramp.Organization{ID: "org_" + slug, Tier: "standard", Status: onramp.OrgActive}
	if _, err := c.Assign(tb.Context(), onramp.Assignment{OrgID: org.ID, Product: slug, Plan: "standard", Grant: onramp.Grant{Scopes: scopes,
		Environments: onramp.Environments, Quota: onramp.Quota{Limit: 100, Period: "day"}}}); err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	for _, format := range []string{"yaml", "json"} {
		body, _, err := c.Download(tb.Context(), org, slug, "latest", format)
		if err != nil {
			tb.Fatalf("%s download: %v", format, err)
		}
		s, err := specs.Parse(tb.Context(), body)
		if err != nil {
			tb.Fatalf("the %s download does not parse: %v %+v", format, err, onramp.ErrorDetails(err))
		}
		if n := len(specs.Operations(s.Doc, slug)); n != operations {
			tb.Errorf("the %s download has %d operations, want all %d", format, n, operations)
		}
		if format == "json" && !json.Valid(body) {
			tb.Error("the JSON download is not JSON")
		}
		file := filepath.Join(dir, "openapi."+format)
		if err := os.WriteFile(file, body, 0o644); err != nil {
			tb.Fatal(err)
		}
		speccheck.MustSwaggerParse(tb, file)
	}
	speccheck.MustGenerateGoClient(tb, filepath.Join(dir, "openapi.yaml"))
}
