package onramp_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
)

func month(limit int64) *onramp.Quota { return &onramp.Quota{Limit: limit, Period: "month"} }
func day(limit int64) *onramp.Quota   { return &onramp.Quota{Limit: limit, Period: "day"} }

// plans is deploy/catalog/plans.yaml in short: standard and premium.
func plans() []onramp.Plan {
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
	}
}

// An approval grants what was asked, or less: fewer products, fewer scopes, a lower quota — per
// product (grants) and for every product (scopes and a quota) alike — and never a product, plan,
// scope or quota beyond the request and its plan (standard: payments read/write and accounts
// read, 10 000 calls a month each). The portal and the review's grant (signals included) both
// apply this rule, so it is the only one.
func TestApprovalsOnlyNarrow(t *testing.T) {
	type grants = []onramp.ApprovedProduct
	r := onramp.ProductionRequest{Products: []onramp.RequestedProduct{{Product: "payments", Plan: "standard", MonthlyVolume: 5000},
		{Product: "accounts", Plan: "standard", MonthlyVolume: 1000}}}
	for _, tc := range []struct {
		name    string
		a       onramp.Approval
		want    grants // nil: what was asked
		invalid string // the field named when refused
	}{
		{name: "nothing narrowed", a: onramp.Approval{}},
		{name: "fewer products", a: onramp.Approval{Grants: grants{{Product: "accounts", Plan: "standard"}}},
			want: grants{{Product: "accounts", Plan: "standard"}}},
		{name: "fewer scopes", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}}},
			want: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}}},
		{name: "a quota below the plan's", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Quota: month(5000)}}},
			want: grants{{Product: "payments", Plan: "standard", Quota: month(5000)}}},
		{name: "the plan's quota", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Quota: month(10000)}}},
			want: grants{{Product: "payments", Plan: "standard", Quota: month(10000)}}},
		{name: "one call a month beyond the plan's", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Quota: month(10001)}}},
			invalid: "grants[0].quota"},
		{name: "a daily quota within the plan's month (322 × 31 ≤ 10 000)", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Quota: day(322)}}},
			want: grants{{Product: "payments", Plan: "standard", Quota: day(322)}}},
		{name: "a daily quota beyond it (323 × 31 > 10 000)", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Quota: day(323)}}},
			invalid: "grants[0].quota"},
		{name: "a quota of nothing", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Quota: month(0)}}},
			invalid: "grants[0].quota"},
		{name: "a quota per week", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Quota: &onramp.Quota{Limit: 5, Period: "week"}}}},
			invalid: "grants[0].quota"},
		{name: "a product not requested", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard"}, {Product: "insights", Plan: "premium"}}},
			invalid: "grants[1]"},
		{name: "a requested product on a richer plan", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "premium"}}},
			invalid: "grants[0]"},
		{name: "a scope beyond the plan", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read", "payments:refund"}}}},
			invalid: "grants[0].scopes"},
		{name: "another product's scope", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Scopes: []string{"accounts:read"}}}},
			invalid: "grants[0].scopes"},
		{name: "a product twice", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}, {Product: "payments", Plan: "standard"}}},
			invalid: "grants[1]"},
		{name: "grants with scopes and a quota besides", a: onramp.Approval{Grants: grants{{Product: "payments", Plan: "standard"}}, Quota: month(5)},
			invalid: "grants"},

		// The form: scopes and a quota for every requested product.
		{name: "form: one product's scope", a: onramp.Approval{Scopes: []string{"payments:read"}},
			want: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}}},
		{name: "form: both products' scopes", a: onramp.Approval{Scopes: []string{"accounts:read", "payments:read"}},
			want: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}, {Product: "accounts", Plan: "standard", Scopes: []string{"accounts:read"}}}},
		{name: "form: a mistyped scope", a: onramp.Approval{Scopes: []string{"payments:raed"}}, invalid: "scopes"},
		{name: "form: a scope beyond the plan", a: onramp.Approval{Scopes: []string{"payments:read", "payments:refund"}}, invalid: "scopes"},
		{name: "form: a quota below the plan's", a: onramp.Approval{Quota: month(5000)},
			want: grants{{Product: "payments", Plan: "standard", Quota: month(5000)}, {Product: "accounts", Plan: "standard", Quota: month(5000)}}},
		{name: "form: the plan's quota", a: onramp.Approval{Quota: month(10000)},
			want: grants{{Product: "payments", Plan: "standard", Quota: month(10000)}, {Product: "accounts", Plan: "standard", Quota: month(10000)}}},
		{name: "form: a quota beyond the plan's", a: onramp.Approval{Quota: month(10001)}, invalid: "quota"},
		{name: "form: a quota that is not positive", a: onramp.Approval{Quota: month(-1)}, invalid: "quota"},
		{name: "form: one product's scope and a quota", a: onramp.Approval{Scopes: []string{"payments:write"}, Quota: day(100)},
			want: grants{{Product: "payments", Plan: "standard", Scopes: []string{"payments:write"}, Quota: day(100)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Narrow(plans(), tc.a)
			if tc.invalid != "" {
				details := onramp.ErrorDetails(err)
				if onramp.ErrorCode(err) != onramp.EINVALID || len(details) != 1 || details[0].Location != tc.invalid || got != nil {
					t.Errorf("Narrow = %s, %v %+v; want EINVALID naming %s", show(got), err, details, tc.invalid)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Narrow = %s, %v; want %s", show(got), err, show(tc.want))
			}
			// The review's grant applies the rule again to what the portal sends it: a narrowing
			// must pass unchanged, or a valid approval would be refused there.
			if again, err := r.Narrow(plans(), onramp.Approval{Grants: got}); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("narrowing %s again = %s, %v; want it unchanged", show(got), show(again), err)
			}
		})
	}
}

// A product its plan no longer offers cannot be granted, whether named or narrowed with the form.
func TestApprovalOfAProductThePlanNoLongerOffers(t *testing.T) {
	r := onramp.ProductionRequest{Products: []onramp.RequestedProduct{{Product: "accounts", Plan: "standard", MonthlyVolume: 1}, {Product: "payments", Plan: "basic", MonthlyVolume: 1}}}
	for _, tc := range []struct {
		a   onramp.Approval
		loc string
	}{
		{onramp.Approval{Grants: []onramp.ApprovedProduct{{Product: "payments", Plan: "basic"}}}, "grants[0]"},
		{onramp.Approval{Quota: month(1)}, "products[1]"},
	} {
		_, err := r.Narrow(plans(), tc.a)
		if d := onramp.ErrorDetails(err); onramp.ErrorCode(err) != onramp.EINVALID || len(d) != 1 || d[0].Location != tc.loc || !strings.Contains(d[0].Message, "no longer offers payments") {
			t.Errorf("Narrow(%+v) = %v %+v, want EINVALID naming %s", tc.a, err, d, tc.loc)
		}
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
