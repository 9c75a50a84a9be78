package specs_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/specs"
)

func MustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func MustParse(tb testing.TB, data []byte) *specs.Spec {
	tb.Helper()
	s, err := specs.Parse(context.Background(), data)
	if err != nil {
		tb.Fatalf("Parse: %v %+v", err, onramp.ErrorDetails(err))
	}
	return s
}

func TestParsePublicExamples(t *testing.T) {
	for _, name := range []string{"oai-petstore.yaml", "oai-petstore-expanded.yaml", "oai-api-with-examples.yaml", "oai-uspto.yaml"} {
		t.Run(name, func(t *testing.T) {
			s := MustParse(t, MustRead(t, name))
			if len(specs.Operations(s.Doc, "x")) == 0 {
				t.Error("no operations found")
			}
			if s.Converted {
				t.Error("an OpenAPI 3 document is reported as converted")
			}
		})
	}
}

func TestOperationScopes(t *testing.T) {
	src := strings.Replace(string(MustRead(t, "oai-petstore.yaml")), "operationId: createPets", "operationId: createPets\n      x-onramp-scope: pets:admin", 1)
	ops := specs.Operations(MustParse(t, []byte(src)).Doc, "pets")
	got := map[string]string{}
	for _, op := range ops {
		got[op.ID] = op.Scope
	}
	want := map[string]string{"listPets": "pets:read", "createPets": "pets:admin", "showPetById": "pets:read"}
	for id, scope := range want {
		if got[id] != scope {
			t.Errorf("scope of %s = %q, want %q (all: %v)", id, got[id], scope, got)
		}
	}
}

// MustFinding returns the finding of rule at location, failing when there is none.
func MustFinding(tb testing.TB, findings []onramp.Finding, rule, location string) onramp.Finding {
	tb.Helper()
	i := slices.IndexFunc(findings, func(f onramp.Finding) bool { return f.Rule == rule && f.Location == location })
	if i < 0 {
		var all []string
		for _, f := range findings {
			all = append(all, f.Severity+" "+f.Rule+" "+f.Location+": "+f.Message)
		}
		tb.Fatalf("no %s finding at %s in:\n%s", rule, location, strings.Join(all, "\n"))
	}
	return findings[i]
}

// What used to refuse a document is now a finding, located, and the document publishes.
func TestParseReportsFindingsWithLocations(t *testing.T) {
	doc := `openapi: 3.0.3
info: {title: Payments}
paths:
  /payments:
    post:
      operationId: createPayment
      requestBody:
        content:
          application/json:
            schema: {type: objectx}
      responses: {}
  /refunds:
    post:
      operationId: createPayment
      responses: {"201": {description: created}}
    get:
      responses: {"200": {description: ok}}
`
	s := MustParse(t, []byte(doc))
	if f := MustFinding(t, s.Findings, specs.RuleInfoVersionEmpty, "info.version"); f.Severity != onramp.SeverityWarning {
		t.Errorf("empty version = %+v, want a warning", f)
	}
	var invalid []string
	for _, f := range s.Findings {
		if f.Rule == specs.RuleInvalid && f.Location == "paths./payments.post" {
			invalid = append(invalid, f.Message)
		}
	}
	if len(invalid) != 2 || !strings.Contains(strings.Join(invalid, "|"), `unsupported 'type' value "objectx"`) || !strings.Contains(strings.Join(invalid, "|"), "responses object") {
		t.Errorf("paths./payments.post findings = %q, want the bad type and the empty responses", invalid)
	}
	dup := MustFinding(t, s.Findings, specs.RuleOperationIDDuplicate, "paths./refunds.post.operationId")
	if dup.Severity != onramp.SeverityError || !strings.Contains(dup.Message, "createPayment_2") || !strings.Contains(dup.Message, "paths./payments.post") {
		t.Errorf("duplicate = %+v, want an error naming the first use and the new id", dup)
	}
	MustFinding(t, s.Findings, specs.RuleOperationIDMissing, "paths./refunds.get")
	var ids []string
	for _, op := range specs.Operations(s.Doc, "payments") {
		ids = append(ids, op.ID)
	}
	if got, want := strings.Join(ids, ","), "createPayment,getRefunds,createPayment_2"; got != want {
		t.Errorf("operation ids = %s, want %s (unique, derived, the same in the stored document)", got, want)
	}
	if again := MustParse(t, s.JSON); len(again.Findings) >= len(s.Findings) || again.SHA256() != s.SHA256() {
		t.Errorf("re-parsing the stored document: %d findings (was %d), sha %s (was %s); want the ids kept as stored", len(again.Findings), len(s.Findings), again.SHA256(), s.SHA256())
	}
	for i := 1; i < len(s.Findings); i++ {
		if rank(s.Findings[i-1].Severity) > rank(s.Findings[i].Severity) {
			t.Fatalf("findings are not most severe first: %+v", s.Findings)
		}
	}
}

func rank(severity string) int {
	return slices.Index([]string{onramp.SeverityError, onramp.SeverityWarning, onramp.SeverityInfo}, severity)
}

// A written operationId is never taken by a derived one, and the result is stable.
func TestOperationIDsAreDerivedStably(t *testing.T) {
	doc := `openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      responses: {"200": {description: ok}}
  /zoo:
    get:
      operationId: getPets
      responses: {"200": {description: ok}}
  /pets/{petId}:
    get:
      parameters: [{name: petId, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
`
	for range 3 {
		ops := specs.Operations(MustParse(t, []byte(doc)).Doc, "pets")
		got := map[string]string{}
		for _, op := range ops {
			got[op.Method+" "+op.Path] = op.ID
		}
		if got["GET /zoo"] != "getPets" || got["GET /pets"] != "getPets_2" || got["GET /pets/{petId}"] != "getPetsPetId" {
			t.Fatalf("ids = %v, want the written getPets kept and the derived ones around it", got)
		}
	}
}

func TestParseRefusesWhatCannotBeServed(t *testing.T) {
	head := "openapi: 3.0.3\ninfo: {title: x, version: '1'}\n"
	for name, tt := range map[string]struct{ doc, location string }{
		"malformed scope":  {head + "paths:\n  /a:\n    get:\n      x-onramp-scope: not a scope\n      responses: {'200': {description: ok}}\n", "paths./a.get.x-onramp-scope"},
		"no operations":    {head + "paths: {}\n", "paths"},
		"unresolved $ref":  {head + "paths:\n  /a:\n    get:\n      responses: {'200': {$ref: '#/components/responses/Missing'}}\n", "$ref"},
		"reference to URL": {head + "paths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: 'https://example.com/r.yaml'}\n", "paths./a.get.responses.200.$ref"},
		"other file":       {head + "paths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: 'responses.yaml#/ok'}\n", "paths./a.get.responses.200.$ref"},
		"absolute path":    {head + "paths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: '/etc/passwd'}\n", "paths./a.get.responses.200.$ref"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := specs.Parse(context.Background(), []byte(tt.doc))
			details := onramp.ErrorDetails(err)
			if onramp.ErrorCode(err) != onramp.EINVALID || len(details) != 1 || details[0].Location != tt.location || details[0].Message == "" {
				t.Fatalf("err = %v %+v, want EINVALID with one problem at %s", err, details, tt.location)
			}
		})
	}
}

func TestParseConvertsSwagger2(t *testing.T) {
	s := MustParse(t, MustRead(t, "swagger2-petstore.yaml"))
	if !s.Converted || !strings.HasPrefix(s.Doc.OpenAPI, "3.") {
		t.Fatalf("Converted = %v, openapi = %q; want a converted OpenAPI 3 document", s.Converted, s.Doc.OpenAPI)
	}
	if s.Doc.Components.Schemas["Pet"] == nil {
		t.Error("definitions were not converted to components.schemas")
	}
}

func TestExportKeepsOnlyAllowedOperations(t *testing.T) {
	s := MustParse(t, MustRead(t, "oai-petstore.yaml"))
	out, err := specs.Export(s.Doc, "pets", map[string]bool{"listPets": true, "showPetById": true},
		[]specs.Server{{URL: "http://127.0.0.1:1/pets", Description: "sandbox"}, {URL: "http://127.0.0.1:2/pets", Description: "production"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, op := range specs.Operations(out, "pets") {
		ids = append(ids, op.ID)
	}
	if got, want := strings.Join(ids, ","), "listPets,showPetById"; got != want {
		t.Errorf("operations = %s, want %s", got, want)
	}
	if len(out.Servers) != 2 || out.Servers[0].URL != "http://127.0.0.1:1/pets" {
		t.Errorf("servers = %+v", out.Servers)
	}
	if out.Components.SecuritySchemes[specs.SchemeAPIKey].Value.Name != "X-API-Key" || len(out.Security) != 2 {
		t.Errorf("security = %+v", out.Security)
	}
	if s.Doc.Paths.Find("/pets").Post == nil {
		t.Error("Export changed the original document")
	}
	for _, format := range []string{"json", "yaml"} {
		b, err := specs.Encode(out, format)
		if err != nil {
			t.Fatal(err)
		}
		back := MustParse(t, b)
		if back.Doc.Paths.Find("/pets").Post != nil || back.Doc.Paths.Find("/pets").Get.Extensions[specs.ScopeExtension] != "pets:read" {
			t.Errorf("%s round trip lost the export", format)
		}
		if format == "yaml" && !strings.Contains(string(b), `"200":`) && !strings.Contains(string(b), `'200':`) {
			t.Errorf("YAML does not quote status codes:\n%s", b[:400])
		}
	}
}

func changelog(t *testing.T, base string, edit func(string) string) []specs.Change {
	t.Helper()
	src := string(MustRead(t, base))
	a, b := MustParse(t, []byte(src)), MustParse(t, []byte(edit(src)))
	changes, err := specs.Changelog(a.Doc, b.Doc)
	if err != nil {
		t.Fatal(err)
	}
	return changes
}

func TestChangelogClassifies(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(string) string
		wantID   string
		wantLvl  string
		breaking bool
	}{
		{"removed operation", func(s string) string {
			return strings.Replace(s, "  /pets/{petId}:", "  /unused/{petId}:", 1)
		}, "api-path-removed-without-deprecation", specs.Breaking, true},
		{"new required parameter", func(s string) string {
			return strings.Replace(s, "          required: false\n", "          required: true\n", 1)
		}, "request-parameter-became-required", specs.Breaking, true},
		{"changed success status", func(s string) string {
			return strings.Replace(s, "'201':\n          description: Null response", "'202':\n          description: Null response", 1)
		}, "response-success-status-removed", specs.Breaking, true},
		{"narrowed maximum", func(s string) string {
			return strings.Replace(s, "maximum: 100", "maximum: 50", 1)
		}, "request-parameter-max-decreased", specs.Breaking, true},
		{"new optional parameter", func(s string) string {
			return strings.Replace(s, "      parameters:\n        - name: limit", "      parameters:\n        - name: cursor\n          in: query\n          schema: {type: string}\n        - name: limit", 1)
		}, "new-optional-request-parameter", specs.NonBreaking, false},
		{"new operation", func(s string) string {
			return strings.Replace(s, "components:", "  /health:\n    get:\n      operationId: health\n      responses:\n        '200': {description: ok}\ncomponents:", 1)
		}, "endpoint-added", specs.NonBreaking, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes := changelog(t, "oai-petstore.yaml", tt.edit)
			i := slices.IndexFunc(changes, func(c specs.Change) bool { return c.ID == tt.wantID })
			if i < 0 {
				t.Fatalf("no %s change in %+v", tt.wantID, changes)
			}
			if changes[i].Level != tt.wantLvl || changes[i].Text == "" {
				t.Errorf("change = %+v, want level %s with text", changes[i], tt.wantLvl)
			}
			if specs.HasBreaking(changes) != tt.breaking {
				t.Errorf("HasBreaking = %v, want %v", !tt.breaking, tt.breaking)
			}
		})
	}
}

func TestChangelogOfIdenticalSpecsIsEmpty(t *testing.T) {
	if changes := changelog(t, "oai-uspto.yaml", func(s string) string { return s }); len(changes) != 0 {
		t.Errorf("changes = %+v, want none", changes)
	}
}

func TestChangelogBetweenPublicPetstores(t *testing.T) {
	a := MustParse(t, MustRead(t, "oai-petstore.yaml"))
	b := MustParse(t, MustRead(t, "oai-petstore-expanded.yaml"))
	changes, err := specs.Changelog(a.Doc, b.Doc)
	if err != nil {
		t.Fatal(err)
	}
	if !specs.HasBreaking(changes) {
		t.Fatalf("petstore → petstore-expanded drops /pets/{petId}; changes = %+v", changes)
	}
	for i := 1; i < len(changes); i++ {
		if changes[i-1].Level == specs.NonBreaking && changes[i].Level == specs.Breaking {
			t.Fatal("breaking changes are not listed first")
		}
	}
}

// OpenAPI 3.1: webhooks and the keywords beside a $ref survive publication and the download.
func TestParseKeepsOpenAPI31(t *testing.T) {
	s := MustParse(t, MustRead(t, "deliveries-3.1.yaml"))
	if s.Doc.Webhooks["deliveryStatusChanged"] == nil || !s.Doc.IsOpenAPI31OrLater() {
		t.Fatalf("webhooks = %v, openapi %s; want the 3.1 webhook kept", s.Doc.Webhooks, s.Doc.OpenAPI)
	}
	for _, want := range []string{`"$ref":"#/components/schemas/Status","description":"Where the parcel is."`, `"type":["string","null"]`, `"exclusiveMinimum":0`} {
		if !strings.Contains(string(s.JSON), want) {
			t.Errorf("the stored document lost %s", want)
		}
	}
	out, err := specs.Export(s.Doc, "deliveries", map[string]bool{"listDeliveries": true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Webhooks["deliveryStatusChanged"] == nil || len(specs.Operations(out, "deliveries")) != 1 {
		t.Errorf("the download has webhooks %v and %d operations, want the webhook and listDeliveries", out.Webhooks, len(specs.Operations(out, "deliveries")))
	}
}

// Generate never returns a schema's example, const, enum value or default that does not fit it.
func TestGenerateSkipsValuesThatDoNotFit(t *testing.T) {
	date := &openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "date", Example: "05/11/2026", Default: "tomorrow", Enum: []any{"soon", "2026-11-05"}}
	for seed := range uint64(20) {
		if got := specs.Generate(&openapi3.SchemaRef{Value: date}, seed); got != "2026-11-05" {
			t.Fatalf("seed %d: %v, want the one enum value that is a date", seed, got)
		}
	}
	object := &openapi3.Schema{Type: &openapi3.Types{"object"}, Example: "{}", Properties: openapi3.Schemas{"id": {Value: &openapi3.Schema{Type: &openapi3.Types{"integer"}}}}}
	got, isObject := specs.Generate(&openapi3.SchemaRef{Value: object}, 1).(map[string]any)
	if !isObject || !specs.Fits(object, got) {
		t.Errorf("Generate = %#v, want a generated object instead of the string example", got)
	}
	fine := &openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "date", Example: "2026-01-31"}
	if got := specs.Generate(&openapi3.SchemaRef{Value: fine}, 1); got != "2026-01-31" {
		t.Errorf("Generate = %v, want the fitting example", got)
	}
}

// A path item used by two paths (3.1 components.pathItems) still gives each path its own,
// unique operationId.
func TestSharedPathItemsGetAnOperationIDEach(t *testing.T) {
	doc := `openapi: 3.1.0
info: {title: Notes, version: '1'}
paths:
  /notes:
    $ref: '#/components/pathItems/Listing'
  /archive:
    $ref: '#/components/pathItems/Listing'
components:
  pathItems:
    Listing:
      get:
        operationId: list
        responses: {'200': {description: ok}}
`
	s := MustParse(t, []byte(doc))
	got := map[string]string{}
	for _, op := range specs.Operations(s.Doc, "notes") {
		got[op.Path] = op.ID
	}
	if got["/archive"] != "list" || got["/notes"] != "list_2" {
		t.Errorf("ids = %v, want list and list_2", got)
	}
	stored, err := specs.Load(s.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if a, n := stored.Paths.Value("/archive").Get.OperationID, stored.Paths.Value("/notes").Get.OperationID; a != "list" || n != "list_2" {
		t.Errorf("stored ids = %s and %s, want list and list_2 in the stored document itself", a, n)
	}
	if !strings.Contains(string(s.JSON), `"pathItems":{"Listing":{"get":{"operationId":"list",`) {
		t.Errorf("the component's operationId changed:\n%s", s.JSON)
	}
	MustFinding(t, s.Findings, specs.RuleOperationIDDuplicate, "paths./notes.get.operationId")
}
