package api_test

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// mustUsage writes one gateway node's month of org's calls of payments: n calls of version's op
// on the day daysAgo before the harness's clock, by cred in env.
type call struct {
	org, version, op, env, cred string
	daysAgo                     int
	n                           int64
}

func (lh *lifecycleHarness) mustUsage(t *testing.T, calls ...call) {
	t.Helper()
	ctx := t.Context()
	if err := lh.f.usage.SaveNode(ctx, onramp.GatewayNode{ID: "gw-1", StartedAt: lh.now.AddDate(0, -3, 0), SeenAt: *lh.now}); err != nil {
		t.Fatal(err)
	}
	months := map[string]*onramp.UsageMonth{}
	var keys []string
	for _, c := range calls {
		at := lh.now.Truncate(24*time.Hour).AddDate(0, 0, -c.daysAgo).Add(9 * time.Hour)
		start := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
		key := c.org + start.Format("200601")
		m := months[key]
		if m == nil {
			m = &onramp.UsageMonth{OrgID: c.org, Month: start}
			months[key] = m
			keys = append(keys, key)
		}
		m.Lines = append(m.Lines, onramp.UsageLine{Product: "payments", Environment: c.env, Uses: []onramp.OperationUse{{Version: c.version, Operation: c.op,
			Days: []onramp.DayCalls{{Day: at.Truncate(24 * time.Hour), Calls: c.n}}, Credentials: []onramp.CredentialLastUse{{CredentialID: c.cred, LastAt: at}}}}})
	}
	for _, k := range keys {
		m := months[k]
		if err := lh.f.usage.SaveUsage(ctx, "gw-1", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: m.OrgID}, Months: []onramp.UsageMonth{*m}}); err != nil {
			t.Fatal(err)
		}
	}
}

// mustRival adds org_q, assigned payments too, whose calls org_p must never see.
func (lh *lifecycleHarness) mustRival(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	if err := lh.f.orgs.CreateOrganization(ctx, onramp.Organization{ID: "org_q", Name: "Rival", Tier: "standard", Status: onramp.OrgActive, ContactEmail: "owner@rival.test"}); err != nil {
		t.Fatal(err)
	}
	if err := lh.f.catalog.SaveAssignment(ctx, onramp.Assignment{OrgID: "org_q", Product: "payments", Plan: "standard",
		Grant: onramp.Grant{Scopes: []string{"payments:read"}, Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 100, Period: "day"}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []onramp.Credential{
		{ID: "cred_p", OrgID: "org_p", Label: "partner CI", Environment: onramp.Sandbox, Hash: "hp", Status: onramp.CredentialActive},
		{ID: "cred_q", OrgID: "org_q", Label: "rival-secret-label", Environment: onramp.Sandbox, Hash: "hq", Status: onramp.CredentialActive},
	} {
		if err := lh.f.usage.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	lh.mustUsage(t,
		call{"org_p", "v1", "listPayments", onramp.Sandbox, "cred_p", 1, 12},
		call{"org_p", "v2", "listPayments", onramp.Sandbox, "cred_p", 1, 300},
		call{"org_q", "v1", "listPayments", onramp.Sandbox, "cred_q", 2, 7777},
		call{"org_q", "v1", "createPayment", onramp.Sandbox, "cred_q", 10, 55},
	)
}

// A partner reads its own calls to deprecated operations (API and product page), never the
// other organisation's on the same product, and cannot ask for that organisation's at all.
func TestDeprecatedCallsAreTheCallersOwn(t *testing.T) {
	lh := mustLifecycleHarness(t)
	lh.mustRival(t)
	session := []string{"X-Session-Token", "tok_dev"}
	rec := lh.do(t, "GET", "/api/v1/orgs/org_p/catalog/payments/deprecated-calls", nil, session...)
	if rec.Code != 200 {
		t.Fatalf("deprecated calls = %d %s", rec.Code, rec.Body)
	}
	got := decode[struct {
		Product  string
		Versions []struct {
			Version, Phase, Successor string
			Calls                     int64
			Operations                []struct {
				Operation   string
				Calls       int64
				Changes     []string
				Credentials []struct{ ID, Label string }
			}
		}
	}](t, rec)
	if len(got.Versions) != 1 || got.Versions[0].Version != "v1" || got.Versions[0].Successor != "v2" || got.Versions[0].Calls != 12 ||
		len(got.Versions[0].Operations) != 1 || got.Versions[0].Operations[0].Operation != "listPayments" || got.Versions[0].Operations[0].Credentials[0].Label != "partner CI" {
		t.Fatalf("deprecated calls = %+v, want org_p's 12 calls of v1 listPayments", got)
	}
	for _, leak := range []string{"7777", "55", "cred_q", "rival", "org_q", "createPayment"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("org_p's deprecated calls mention %q: %s", leak, rec.Body)
		}
	}
	// Another organisation's, a product it does not see, no session, the admin token.
	theirs := mustProblem(t, lh.do(t, "GET", "/api/v1/orgs/org_q/catalog/payments/deprecated-calls", nil, session...), 404, "not-found")
	ghost := mustProblem(t, lh.do(t, "GET", "/api/v1/orgs/org_nope/catalog/payments/deprecated-calls", nil, session...), 404, "not-found")
	if strings.ReplaceAll(theirs.Detail, "org_q", "X") != strings.ReplaceAll(ghost.Detail, "org_nope", "X") {
		t.Errorf("another organisation: %q; one that does not exist: %q; want the same answer", theirs.Detail, ghost.Detail)
	}
	mustProblem(t, lh.do(t, "GET", "/api/v1/orgs/org_p/catalog/insights/deprecated-calls", nil, session...), 404, "not-found")
	mustProblem(t, lh.doInvalid(t, "GET", "/api/v1/orgs/org_p/catalog/payments/deprecated-calls", nil), 401, "sign-in-required")
	mustProblem(t, lh.do(t, "GET", "/api/v1/orgs/org_p/catalog/payments/deprecated-calls", nil, "Authorization", "Bearer "+adminToken), 401, "unauthorized")

	page := lh.do(t, "GET", "/catalog/payments?org=org_p&version=v1", nil, "Cookie", "ory_kratos_session=tok_dev", "Accept", "text/html")
	if page.Code != 200 {
		t.Fatalf("product page = %d", page.Code)
	}
	body := page.Body.String()
	for _, want := range []string{`id="deprecated-calls"`, "Your calls to deprecated operations", `data-operation="listPayments"`, ">12<", "partner CI"} {
		if !strings.Contains(body, want) {
			t.Errorf("the product page lacks %q", want)
		}
	}
	for _, leak := range []string{"7777", "rival-secret-label", "cred_q"} {
		if strings.Contains(body, leak) {
			t.Errorf("the product page shows %q", leak)
		}
	}
}

// The migration dashboard: who still calls v1, per week, in pages and as CSV, through the admin
// API and the admin UI; partners' sessions are refused on both.
func TestMigrationDashboardAPIAndPage(t *testing.T) {
	lh := mustLifecycleHarness(t) // Monday 2027-01-04
	lh.mustRival(t)
	rec := lh.do(t, "GET", "/admin/api/v1/products/payments/versions/v1/callers?weeks=4", nil, adminJSON...)
	if rec.Code != 200 {
		t.Fatalf("callers = %d %s", rec.Code, rec.Body)
	}
	type caller struct {
		OrgID      string `json:"org_id"`
		Name       string
		Weekly     []int64
		Calls      int64
		Operations []string
	}
	d := decode[struct {
		Product, Version, Phase string
		Weeks                   []time.Time
		Callers                 []caller
		Total                   int
		Calls                   int64
		Next                    *int
	}](t, rec)
	if d.Phase != "deprecated" || len(d.Weeks) != 4 || d.Weeks[3].Format(time.DateOnly) != "2027-01-04" || d.Total != 2 || d.Calls != 7777+55+12 {
		t.Fatalf("dashboard = %+v", d)
	}
	// org_q: 2 days ago (Saturday, last week) 7777, 10 days ago (the week before) 55; org_p: yesterday (Sunday, last week) 12.
	if d.Callers[0].OrgID != "org_q" || !slices.Equal(d.Callers[0].Weekly, []int64{0, 55, 7777, 0}) || d.Callers[1].OrgID != "org_p" || !slices.Equal(d.Callers[1].Weekly, []int64{0, 0, 12, 0}) ||
		d.Callers[0].Name != "Rival" || strings.Join(d.Callers[0].Operations, ",") != "listPayments,createPayment" {
		t.Errorf("callers = %+v", d.Callers)
	}
	page := decode[struct {
		Callers []caller
		Next    *int
	}](t, lh.do(t, "GET", "/admin/api/v1/products/payments/versions/v1/callers?weeks=4&limit=1", nil, adminJSON...))
	if len(page.Callers) != 1 || page.Next == nil || *page.Next != 1 {
		t.Errorf("first page = %+v", page)
	}
	last := decode[struct {
		Callers []caller
		Next    *int
	}](t, lh.do(t, "GET", "/admin/api/v1/products/payments/versions/v1/callers?weeks=4&limit=1&offset=1", nil, adminJSON...))
	if len(last.Callers) != 1 || last.Callers[0].OrgID != "org_p" || last.Next != nil {
		t.Errorf("last page = %+v", last)
	}
	csvRec := lh.do(t, "GET", "/admin/api/v1/products/payments/versions/v1/callers?weeks=4&format=csv&limit=1", nil, "Authorization", "Bearer "+adminToken)
	rows, err := csv.NewReader(csvRec.Body).ReadAll()
	if err != nil || csvRec.Code != 200 || !strings.HasPrefix(csvRec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV = %d %v %s", csvRec.Code, err, csvRec.Body)
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != "org_id,organization,week_of_2026-12-14,week_of_2026-12-21,week_of_2026-12-28,week_of_2027-01-04,calls,last_call,operations,environments" ||
		strings.Join(rows[1][:7], ",") != "org_q,Rival,0,55,7777,0,7832" || rows[2][0] != "org_p" {
		t.Errorf("CSV rows (every organisation, whatever the limit) = %q", rows)
	}
	for _, q := range []string{"weeks=9", "weeks=0x", "limit=501", "offset=-1", "limit=-1"} {
		mustProblem(t, lh.doInvalid(t, "GET", "/admin/api/v1/products/payments/versions/v1/callers?"+q, nil, adminJSON...), 400, "invalid-request")
	}
	mustProblem(t, lh.do(t, "GET", "/admin/api/v1/products/payments/versions/v9/callers", nil, adminJSON...), 404, "not-found")
	// Partners are refused the provider's dashboard, with a session or the session as a bearer.
	mustProblem(t, lh.doInvalid(t, "GET", "/admin/api/v1/products/payments/versions/v1/callers", nil, "X-Session-Token", "tok_dev"), 401, "admin-token-required")
	mustProblem(t, lh.do(t, "GET", "/admin/api/v1/products/payments/versions/v1/callers", nil, "Authorization", "Bearer tok_dev"), 401, "admin-token-required")

	// The admin UI: the product page's summary, the dashboard page and its CSV; not for a partner's cookie.
	admin := []string{"Cookie", "onramp_admin=" + adminToken, "Accept", "text/html"}
	product := lh.do(t, "GET", "/admin/products/payments", nil, admin...).Body.String()
	for _, want := range []string{`id="callers-v1"`, "Who still calls v1", "2 organisations called it 7844 times", `data-org="org_q"`, "/admin/products/payments/versions/v1/callers.csv"} {
		if !strings.Contains(product, want) {
			t.Errorf("the admin product page lacks %q", want)
		}
	}
	ui := lh.do(t, "GET", "/admin/products/payments/versions/v1/callers?weeks=4&limit=1", nil, admin...)
	if ui.Code != 200 || !strings.Contains(ui.Body.String(), `data-org="org_q"`) || strings.Contains(ui.Body.String(), `data-org="org_p"`) || !strings.Contains(ui.Body.String(), `id="callers-next"`) {
		t.Errorf("dashboard page = %d %s", ui.Code, ui.Body)
	}
	uiCSV := lh.do(t, "GET", "/admin/products/payments/versions/v1/callers.csv?weeks=4", nil, admin[:2]...)
	if uiCSV.Code != 200 || !strings.Contains(uiCSV.Body.String(), "org_p,") {
		t.Errorf("UI CSV = %d %s", uiCSV.Code, uiCSV.Body)
	}
	for _, path := range []string{"/admin/products/payments/versions/v1/callers", "/admin/products/payments/versions/v1/callers.csv"} {
		if rec := lh.do(t, "GET", path, nil, "Cookie", "ory_kratos_session=tok_dev", "Accept", "text/html"); rec.Code == 200 || strings.Contains(rec.Body.String(), "org_q") {
			t.Errorf("GET %s with a partner's cookie = %d %s", path, rec.Code, rec.Body)
		}
	}
}
