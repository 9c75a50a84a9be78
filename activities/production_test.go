package activities_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/production/productiontest"
)

type grantFixture struct {
	a        *activities.Activities
	catalog  *catalogtest.Memory
	requests *productiontest.Memory
}

// mustGrantFixture has request prq-1 of org-1 asking payments on standard (payments read/write,
// 10 000 calls a month), premium offering more.
func mustGrantFixture(tb testing.TB) *grantFixture {
	tb.Helper()
	f := &grantFixture{catalog: catalogtest.NewMemory(), requests: productiontest.NewMemory()}
	f.a = &activities.Activities{Requests: f.requests, Plans: f.catalog, Assignments: f.catalog}
	ctx := context.Background()
	for _, p := range []onramp.Plan{
		{Name: "standard", Products: map[string]onramp.Grant{"payments": {Scopes: []string{"payments:read", "payments:write"}, Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 10000, Period: "month"}}}},
		{Name: "premium", Products: map[string]onramp.Grant{"payments": {Scopes: []string{"payments:read", "payments:write", "payments:refund"}, Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 100000, Period: "month"}}}},
	} {
		if err := f.catalog.SavePlan(ctx, p); err != nil {
			tb.Fatal(err)
		}
	}
	r := onramp.ProductionRequest{ID: "prq-1", OrgID: "org-1", Status: onramp.RequestInReview, Products: []onramp.RequestedProduct{{Product: "payments", Plan: "standard", MonthlyVolume: 5000}}}
	if err := f.requests.SaveProductionRequest(ctx, r); err != nil {
		tb.Fatal(err)
	}
	return f
}

// A grant wider than the request is refused under the portal's rule, non-retryable and naming
// the field, before anything is written: a Signal reaches the activity without the portal.
func TestGrantProductionRefusesWhatThePortalRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grant onramp.ApprovedProduct
		field string
	}{
		{"a product not requested", onramp.ApprovedProduct{Product: "insights", Plan: "standard"}, "grants[0]"},
		{"a richer plan", onramp.ApprovedProduct{Product: "payments", Plan: "premium"}, "grants[0]"},
		{"a scope beyond the plan", onramp.ApprovedProduct{Product: "payments", Plan: "standard", Scopes: []string{"payments:refund"}}, "grants[0].scopes"},
		{"a quota beyond the plan's", onramp.ApprovedProduct{Product: "payments", Plan: "standard", Quota: &onramp.Quota{Limit: 10001, Period: "month"}}, "grants[0].quota"},
		{"a quota of nothing", onramp.ApprovedProduct{Product: "payments", Plan: "standard", Quota: &onramp.Quota{Limit: 0, Period: "month"}}, "grants[0].quota"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustGrantFixture(t)
			_, err := f.a.GrantProduction(t.Context(), activities.GrantInput{RequestID: "prq-1", OrgID: "org-1", Grants: []onramp.ApprovedProduct{tc.grant}})
			var app *temporal.ApplicationError
			if !errors.As(err, &app) || app.Type() != onramp.EINVALID || !app.NonRetryable() || !strings.Contains(app.Message(), tc.field+": ") {
				t.Errorf("GrantProduction = %v, want a non-retryable %s naming %s", err, onramp.EINVALID, tc.field)
			}
			if as, _ := f.catalog.AssignmentsOf(t.Context(), "org-1"); len(as) != 0 {
				t.Errorf("a refused grant wrote assignments %+v", as)
			}
			if r, _ := f.requests.FindProductionRequest(t.Context(), "prq-1"); len(r.Approved) != 0 {
				t.Errorf("a refused grant recorded %+v as approved", r.Approved)
			}
		})
	}
}

// What was asked, or a narrowing of it, is granted in production with the plan's terms otherwise.
func TestGrantProductionGrantsANarrowing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		grants []onramp.ApprovedProduct
		scopes string
		limit  int64
	}{
		{"what was asked", nil, "payments:read payments:write", 10000},
		{"fewer scopes and a lower quota", []onramp.ApprovedProduct{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}, Quota: &onramp.Quota{Limit: 500, Period: "month"}}}, "payments:read", 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustGrantFixture(t)
			summary, err := f.a.GrantProduction(t.Context(), activities.GrantInput{RequestID: "prq-1", OrgID: "org-1", Grants: tc.grants})
			if err != nil {
				t.Fatal(err)
			}
			as, err := f.catalog.AssignmentsOf(t.Context(), "org-1")
			if err != nil || len(as) != 1 || strings.Join(as[0].Scopes, " ") != tc.scopes || as[0].Quota.Limit != tc.limit || !strings.Contains(strings.Join(as[0].Environments, ","), onramp.Production) {
				t.Fatalf("assignments = %+v, %v; want payments with %s, %d calls, in production", as, err, tc.scopes, tc.limit)
			}
			if r, _ := f.requests.FindProductionRequest(t.Context(), "prq-1"); len(r.Approved) != 1 || r.Approved[0].Quota == nil || r.Approved[0].Quota.Limit != tc.limit {
				t.Errorf("approved = %+v", r.Approved)
			}
			if !strings.Contains(summary, tc.scopes) {
				t.Errorf("summary = %q", summary)
			}
		})
	}
}
