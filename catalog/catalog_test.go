package catalog_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/specs"
)

func demoFS(tb testing.TB) fs.FS {
	tb.Helper()
	sub, err := fs.Sub(deploy.Catalog, "catalog")
	if err != nil {
		tb.Fatal(err)
	}
	return sub
}

// MustDemoCatalog is a catalog on an in-memory store with the demo catalog loaded and the real policies.
func MustDemoCatalog(tb testing.TB) (*catalog.Catalog, *catalogtest.Memory) {
	tb.Helper()
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		tb.Fatal(err)
	}
	store := catalogtest.NewMemory()
	c, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://sandbox.test", ProductionURL: "http://prod.test",
		Now: func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.LoadFiles(context.Background(), demoFS(tb)); err != nil {
		tb.Fatal(err)
	}
	return c, store
}

func MustOrg(tb testing.TB, c *catalog.Catalog, id, plan string) onramp.Organization {
	tb.Helper()
	if err := c.ApplyPlan(context.Background(), id, plan); err != nil {
		tb.Fatal(err)
	}
	return onramp.Organization{ID: id, Tier: plan, Status: onramp.OrgActive}
}

func slugs(entries []catalog.Entry) string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Product.Slug)
	}
	return strings.Join(out, ",")
}

func TestLoadFilesIsIdempotent(t *testing.T) {
	c, _ := MustDemoCatalog(t)
	r, err := c.LoadFiles(t.Context(), demoFS(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Products != 3 || r.Plans != 2 || r.Published != 0 || r.Unchanged != 4 {
		t.Errorf("second load = %+v, want 3 products, 2 plans, 4 unchanged versions", r)
	}
}

func TestLoadFilesRefusesAChangedPublishedSpec(t *testing.T) {
	c, _ := MustDemoCatalog(t)
	files := demoFiles(t)
	files["products/accounts/v1.yaml"].Data = []byte(strings.Replace(string(files["products/accounts/v1.yaml"].Data), "List accounts", "List all accounts", 1))
	_, err := c.LoadFiles(t.Context(), files)
	if err == nil || !strings.Contains(err.Error(), "products/accounts/v1.yaml changed after accounts v1 was published") {
		t.Fatalf("err = %v, want the changed published document refused", err)
	}
}

// demoFiles is the demo catalog as a map, to add to or change.
func demoFiles(tb testing.TB) fstest.MapFS {
	tb.Helper()
	files := fstest.MapFS{}
	err := fs.WalkDir(demoFS(tb), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, rerr := fs.ReadFile(demoFS(tb), p)
			files[p], err = &fstest.MapFile{Data: b}, rerr
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// A catalog directory may hold a version as several files: its relative $refs resolve inside the
// product's directory, and one leaving it is refused with its file and place.
func TestLoadFilesResolvesRefsInsideTheProductDirectory(t *testing.T) {
	c, store := MustDemoCatalog(t)
	files := demoFiles(t)
	files["products/accounts/product.yaml"].Data = append(files["products/accounts/product.yaml"].Data, []byte("  - version: v2\n    status: beta\n    spec: v2/openapi.yaml\n")...)
	files["products/accounts/v2/openapi.yaml"] = &fstest.MapFile{Data: []byte("openapi: 3.0.3\ninfo: {title: Accounts, version: '2'}\npaths:\n  /accounts:\n    get:\n      operationId: listAccounts\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '../shared/account.yaml'}\n")}
	files["products/accounts/shared/account.yaml"] = &fstest.MapFile{Data: []byte("type: object\nproperties:\n  id: {type: string}\n")}
	r, err := c.LoadFiles(t.Context(), files)
	if err != nil || r.Published != 1 || r.Unchanged != 4 {
		t.Fatalf("LoadFiles = %+v, %v; want v2 published from two files", r, err)
	}
	v2, err := store.FindVersion(t.Context(), "accounts", "v2")
	if err != nil || strings.Contains(v2.Spec, ".yaml") || !strings.Contains(v2.Spec, `"id":{"type":"string"}`) {
		t.Fatalf("v2 = %.300s, %v; want one document with the shared schema merged in", v2.Spec, err)
	}
	if r, err := c.LoadFiles(t.Context(), files); err != nil || r.Unchanged != 5 {
		t.Errorf("loading again = %+v, %v; want v2 unchanged", r, err)
	}

	files["products/accounts/product.yaml"].Data = append(files["products/accounts/product.yaml"].Data, []byte("  - version: v3\n    status: beta\n    spec: v3/openapi.yaml\n")...)
	files["products/accounts/v3/openapi.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(string(files["products/accounts/v2/openapi.yaml"].Data), "../shared/account.yaml", "../../payments/v1.yaml", 1))}
	_, err = c.LoadFiles(t.Context(), files)
	if err == nil || !strings.Contains(err.Error(), "products/accounts/v3/openapi.yaml") || !strings.Contains(err.Error(), "v3/openapi.yaml:paths./accounts.get.responses.200.content.application/json.schema.$ref") || !strings.Contains(err.Error(), "leaves the bundle") {
		t.Fatalf("err = %v, want the $ref leaving the product directory refused with its place", err)
	}
}

func TestPlansScopeTheCatalog(t *testing.T) {
	c, _ := MustDemoCatalog(t)
	standard, premium := MustOrg(t, c, "org_std", "standard"), MustOrg(t, c, "org_prem", "premium")
	for _, tt := range []struct {
		org         onramp.Organization
		query, tag  string
		wantProduct string
	}{
		{standard, "", "", "accounts,payments"},
		{premium, "", "", "accounts,payments,insights"},
		{premium, "refund", "", "payments"},
		{premium, "", "data", "accounts,insights"},
		{standard, "", "analytics", ""},
	} {
		got, err := c.List(t.Context(), tt.org, tt.query, tt.tag)
		if err != nil {
			t.Fatal(err)
		}
		if slugs(got) != tt.wantProduct {
			t.Errorf("%s q=%q tag=%q: products = %s, want %s", tt.org.ID, tt.query, tt.tag, slugs(got), tt.wantProduct)
		}
	}
	if _, err := c.Product(t.Context(), standard, "insights", ""); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("standard org opening insights: %v, want ENOTFOUND (not assigned means not there)", err)
	}
	if _, _, err := c.Download(t.Context(), standard, "insights", "latest", "yaml"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("standard org downloading insights: %v, want ENOTFOUND", err)
	}
	if _, err := c.Product(t.Context(), standard, "nonexistent", ""); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("unknown product: %v, want ENOTFOUND", err)
	}
}

func TestProductMarksOperationsOutsideTheGrant(t *testing.T) {
	c, _ := MustDemoCatalog(t)
	view, err := c.Product(t.Context(), MustOrg(t, c, "org_std", "standard"), "payments", "")
	if err != nil {
		t.Fatal(err)
	}
	if view.Version.Version != "v2" {
		t.Errorf("latest = %s, want v2", view.Version.Version)
	}
	got := map[string]catalog.OperationView{}
	for _, op := range view.Operations {
		got[op.ID] = op
	}
	if !got["createPayment"].Allowed || !got["listPayments"].Allowed {
		t.Errorf("standard cannot call createPayment/listPayments: %+v", got)
	}
	refund := got["refundPayment"]
	if refund.Allowed || refund.Scope != "payments:refund" || len(refund.Reasons) != 1 || !strings.Contains(refund.Reasons[0], "payments:refund") {
		t.Errorf("refundPayment = %+v, want not allowed, naming payments:refund", refund)
	}
	if v1, err := c.Product(t.Context(), MustOrg(t, c, "org_std", "standard"), "payments", "v1"); err != nil || v1.Version.Status != onramp.VersionDeprecated {
		t.Errorf("v1 = %+v, %v; want the deprecated v1", v1.Version, err)
	}
	if _, err := c.Product(t.Context(), MustOrg(t, c, "org_std", "standard"), "payments", "v7"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("unknown version: %v, want ENOTFOUND", err)
	}
}

func TestDownloadHasOnlyCallableOperationsAndTheGateways(t *testing.T) {
	c, _ := MustDemoCatalog(t)
	org := MustOrg(t, c, "org_std", "standard")
	for _, format := range []string{"yaml", "json"} {
		b, view, err := c.Download(t.Context(), org, "payments", "latest", format)
		if err != nil {
			t.Fatal(err)
		}
		s, err := specs.Parse(t.Context(), b)
		if err != nil {
			t.Fatalf("%s download does not validate: %v %+v", format, err, onramp.ErrorDetails(err))
		}
		var ids []string
		for _, op := range specs.Operations(s.Doc, "payments") {
			ids = append(ids, op.ID)
		}
		if slices.Contains(ids, "refundPayment") || !slices.Contains(ids, "createPayment") {
			t.Errorf("%s operations = %v, want createPayment but not refundPayment", format, ids)
		}
		if len(s.Doc.Servers) != 2 || s.Doc.Servers[0].URL != "http://sandbox.test/payments/v2" || s.Doc.Servers[1].URL != "http://prod.test/payments/v2" {
			t.Errorf("servers = %v", s.Doc.Servers)
		}
		if view.Version.Version != "v2" {
			t.Errorf("latest resolved to %s", view.Version.Version)
		}
	}
	if _, _, err := c.Download(t.Context(), org, "payments", "v2", "xml"); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("xml: %v, want EINVALID", err)
	}
}

func TestDemoChangelogFlagsTheBreakingChange(t *testing.T) {
	c, store := MustDemoCatalog(t)
	versions, _ := store.ListVersions(t.Context(), "payments")
	changes, prev, err := c.Changelog(t.Context(), versions, "v2")
	if err != nil {
		t.Fatal(err)
	}
	if prev != "v1" || !specs.HasBreaking(changes) {
		t.Fatalf("changelog v1→v2 = %+v (prev %q), want breaking changes", changes, prev)
	}
	var ids []string
	for _, ch := range changes {
		ids = append(ids, ch.ID)
	}
	for _, want := range []string{"new-required-request-parameter", "api-path-removed-without-deprecation", "endpoint-added"} {
		if !slices.ContainsFunc(ids, func(id string) bool { return id == want }) {
			t.Errorf("no %s in %v", want, ids)
		}
	}
	if first, _, _ := c.Changelog(t.Context(), versions, "v1"); len(first) != 0 {
		t.Errorf("first version has changes: %+v", first)
	}
}

func TestPublishRefusesInvalidAndChangesNothing(t *testing.T) {
	c, store := MustDemoCatalog(t)
	before, _ := store.ListVersions(t.Context(), "accounts")
	bad := "openapi: 3.0.3\ninfo: {title: Accounts, version: '2'}\npaths:\n  /accounts:\n    post:\n      x-onramp-scope: accounts\n      responses:\n        '201': {$ref: '#/components/responses/Missing'}\n  /accounts/{id}:\n    get:\n      x-onramp-scope: read\n      responses: {'200': {description: ok}}\n"
	_, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v2", Spec: []byte(bad)})
	if onramp.ErrorCode(err) != onramp.EINVALID || len(onramp.ErrorDetails(err)) != 1 || onramp.ErrorDetails(err)[0].Location != "$ref" {
		t.Fatalf("err = %v %+v, want EINVALID with the unresolved $ref located", err, onramp.ErrorDetails(err))
	}
	unscoped := strings.Replace(bad, "{$ref: '#/components/responses/Missing'}", "{description: created}", 1)
	_, err = c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v2", Spec: []byte(unscoped)})
	if details := onramp.ErrorDetails(err); onramp.ErrorCode(err) != onramp.EINVALID || len(details) != 2 || details[0].Location != "paths./accounts.post.x-onramp-scope" || details[1].Location != "paths./accounts/{id}.get.x-onramp-scope" {
		t.Fatalf("err = %v %+v, want EINVALID with both malformed scopes located", err, details)
	}
	after, _ := store.ListVersions(t.Context(), "accounts")
	if len(after) != len(before) {
		t.Fatalf("versions %d → %d after a refused publication", len(before), len(after))
	}
	good, _ := fs.ReadFile(demoFS(t), "products/accounts/v1.yaml")
	dry, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v2", Spec: good, DryRun: true})
	if err != nil || !dry.DryRun || dry.Previous != "v1" || len(dry.Changes) != 0 || dry.Version.Number != 2 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	if after, _ := store.ListVersions(t.Context(), "accounts"); len(after) != len(before) {
		t.Fatal("a dry run published")
	}
	if _, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v1", Spec: good}); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("republishing v1: %v, want ECONFLICT", err)
	}
	if _, err := c.Publish(t.Context(), catalog.Publish{Product: "ghost", Version: "v1", Spec: good}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("unknown product: %v, want ENOTFOUND", err)
	}
}

// A document with mistakes publishes: its findings come back from the dry run and the
// publication, and are stored with the version.
func TestPublishKeepsTheFindingsWithTheVersion(t *testing.T) {
	c, store := MustDemoCatalog(t)
	sloppy := "openapi: 3.0.3\ninfo: {title: Accounts, version: ''}\npaths:\n  /accounts:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {type: object, properties: {id: {type: integer}}}\n              example: {id: not-a-number}\n"
	for _, dry := range []bool{true, false} {
		out, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v2", Spec: []byte(sloppy), DryRun: dry})
		if err != nil {
			t.Fatalf("dry run %v: %v %+v", dry, err, onramp.ErrorDetails(err))
		}
		rules := map[string]string{}
		for _, f := range out.Findings {
			rules[f.Rule] = f.Severity + " " + f.Location
		}
		want := map[string]string{specs.RuleInfoVersionEmpty: "warning info.version", specs.RuleExampleInvalid: "warning paths./accounts.get",
			specs.RuleOperationIDMissing: "warning paths./accounts.get", specs.RuleOperationDescription: "info paths./accounts.get"}
		for rule, where := range want {
			if rules[rule] != where {
				t.Errorf("dry run %v: %s = %q, want %q (all: %v)", dry, rule, rules[rule], where, rules)
			}
		}
		if len(out.Version.Findings) != len(out.Findings) || out.Version.Operations[0].ID != "getAccounts" {
			t.Errorf("dry run %v: version findings %d, operations %+v", dry, len(out.Version.Findings), out.Version.Operations)
		}
	}
	stored, err := store.FindVersion(t.Context(), "accounts", "v2")
	if err != nil || len(stored.Findings) != 5 || stored.Findings[0].Severity != onramp.SeverityWarning {
		t.Fatalf("stored = %+v, %v; want the 5 findings, most severe first", stored.Findings, err)
	}
}

func TestAssignValidates(t *testing.T) {
	c, _ := MustDemoCatalog(t)
	grant := onramp.Grant{Scopes: []string{"payments:read"}, Environments: []string{"sandbox"}, Quota: onramp.Quota{Limit: 10, Period: "day"}}
	for name, a := range map[string]onramp.Assignment{
		"unknown scope":   {OrgID: "o", Product: "payments", Plan: "standard", Grant: onramp.Grant{Scopes: []string{"payments:admin"}, Environments: grant.Environments, Quota: grant.Quota}},
		"unknown product": {OrgID: "o", Product: "ghost", Plan: "standard", Grant: grant},
		"unknown plan":    {OrgID: "o", Product: "payments", Plan: "gold", Grant: grant},
		"no quota":        {OrgID: "o", Product: "payments", Plan: "standard", Grant: onramp.Grant{Scopes: grant.Scopes, Environments: grant.Environments}},
	} {
		if _, err := c.Assign(t.Context(), a); onramp.ErrorCode(err) != onramp.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	a, err := c.Assign(t.Context(), onramp.Assignment{OrgID: "o", Product: "payments", Plan: "standard", Grant: grant})
	if err != nil || a.UpdatedAt.IsZero() {
		t.Fatalf("Assign = %+v, %v", a, err)
	}
	view, err := c.Product(t.Context(), onramp.Organization{ID: "o"}, "payments", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range view.Operations {
		if op.Allowed != (op.Scope == "payments:read") {
			t.Errorf("read-only grant: %s (%s) allowed = %v", op.ID, op.Scope, op.Allowed)
		}
	}
}

func TestWithoutPlansTheDefaultTiersAreAccepted(t *testing.T) {
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store := catalogtest.NewMemory()
	c, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://s", ProductionURL: "http://p"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckPlan(t.Context(), "standard"); err != nil {
		t.Errorf("standard without plans: %v", err)
	}
	if err := c.CheckPlan(t.Context(), "gold"); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("gold without plans: %v, want EINVALID", err)
	}
	if err := c.ApplyPlan(t.Context(), "org_x", "standard"); err != nil {
		t.Errorf("ApplyPlan without plans: %v", err)
	}
	c2, _ := MustDemoCatalog(t)
	if err := c2.CheckPlan(t.Context(), "premium"); err != nil {
		t.Errorf("premium with the demo plans: %v", err)
	}
	if err := c2.CheckPlan(t.Context(), "gold"); onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(onramp.ErrorMessage(err), "premium, standard") {
		t.Errorf("gold with the demo plans: %v, want EINVALID listing the plans", err)
	}
}
