package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/internal/speccheck"
	"github.com/onramp-dev/onramp/specs"
	"github.com/onramp-dev/onramp/stack"
)

type catalogList struct {
	Products []struct {
		Slug          string   `json:"slug"`
		LatestVersion string   `json:"latest_version"`
		Scopes        []string `json:"scopes"`
	} `json:"products"`
	Tags []string `json:"tags"`
}

func (l catalogList) slugs() string {
	var out []string
	for _, p := range l.Products {
		out = append(out, p.Slug)
	}
	return strings.Join(out, ",")
}

type catalogOperation struct {
	ID      string   `json:"id"`
	Scope   string   `json:"scope"`
	Allowed bool     `json:"allowed"`
	Reasons []string `json:"reasons"`
}

type catalogProduct struct {
	Version struct {
		Version string `json:"version"`
	} `json:"version"`
	Operations []catalogOperation `json:"operations"`
	Servers    map[string]string  `json:"servers"`
	Downloads  map[string]string  `json:"downloads"`
}

// MustPartnerSession invites an organisation on plan and signs its contact in through the API.
func MustPartnerSession(tb testing.TB, st *stack.Stack, name, plan string) (onramp.Organization, string) {
	tb.Helper()
	org := MustInvitePartnerOn(tb, st, name, plan)
	return org, MustAPISignIn(tb, st, org.ContactEmail)
}

// MustFetch GETs url with the session token and returns the body when the status is wantStatus.
func MustFetch(tb testing.TB, url, token string, wantStatus int) ([]byte, http.Header) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("X-Session-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	CheckAgainstSpec(tb, req, nil, resp.StatusCode, resp.Header, body)
	if resp.StatusCode != wantStatus {
		tb.Fatalf("GET %s = %d, want %d: %s", url, resp.StatusCode, wantStatus, body)
	}
	return body, resp.Header
}

func mustCatalog(tb testing.TB, st *stack.Stack, org onramp.Organization, token, query string) catalogList {
	tb.Helper()
	var l catalogList
	MustGetJSON(tb, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog"+query, http.StatusOK, &l, "X-Session-Token", token)
	return l
}

// Two organisations on different plans see different catalogs, and each other's extra product
// does not exist for the other: list, page, changelog and download all answer 404.
func TestE2ECatalogScopedByPlan(t *testing.T) {
	st := MustSharedStack(t)
	std, stdToken := MustPartnerSession(t, st, "Std Scope", "standard")
	prem, premToken := MustPartnerSession(t, st, "Prem Scope", "premium")

	if got := mustCatalog(t, st, std, stdToken, "").slugs(); got != "accounts,payments" {
		t.Errorf("standard catalog = %s, want accounts,payments", got)
	}
	if got := mustCatalog(t, st, prem, premToken, "").slugs(); got != "accounts,payments,insights" {
		t.Errorf("premium catalog = %s, want accounts,payments,insights", got)
	}
	if got := mustCatalog(t, st, prem, premToken, "?q=spending").slugs(); got != "insights" {
		t.Errorf("premium search for spending = %s, want insights", got)
	}
	if got := mustCatalog(t, st, std, stdToken, "?tag=analytics").slugs(); got != "" {
		t.Errorf("standard, tag analytics = %s, want nothing", got)
	}

	base := st.PortalURL + "/api/v1/orgs/" + std.ID + "/catalog/insights"
	for _, u := range []string{base, base + "/versions/latest/openapi.yaml", base + "/versions/v1/openapi.json", base + "/versions/v1/changelog"} {
		body, _ := MustFetch(t, u, stdToken, http.StatusNotFound)
		if !strings.Contains(string(body), problem.TypeBase+"not-found") {
			t.Errorf("%s: body %s, want a not-found problem", u, body)
		}
	}
	// Another organisation's catalog does not exist for you either.
	MustFetch(t, st.PortalURL+"/api/v1/orgs/"+prem.ID+"/catalog", stdToken, http.StatusNotFound)
	MustFetch(t, st.PortalURL+"/api/v1/orgs/"+prem.ID+"/catalog/insights", stdToken, http.StatusNotFound)

	// Standard sees refunds in v2, marked unavailable with the scope it needs; premium may call it.
	for _, c := range []struct {
		org   onramp.Organization
		token string
		want  bool
	}{{std, stdToken, false}, {prem, premToken, true}} {
		var p catalogProduct
		MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+c.org.ID+"/catalog/payments", http.StatusOK, &p, "X-Session-Token", c.token)
		i := slices.IndexFunc(p.Operations, func(o catalogOperation) bool { return o.ID == "refundPayment" })
		if i < 0 || p.Operations[i].Allowed != c.want || p.Version.Version != "v2" {
			t.Fatalf("%s: payments latest = %+v, want v2 with refundPayment allowed=%v", c.org.Name, p, c.want)
		}
		if !c.want && (len(p.Operations[i].Reasons) == 0 || !strings.Contains(p.Operations[i].Reasons[0], "payments:refund")) {
			t.Errorf("refund is unavailable without saying which scope it needs: %v", p.Operations[i].Reasons)
		}
	}
}

// The admin narrows an assignment to read-only: the catalog marks the write operations at once,
// and the downloaded document leaves them out. Removing the assignment removes the product.
func TestE2ECatalogAssignmentsTakeEffect(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Narrowed", "standard")
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	var a onramp.Assignment
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/payments",
		map[string]any{"plan": "standard", "scopes": []string{"payments:read"}, "environments": []string{"sandbox"}, "quota": map[string]any{"limit": 500, "period": "day"}},
		http.StatusOK, &a, admin...)
	if a.OrgID != org.ID || len(a.Scopes) != 1 {
		t.Fatalf("assignment = %+v", a)
	}
	var p catalogProduct
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments", http.StatusOK, &p, "X-Session-Token", token)
	for _, op := range p.Operations {
		if op.Allowed != (op.Scope == "payments:read") {
			t.Errorf("read-only: %s (%s) allowed = %v", op.ID, op.Scope, op.Allowed)
		}
	}
	if p.Servers["sandbox"] != st.SandboxURL+"/payments/v2" || p.Servers["production"] != st.ProductionURL+"/payments/v2" {
		t.Errorf("servers = %v, want both gateways", p.Servers)
	}
	doc, _ := MustFetch(t, st.PortalURL+p.Downloads["latest_json"], token, http.StatusOK)
	spec, err := specs.Parse(t.Context(), doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range specs.Operations(spec.Doc, "payments") {
		if op.Scope != "payments:read" {
			t.Errorf("the read-only download contains %s (%s)", op.ID, op.Scope)
		}
	}

	// Unknown scopes are refused with what the product offers.
	var pr problem.Problem
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/payments",
		map[string]any{"plan": "standard", "scopes": []string{"payments:admin"}, "environments": []string{"sandbox"}, "quota": map[string]any{"limit": 1, "period": "day"}},
		http.StatusBadRequest, &pr, admin...)
	if !strings.Contains(pr.Detail, "payments:read") {
		t.Errorf("refusal = %q, want the product's scopes listed", pr.Detail)
	}

	MustDo(t, "DELETE", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/payments", nil, http.StatusNoContent, nil, admin...)
	if got := mustCatalog(t, st, org, token, "").slugs(); got != "accounts" {
		t.Errorf("after removing payments the catalog = %s", got)
	}
	MustFetch(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments", token, http.StatusNotFound)
}

// The downloaded document is valid for kin-openapi and for an independent validator, points at
// the gateways, and generates a Go client that compiles.
func TestE2ECatalogDownloadedSpecIsUsable(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Spec Fetcher", "premium")
	dir := t.TempDir()
	for _, format := range []string{"yaml", "json"} {
		body, header := MustFetch(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments/versions/latest/openapi."+format, token, http.StatusOK)
		if header.Get("X-Onramp-Version") != "v2" || !strings.Contains(header.Get("Content-Disposition"), "payments-v2."+format) {
			t.Errorf("%s headers: version %q, disposition %q", format, header.Get("X-Onramp-Version"), header.Get("Content-Disposition"))
		}
		s, err := specs.Parse(t.Context(), body)
		if err != nil {
			t.Fatalf("%s: kin-openapi refuses the download: %v %+v", format, err, onramp.ErrorDetails(err))
		}
		if len(s.Doc.Servers) != 2 || s.Doc.Servers[0].URL != st.SandboxURL+"/payments/v2" || s.Doc.Servers[1].URL != st.ProductionURL+"/payments/v2" {
			t.Errorf("%s servers = %+v, want the gateways' sandbox and production URLs", format, s.Doc.Servers)
		}
		if len(s.Doc.Components.SecuritySchemes) != 2 || len(s.Doc.Security) != 2 {
			t.Errorf("%s security = %+v", format, s.Doc.Security)
		}
		file := filepath.Join(dir, "payments."+format)
		if err := os.WriteFile(file, body, 0o644); err != nil {
			t.Fatal(err)
		}
		speccheck.MustSwaggerParse(t, file)
	}
	speccheck.MustGenerateGoClient(t, filepath.Join(dir, "payments.yaml"))
}

type changelogBody struct {
	Previous string `json:"previous"`
	Breaking bool   `json:"breaking"`
	Changes  []struct {
		ID, Level, Text, Operation string
	} `json:"changes"`
	ReleaseNotes string `json:"release_notes"`
}

// The demo product's v2 changelog flags its breaking change (a new required header, a removed
// path) next to the human release notes.
func TestE2ECatalogChangelogFlagsBreakingChange(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Changelog Reader", "standard")
	var cl changelogBody
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments/versions/v2/changelog", http.StatusOK, &cl, "X-Session-Token", token)
	if cl.Previous != "v1" || !cl.Breaking || !strings.Contains(cl.ReleaseNotes, "Idempotency-Key") {
		t.Fatalf("changelog = %+v, want breaking against v1 with the release notes", cl)
	}
	levels := map[string]string{}
	for _, c := range cl.Changes {
		levels[c.ID] = c.Level
	}
	for id, level := range map[string]string{"new-required-request-parameter": specs.Breaking, "api-path-removed-without-deprecation": specs.Breaking, "endpoint-added": specs.NonBreaking} {
		if levels[id] != level {
			t.Errorf("change %s level = %q, want %q (all: %v)", id, levels[id], level, levels)
		}
	}
	var first changelogBody
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments/versions/v1/changelog", http.StatusOK, &first, "X-Session-Token", token)
	if first.Previous != "" || len(first.Changes) != 0 {
		t.Errorf("v1 changelog = %+v, want none (first version)", first)
	}
}

// Publishing: a document Onramp cannot serve is refused with every problem located and changes
// nothing, a sloppy one has its findings located; a Swagger 2.0 document is converted; a dry run shows the changelog; an assigned new product
// appears in the partner's catalog at once.
func TestE2ECatalogPublish(t *testing.T) {
	st := MustSharedStack(t)
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	slug := "ledger-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/products/"+slug, map[string]any{"name": "Ledger", "summary": "Entries", "tags": []string{"books"}}, http.StatusOK, nil, admin...)

	unusable := "openapi: 3.0.3\ninfo: {title: Ledger, version: '1'}\npaths:\n  /entries:\n    get:\n      x-onramp-scope: entries\n      responses: {'200': {description: ok}}\n    post:\n      x-onramp-scope: Ledger:Write\n      responses: {'201': {description: created}}\n"
	var pr problem.Problem
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/products/"+slug+"/versions", map[string]any{"version": "v1", "spec": unusable}, http.StatusBadRequest, &pr, admin...)
	locs := map[string]bool{}
	for _, e := range pr.Errors {
		locs[e.Location] = true
	}
	if !locs["paths./entries.get.x-onramp-scope"] || !locs["paths./entries.post.x-onramp-scope"] || len(pr.Errors) != 2 {
		t.Errorf("problems = %+v, want both malformed scopes located", pr.Errors)
	}
	// Mistakes that do not stop Onramp serving the document are findings, not refusals.
	sloppy := "openapi: 3.0.3\ninfo: {title: Ledger}\npaths:\n  /entries:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {type: objectx}\n      responses: {}\n"
	var dry struct {
		Findings []onramp.Finding `json:"findings"`
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/products/"+slug+"/versions", map[string]any{"version": "v1", "spec": sloppy, "dry_run": true}, http.StatusOK, &dry, admin...)
	found := map[string]bool{}
	for _, f := range dry.Findings {
		found[f.Location] = true
	}
	if !found["info.version"] || !found["paths./entries.post"] || len(dry.Findings) < 3 {
		t.Errorf("findings = %+v, want each located (info.version, paths./entries.post …)", dry.Findings)
	}
	var product struct {
		Versions []struct{ Version string } `json:"versions"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/products/"+slug, http.StatusOK, &product, admin...)
	if len(product.Versions) != 0 {
		t.Fatalf("a refused publication left versions: %+v", product.Versions)
	}

	swagger, err := os.ReadFile(filepath.Join(repoRoot(t), "specs", "testdata", "swagger2-petstore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pub struct {
		Converted bool `json:"converted_from_swagger2"`
		DryRun    bool `json:"dry_run"`
		Breaking  bool `json:"breaking"`
		Previous  string
		Changes   []struct{ ID string }
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/products/"+slug+"/versions", map[string]any{"version": "v1", "spec": string(swagger), "release_notes": "First."}, http.StatusCreated, &pub, admin...)
	if !pub.Converted || pub.DryRun {
		t.Errorf("publication = %+v, want converted from Swagger 2.0", pub)
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/products/"+slug+"/versions", map[string]any{"version": "v1", "spec": string(swagger)}, http.StatusConflict, nil, admin...)

	breaking := strings.Replace(string(swagger), "        - name: limit\n          in: query\n", "        - name: limit\n          in: query\n          required: true\n", 1)
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/products/"+slug+"/versions", map[string]any{"version": "v2", "spec": breaking, "dry_run": true}, http.StatusOK, &pub, admin...)
	if !pub.DryRun || !pub.Breaking || pub.Previous != "v1" {
		t.Errorf("dry run = %+v, want the breaking change against v1 shown", pub)
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/products/"+slug, http.StatusOK, &product, admin...)
	if len(product.Versions) != 1 {
		t.Fatalf("the dry run published: %+v", product.Versions)
	}

	org, token := MustPartnerSession(t, st, "Ledger Partner", "standard")
	MustFetch(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/"+slug, token, http.StatusNotFound)
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/"+slug,
		map[string]any{"plan": "standard", "scopes": []string{slug + ":read"}, "environments": []string{"sandbox"}, "quota": map[string]any{"limit": 100, "period": "day"}},
		http.StatusOK, nil, admin...)
	if got := mustCatalog(t, st, org, token, "?tag=books").slugs(); got != slug {
		t.Errorf("after assigning, the catalog tagged books = %q, want %s", got, slug)
	}
}

// The security team edits a policy file: the decision changes without a restart; a broken edit is
// refused, shown on the Policies status, and the running policy stays.
func TestE2ECatalogPolicyHotReload(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Withheld Co", "standard")
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	dir := filepath.Join(shared.dir, "policies", "catalog")
	file := filepath.Join(dir, "withhold_e2e_"+strings.ToLower(org.ID)+".rego")
	t.Cleanup(func() { os.Remove(file) })

	type status struct {
		Source, Version string
		LastError       string `json:"last_error"`
		LastErrorAt     string `json:"last_error_at"`
	}
	var before status
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/policies", http.StatusOK, &before, admin...)
	if before.Source != filepath.Join(shared.dir, "policies") || before.Version == "" {
		t.Fatalf("policy status = %+v, want the watched directory", before)
	}

	rule := "package catalog\n\nimport rego.v1\n\nwithheld contains \"payments\" if input.organization.id == \"" + org.ID + "\"\n"
	if err := os.WriteFile(file, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the edited policy to withhold payments", func() bool {
		return mustCatalog(t, st, org, token, "").slugs() == "accounts"
	})
	MustFetch(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments", token, http.StatusNotFound)
	var reloaded status
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/policies", http.StatusOK, &reloaded, admin...)
	if reloaded.Version == before.Version {
		t.Error("the policy version did not change")
	}

	if err := os.WriteFile(file, []byte("package catalog\n\nwithheld contains {"), 0o644); err != nil {
		t.Fatal(err)
	}
	var refused status
	waitFor(t, 10*time.Second, "the broken policy to be refused", func() bool {
		MustGetJSON(t, st.PortalURL+"/admin/api/v1/policies", http.StatusOK, &refused, admin...)
		return refused.LastError != "" && refused.LastErrorAt != "" && refused.Version == reloaded.Version
	})
	if got := mustCatalog(t, st, org, token, "").slugs(); got != "accounts" {
		t.Errorf("after a refused edit the catalog = %s, want the running policy still withholding payments", got)
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "payments to come back", func() bool {
		return mustCatalog(t, st, org, token, "").slugs() == "accounts,payments"
	})
}

func waitFor(tb testing.TB, limit time.Duration, what string, ok func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", limit, what)
		}
	}
}
