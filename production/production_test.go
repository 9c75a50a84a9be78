package production_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/production"
	"github.com/onramp-dev/onramp/production/productiontest"
	"github.com/onramp-dev/onramp/team/teamtest"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func month(limit int64) *onramp.Quota { return &onramp.Quota{Limit: limit, Period: "month"} }
func day(limit int64) *onramp.Quota   { return &onramp.Quota{Limit: limit, Period: "day"} }

// catalogue is deploy/catalog/plans.yaml in short: standard and premium.
type catalogue struct{}

func (catalogue) Plans(context.Context) ([]onramp.Plan, error) {
	grant := func(q int64, scopes ...string) onramp.Grant {
		return onramp.Grant{Scopes: scopes, Environments: []string{onramp.Sandbox}, Quota: *month(q)}
	}
	return []onramp.Plan{
		{Name: "premium", Products: map[string]onramp.Grant{
			"payments": grant(100000, "payments:read", "payments:write", "payments:refund"),
			"accounts": grant(100000, "accounts:read", "accounts:write"),
			"insights": grant(50000, "insights:read"),
		}},
		{Name: "standard", Products: map[string]onramp.Grant{
			"payments": grant(10000, "payments:read", "payments:write"),
			"accounts": grant(10000, "accounts:read"),
		}},
	}, nil
}

// reviews stands in for the ProductionReview workflow: it records each call and, before
// returning, stores the step the workflow would record (as RecordReviewStep does), so the service
// reads back what the review recorded. Like the workflow, one review runs per request and ends
// with an approval or a rejection; later actions are refused as the Temporal adapter refuses them.
type reviews struct {
	mu      sync.Mutex
	store   *productiontest.Memory
	now     func() time.Time
	started []string
	calls   []call
	ended   map[string]bool
	fail    error // Temporal is down
}

type call struct {
	id, action string
	d          onramp.ReviewDecision
}

// sla is the fake's due time after each "received"; the real one is on the business calendar.
const sla = 8 * time.Hour

var steps = map[string]string{"claim": onramp.RequestInReview, "approve": onramp.RequestApproved, "reject": onramp.RequestRejected,
	"request-changes": onramp.RequestChangesRequested, "resubmit": onramp.RequestReceived}

func (v *reviews) StartReview(ctx context.Context, r onramp.ProductionRequest) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.fail != nil {
		return v.fail
	}
	if slices.Contains(v.started, r.ID) {
		return onramp.Errorf(onramp.ECONFLICT, "request %s is already submitted", r.ID)
	}
	v.started = append(v.started, r.ID)
	return v.record(ctx, r.ID, onramp.RequestReceived, onramp.ReviewDecision{By: "partner"})
}

func (v *reviews) Review(ctx context.Context, id, action string, d onramp.ReviewDecision) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, call{id, action, d})
	if v.fail != nil {
		return v.fail
	}
	if v.ended[id] || !slices.Contains(v.started, id) {
		return onramp.Errorf(onramp.ECONFLICT, "the review of %s has ended; nothing more can be done on it", id)
	}
	if action == "approve" || action == "reject" {
		v.ended[id] = true
	}
	return v.record(ctx, id, steps[action], d)
}

func (v *reviews) record(ctx context.Context, id, status string, d onramp.ReviewDecision) error {
	r, err := v.store.FindProductionRequest(ctx, id)
	if err != nil {
		return err
	}
	now := v.now()
	r.Status = status
	r.History = append(r.History, onramp.StatusChange{Status: status, At: now, By: d.By, Note: d.Reason + d.Changes})
	switch status {
	case onramp.RequestReceived:
		due := now.Add(sla)
		r.SLADue, r.SubmittedAt, r.Reviewer = &due, &now, ""
	case onramp.RequestInReview:
		r.Reviewer = d.By
	case onramp.RequestApproved:
		r.Approved = d.Grants
		if len(r.Approved) == 0 { // what was asked, on the plans' terms
			for _, p := range r.Products {
				r.Approved = append(r.Approved, onramp.ApprovedProduct{Product: p.Product, Plan: p.Plan})
			}
		}
	}
	return v.store.SaveProductionRequest(ctx, r)
}

func (v *reviews) callsFor(id string) []call {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []call
	for _, c := range v.calls {
		if c.id == id {
			out = append(out, c)
		}
	}
	return out
}

type fixture struct {
	svc     *production.Service
	store   *productiontest.Memory
	orgs    *teamtest.Memory
	reviews *reviews
	now     time.Time
}

// policy is compiled once for every fixture: loading it runs every Rego test.
var policy = sync.OnceValues(func() (*policies.Engine, error) { return policies.New(context.Background(), policies.Embedded()) })

func mustFixture(tb testing.TB) *fixture {
	tb.Helper()
	engine, err := policy()
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{store: productiontest.NewMemory(), orgs: teamtest.NewMemory(), now: t0}
	f.reviews = &reviews{store: f.store, now: f.clock, ended: map[string]bool{}}
	f.svc, err = production.New(production.Config{Policy: engine, Requests: f.store, Reviews: f.reviews, Plans: catalogue{},
		Organizations: f.orgs, Onboarding: f.store, Now: f.clock})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func (f *fixture) clock() time.Time { return f.now }

// mustOrg creates an organisation on a plan; its name is "Org <id>".
func (f *fixture) mustOrg(tb testing.TB, id, tier string) onramp.Organization {
	tb.Helper()
	o := onramp.Organization{ID: id, Name: "Org " + id, Tier: tier, Status: onramp.OrgActive, ContactEmail: "owner@" + id + ".example", InvitedAt: t0}
	if err := f.orgs.CreateOrganization(tb.Context(), o); err != nil {
		tb.Fatal(err)
	}
	return o
}

// member is someone with role in orgID (and nowhere else).
func member(orgID, role string) onramp.Actor {
	email := role + "@" + orgID + ".example"
	return onramp.Actor{IdentityID: "id-" + email, Email: email, Memberships: []onramp.Membership{{Organization: onramp.Organization{ID: orgID}, Role: role}}}
}

var provider = onramp.ProviderActor("ana@provider.example")

// validForm is a complete request for the standard plan, written as a person types it.
func validForm() production.Form {
	return production.Form{LegalName: "  Acme Payments GmbH ", Country: " de", Website: "https://acme.example", TechnicalContact: " Dev@Acme.example",
		SecurityContact: "security@acme.example", Products: []onramp.RequestedProduct{{Product: "payments", Plan: "standard", MonthlyVolume: 5000},
			{Product: "accounts", Plan: "standard", MonthlyVolume: 1000}},
		WebhookURLs: []string{" https://acme.example/hooks ", "  "}, UseCase: "Subscriptions billing for our customers."}
}

// mustSubmitted drafts validForm in orgID as its owner and submits it.
func (f *fixture) mustSubmitted(tb testing.TB, orgID string) onramp.ProductionRequest {
	tb.Helper()
	owner := member(orgID, onramp.RoleOwner)
	r, err := f.svc.SaveDraft(tb.Context(), owner, orgID, "", validForm())
	if err != nil {
		tb.Fatal(err)
	}
	if r, err = f.svc.Submit(tb.Context(), owner, orgID, r.ID); err != nil || r.Status != onramp.RequestReceived {
		tb.Fatalf("submit = %s, %v; want received", r.Status, err)
	}
	return r
}

func TestNewRequiresEveryDependency(t *testing.T) {
	f := mustFixture(t)
	engine, _ := policy()
	full := production.Config{Policy: engine, Requests: f.store, Reviews: f.reviews, Plans: catalogue{}, Organizations: f.orgs, Onboarding: f.store}
	if _, err := production.New(full); err != nil {
		t.Fatalf("New with every dependency (and no clock) = %v", err)
	}
	for name, drop := range map[string]func(*production.Config){
		"Policy":        func(c *production.Config) { c.Policy = nil },
		"Requests":      func(c *production.Config) { c.Requests = nil },
		"Reviews":       func(c *production.Config) { c.Reviews = nil },
		"Plans":         func(c *production.Config) { c.Plans = nil },
		"Organizations": func(c *production.Config) { c.Organizations = nil },
		"Onboarding":    func(c *production.Config) { c.Onboarding = nil },
	} {
		cfg := full
		drop(&cfg)
		if _, err := production.New(cfg); err == nil {
			t.Errorf("New without %s succeeded", name)
		}
	}
}

// Owners and admins draft and submit; developers and viewers follow the requests but may not
// make one; someone of another organisation, or the provider, finds no such organisation.
func TestWhoMayDraftAndSubmit(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	f.mustOrg(t, "org_b", "standard")
	owner := member("org_a", onramp.RoleOwner)
	draft, err := f.svc.SaveDraft(ctx, owner, "org_a", "", validForm())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		who       onramp.Actor
		want      string // error code of drafting and submitting
		canFollow bool
	}{
		{"owner", owner, "", true},
		{"admin", member("org_a", onramp.RoleAdmin), "", true},
		{"developer", member("org_a", onramp.RoleDeveloper), onramp.EFORBIDDEN, true},
		{"viewer", member("org_a", onramp.RoleViewer), onramp.EFORBIDDEN, true},
		{"another organisation's owner", member("org_b", onramp.RoleOwner), onramp.ENOTFOUND, false},
		{"the provider", provider, onramp.ENOTFOUND, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.svc.Can(ctx, tc.who, "org_a"); got != (tc.want == "") {
				t.Errorf("Can = %v, want %v", got, tc.want == "")
			}
			r, err := f.svc.SaveDraft(ctx, tc.who, "org_a", "", validForm())
			if onramp.ErrorCode(err) != tc.want {
				t.Fatalf("SaveDraft = %v, want code %q", err, tc.want)
			}
			if _, err := f.svc.SaveDraft(ctx, tc.who, "org_a", draft.ID, validForm()); onramp.ErrorCode(err) != tc.want {
				t.Errorf("editing the owner's draft = %v, want code %q", err, tc.want)
			}
			id := draft.ID
			if tc.want == "" {
				id = r.ID
			}
			if _, err := f.svc.Submit(ctx, tc.who, "org_a", id); onramp.ErrorCode(err) != tc.want {
				t.Errorf("Submit = %v, want code %q", err, tc.want)
			}
			if tc.want == onramp.ENOTFOUND && onramp.ErrorMessage(err) != onramp.ErrorMessage(onramp.NotYourOrganization("org_a")) {
				t.Errorf("refusal = %q, want the words of an organisation that does not exist", onramp.ErrorMessage(err))
			}
			_, errList := f.svc.Requests(ctx, tc.who, "org_a")
			_, errOne := f.svc.Request(ctx, tc.who, "org_a", draft.ID)
			if (errList == nil) != tc.canFollow || (errOne == nil) != tc.canFollow {
				t.Errorf("following the requests = %v, %v; want allowed %v", errList, errOne, tc.canFollow)
			}
		})
	}
	if got, _ := f.store.FindProductionRequest(ctx, draft.ID); got.Status != onramp.RequestDraft {
		t.Errorf("the owner's draft is %s after the refusals, want still a draft", got.Status)
	}
	if len(f.reviews.started) != 2 {
		t.Errorf("reviews started = %v, want the owner's and the admin's", f.reviews.started)
	}
}

// A draft is stored as typed but normalised; an edit keeps who made it and when.
func TestDraftIsNormalisedAndEditable(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	r, err := f.svc.SaveDraft(ctx, member("org_a", onramp.RoleOwner), "org_a", "", validForm())
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.store.FindProductionRequest(ctx, r.ID)
	if stored.LegalName != "Acme Payments GmbH" || stored.Country != "DE" || stored.TechnicalContact != "dev@acme.example" ||
		!slices.Equal(stored.WebhookURLs, []string{"https://acme.example/hooks"}) || stored.UseCase != "Subscriptions billing for our customers." {
		t.Errorf("stored draft = %+v, want it trimmed, the country upper case, the address lower case, the empty webhook dropped", stored)
	}
	if stored.Status != onramp.RequestDraft || stored.OrgID != "org_a" || !stored.CreatedAt.Equal(t0) || stored.CreatedBy != "owner@org_a.example" {
		t.Errorf("stored draft = %s of %s, created %v by %s; want a draft of org_a made now by its owner", stored.Status, stored.OrgID, stored.CreatedAt, stored.CreatedBy)
	}
	f.now = t0.Add(time.Hour)
	edit := validForm()
	edit.Products, edit.WebhookURLs = nil, nil
	edited, err := f.svc.SaveDraft(ctx, member("org_a", onramp.RoleAdmin), "org_a", r.ID, edit)
	if err != nil {
		t.Fatal(err)
	}
	if edited.ID != r.ID || !edited.CreatedAt.Equal(t0) || edited.CreatedBy != "owner@org_a.example" || edited.Products == nil || len(edited.Products) != 0 {
		t.Errorf("edited = %+v; want the same request, made at t0 by the owner, with an empty (not nil) product list", edited)
	}
	if got := production.FormOf(stored); !reflect.DeepEqual(got.Products, stored.Products) || got.LegalName != stored.LegalName {
		t.Errorf("FormOf = %+v, want the stored request's fields", got)
	}
}

// Submitting lists every field to fix at once; each rule names its field, and each bound has an
// accepted side.
func TestSubmitNamesTheFieldsToFix(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	owner := member("org_a", onramp.RoleOwner)

	empty, _ := f.svc.SaveDraft(ctx, owner, "org_a", "", production.Form{})
	_, err := f.svc.Submit(ctx, owner, "org_a", empty.ID)
	var locs []string
	for _, d := range onramp.ErrorDetails(err) {
		locs = append(locs, d.Location)
	}
	if want := []string{"legal_name", "country", "website", "technical_contact", "security_contact", "products", "use_case"}; onramp.ErrorCode(err) != onramp.EINVALID || !slices.Equal(locs, want) {
		t.Errorf("an empty draft = %v naming %v, want EINVALID naming %v", err, locs, want)
	}

	accepted := 0
	for _, tc := range []struct {
		name   string
		change func(*production.Form)
		want   string // the one location named; "" accepted
	}{
		{"complete", func(*production.Form) {}, ""},
		{"legal name blank", func(f *production.Form) { f.LegalName = "   " }, "legal_name"},
		{"country of three letters", func(f *production.Form) { f.Country = "DEU" }, "country"},
		{"country in lower case", func(f *production.Form) { f.Country = "gb" }, ""},
		{"website without scheme", func(f *production.Form) { f.Website = "acme.example" }, "website"},
		{"website over ftp", func(f *production.Form) { f.Website = "ftp://acme.example" }, "website"},
		{"website over http", func(f *production.Form) { f.Website = "http://acme.example" }, ""},
		{"technical contact not an address", func(f *production.Form) { f.TechnicalContact = "dev at acme" }, "technical_contact"},
		{"security contact missing", func(f *production.Form) { f.SecurityContact = "" }, "security_contact"},
		{"no products", func(f *production.Form) { f.Products = nil }, "products"},
		{"a product without its plan", func(f *production.Form) { f.Products[1].Plan = "" }, "products[1]"},
		{"no monthly volume", func(f *production.Form) { f.Products[0].MonthlyVolume = 0 }, "products[0].monthly_volume"},
		{"a monthly volume of one", func(f *production.Form) { f.Products[0].MonthlyVolume = 1 }, ""},
		{"a product its plan does not offer", func(f *production.Form) { f.Products[1].Product = "insights" }, "products[1]"},
		{"a plan that does not exist", func(f *production.Form) { f.Products[0].Plan = "gold" }, "products[0]"},
		{"webhook over http", func(f *production.Form) { f.WebhookURLs = []string{"https://ok.example/h", "http://acme.example/h"} }, "webhook_urls[1]"},
		{"webhook with credentials", func(f *production.Form) { f.WebhookURLs = []string{"https://u:p@acme.example/h"} }, "webhook_urls[0]"},
		{"webhook with a fragment", func(f *production.Form) { f.WebhookURLs = []string{"https://acme.example/h#x"} }, "webhook_urls[0]"},
		{"use case of 9 characters", func(f *production.Form) { f.UseCase = " " + strings.Repeat("x", 9) + " " }, "use_case"},
		{"use case of 10 characters", func(f *production.Form) { f.UseCase = strings.Repeat("x", 10) }, ""},
		{"use case of 4000 characters", func(f *production.Form) { f.UseCase = strings.Repeat("x", 4000) }, ""},
		{"use case of 4001 characters", func(f *production.Form) { f.UseCase = strings.Repeat("x", 4001) }, "use_case"},
	} {
		form := validForm()
		tc.change(&form)
		d, err := f.svc.SaveDraft(ctx, owner, "org_a", "", form)
		if err != nil {
			t.Fatalf("%s: saving the draft = %v (a draft may be incomplete)", tc.name, err)
		}
		r, err := f.svc.Submit(ctx, owner, "org_a", d.ID)
		if tc.want == "" {
			accepted++
			if err != nil || r.Status != onramp.RequestReceived {
				t.Errorf("%s: submit = %s, %v; want received", tc.name, r.Status, err)
			}
			continue
		}
		details := onramp.ErrorDetails(err)
		if onramp.ErrorCode(err) != onramp.EINVALID || len(details) != 1 || details[0].Location != tc.want {
			t.Errorf("%s: submit = %v %+v, want EINVALID naming only %s", tc.name, err, details, tc.want)
		}
		if got, _ := f.store.FindProductionRequest(ctx, d.ID); got.Status != onramp.RequestDraft {
			t.Errorf("%s: a refused request is %s, want still a draft", tc.name, got.Status)
		}
	}
	if len(f.reviews.started) != accepted {
		t.Errorf("%d reviews started, want one per accepted request (%d)", len(f.reviews.started), accepted)
	}
}

// A submitted request is not submitted or edited again, nor is a decided one; a review that
// cannot start leaves a draft to submit later.
func TestSubmitOnce(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	owner := member("org_a", onramp.RoleOwner)

	d, _ := f.svc.SaveDraft(ctx, owner, "org_a", "", validForm())
	f.reviews.fail = onramp.Errorf(onramp.EUNAVAILABLE, "temporal is down")
	if _, err := f.svc.Submit(ctx, owner, "org_a", d.ID); onramp.ErrorCode(err) != onramp.EUNAVAILABLE {
		t.Fatalf("submit while the review cannot start = %v, want its error", err)
	}
	if got, _ := f.store.FindProductionRequest(ctx, d.ID); got.Status != onramp.RequestDraft {
		t.Errorf("after a failed start the request is %s, want a draft", got.Status)
	}
	f.reviews.fail = nil

	r, err := f.svc.Submit(ctx, owner, "org_a", d.ID)
	if err != nil || r.Status != onramp.RequestReceived || r.SLADue == nil || !r.SLADue.Equal(t0.Add(sla)) {
		t.Fatalf("submit = %+v, %v; want received with the review's due time", r, err)
	}
	for _, status := range []string{onramp.RequestReceived, onramp.RequestApproved} {
		if status == onramp.RequestApproved {
			if _, err := f.svc.Review(ctx, provider, r.ID, "approve", production.Decision{}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.Submit(ctx, owner, "org_a", r.ID)
		if onramp.ErrorCode(err) != onramp.ECONFLICT || !strings.Contains(onramp.ErrorMessage(err), status) {
			t.Errorf("submitting a %s request = %v, want ECONFLICT saying it is %s", status, err, status)
		}
		if _, err := f.svc.SaveDraft(ctx, owner, "org_a", r.ID, validForm()); onramp.ErrorCode(err) != onramp.ECONFLICT {
			t.Errorf("editing a %s request = %v, want ECONFLICT", status, err)
		}
	}
	if !slices.Equal(f.reviews.started, []string{r.ID}) {
		t.Errorf("reviews started = %v, want one", f.reviews.started)
	}
	if got, _ := f.store.FindProductionRequest(ctx, r.ID); got.Status != onramp.RequestApproved || got.LegalName != "Acme Payments GmbH" {
		t.Errorf("after the refusals: %s %q", got.Status, got.LegalName)
	}
}

// Changes requested: the partner edits the same request and resubmits it to the running review.
func TestResubmitAfterChangesRequested(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	admin := member("org_a", onramp.RoleAdmin)
	r := f.mustSubmitted(t, "org_a")
	if _, err := f.svc.Review(ctx, provider, r.ID, "request-changes", production.Decision{Changes: "Name a security contact at your company."}); err != nil {
		t.Fatal(err)
	}
	edit := validForm()
	edit.SecurityContact = "ciso@acme.example"
	if _, err := f.svc.SaveDraft(ctx, admin, "org_a", r.ID, edit); err != nil {
		t.Fatalf("editing a request sent back = %v", err)
	}
	f.now = t0.Add(2 * time.Hour)
	got, err := f.svc.Submit(ctx, admin, "org_a", r.ID)
	if err != nil || got.Status != onramp.RequestReceived || got.SecurityContact != "ciso@acme.example" || !got.SLADue.Equal(f.now.Add(sla)) {
		t.Fatalf("resubmit = %+v, %v; want received again with the edit and a new due time", got, err)
	}
	calls := f.reviews.callsFor(r.ID)
	if len(calls) != 2 || calls[1].action != "resubmit" || calls[1].d.By != admin.Email {
		t.Errorf("review calls = %+v, want request-changes then a resubmission by the admin", calls)
	}
	if len(f.reviews.started) != 1 {
		t.Errorf("reviews started = %v, want the first one only (resubmission continues it)", f.reviews.started)
	}
	if _, err := f.svc.Submit(ctx, admin, "org_a", r.ID); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("resubmitting twice = %v, want ECONFLICT", err)
	}
}

// mustStore puts a request in the store as the review left it.
func (f *fixture) mustStore(tb testing.TB, id, orgID, status string, due *time.Time, history ...onramp.StatusChange) {
	tb.Helper()
	r := onramp.ProductionRequest{ID: id, OrgID: orgID, Status: status, SLADue: due, History: history, CreatedAt: t0,
		Products: []onramp.RequestedProduct{{Product: "payments", Plan: "standard", MonthlyVolume: 1}}}
	if err := f.store.SaveProductionRequest(tb.Context(), r); err != nil {
		tb.Fatal(err)
	}
}

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

func summary(q []production.QueueItem) []string {
	out := []string{}
	for _, i := range q {
		out = append(out, fmt.Sprintf("%s %q %s breached=%v %d", i.ID, i.OrgName, i.DueIn, i.Breached, i.DueSecond))
	}
	return out
}

// The queue lists the open requests soonest due first, each with its organisation and countdown
// on the service's clock.
func TestQueueSoonestDueFirst(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	f.mustOrg(t, "org_b", "standard")
	f.mustStore(t, "prq_later", "org_a", onramp.RequestReceived, at(3*time.Hour+12*time.Minute))
	f.mustStore(t, "prq_late", "org_a", onramp.RequestReceived, at(-20*time.Minute))
	f.mustStore(t, "prq_soon", "org_b", onramp.RequestInReview, at(time.Hour))
	f.mustStore(t, "prq_gone", "org_gone", onramp.RequestReceived, at(5*time.Hour))
	f.mustStore(t, "prq_draft", "org_a", onramp.RequestDraft, nil)
	f.mustStore(t, "prq_done", "org_b", onramp.RequestApproved, at(-time.Hour), onramp.StatusChange{Status: onramp.RequestApproved, At: t0.Add(-2 * time.Hour)})

	page, err := f.svc.Queue(ctx, provider, production.OpenStatuses, onramp.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	q := page.Items
	want := []string{
		`prq_late "Org org_a" overdue by 20m0s breached=true -1200`,
		`prq_soon "Org org_b" due in 1h0m0s breached=false 3600`,
		`prq_later "Org org_a" due in 3h12m0s breached=false 11520`,
		`prq_gone "" due in 5h0m0s breached=false 18000`,
	}
	if got := summary(q); !slices.Equal(got, want) {
		t.Errorf("queue =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	f.now = t0.Add(2 * time.Hour)
	page, _ = f.svc.Queue(ctx, provider, []string{onramp.RequestInReview}, onramp.PageRequest{})
	if got, want := summary(page.Items), []string{`prq_soon "Org org_b" overdue by 1h0m0s breached=true -3600`}; !slices.Equal(got, want) {
		t.Errorf("in review two hours later = %v, want %v", got, want)
	}
	decided, _ := f.svc.Queue(ctx, provider, production.DecidedStatuses, onramp.PageRequest{})
	if len(decided.Items) != 1 || decided.Items[0].ID != "prq_done" {
		t.Errorf("decided = %v, want prq_done", summary(decided.Items))
	}
	if _, err := f.svc.Queue(ctx, member("org_a", onramp.RoleOwner), production.OpenStatuses, onramp.PageRequest{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner's owner reading the queue = %v, want EFORBIDDEN", err)
	}
	// A page at a time, soonest due first; an unknown status or a bad page is refused.
	first, _ := f.svc.Queue(ctx, provider, production.OpenStatuses, onramp.PageRequest{Limit: 2})
	rest, _ := f.svc.Queue(ctx, provider, production.OpenStatuses, onramp.PageRequest{Cursor: first.Next, Limit: 2})
	if got := append(summary(first.Items), summary(rest.Items)...); len(got) != 4 || rest.Next != "" || !strings.HasPrefix(got[2], "prq_later") {
		t.Errorf("two pages of two = %v (next %v)", got, rest.Next != "")
	}
	for _, bad := range []struct {
		statuses []string
		page     onramp.PageRequest
	}{{[]string{"pending"}, onramp.PageRequest{}}, {production.OpenStatuses, onramp.PageRequest{Limit: onramp.MaxPageLimit + 1}}} {
		if _, err := f.svc.Queue(ctx, provider, bad.statuses, bad.page); onramp.ErrorCode(err) != onramp.EINVALID {
			t.Errorf("queue %v %+v = %v, want EINVALID", bad.statuses, bad.page, err)
		}
	}
}

// A decision at the due time is on time; a nanosecond later is late. The decision is the last
// step of the timeline; a request without a due time or a step is not counted.
func TestComplianceBounds(t *testing.T) {
	due := t0
	decided := func(steps ...time.Duration) onramp.ProductionRequest {
		r := onramp.ProductionRequest{Status: onramp.RequestApproved, SLADue: &due}
		for _, s := range steps {
			r.History = append(r.History, onramp.StatusChange{At: due.Add(s)})
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		r      onramp.ProductionRequest
		onTime int64
	}{
		{"an hour early", decided(-time.Hour), 1},
		{"a nanosecond early", decided(-time.Nanosecond), 1},
		{"at the due time", decided(0), 1},
		{"a nanosecond late", decided(time.Nanosecond), 0},
		{"received in time, decided late", decided(-8*time.Hour, time.Millisecond), 0},
	} {
		var got onramp.SLACompliance
		got.Count(tc.r, 1)
		if got.Decided != 1 || got.OnTime != tc.onTime || got.Percent() != float64(100*tc.onTime) {
			t.Errorf("%s: %+v, want 1 decided, %d on time", tc.name, got, tc.onTime)
		}
	}
	noDue := decided(0)
	noDue.SLADue = nil
	open := decided(0)
	open.Status = onramp.RequestInReview
	var got onramp.SLACompliance
	for _, r := range []onramp.ProductionRequest{decided(0), decided(time.Minute), decided(-time.Minute), noDue, decided(), open} {
		got.Count(r, 1)
	}
	if want := (onramp.SLACompliance{Decided: 3, OnTime: 2}); got != want || got.Percent() != 200.0/3 {
		t.Errorf("compliance = %+v, want %+v", got, want)
	}
	if got := (onramp.SLACompliance{}); got.Percent() != 0 {
		t.Errorf("compliance of nothing = %v, want 0", got.Percent())
	}
}

// The service reads the compliance the store counts as requests are decided.
func TestComplianceFromTheStoresCounters(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustStore(t, "prq_ok", "org_a", onramp.RequestApproved, at(time.Hour), onramp.StatusChange{Status: onramp.RequestApproved, At: t0})
	f.mustStore(t, "prq_late", "org_a", onramp.RequestRejected, at(-time.Hour), onramp.StatusChange{Status: onramp.RequestRejected, At: t0})
	f.mustStore(t, "prq_open", "org_a", onramp.RequestReceived, at(time.Hour))
	got, err := f.svc.Compliance(ctx, provider)
	if err != nil || got != (production.Compliance{Decided: 2, OnTime: 1, Percent: 50}) {
		t.Errorf("compliance = %+v, %v; want 1 of 2 on time", got, err)
	}
	if _, err := f.svc.Compliance(ctx, member("org_a", onramp.RoleOwner)); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner reading the compliance = %v, want EFORBIDDEN", err)
	}
}

// The provider claims, approves, rejects and requests changes; the reviewer is whoever the
// decision names, or the provider actor.
func TestDecisions(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	r := f.mustSubmitted(t, "org_a")
	claimed, err := f.svc.Review(ctx, provider, r.ID, "claim", production.Decision{})
	if err != nil || claimed.Status != onramp.RequestInReview || claimed.Reviewer != provider.Email {
		t.Fatalf("claim = %s by %q, %v; want in review by the provider actor", claimed.Status, claimed.Reviewer, err)
	}
	approved, err := f.svc.Review(ctx, provider, r.ID, "approve", production.Decision{By: "  bo@provider.example "})
	if err != nil || approved.Status != onramp.RequestApproved || len(approved.Approved) != 2 {
		t.Fatalf("approve = %+v, %v; want approved with what was asked", approved, err)
	}
	if c := f.reviews.callsFor(r.ID); len(c) != 2 || c[1].d.By != "bo@provider.example" || c[1].d.Grants != nil {
		t.Errorf("approval sent %+v, want by bo, granting what was asked (no grants)", c)
	}

	rejected := f.mustSubmitted(t, "org_a")
	got, err := f.svc.Review(ctx, provider, rejected.ID, "reject", production.Decision{Reason: "We only onboard EU companies."})
	if c := f.reviews.callsFor(rejected.ID); err != nil || got.Status != onramp.RequestRejected || len(c) != 1 || c[0].d.Reason != "We only onboard EU companies." {
		t.Errorf("reject = %s, %v (sent %+v); want rejected with the reason", got.Status, err, c)
	}
	changes := f.mustSubmitted(t, "org_a")
	got, err = f.svc.Review(ctx, provider, changes.ID, "request-changes", production.Decision{Changes: "Name a security contact."})
	if c := f.reviews.callsFor(changes.ID); err != nil || got.Status != onramp.RequestChangesRequested || len(c) != 1 || c[0].d.Changes != "Name a security contact." {
		t.Errorf("request changes = %s, %v (sent %+v); want changes requested with what to change", got.Status, err, c)
	}
}

// Only the provider reviews: a partner's owner gets EFORBIDDEN and nothing reaches the review.
func TestOnlyTheProviderReviews(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	r := f.mustSubmitted(t, "org_a")
	owner := member("org_a", onramp.RoleOwner)
	for _, action := range []string{"claim", "approve", "reject", "request-changes"} {
		if _, err := f.svc.Review(ctx, owner, r.ID, action, production.Decision{By: "ana@provider.example", Reason: "x", Changes: "x"}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
			t.Errorf("the partner's owner taking %s = %v, want EFORBIDDEN", action, err)
		}
	}
	if _, err := f.svc.AdminRequest(ctx, owner, r.ID); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("the partner reading the admin view = %v, want EFORBIDDEN", err)
	}
	if _, err := f.svc.ProviderNotifications(ctx, owner, onramp.PageRequest{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("the partner reading the provider's notifications = %v, want EFORBIDDEN", err)
	}
	if c := f.reviews.callsFor(r.ID); len(c) != 0 {
		t.Errorf("the review got %+v", c)
	}
	if got, err := f.svc.AdminRequest(ctx, provider, r.ID); err != nil || got.ID != r.ID || got.Status != onramp.RequestReceived {
		t.Errorf("the provider's view = %+v, %v", got, err)
	}
}

// An unknown request or action is not found; a draft is not the provider's to decide; a
// decided request's review has ended.
func TestDecisionsOnUnknownOrDecidedRequests(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	if _, err := f.svc.Review(ctx, provider, "prq_missing", "approve", production.Decision{}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("approving an unknown request = %v, want ENOTFOUND", err)
	}
	if _, err := f.svc.AdminRequest(ctx, provider, "prq_missing"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("reading an unknown request = %v, want ENOTFOUND", err)
	}
	r := f.mustSubmitted(t, "org_a")
	for _, action := range []string{"resubmit", "delete", ""} {
		if _, err := f.svc.Review(ctx, provider, r.ID, action, production.Decision{}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
			t.Errorf("action %q = %v, want ENOTFOUND (the provider does not resubmit)", action, err)
		}
	}
	d, _ := f.svc.SaveDraft(ctx, member("org_a", onramp.RoleOwner), "org_a", "", validForm())
	if _, err := f.svc.Review(ctx, provider, d.ID, "approve", production.Decision{}); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("approving a draft = %v, want ECONFLICT", err)
	}
	if c := f.reviews.callsFor(d.ID); len(c) != 0 {
		t.Errorf("a draft's decision reached the review: %+v", c)
	}
	if _, err := f.svc.Review(ctx, provider, r.ID, "approve", production.Decision{}); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"approve", "reject", "request-changes", "claim"} {
		_, err := f.svc.Review(ctx, provider, r.ID, action, production.Decision{Reason: "x", Changes: "x"})
		if onramp.ErrorCode(err) != onramp.ECONFLICT || !strings.Contains(onramp.ErrorMessage(err), "ended") {
			t.Errorf("%s on an approved request = %v, want the review's ECONFLICT", action, err)
		}
	}
	if got, _ := f.store.FindProductionRequest(ctx, r.ID); got.Status != onramp.RequestApproved {
		t.Errorf("after the refused decisions the request is %s", got.Status)
	}
}

// Another organisation's request answers exactly as one that does not exist, for reading,
// editing and submitting, even to its own owner acting under another organisation.
func TestAnotherOrganisationsRequestDoesNotExist(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_a", "standard")
	f.mustOrg(t, "org_b", "standard")
	theirs, _ := f.svc.SaveDraft(ctx, member("org_b", onramp.RoleOwner), "org_b", "", validForm())
	a := member("org_a", onramp.RoleOwner)
	words := func(id string) string { return `no production request "` + id + `" in your organisation` }
	for name, err := range map[string]error{
		"read":   func() error { _, err := f.svc.Request(ctx, a, "org_a", theirs.ID); return err }(),
		"edit":   func() error { _, err := f.svc.SaveDraft(ctx, a, "org_a", theirs.ID, validForm()); return err }(),
		"submit": func() error { _, err := f.svc.Submit(ctx, a, "org_a", theirs.ID); return err }(),
	} {
		if onramp.ErrorCode(err) != onramp.ENOTFOUND || onramp.ErrorMessage(err) != words(theirs.ID) {
			t.Errorf("%s another's request = %v, want ENOTFOUND in the words of a missing one", name, err)
		}
	}
	if _, err := f.svc.Request(ctx, a, "org_a", "prq_missing"); onramp.ErrorMessage(err) != words("prq_missing") {
		t.Errorf("a missing request = %q, want %q", onramp.ErrorMessage(err), words("prq_missing"))
	}
	if rs, err := f.svc.Requests(ctx, a, "org_a"); err != nil || len(rs) != 0 {
		t.Errorf("org_a's requests = %+v, %v; want none of org_b's", rs, err)
	}
	if _, err := f.svc.Requests(ctx, a, "org_b"); onramp.ErrorMessage(err) != onramp.ErrorMessage(onramp.NotYourOrganization("org_b")) {
		t.Errorf("listing org_b's requests from org_a = %v, want an organisation that does not exist", err)
	}
	if got, _ := f.store.FindProductionRequest(ctx, theirs.ID); got.Status != onramp.RequestDraft || got.OrgID != "org_b" || len(f.reviews.started) != 0 {
		t.Errorf("org_b's draft after the attempts: %s of %s, reviews %v", got.Status, got.OrgID, f.reviews.started)
	}
}

// Any member reads the organisation's newest notifications, the provider its own; choices are
// the products of the organisation's plan, sorted.
func TestNotificationsAndChoices(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	std := f.mustOrg(t, "org_a", "standard")
	prem := f.mustOrg(t, "org_p", "premium")
	for i := range 51 {
		for _, org := range []string{"org_a", onramp.ProviderInbox} {
			_ = f.store.Notify(ctx, onramp.Notification{ID: fmt.Sprintf("%s-%02d", org, i), OrgID: org, At: t0.Add(time.Duration(i) * time.Minute)})
		}
	}
	page, err := f.svc.Notifications(ctx, member("org_a", onramp.RoleViewer), "org_a", onramp.PageRequest{})
	got := page.Items
	if err != nil || len(got) != 50 || got[0].ID != "org_a-50" || got[49].ID != "org_a-01" || page.Next == "" {
		t.Errorf("a viewer's notifications: %d, %v; want the newest 50 of 51 and a next page", len(got), err)
	}
	if last, _ := f.svc.Notifications(ctx, member("org_a", onramp.RoleViewer), "org_a", onramp.PageRequest{Cursor: page.Next}); len(last.Items) != 1 || last.Items[0].ID != "org_a-00" {
		t.Errorf("the next page: %+v, want org_a-00", last.Items)
	}
	mine, err := f.svc.ProviderNotifications(ctx, provider, onramp.PageRequest{Limit: 20})
	if err != nil || len(mine.Items) != 20 || mine.Items[0].ID != "provider-50" || mine.Items[0].OrgID != onramp.ProviderInbox {
		t.Errorf("the provider's notifications: %d, %v; want its newest 20", len(mine.Items), err)
	}
	if _, err := f.svc.Notifications(ctx, member("org_a", onramp.RoleViewer), "org_a", onramp.PageRequest{Limit: -1}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a negative limit = %v, want EINVALID", err)
	}
	if _, err := f.svc.Notifications(ctx, member("org_p", onramp.RoleOwner), "org_a", onramp.PageRequest{}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("another organisation's notifications = %v, want ENOTFOUND", err)
	}
	for _, tc := range []struct {
		org  onramp.Organization
		want []onramp.RequestedProduct
	}{
		{std, []onramp.RequestedProduct{{Product: "accounts", Plan: "standard"}, {Product: "payments", Plan: "standard"}}},
		{prem, []onramp.RequestedProduct{{Product: "accounts", Plan: "premium"}, {Product: "insights", Plan: "premium"}, {Product: "payments", Plan: "premium"}}},
	} {
		if got, err := f.svc.Choices(ctx, tc.org); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("choices on %s = %v, %v; want %v", tc.org.Tier, got, err, tc.want)
		}
	}
}

// A request is breached once its due time has passed, by however little — as SLAOutcome would
// count a decision made then late — and its seconds go negative with it.
func TestQueueBreachAtTheDueTime(t *testing.T) {
	f := mustFixture(t)
	f.mustStore(t, "prq_1", "org_a", onramp.RequestReceived, at(0))
	for _, tc := range []struct {
		now      time.Duration
		breached bool
		seconds  int64
		text     string
	}{
		{-time.Minute, false, 60, "due in 1m0s"},
		{-time.Second, false, 1, "due in 0s"},
		{0, false, 0, "due in 0s"},
		{time.Millisecond, true, -1, "overdue by 1m0s"},
		{time.Second, true, -1, "overdue by 1m0s"},
		{29 * time.Second, true, -29, "overdue by 1m0s"},
		{90 * time.Second, true, -90, "overdue by 2m0s"},
	} {
		f.now = t0.Add(tc.now)
		page, err := f.svc.Queue(t.Context(), provider, production.OpenStatuses, onramp.PageRequest{})
		q := page.Items
		if err != nil || len(q) != 1 {
			t.Fatalf("queue = %v, %v", summary(q), err)
		}
		if q[0].Breached != tc.breached || q[0].DueSecond != tc.seconds || q[0].DueIn != tc.text {
			t.Errorf("%v after the due time: %v, want breached=%v %d %q", tc.now, summary(q), tc.breached, tc.seconds, tc.text)
		}
	}
}

// The service refuses an approval wider than the request (onramp.ProductionRequest.Narrow, whose
// table is in the domain's tests) before it reaches the review, naming the field, and sends the
// review the narrowing it computed; only an approval grants anything.
func TestApprovalsOnlyNarrow(t *testing.T) {
	type grants = []onramp.ApprovedProduct
	for _, tc := range []struct {
		name    string
		action  string
		d       production.Decision
		want    grants // sent to the review; nil: what was asked
		invalid string // the field named when refused
	}{
		{name: "nothing narrowed", d: production.Decision{}},
		{name: "fewer scopes", d: production.Decision{Grants: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}}},
			want: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}}},
		{name: "a product not requested", d: production.Decision{Grants: grants{{Product: "payments", Plan: "standard"}, {Product: "insights", Plan: "premium"}}},
			invalid: "grants[1]"},
		{name: "a quota of nothing", d: production.Decision{Grants: grants{{Product: "payments", Plan: "standard", Quota: month(0)}}},
			invalid: "grants[0].quota"},
		{name: "form: both products' scopes", d: production.Decision{Scopes: []string{"accounts:read", "payments:read"}},
			want: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}, {Product: "accounts", Plan: "standard", Scopes: []string{"accounts:read"}}}},
		{name: "form: one product's scope and a quota", d: production.Decision{Scopes: []string{"payments:write"}, Quota: day(100)},
			want: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:write"}, Quota: day(100)}}},
		{name: "form: a quota beyond the plan's", d: production.Decision{Quota: month(10001)}, invalid: "quota"},
		{name: "grants with scopes and a quota besides", d: production.Decision{Grants: grants{{Product: "payments", Plan: "standard"}}, Quota: month(5)},
			invalid: "grants"},

		{name: "a rejection grants nothing", action: "reject", d: production.Decision{Reason: "No.", Grants: grants{{Product: "insights", Plan: "premium"}}, Quota: month(1)}},
		{name: "a claim grants nothing", action: "claim", d: production.Decision{Scopes: []string{"payments:read"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustFixture(t)
			f.mustOrg(t, "org_a", "standard")
			r := f.mustSubmitted(t, "org_a")
			action := tc.action
			if action == "" {
				action = "approve"
			}
			got, err := f.svc.Review(t.Context(), provider, r.ID, action, tc.d)
			calls := f.reviews.callsFor(r.ID)
			if tc.invalid != "" {
				details := onramp.ErrorDetails(err)
				if onramp.ErrorCode(err) != onramp.EINVALID || len(details) != 1 || details[0].Location != tc.invalid {
					t.Errorf("approve = %v %+v, want EINVALID naming %s", err, details, tc.invalid)
				}
				if len(calls) != 0 || got.Status != onramp.RequestReceived {
					t.Errorf("a refused approval reached the review (%+v); the request is %s", calls, got.Status)
				}
				return
			}
			if err != nil || len(calls) != 1 {
				t.Fatalf("%s = %v, review calls %+v; want one", action, err, calls)
			}
			if !reflect.DeepEqual(calls[0].d.Grants, tc.want) {
				t.Errorf("granted %s, want %s", show(calls[0].d.Grants), show(tc.want))
			}
		})
	}
}

func show(gs []onramp.ApprovedProduct) string {
	if gs == nil {
		return "what was asked"
	}
	var out []string
	for _, g := range gs {
		q := "plan's quota"
		if g.Quota != nil {
			q = fmt.Sprintf("%d/%s", g.Quota.Limit, g.Quota.Period)
		}
		out = append(out, fmt.Sprintf("%s on %s %v %s", g.Product, g.Plan, g.Scopes, q))
	}
	return "[" + strings.Join(out, "; ") + "]"
}
