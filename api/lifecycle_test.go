package api_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/api"
	"github.com/onramp-dev/onramp/api/apitest"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/impact"
)

// oneDeveloper is an identity provider where the developer dev@partner.test is signed in, with
// session token (and cookie) "tok_dev".
type oneDeveloper struct{ signedOut }

func (oneDeveloper) session(token string) (onramp.Session, error) {
	if !strings.Contains(token, "tok_dev") {
		return onramp.Session{}, errSignedOut
	}
	return onramp.Session{IdentityID: "id_dev", Email: "dev@partner.test", ExpiresAt: time.Now().Add(time.Hour)}, nil
}
func (d oneDeveloper) Whoami(_ context.Context, token string) (onramp.Session, error) {
	return d.session(token)
}
func (d oneDeveloper) SessionFromCookie(_ context.Context, cookie string) (onramp.Session, error) {
	return d.session(cookie)
}

// recordingSchedules is a BrownoutSchedules that stores the windows as the workflow's first step
// would, and runs one schedule per version at a time.
type recordingSchedules struct {
	mu      sync.Mutex
	store   onramp.BrownoutStore
	running map[string]bool
}

func (r *recordingSchedules) StartBrownouts(ctx context.Context, p onramp.BrownoutPlan) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[p.Version] {
		return onramp.Errorf(onramp.ECONFLICT, "a brownout schedule of %s %s is running; cancel it first to schedule another", p.Product, p.Version)
	}
	r.running[p.Version] = true
	return r.store.SetBrownouts(ctx, p.Product, p.Version, p.Windows)
}

func (r *recordingSchedules) CancelBrownouts(ctx context.Context, product, version, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running[version] {
		return onramp.Errorf(onramp.ECONFLICT, "the brownout schedule of %s %s has ended; nothing more can be done on it", product, version)
	}
	delete(r.running, version)
	return r.store.SetBrownouts(ctx, product, version, nil)
}

// lifecycleHarness is the portal with a clock the test moves (the catalog's and the pages'),
// brownout schedules on fakes, and dev@partner.test a developer of org_p on the standard plan.
type lifecycleHarness struct {
	*harness
	now *time.Time
	f   *fakes
}

var t0 = time.Date(2027, 1, 4, 9, 30, 0, 0, time.UTC)

func mustLifecycleHarness(t *testing.T) *lifecycleHarness {
	t.Helper()
	lh := &lifecycleHarness{harness: &harness{}, f: &fakes{}}
	now := t0
	lh.now = &now
	clock := func() time.Time { return *lh.now }
	cfg := testConfig(t, lh.f)
	cat, err := catalog.New(catalog.Config{Announcements: &catalogtest.Announcements{}, Store: lh.f.catalog, Assignments: lh.f.catalog, Policy: cfg.Policies.(onramp.Policy), SandboxURL: "http://127.0.0.1:2", ProductionURL: "http://127.0.0.1:3",
		Brownouts: &recordingSchedules{store: lh.f.catalog, running: map[string]bool{}}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := cat.ApplyPlan(ctx, "org_p", "standard"); err != nil {
		t.Fatal(err)
	}
	if err := lh.f.orgs.CreateOrganization(ctx, onramp.Organization{ID: "org_p", Name: "Partner", Tier: "standard", Status: onramp.OrgActive, ContactEmail: "dev@partner.test"}); err != nil {
		t.Fatal(err)
	}
	if err := lh.f.orgs.SaveMember(ctx, onramp.Member{ID: onramp.MemberID("org_p", "id_dev"), OrgID: "org_p", IdentityID: "id_dev", Email: "dev@partner.test", Role: onramp.RoleDeveloper}); err != nil {
		t.Fatal(err)
	}
	cfg.Catalog, cfg.Identity, cfg.Now = cat, oneDeveloper{}, clock
	if cfg.Impact, err = impact.New(impact.Config{Catalog: cat, Versions: lh.f.catalog, Assignments: lh.f.catalog, Usage: lh.f.usage, Credentials: lh.f.usage,
		Organizations: lh.f.orgs, Team: lh.f.orgs, Subscriptions: lh.f.subs, Policy: cfg.Policies.(onramp.Policy), Notifications: lh.f.onboarding, PortalURL: base, Now: clock}); err != nil {
		t.Fatal(err)
	}
	if cfg.TryIt, err = catalog.NewTryIt(catalog.TryItConfig{Catalog: cat, Keys: cfg.Keys, Policy: cfg.Policies.(onramp.Policy), PortalURL: base, Now: clock}); err != nil {
		t.Fatal(err)
	}
	if lh.srv, err = api.New(cfg); err != nil {
		t.Fatal(err)
	}
	lh.contract = apitest.MustContract(t)
	return lh
}

var adminJSON = []string{"Authorization", "Bearer " + adminToken, "Content-Type", "application/json"}

func (lh *lifecycleHarness) admin(t *testing.T, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	return lh.do(t, method, "/admin/api/v1/products/payments/versions/"+path, strings.NewReader(body), adminJSON...)
}

type summary struct {
	Version, Status, Phase, Sunset, Successor string
	SunsetAt                                  string                  `json:"sunset_at"`
	DeprecatedAt                              string                  `json:"deprecated_at"`
	MigrationPage                             string                  `json:"migration_page"`
	Brownouts                                 []onramp.BrownoutWindow `json:"brownouts"`
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	return v
}

func TestAdminDeprecatesWithAnExactSunset(t *testing.T) {
	lh := mustLifecycleHarness(t)
	rec := lh.admin(t, "PATCH", "v2", `{"status": "deprecated", "sunset": "2027-09-30T12:00:00Z"}`)
	if rec.Code != 200 {
		t.Fatalf("deprecate v2 = %d %s", rec.Code, rec.Body)
	}
	v2 := decode[summary](t, rec)
	if v2.Phase != "deprecated" || v2.Sunset != "2027-09-30" || v2.SunsetAt != "2027-09-30T12:00:00Z" || v2.DeprecatedAt != "2027-01-04T09:30:00Z" ||
		v2.MigrationPage != "/catalog/payments?version=v2#lifecycle" || v2.Successor != "" {
		t.Errorf("v2 = %+v; want deprecated now, the exact sunset, its migration page, no current version left to move to", v2)
	}
	*lh.now = t0.Add(time.Hour)
	if again := decode[summary](t, lh.admin(t, "PATCH", "v2", `{"sunset": "2027-10-31"}`)); again.DeprecatedAt != v2.DeprecatedAt || again.SunsetAt != "2027-10-31T00:00:00Z" {
		t.Errorf("moving the sunset = %+v, want the deprecation date kept", again)
	}
	mustProblem(t, lh.admin(t, "PATCH", "v2", `{"sunset": "next week"}`), 400, "invalid-request")
	*lh.now = time.Date(2027, 10, 31, 0, 0, 0, 0, time.UTC)
	pa := decode[struct{ Versions []summary }](t, lh.do(t, "GET", "/admin/api/v1/products/payments", nil, adminJSON...))
	if len(pa.Versions) != 2 || pa.Versions[0].Phase != "retired" || pa.Versions[1].Phase != "retired" {
		t.Errorf("admin product at v2's sunset = %+v, want both retired", pa.Versions)
	}
	*lh.now = lh.now.Add(-time.Nanosecond)
	pa = decode[struct{ Versions []summary }](t, lh.do(t, "GET", "/admin/api/v1/products/payments", nil, adminJSON...))
	if pa.Versions[1].Phase != "deprecated" {
		t.Errorf("v2 1 ns before its sunset = %q, want deprecated", pa.Versions[1].Phase)
	}
}

func TestAdminSchedulesAndCancelsBrownouts(t *testing.T) {
	lh := mustLifecycleHarness(t)
	weekly := `{"weekly": {"start": "2027-06-08T10:00:00Z", "duration": "15m", "count": 3}, "notice": "72h"}`
	rec := lh.admin(t, "POST", "v1/brownouts", weekly)
	if rec.Code != 201 {
		t.Fatalf("schedule = %d %s", rec.Code, rec.Body)
	}
	got := decode[struct {
		Product string
		Version summary
		Windows []onramp.BrownoutWindow
		Notice  string
		By      string
	}](t, rec)
	if len(got.Windows) != 3 || got.Notice != "72h0m0s" || got.By != "provider admin" || len(got.Version.Brownouts) != 3 || got.Version.Phase != "deprecated" || got.Version.Successor != "v2" {
		t.Fatalf("schedule = %+v", got)
	}
	p := mustProblem(t, lh.admin(t, "POST", "v1/brownouts", weekly), 409, "conflict")
	if !strings.Contains(p.Detail, "cancel it first") {
		t.Errorf("second schedule: %q, want what to do", p.Detail)
	}
	for _, c := range []struct{ path, body, status, slug, detail string }{
		{"v2/brownouts", weekly, "400", "invalid-request", "deprecate it"},
		{"v1/brownouts", `{"windows": [{"start": "2027-06-29T23:00:00Z", "end": "2027-06-30T00:00:01Z"}]}`, "400", "invalid-request", "ends after the sunset"},
		{"v1/brownouts", `{}`, "400", "invalid-request", "give windows"},
		{"v1/brownouts", `{"windows": "soon"}`, "400", "invalid-request", "weekly"},
		{"v9/brownouts", weekly, "404", "not-found", "v9"},
		{"v2/brownouts/cancel", ``, "409", "conflict", "ended"},
	} {
		var rec *httptest.ResponseRecorder
		if c.body == `{"windows": "soon"}` { // not what the document allows: sent on purpose
			rec = lh.doInvalid(t, "POST", "/admin/api/v1/products/payments/versions/"+c.path, strings.NewReader(c.body), adminJSON...)
		} else {
			rec = lh.admin(t, "POST", c.path, c.body)
		}
		p := mustProblem(t, rec, map[string]int{"400": 400, "404": 404, "409": 409}[c.status], c.slug)
		if !strings.Contains(p.Detail, c.detail) {
			t.Errorf("POST %s %s: %q, want it to mention %q", c.path, c.body, p.Detail, c.detail)
		}
	}
	mustProblem(t, lh.doInvalid(t, "POST", "/admin/api/v1/products/payments/versions/v1/brownouts", strings.NewReader(weekly), "Content-Type", "application/json"), 401, "admin-token-required")

	*lh.now = time.Date(2027, 6, 8, 10, 0, 0, 0, time.UTC)
	pa := decode[struct{ Versions []summary }](t, lh.do(t, "GET", "/admin/api/v1/products/payments", nil, adminJSON...))
	if pa.Versions[0].Phase != "brownout" {
		t.Errorf("v1 at its first window = %q, want brownout", pa.Versions[0].Phase)
	}
	rec = lh.admin(t, "POST", "v1/brownouts/cancel", "")
	if rec.Code != 200 || len(decode[summary](t, rec).Brownouts) != 0 {
		t.Fatalf("cancel = %d %s", rec.Code, rec.Body)
	}
	mustProblem(t, lh.admin(t, "POST", "v1/brownouts/cancel", ""), 409, "conflict")
}

func TestPartnerSeesDeprecationBrownoutAndRetirement(t *testing.T) {
	lh := mustLifecycleHarness(t)
	if rec := lh.admin(t, "POST", "v1/brownouts", `{"windows": [{"start": "2027-06-08T10:00:00Z", "end": "2027-06-08T10:15:00Z"}]}`); rec.Code != 201 {
		t.Fatalf("schedule = %d %s", rec.Code, rec.Body)
	}
	session := []string{"X-Session-Token", "tok_dev"}
	cookie := []string{"Cookie", "ory_kratos_session=tok_dev"}
	type product struct {
		Version    summary
		Versions   []summary
		Operations []struct {
			ID      string
			Allowed bool
			Reasons []string
		}
	}
	for _, c := range []struct {
		name  string
		at    time.Time
		phase string
		page  []string
	}{
		{"deprecated", t0, "deprecated", []string{"v1 is deprecated", "Deprecated since 20", "2027-06-08 10:00:00 UTC – 2027-06-08 10:15:00 UTC", `href="/catalog/payments?version=v2#changelog"`}},
		{"in the brownout", time.Date(2027, 6, 8, 10, 5, 0, 0, time.UTC), "brownout", []string{"v1 is in a brownout", "Until <strong>2027-06-08 10:15:00 UTC</strong>"}},
		{"after the sunset", time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), "retired", []string{"v1 is retired", "410 Gone", "v1 · retired"}},
	} {
		*lh.now = c.at
		rec := lh.do(t, "GET", "/api/v1/orgs/org_p/catalog/payments?version=v1", nil, session...)
		if rec.Code != 200 {
			t.Fatalf("%s: product = %d %s", c.name, rec.Code, rec.Body)
		}
		p := decode[product](t, rec)
		if p.Version.Phase != c.phase || p.Version.Successor != "v2" || p.Version.MigrationPage != "/catalog/payments?version=v1#lifecycle" {
			t.Errorf("%s: version = %+v, want phase %s, successor v2 and the migration page", c.name, p.Version, c.phase)
		}
		for _, op := range p.Operations {
			if retired := c.phase == "retired"; op.ID == "listPayments" && (op.Allowed == retired || (retired && !strings.Contains(strings.Join(op.Reasons, " "), "retired"))) {
				t.Errorf("%s: listPayments allowed %v %v", c.name, op.Allowed, op.Reasons)
			}
		}
		list := decode[struct {
			Products []struct{ Versions []summary }
		}](t, lh.do(t, "GET", "/api/v1/orgs/org_p/catalog", nil, session...))
		for _, pr := range list.Products {
			if len(pr.Versions) == 2 && pr.Versions[0].Version == "v1" && pr.Versions[0].Phase != c.phase {
				t.Errorf("%s: the catalog list says v1 is %s", c.name, pr.Versions[0].Phase)
			}
		}
		page := lh.do(t, "GET", "/catalog/payments?version=v1", nil, cookie...)
		body := html.UnescapeString(page.Body.String())
		if page.Code != 200 || !strings.Contains(body, `id="lifecycle"`) {
			t.Fatalf("%s: product page = %d without the lifecycle section", c.name, page.Code)
		}
		for _, want := range c.page {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the product page lacks %q", c.name, want)
			}
		}
		catalogPage := html.UnescapeString(lh.do(t, "GET", "/catalog", nil, cookie...).Body.String())
		if !strings.Contains(catalogPage, `data-version="v1">v1 · `+c.phase) {
			t.Errorf("%s: the catalog page does not show v1 %s", c.name, c.phase)
		}
	}
}

func TestAdminUIBrownoutForms(t *testing.T) {
	lh := mustLifecycleHarness(t)
	cookie := []string{"Cookie", "onramp_admin=" + adminToken, "Content-Type", "application/x-www-form-urlencoded"}
	form := url.Values{"windows": {"2027-06-01T10:00:00Z/15m\n2027-06-02T10:00:00Z/2027-06-02T10:30:00Z"}, "weekly_start": {"2027-06-08T10:00"},
		"weekly_duration": {"15m"}, "weekly_count": {"2"}, "notice": {"48h"}}
	rec := lh.do(t, "POST", "/admin/products/payments/versions/v1/brownouts", strings.NewReader(form.Encode()), cookie...)
	if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/admin/products/payments#lifecycle-v1") {
		t.Fatalf("schedule form = %d %s %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	page := html.UnescapeString(lh.do(t, "GET", "/admin/products/payments", nil, cookie[:2]...).Body.String())
	for _, want := range []string{"2027-06-01 10:00:00 UTC", "2027-06-02 10:30:00 UTC", "2027-06-15 10:15:00 UTC", "Cancel the brownouts still to come", "brownouts-payments@v1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the admin product page lacks %q", want)
		}
	}
	bad := url.Values{"windows": {"tomorrow"}}
	if rec := lh.do(t, "POST", "/admin/products/payments/versions/v1/brownouts", strings.NewReader(bad.Encode()), cookie...); rec.Code != 400 || !strings.Contains(html.UnescapeString(rec.Body.String()), "start/end or start/duration") {
		t.Errorf("a bad window = %d, want 400 saying how to write one", rec.Code)
	}
	if rec := lh.do(t, "POST", "/admin/products/payments/versions/v1/brownouts/cancel", nil, cookie...); rec.Code != 303 {
		t.Fatalf("cancel form = %d %s", rec.Code, rec.Body)
	}
	page = html.UnescapeString(lh.do(t, "GET", "/admin/products/payments", nil, cookie[:2]...).Body.String())
	if strings.Contains(page, "2027-06-01 10:00:00 UTC") || !strings.Contains(page, "Schedule brownouts") {
		t.Errorf("after cancelling, the page still lists windows or offers no new schedule")
	}
}
