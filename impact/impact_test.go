package impact_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/impact"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/production/productiontest"
	"github.com/onramp-dev/onramp/specs"
	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
	"github.com/onramp-dev/onramp/team/teamtest"
)

var policy = func() *policies.Engine {
	e, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		panic(err)
	}
	return e
}()

const portal = "https://portal.example"

// ledgerV1 and ledgerV2: v2 makes listEntries' limit required, adds a required parameter to
// getEntry (whose path parameter it renames), removes deleteEntry, renames getBalance's path and
// only renames createEntry's operationId (not breaking).
const ledgerV1 = `openapi: 3.0.3
info: {title: Ledger, version: '1'}
paths:
  /entries:
    get:
      operationId: listEntries
      parameters: [{name: limit, in: query, schema: {type: integer}}]
      responses: {'200': {description: ok}}
    post:
      operationId: createEntry
      responses: {'201': {description: ok}}
  /entries/{id}:
    get:
      operationId: getEntry
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
    delete:
      operationId: deleteEntry
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {'204': {description: ok}}
  /balance:
    get:
      operationId: getBalance
      responses: {'200': {description: ok}}
`

const ledgerV2 = `openapi: 3.0.3
info: {title: Ledger, version: '2'}
paths:
  /entries:
    get:
      operationId: listEntries
      parameters: [{name: limit, in: query, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok}}
    post:
      operationId: addEntry
      responses: {'201': {description: ok}}
  /entries/{entryId}:
    get:
      operationId: getEntry
      parameters: [{name: entryId, in: path, required: true, schema: {type: string}}, {name: fields, in: query, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /balances:
    get:
      operationId: getBalances
      responses: {'200': {description: ok}}
`

// fixture is the service on fakes: a ledger product with v1 and v2 published, organisations
// assigned it, and usage aggregates written as one gateway node would.
type fixture struct {
	svc     *impact.Service
	catalog *catalog.Catalog
	store   *catalogtest.Memory
	team    *teamtest.Memory
	subs    *subscriptionstest.Memory
	usage   *credentialstest.Memory
	notes   *productiontest.Memory
	now     time.Time
	months  map[string]*onramp.UsageMonth // org + month → the node's running totals
}

func mustFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{store: catalogtest.NewMemory(), team: teamtest.NewMemory(), subs: subscriptionstest.NewMemory(), usage: credentialstest.NewMemory(),
		notes: productiontest.NewMemory(), now: time.Date(2027, 3, 31, 15, 0, 0, 0, time.UTC), months: map[string]*onramp.UsageMonth{}}
	clock := func() time.Time { return f.now }
	ctx := context.Background()
	var err error
	f.catalog, err = catalog.New(catalog.Config{Store: f.store, Assignments: f.store, Policy: policy, Announcements: &catalogtest.Announcements{},
		SandboxURL: "http://sandbox.test", ProductionURL: "http://prod.test", Now: clock})
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.catalog.SaveProduct(ctx, onramp.Product{Slug: "ledger", Name: "Ledger"}); err != nil {
		tb.Fatal(err)
	}
	f.mustPublish(tb, "v1", ledgerV1)
	f.mustPublish(tb, "v2", ledgerV2)
	if err := f.store.SavePlan(ctx, onramp.Plan{Name: "standard", Title: "Standard", Products: map[string]onramp.Grant{"ledger": grant}}); err != nil {
		tb.Fatal(err)
	}
	if err := f.usage.SaveNode(ctx, onramp.GatewayNode{ID: "gw-1", StartedAt: f.now.AddDate(0, -3, 0), SeenAt: f.now}); err != nil {
		tb.Fatal(err)
	}
	f.svc, err = impact.New(impact.Config{Catalog: f.catalog, Versions: f.store, Assignments: f.store, Usage: f.usage, Credentials: f.usage,
		Organizations: f.team, Team: f.team, Subscriptions: f.subs, Policy: policy, Notifications: f.notes, PortalURL: portal, Now: clock})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

var grant = onramp.Grant{Scopes: []string{"ledger:read", "ledger:write"}, Environments: []string{onramp.Sandbox, onramp.Production}, Quota: onramp.Quota{Limit: 1000, Period: "day"}}

func (f *fixture) mustPublish(tb testing.TB, version, spec string) {
	tb.Helper()
	if _, err := f.catalog.Publish(context.Background(), catalog.Publish{Product: "ledger", Version: version, Spec: []byte(spec)}); err != nil {
		tb.Fatal(err)
	}
}

// mustOrg creates an organisation assigned ledger, with an owner (level breaking), a developer
// (level none) and a viewer (level all).
func (f *fixture) mustOrg(tb testing.TB, id string) onramp.Organization {
	tb.Helper()
	ctx := context.Background()
	o := onramp.Organization{ID: id, Name: "Org " + id, Tier: "standard", Status: onramp.OrgActive, ContactEmail: "owner@" + id + ".example", InvitedAt: f.now}
	if err := f.team.CreateOrganization(ctx, o); err != nil {
		tb.Fatal(err)
	}
	if err := f.store.SaveAssignment(ctx, onramp.Assignment{OrgID: id, Product: "ledger", Plan: "standard", Grant: grant}); err != nil {
		tb.Fatal(err)
	}
	for role, level := range map[string]string{onramp.RoleOwner: onramp.SubscribeBreaking, onramp.RoleDeveloper: onramp.SubscribeNone, onramp.RoleViewer: onramp.SubscribeAll} {
		m := onramp.Member{ID: onramp.MemberID(id, role+"-"+id), OrgID: id, IdentityID: role + "-" + id, Email: role + "@" + id + ".example", Role: role, JoinedAt: f.now}
		if err := f.team.SaveMember(ctx, m); err != nil {
			tb.Fatal(err)
		}
		if _, err := f.subs.SetSubscription(ctx, m.ID, "ledger", level, f.now); err != nil {
			tb.Fatal(err)
		}
	}
	return o
}

func (f *fixture) mustCredential(tb testing.TB, orgID, id, label, env string) {
	tb.Helper()
	if err := f.usage.CreateCredential(context.Background(), onramp.Credential{ID: id, OrgID: orgID, Label: label, Environment: env, Hash: "h-" + id, Status: onramp.CredentialActive}); err != nil {
		tb.Fatal(err)
	}
}

// mustCalls records n calls of version's op by cred on the day daysAgo before now (at hour),
// as the gateway node's month totals hold them, and writes the month.
func (f *fixture) mustCalls(tb testing.TB, orgID, version, op, env, cred string, daysAgo, hour int, n int64) {
	tb.Helper()
	at := f.now.Truncate(24*time.Hour).AddDate(0, 0, -daysAgo).Add(time.Duration(hour) * time.Hour)
	start := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	key := orgID + start.Format("200601")
	m := f.months[key]
	if m == nil {
		m = &onramp.UsageMonth{OrgID: orgID, Month: start}
		f.months[key] = m
	}
	li := slices.IndexFunc(m.Lines, func(l onramp.UsageLine) bool { return l.Product == "ledger" && l.Environment == env })
	if li < 0 {
		m.Lines = append(m.Lines, onramp.UsageLine{Product: "ledger", Environment: env})
		li = len(m.Lines) - 1
	}
	l := &m.Lines[li]
	ui := slices.IndexFunc(l.Uses, func(u onramp.OperationUse) bool { return u.Version == version && u.Operation == op })
	if ui < 0 {
		l.Uses = append(l.Uses, onramp.OperationUse{Version: version, Operation: op})
		ui = len(l.Uses) - 1
	}
	u := &l.Uses[ui]
	day := at.Truncate(24 * time.Hour)
	if di := slices.IndexFunc(u.Days, func(d onramp.DayCalls) bool { return d.Day.Equal(day) }); di >= 0 {
		u.Days[di].Calls += n
	} else {
		u.Days = append(u.Days, onramp.DayCalls{Day: day, Calls: n})
	}
	if ci := slices.IndexFunc(u.Credentials, func(c onramp.CredentialLastUse) bool { return c.CredentialID == cred }); ci >= 0 {
		if at.After(u.Credentials[ci].LastAt) {
			u.Credentials[ci].LastAt = at
		}
	} else {
		u.Credentials = append(u.Credentials, onramp.CredentialLastUse{CredentialID: cred, LastAt: at})
	}
	if err := f.usage.SaveUsage(context.Background(), "gw-1", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: orgID}, Months: []onramp.UsageMonth{*m}}); err != nil {
		tb.Fatal(err)
	}
}

var provider = onramp.ProviderActor("test")

func (f *fixture) mustPlan(tb testing.TB, e onramp.ImpactEvent) onramp.ImpactPlan {
	tb.Helper()
	p, err := f.svc.Plan(context.Background(), provider, e)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func (f *fixture) mustAlarms(tb testing.TB, p onramp.ImpactPlan) map[string]onramp.ImpactAlarm {
	tb.Helper()
	as, err := f.svc.Alarms(context.Background(), provider, p, p.Organizations)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]onramp.ImpactAlarm{}
	for _, a := range as {
		out[a.Impact.OrgID] = a
	}
	return out
}

func operations(p onramp.ImpactPlan) string {
	var out []string
	for _, op := range p.Operations {
		out = append(out, op.Operation)
	}
	return strings.Join(out, " ")
}

func impactString(i onramp.Impact) string {
	var parts []string
	for _, op := range i.Operations {
		p := fmt.Sprintf("%s:%d", op.Operation, op.Calls)
		for _, c := range op.Credentials {
			p += " " + c.ID + "=" + c.Label
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

var breakingV2 = onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: "ledger", Version: "v2"}

// A breaking version affects the operations of the version before it that its breaking changes
// are located at: a required parameter, a removed operation, a renamed path (the old path's
// operation), a renamed path parameter (found through its method and path); an operation whose id
// alone changed is not affected.
func TestPlanOfABreakingVersionLocatesTheOperationsOfTheOneBefore(t *testing.T) {
	f := mustFixture(t)
	f.mustOrg(t, "org_b")
	f.mustOrg(t, "org_a")
	p := f.mustPlan(t, breakingV2)
	if p.Called != "v1" || p.Successor != "v2" || p.ProductName != "Ledger" || !p.At.Equal(f.now) {
		t.Errorf("plan = %+v; want v1's calls counted, at now", p)
	}
	if got, want := operations(p), "getBalance listEntries getEntry deleteEntry"; got != want { // in v1's order
		t.Errorf("affected = %s, want %s", got, want)
	}
	for _, op := range p.Operations {
		if len(op.Changes) == 0 || op.Method == "" || op.Path == "" {
			t.Errorf("%s: %+v, want its method, path and what changes", op.Operation, op)
		}
	}
	if !strings.Contains(p.Operations[0].Changes[0], "path removed") || !strings.Contains(p.Operations[1].Changes[0], "`limit` became required") {
		t.Errorf("getBalance changes = %q, listEntries changes = %q", p.Operations[0].Changes, p.Operations[1].Changes)
	}
	if strings.Join(p.Organizations, " ") != "org_a org_b" {
		t.Errorf("organisations = %v, want both assigned, sorted", p.Organizations)
	}
	// The first version breaks nothing; an unknown version is not stored (yet).
	if first := f.mustPlan(t, onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: "ledger", Version: "v1"}); len(first.Operations)+len(first.Organizations) != 0 {
		t.Errorf("plan of v1 = %+v, want nothing affected", first)
	}
	if _, err := f.svc.Plan(t.Context(), provider, onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: "ledger", Version: "v3"}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("plan of v3 = %v, want ENOTFOUND", err)
	}
	a := onramp.Actor{IdentityID: "owner-org_a", Memberships: []onramp.Membership{{Organization: onramp.Organization{ID: "org_a"}, Role: onramp.RoleOwner}}}
	if _, err := f.svc.Plan(t.Context(), a, breakingV2); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner asks for the plan: %v, want EFORBIDDEN", err)
	}
	if _, err := f.svc.Alarms(t.Context(), a, p, []string{"org_a"}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner asks for alarms: %v, want EFORBIDDEN", err)
	}
}

// Two organisations on the product: the one that called an operation v2 breaks gets an alarm
// naming it, its count, last call and credential, and only its own; the one that called only
// operations v2 leaves alone, or only v2 itself, or broken operations only 30 days ago or more,
// gets none.
func TestAlarmsGoOnlyToOrganisationsWhoseOwnCallsBreak(t *testing.T) {
	f := mustFixture(t)
	for _, id := range []string{"org_a", "org_b", "org_c", "org_d"} {
		f.mustOrg(t, id)
	}
	f.mustCredential(t, "org_a", "cred_a_sb", "CI", onramp.Sandbox)
	f.mustCredential(t, "org_a", "cred_a_prod", "backend", onramp.Production)
	f.mustCredential(t, "org_b", "cred_b", "b's key", onramp.Sandbox)
	f.mustCalls(t, "org_a", "v1", "listEntries", onramp.Sandbox, "cred_a_sb", 29, 10, 3) // 29 days ago: inside
	f.mustCalls(t, "org_a", "v1", "listEntries", onramp.Production, "cred_a_prod", 2, 9, 40)
	f.mustCalls(t, "org_a", "v1", "deleteEntry", onramp.Production, "cred_a_prod", 0, 8, 1)
	f.mustCalls(t, "org_a", "v1", "createEntry", onramp.Production, "cred_a_prod", 0, 8, 500) // not broken
	f.mustCalls(t, "org_a", "v1", "getEntry", onramp.Sandbox, "cred_a_sb", 30, 10, 9)         // 30 days ago: outside
	f.mustCalls(t, "org_b", "v1", "createEntry", onramp.Sandbox, "cred_b", 1, 10, 70)         // only what v2 leaves alone
	f.mustCalls(t, "org_c", "v2", "listEntries", onramp.Sandbox, "cred_c", 1, 10, 70)         // v2 already
	f.mustCalls(t, "org_d", "v1", "listEntries", onramp.Sandbox, "cred_d", 31, 10, 70)        // too long ago
	f.mustCalls(t, "org_d", "v1", "listEntries", onramp.Sandbox, "cred_d", 30, 23, 70)        // the day before the window
	alarms := f.mustAlarms(t, f.mustPlan(t, breakingV2))
	if len(alarms) != 1 {
		t.Fatalf("alarms for %d organisations, want org_a's only: %+v", len(alarms), alarms)
	}
	a := alarms["org_a"]
	if got, want := impactString(a.Impact), "listEntries:43 cred_a_prod=backend cred_a_sb=CI; deleteEntry:1 cred_a_prod=backend"; got != want {
		t.Errorf("org_a's impact = %s\nwant %s", got, want)
	}
	if le := a.Impact.Operations[0]; !le.LastCall.Equal(f.now.Truncate(24*time.Hour).AddDate(0, 0, -2).Add(9*time.Hour)) || strings.Join(le.Environments, ",") != "production,sandbox" {
		t.Errorf("listEntries = %+v, want its last call two days ago at 09:00 in both environments", le)
	}
	n := a.Notification
	if n.ID != "impact-ledger@v2-breaking-org_a" || n.OrgID != "org_a" || n.Link != portal+"/catalog/ledger?org=org_a&version=v2#changelog" {
		t.Errorf("notification = %+v", n)
	}
	for _, want := range []string{"Ledger v2 breaks 2 operations your organisation called 44 times in the last 30 days"} {
		if n.Title != want {
			t.Errorf("title = %q, want %q", n.Title, want)
		}
	}
	for _, want := range []string{"listEntries (GET /entries): 43 calls", `"backend" (production, cred_a_prod)`, `"CI" (sandbox, cred_a_sb)`, "`limit` became required",
		"deleteEntry (DELETE /entries/{id}): 1 call", "since 2027-03-02"} {
		if !strings.Contains(n.Body, want) {
			t.Errorf("notification body lacks %q:\n%s", want, n.Body)
		}
	}
	for _, leak := range []string{"getEntry", "createEntry", "org_b", "cred_b", "org_c", "org_d"} {
		if strings.Contains(n.Body, leak) {
			t.Errorf("notification body names %q:\n%s", leak, n.Body)
		}
	}
	// Mailed: the owner (breaking). Not the developer (none), nor the viewer (all, but viewers are not mailed).
	if len(a.Mails) != 1 || a.Mails[0].To != "owner@org_a.example" || a.Mails[0].ID != n.ID+"-owner-org_a" || a.Mails[0].Subject != n.Title ||
		!strings.Contains(a.Mails[0].Text, "listEntries (GET /entries): 43 calls") {
		t.Errorf("mails = %+v, want one to the owner", a.Mails)
	}
}

// A credential another organisation owns is never named in an alarm (only its id, which the
// aggregates of this organisation hold, stays).
func TestAlarmsNameOnlyTheOrganisationsOwnCredentials(t *testing.T) {
	f := mustFixture(t)
	f.mustOrg(t, "org_a")
	f.mustOrg(t, "org_b")
	f.mustCredential(t, "org_b", "cred_b", "b's secret label", onramp.Sandbox)
	f.mustCalls(t, "org_a", "v1", "listEntries", onramp.Sandbox, "cred_b", 1, 10, 1)
	a := f.mustAlarms(t, f.mustPlan(t, breakingV2))["org_a"]
	if len(a.Impact.Operations) != 1 || a.Impact.Operations[0].Credentials[0].Label != "" || strings.Contains(a.Notification.Body, "b's secret label") {
		t.Errorf("alarm = %+v", a)
	}
}

// Deprecating a version (or moving its sunset) affects every operation of it: each organisation
// calling any is alarmed with those it calls and what moving to the successor changes for each;
// a sunset the stored version no longer has affects nothing.
func TestDeprecationAlarmsTheOrganisationsThatCallTheVersion(t *testing.T) {
	f := mustFixture(t)
	f.mustOrg(t, "org_a")
	f.mustOrg(t, "org_b")
	f.mustCalls(t, "org_a", "v1", "createEntry", onramp.Sandbox, "cred_a", 3, 10, 5)
	f.mustCalls(t, "org_a", "v1", "getEntry", onramp.Sandbox, "cred_a", 3, 10, 2)
	f.mustCalls(t, "org_b", "v2", "listEntries", onramp.Sandbox, "cred_b", 1, 10, 50) // migrated
	sunset := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	if _, err := f.catalog.UpdateVersion(t.Context(), "ledger", "v1", onramp.VersionDeprecated, &sunset, ""); err != nil {
		t.Fatal(err)
	}
	e := onramp.ImpactEvent{Kind: onramp.ImpactDeprecated, Product: "ledger", Version: "v1", Sunset: &sunset}
	p := f.mustPlan(t, e)
	if p.Called != "v1" || p.Successor != "v2" || operations(p) != "getBalance listEntries createEntry getEntry deleteEntry" {
		t.Errorf("plan = %+v, want every operation of v1", p)
	}
	alarms := f.mustAlarms(t, p)
	if len(alarms) != 1 {
		t.Fatalf("alarms = %+v, want org_a's only", alarms)
	}
	a := alarms["org_a"]
	if got := impactString(a.Impact); got != "createEntry:5 cred_a=; getEntry:2 cred_a=" {
		t.Errorf("impact = %s", got)
	}
	ce, ge := a.Impact.Operations[0], a.Impact.Operations[1]
	if !strings.Contains(ce.Changes[0], "410 Gone") || !strings.Contains(ce.Changes[1], "no breaking change") || !strings.Contains(ge.Changes[1], "In v2: added the new required `query` request parameter `fields`") {
		t.Errorf("changes = %q / %q", ce.Changes, ge.Changes)
	}
	if a.Notification.Title != "Ledger v1 is deprecated and retires on 2027-06-30: 2 operations you called 7 times in the last 30 days" ||
		a.Notification.Link != portal+"/catalog/ledger?org=org_a&version=v1#deprecated-calls" || a.Notification.ID != e.Key()+"-org_a" {
		t.Errorf("notification = %+v", a.Notification)
	}
	later := sunset.AddDate(0, 1, 0)
	if stale := f.mustPlan(t, onramp.ImpactEvent{Kind: onramp.ImpactSunset, Product: "ledger", Version: "v1", Sunset: &later}); len(stale.Operations)+len(stale.Organizations) != 0 {
		t.Errorf("a sunset v1 does not have = %+v, want nothing affected", stale)
	}
}

// The mapping from changes to operations, on its own.
func TestBreakingByOperation(t *testing.T) {
	ops := []onramp.Operation{{ID: "listEntries", Method: "GET", Path: "/entries"}, {ID: "getEntry", Method: "GET", Path: "/entries/{id}"}, {ID: "createEntry", Method: "POST", Path: "/entries"}}
	got := impact.BreakingByOperation([]specs.Change{
		{Level: specs.Breaking, Operation: "GET /entries/{entryId}", Text: "renamed and required"},
		{Level: specs.Warning, Operation: "GET /entries", Text: "a warning"},
		{Level: specs.Breaking, Operation: "DELETE /entries/{id}", Text: "a new operation's"},
		{Level: specs.Breaking, Text: "document-wide"},
		{Level: specs.Breaking, Text: "document-wide"},
	}, ops)
	want := map[string][]string{"getEntry": {"renamed and required", "document-wide"}, "listEntries": {"document-wide"}, "createEntry": {"document-wide"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("BreakingByOperation = %v, want %v", got, want)
	}
}

func member(orgID, role string) onramp.Actor {
	return onramp.Actor{IdentityID: role + "-" + orgID, Email: role + "@" + orgID + ".example",
		Memberships: []onramp.Membership{{Organization: onramp.Organization{ID: orgID, Name: "Org " + orgID, Tier: "standard", Status: onramp.OrgActive}, Role: role}}}
}

func callersString(d impact.Dashboard) string {
	var parts []string
	for _, c := range d.Callers {
		parts = append(parts, fmt.Sprintf("%s%v", c.OrgID, c.Weekly))
	}
	return strings.Join(parts, " ")
}

// Who still calls v1: the organisations that called it, per week (Monday to Sunday, UTC), most
// calls first, in pages; not those that call only v2; one computation per TTL.
func TestWhoCallsIsTheMigrationDashboard(t *testing.T) {
	f := mustFixture(t) // Wednesday 2027-03-31: this week began Monday 03-29
	for _, id := range []string{"org_a", "org_b", "org_c", "org_d"} {
		f.mustOrg(t, id)
	}
	f.mustCalls(t, "org_a", "v1", "listEntries", onramp.Sandbox, "k", 0, 9, 5)    // this week
	f.mustCalls(t, "org_a", "v1", "getEntry", onramp.Production, "k", 2, 9, 1)    // Monday: this week
	f.mustCalls(t, "org_a", "v1", "listEntries", onramp.Sandbox, "k", 3, 9, 10)   // Sunday: last week
	f.mustCalls(t, "org_b", "v1", "listEntries", onramp.Sandbox, "k", 50, 9, 100) // 7 weeks back and more: before 4 weeks
	f.mustCalls(t, "org_b", "v1", "listEntries", onramp.Sandbox, "k", 9, 9, 1)
	f.mustCalls(t, "org_c", "v1", "createEntry", onramp.Sandbox, "k", 16, 9, 30)
	f.mustCalls(t, "org_d", "v2", "listEntries", onramp.Sandbox, "k", 0, 9, 999)
	d, err := f.svc.WhoCalls(t.Context(), provider, "ledger", "v1", impact.DashboardQuery{Weeks: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Weeks) != 4 || d.Weeks[3].Format(time.DateOnly) != "2027-03-29" || d.Weeks[0].Format(time.DateOnly) != "2027-03-08" {
		t.Errorf("weeks = %v, want the 4 Mondays up to this one", d.Weeks)
	}
	if got, want := callersString(d), "org_c[0 30 0 0] org_a[0 0 10 6] org_b[0 0 1 0]"; got != want {
		t.Errorf("callers = %s, want %s", got, want)
	}
	if d.Total != 3 || d.Calls != 47 || d.Callers[1].Name != "Org org_a" || strings.Join(d.Callers[1].Operations, ",") != "listEntries,getEntry" ||
		strings.Join(d.Callers[1].Environments, ",") != "production,sandbox" || !d.Callers[1].LastCall.Equal(f.now.Truncate(24*time.Hour).Add(9*time.Hour)) {
		t.Errorf("dashboard = %+v", d)
	}
	eight, err := f.svc.WhoCalls(t.Context(), provider, "ledger", "v1", impact.DashboardQuery{})
	if err != nil || len(eight.Weeks) != 8 || eight.Callers[0].OrgID != "org_b" || eight.Callers[0].Calls != 101 {
		t.Errorf("8 weeks = %s, %v; want org_b's 101 calls first", callersString(eight), err)
	}
	page, err := f.svc.WhoCalls(t.Context(), provider, "ledger", "v1", impact.DashboardQuery{Weeks: 4, Limit: 2})
	if err != nil || callersString(page) != "org_c[0 30 0 0] org_a[0 0 10 6]" || page.Next == nil || *page.Next != 2 || page.Total != 3 {
		t.Fatalf("first page = %s next %v, %v", callersString(page), page.Next, err)
	}
	page, err = f.svc.WhoCalls(t.Context(), provider, "ledger", "v1", impact.DashboardQuery{Weeks: 4, Limit: 2, Offset: *page.Next})
	if err != nil || callersString(page) != "org_b[0 0 1 0]" || page.Next != nil {
		t.Errorf("second page = %s next %v, %v", callersString(page), page.Next, err)
	}
	// Within the TTL the computation is reused; after it, new calls show.
	f.mustCalls(t, "org_d", "v1", "listEntries", onramp.Sandbox, "k", 0, 10, 1)
	if again, _ := f.svc.WhoCalls(t.Context(), provider, "ledger", "v1", impact.DashboardQuery{Weeks: 4}); again.Total != 3 || !again.ComputedAt.Equal(d.ComputedAt) {
		t.Errorf("within the TTL = %d callers computed at %s, want the first computation", again.Total, again.ComputedAt)
	}
	f.now = f.now.Add(impact.DefaultDashboardTTL)
	if fresh, _ := f.svc.WhoCalls(t.Context(), provider, "ledger", "v1", impact.DashboardQuery{Weeks: 4}); fresh.Total != 4 {
		t.Errorf("after the TTL = %s, want org_d too", callersString(fresh))
	}
	for _, q := range []impact.DashboardQuery{{Weeks: 9}, {Weeks: -1}, {Offset: -1}, {Limit: impact.MaxPage + 1}} {
		if _, err := f.svc.WhoCalls(t.Context(), provider, "ledger", "v1", q); onramp.ErrorCode(err) != onramp.EINVALID {
			t.Errorf("WhoCalls(%+v) = %v, want EINVALID", q, err)
		}
	}
	if _, err := f.svc.WhoCalls(t.Context(), provider, "ledger", "v9", impact.DashboardQuery{}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("an unknown version: %v, want ENOTFOUND", err)
	}
	if _, err := f.svc.WhoCalls(t.Context(), member("org_a", onramp.RoleOwner), "ledger", "v1", impact.DashboardQuery{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner asks for the dashboard: %v, want EFORBIDDEN", err)
	}
}

// A partner sees its own calls of deprecated versions, never another organisation's, and only
// of products it sees.
func TestDeprecatedCallsAreTheOrganisationsOwn(t *testing.T) {
	f := mustFixture(t)
	f.mustOrg(t, "org_a")
	f.mustOrg(t, "org_b")
	f.mustCredential(t, "org_a", "cred_a", "CI", onramp.Sandbox)
	f.mustCalls(t, "org_a", "v1", "listEntries", onramp.Sandbox, "cred_a", 1, 9, 4)
	f.mustCalls(t, "org_a", "v2", "listEntries", onramp.Sandbox, "cred_a", 1, 9, 40)
	f.mustCalls(t, "org_b", "v1", "listEntries", onramp.Sandbox, "cred_b", 1, 9, 7000)
	f.mustCalls(t, "org_b", "v1", "deleteEntry", onramp.Sandbox, "cred_b", 1, 9, 1)
	none, err := f.svc.DeprecatedCalls(t.Context(), member("org_a", onramp.RoleDeveloper), "org_a", "ledger")
	if err != nil || len(none.Versions) != 0 {
		t.Errorf("before any deprecation = %+v, %v; want no deprecated version", none, err)
	}
	sunset := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	if _, err := f.catalog.UpdateVersion(t.Context(), "ledger", "v1", onramp.VersionDeprecated, &sunset, ""); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{onramp.RoleDeveloper, onramp.RoleViewer} {
		got, err := f.svc.DeprecatedCalls(t.Context(), member("org_a", role), "org_a", "ledger")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Versions) != 1 || got.Versions[0].Version != "v1" || got.Versions[0].Successor != "v2" || got.Versions[0].Phase != onramp.VersionDeprecated ||
			got.Versions[0].Calls != 4 || len(got.Versions[0].Operations) != 1 || got.Versions[0].Operations[0].Operation != "listEntries" ||
			got.Versions[0].Operations[0].Credentials[0].Label != "CI" || !got.From.Equal(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s of org_a sees %+v, want its own 4 calls of v1 listEntries", role, got)
		}
	}
	if _, err := f.svc.DeprecatedCalls(t.Context(), member("org_a", onramp.RoleOwner), "org_b", "ledger"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("org_a asks for org_b's calls: %v, want ENOTFOUND (not its organisation)", err)
	}
	if _, err := f.svc.DeprecatedCalls(t.Context(), member("org_a", onramp.RoleOwner), "org_a", "payments"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("a product org_a does not see: %v, want ENOTFOUND", err)
	}
	if _, err := f.svc.DeprecatedCalls(t.Context(), provider, "org_a", "ledger"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("the provider through the partner's view: %v, want ENOTFOUND (it is no member)", err)
	}
}

// The product page's section shows the organisation's own impact alarms about the product and
// its calls of deprecated versions; nothing at all when it has neither.
func TestSectionShowsTheOrganisationsOwnAlarmsOfTheProduct(t *testing.T) {
	f := mustFixture(t)
	f.mustOrg(t, "org_a")
	f.mustOrg(t, "org_b")
	dev := member("org_a", onramp.RoleDeveloper)
	if got, err := f.svc.Section(t.Context(), dev, "org_a", "ledger"); err != nil || got != nil {
		t.Errorf("no deprecation and no alarm: section = %+v, %v; want none", got, err)
	}
	for _, n := range []onramp.Notification{
		{ID: "impact-ledger@v2-breaking-org_a", OrgID: "org_a", Title: "ledger v2 breaks your calls", At: f.now},
		{ID: "impact-payments@v2-breaking-org_a", OrgID: "org_a", Title: "another product", At: f.now},
		{ID: "impact-ledger@v2-breaking-org_b", OrgID: "org_b", Title: "another organisation", At: f.now},
		{ID: "quota-80-org_a", OrgID: "org_a", Title: "not an impact alarm", At: f.now},
	} {
		if err := f.notes.Notify(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.svc.Section(t.Context(), dev, "org_a", "ledger")
	if err != nil || got == nil || len(got.Alarms) != 1 || got.Alarms[0].ID != "impact-ledger@v2-breaking-org_a" || len(got.Versions) != 0 {
		t.Fatalf("section = %+v, %v; want org_a's one ledger alarm and no deprecated version", got, err)
	}
	if _, err := f.svc.Section(t.Context(), dev, "org_b", "ledger"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("org_a's member asks for org_b's section: %v, want ENOTFOUND", err)
	}
}
