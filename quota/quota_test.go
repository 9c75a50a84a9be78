package quota_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/production/productiontest"
	"github.com/onramp-dev/onramp/quota"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// The rules of usage and quota requests, on the fakes and the embedded policies.

var now = time.Date(2026, 12, 10, 15, 30, 0, 0, time.UTC)

var engine = sync.OnceValues(func() (*policies.Engine, error) {
	return policies.New(context.Background(), policies.Embedded())
})

// reviews stands in for the quota review workflow: it stores the request as the workflow's
// first step does, one pending review per organisation and product (the workflow id).
type reviews struct {
	store     onramp.QuotaRequestStore
	mu        sync.Mutex
	waiting   map[string]bool
	decisions []string
}

func (r *reviews) StartQuotaReview(ctx context.Context, q onramp.QuotaRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiting[q.OrgID+"/"+q.Product] {
		return onramp.Errorf(onramp.ECONFLICT, "a quota request for %s is already waiting for review", q.Product)
	}
	r.waiting[q.OrgID+"/"+q.Product] = true
	return r.store.SaveQuotaRequest(ctx, q)
}

func (r *reviews) DecideQuota(_ context.Context, q onramp.QuotaRequest, action string, d onramp.QuotaDecision) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.decisions = append(r.decisions, q.ID+" "+action+" by "+d.By)
	return nil
}

type harness struct {
	svc     *quota.Service
	usage   *credentialstest.Memory
	store   *productiontest.Memory
	audit   *teamtest.Memory
	reviews *reviews
}

var org = onramp.Organization{ID: "org_q", Name: "Quota Co", Tier: "standard", Status: onramp.OrgActive}

func mustHarness(t *testing.T) *harness {
	t.Helper()
	policy, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	assignments := catalogtest.NewMemory()
	for _, a := range []onramp.Assignment{
		{OrgID: org.ID, Product: "payments", Plan: "standard", Grant: onramp.Grant{Scopes: []string{"payments:read"},
			Environments: []string{onramp.Sandbox, onramp.Production}, Quota: onramp.Quota{Limit: 1000, Period: "month"}}},
		{OrgID: org.ID, Product: "accounts", Plan: "standard", Grant: onramp.Grant{Scopes: []string{"accounts:read"},
			Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 100, Period: "day"}}},
	} {
		if err := assignments.SaveAssignment(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{usage: credentialstest.NewMemory(), store: productiontest.NewMemory(), audit: teamtest.NewMemory()}
	h.reviews = &reviews{store: h.store, waiting: map[string]bool{}}
	h.svc, err = quota.New(quota.Config{Policy: policy, Assignments: assignments, Usage: h.usage, Requests: h.store, Reviews: h.reviews,
		Notifications: h.store, Audit: h.audit, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func as(role string) onramp.Actor {
	return onramp.Actor{IdentityID: "id-" + role, Email: role + "@q.example", Memberships: []onramp.Membership{{Organization: org, Role: role}}}
}

var provider = onramp.ProviderActor("provider admin")

// used sets a quota counter as the gateways' flushes would (the counters shared before
// per-node counting are read too).
func (h *harness) used(t *testing.T, product, env string, n int64) {
	t.Helper()
	start, _ := onramp.QuotaPeriod(onramp.Quota{Limit: 1, Period: map[string]string{"payments": "month", "accounts": "day"}[product]}, now)
	if err := h.usage.SaveQuotaCounts(t.Context(), onramp.LegacyNode, map[string]int64{onramp.CounterID(org.ID, product, env, start): n}); err != nil {
		t.Fatal(err)
	}
}

func line(t *testing.T, v quota.View, product, env string) quota.Line {
	t.Helper()
	for _, l := range v.Lines {
		if l.Product == product && l.Environment == env {
			return l
		}
	}
	t.Fatalf("no line for %s in %s among %+v", product, env, v.Lines)
	return quota.Line{}
}

func TestNewNamesWhatIsMissing(t *testing.T) {
	if _, err := quota.New(quota.Config{}); err == nil || !strings.Contains(err.Error(), "Reviews") {
		t.Errorf("New(empty) = %v, want the missing dependencies named", err)
	}
}

func TestUsageLinesAndAlertThresholds(t *testing.T) {
	h := mustHarness(t)
	h.used(t, "payments", onramp.Production, 799) // just under 80 %
	h.used(t, "payments", onramp.Sandbox, 950)    // exactly 95 %
	h.used(t, "accounts", onramp.Sandbox, 80)     // exactly 80 % of the day's 100
	v, err := h.svc.Usage(t.Context(), as(onramp.RoleViewer), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Lines) != 3 {
		t.Fatalf("%d lines, want one per product and environment: %+v", len(v.Lines), v.Lines)
	}
	for _, c := range []struct {
		product, env string
		used, left   int64
		alert        int
	}{
		{"payments", onramp.Production, 799, 201, 0},
		{"payments", onramp.Sandbox, 950, 50, 95},
		{"accounts", onramp.Sandbox, 80, 20, 80},
	} {
		l := line(t, v, c.product, c.env)
		if l.Used != c.used || l.Remaining != c.left || l.Alert != c.alert {
			t.Errorf("%s %s: used %d left %d alert %d, want %d, %d and %d", c.product, c.env, l.Used, l.Remaining, l.Alert, c.used, c.left, c.alert)
		}
	}
	month := line(t, v, "payments", onramp.Sandbox)
	if !month.PeriodStart.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !month.ResetAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || len(month.Daily) != 10 {
		t.Errorf("the month's line: %v to %v with %d days, want 1 Dec to 1 Jan with the 10 days so far", month.PeriodStart, month.ResetAt, len(month.Daily))
	}
	day := line(t, v, "accounts", onramp.Sandbox)
	if !day.PeriodStart.Equal(time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)) || len(day.Daily) != 1 {
		t.Errorf("the day's line starts %v with %d days, want today with one", day.PeriodStart, len(day.Daily))
	}
}

func TestUsageCountsTheGatewaysTotalsPerDayAndErrors(t *testing.T) {
	h := mustHarness(t)
	if err := h.usage.SaveNode(t.Context(), onramp.GatewayNode{ID: "gw-1", StartedAt: now.AddDate(0, 0, -20), SeenAt: now}); err != nil {
		t.Fatal(err)
	}
	d := func(day int) time.Time { return time.Date(2026, 12, day, 0, 0, 0, 0, time.UTC) }
	month := onramp.UsageMonth{OrgID: org.ID, Month: d(1), Lines: []onramp.UsageLine{{Product: "payments", Environment: onramp.Sandbox,
		Days:  []onramp.UsageHour{{Hour: d(2), Calls: 10, Errors: 1}, {Hour: d(10), Calls: 30, Errors: 3}},
		Hours: []onramp.UsageHour{{Hour: now.Add(-26 * time.Hour).Truncate(time.Hour), Calls: 5}, {Hour: now.Truncate(time.Hour), Calls: 30, Errors: 3}}}}}
	if err := h.usage.SaveUsage(t.Context(), "gw-1", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: org.ID, UpdatedAt: now}, Months: []onramp.UsageMonth{month}}); err != nil {
		t.Fatal(err)
	}
	v, err := h.svc.Usage(t.Context(), as(onramp.RoleDeveloper), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	l := line(t, v, "payments", onramp.Sandbox)
	if l.Calls != 40 || l.Errors != 4 || l.ErrorRate != 0.1 || l.Daily[1].Calls != 10 || l.Daily[9].Calls != 30 || len(l.Today) != 1 || l.Today[0].Calls != 30 {
		t.Errorf("line = calls %d errors %d rate %v, daily %v, today %v; want 40, 4, 0.1, the 2nd and 10th filled, today's hour only", l.Calls, l.Errors, l.ErrorRate, l.Daily, l.Today)
	}
}

func TestUsageAndCallsAreTheOrganisationsOwn(t *testing.T) {
	h := mustHarness(t)
	outsider := onramp.Actor{Memberships: []onramp.Membership{{Organization: onramp.Organization{ID: "org_other"}, Role: onramp.RoleOwner}}}
	if _, err := h.svc.Usage(t.Context(), outsider, org.ID); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("another organisation's usage: %v, want ENOTFOUND", err)
	}
	if _, err := h.svc.Calls(t.Context(), outsider, org.ID, onramp.CallFilter{Limit: 10}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("another organisation's calls: %v, want ENOTFOUND", err)
	}
	if _, err := h.svc.Requests(t.Context(), outsider, org.ID); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("another organisation's quota requests: %v, want ENOTFOUND", err)
	}
	if _, err := h.svc.Calls(t.Context(), as(onramp.RoleViewer), org.ID, onramp.CallFilter{StatusClass: "6xx", Limit: 10}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a filter on no status class: %v, want EINVALID", err)
	}
	if calls, err := h.svc.Calls(t.Context(), as(onramp.RoleViewer), org.ID, onramp.CallFilter{Limit: 10}); err != nil || len(calls) != 0 {
		t.Errorf("a viewer's call history = %v, %v; want it readable (and empty)", calls, err)
	}
}

func TestRequestIncrease(t *testing.T) {
	h := mustHarness(t)
	ask := quota.Increase{Product: "payments", NewLimit: 5000, Justification: "launch in December"}
	for role, want := range map[string]string{onramp.RoleViewer: onramp.EFORBIDDEN, onramp.RoleDeveloper: onramp.EFORBIDDEN} {
		if _, err := h.svc.RequestIncrease(t.Context(), as(role), org.ID, ask); onramp.ErrorCode(err) != want {
			t.Errorf("a %s asking: %v, want %s", role, err, want)
		}
		if h.svc.MayRequest(t.Context(), as(role), org.ID) {
			t.Errorf("the page offers a %s the form", role)
		}
	}
	for name, c := range map[string]struct {
		in   quota.Increase
		want string
	}{
		"a product the organisation lacks": {quota.Increase{Product: "insights", NewLimit: 5000, Justification: "x"}, onramp.ENOTFOUND},
		"the current limit":                {quota.Increase{Product: "payments", NewLimit: 1000, Justification: "x"}, onramp.EINVALID},
		"one more than the current":        {quota.Increase{Product: "accounts", NewLimit: 101, Justification: "x"}, ""},
		"no justification":                 {quota.Increase{Product: "payments", NewLimit: 5000, Justification: "  "}, onramp.EINVALID},
	} {
		if _, err := h.svc.RequestIncrease(t.Context(), as(onramp.RoleAdmin), org.ID, c.in); onramp.ErrorCode(err) != c.want {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	r, err := h.svc.RequestIncrease(t.Context(), as(onramp.RoleOwner), org.ID, ask)
	if err != nil || r.Status != onramp.QuotaPending || r.CurrentLimit != 1000 || r.Period != "month" || r.RequestedBy != "owner@q.example" {
		t.Fatalf("the owner asking: %+v, %v", r, err)
	}
	if !h.svc.MayRequest(t.Context(), as(onramp.RoleOwner), org.ID) {
		t.Error("the page does not offer the owner the form")
	}
	if _, err := h.svc.RequestIncrease(t.Context(), as(onramp.RoleAdmin), org.ID, ask); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("a second request while one waits: %v, want ECONFLICT", err)
	}
	v, _ := h.svc.Usage(t.Context(), as(onramp.RoleViewer), org.ID)
	if l := line(t, v, "payments", onramp.Production); l.Pending == nil || l.Pending.ID != r.ID {
		t.Errorf("the payments line's pending request = %+v, want %s", l.Pending, r.ID)
	}
	es, _ := h.audit.Audit(t.Context(), org.ID, onramp.PageRequest{Limit: 10})
	details := map[string]bool{}
	for _, e := range es.Items {
		details[e.Action+": "+e.Detail] = true
	}
	if len(es.Items) != 2 || !details["quota.requested: 1000 → 5000 per month"] || !details["quota.requested: 100 → 101 per day"] {
		t.Errorf("audit = %+v, want both requests that started recorded, and only those", es)
	}
}

func TestDecisionsAreTheProviders(t *testing.T) {
	h := mustHarness(t)
	r, err := h.svc.RequestIncrease(t.Context(), as(onramp.RoleOwner), org.ID, quota.Increase{Product: "payments", NewLimit: 5000, Justification: "launch"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Decide(t.Context(), as(onramp.RoleOwner), r.ID, quota.Approve, onramp.QuotaDecision{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner approving its own request: %v, want EFORBIDDEN", err)
	}
	if _, err := h.svc.Queue(t.Context(), as(onramp.RoleOwner), nil, onramp.PageRequest{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner reading the queue: %v, want EFORBIDDEN", err)
	}
	for name, c := range map[string]struct {
		id, action string
		d          onramp.QuotaDecision
		want       string
	}{
		"an unknown action":             {r.ID, "delete", onramp.QuotaDecision{}, onramp.ENOTFOUND},
		"a negative limit":              {r.ID, quota.Approve, onramp.QuotaDecision{Limit: -1}, onramp.EINVALID},
		"a rejection without reason":    {r.ID, quota.Reject, onramp.QuotaDecision{Reason: " "}, onramp.EINVALID},
		"an unknown request":            {"qr_missing", quota.Approve, onramp.QuotaDecision{}, onramp.ENOTFOUND},
		"an approval of what was asked": {r.ID, quota.Approve, onramp.QuotaDecision{}, ""},
	} {
		if _, err := h.svc.Decide(t.Context(), provider, c.id, c.action, c.d); onramp.ErrorCode(err) != c.want {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	if got := strings.Join(h.reviews.decisions, ", "); got != r.ID+" approve by provider admin" {
		t.Errorf("sent to the workflow: %s, want only the valid approval, by the acting provider", got)
	}
	queue, err := h.svc.Queue(t.Context(), provider, nil, onramp.PageRequest{})
	if err != nil || len(queue.Items) != 1 || queue.Items[0].ID != r.ID {
		t.Errorf("the pending queue = %+v, %v", queue, err)
	}
}
