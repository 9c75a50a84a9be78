package specs_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

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

func TestParseRefusesInvalidWithLocations(t *testing.T) {
	doc := `openapi: 3.0.3
info: {title: Payments}
paths:
  /payments:
    post:
      operationId: createPayment
      x-onramp-scope: "not a scope"
      requestBody:
        content:
          application/json:
            schema: {type: objectx}
      responses: {}
  /refunds:
    post:
      operationId: createPayment
      responses: {"201": {description: created}}
`
	_, err := specs.Parse(context.Background(), []byte(doc))
	if onramp.ErrorCode(err) != onramp.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
	details := onramp.ErrorDetails(err)
	var locs []string
	for _, d := range details {
		locs = append(locs, d.Location+": "+d.Message)
	}
	for _, want := range []string{"info: value of version", "paths./payments.post: unsupported 'type' value \"objectx\"", "paths./payments.post: the responses object",
		"paths./payments.post.x-onramp-scope", "paths./refunds.post.operationId"} {
		if !slices.ContainsFunc(locs, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("no problem located at %q in:\n%s", want, strings.Join(locs, "\n"))
		}
	}
}

func TestParseRefusesWhatIsNotOpenAPI3(t *testing.T) {
	for name, doc := range map[string]string{
		"not yaml":     "{{{",
		"no version":   "info: {title: x}\npaths: {}\n",
		"openapi 2.x":  "openapi: 2.5\n",
		"swagger 1.2":  "swagger: \"1.2\"\n",
		"external ref": "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: 'https://example.com/r.yaml'}\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := specs.Parse(context.Background(), []byte(doc))
			if onramp.ErrorCode(err) != onramp.EINVALID || onramp.ErrorMessage(err) == "" {
				t.Fatalf("err = %v, want EINVALID with a message", err)
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
