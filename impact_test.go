package onramp_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

var impactAt = time.Date(2027, 3, 31, 15, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time {
	return impactAt.Truncate(24*time.Hour).AddDate(0, 0, -n)
}

func usage(version, op, env string, days map[int]int64, creds map[string]time.Time) onramp.OperationUsage {
	u := onramp.OperationUsage{Environment: env, OperationUse: onramp.OperationUse{Version: version, Operation: op}}
	for ago := 40; ago >= 0; ago-- {
		if n, ok := days[ago]; ok {
			u.Days = append(u.Days, onramp.DayCalls{Day: daysAgo(ago), Calls: n})
		}
	}
	for id, at := range creds {
		u.Credentials = append(u.Credentials, onramp.CredentialLastUse{CredentialID: id, LastAt: at})
	}
	return u
}

func plan(ops ...string) onramp.ImpactPlan {
	p := onramp.ImpactPlan{Event: onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: "payments", Version: "v2"}, Called: "v1", At: impactAt}
	for _, op := range ops {
		p.Operations = append(p.Operations, onramp.AffectedOperation{Operation: op, Method: "GET", Path: "/" + op, Changes: []string{op + " changes"}})
	}
	return p
}

func impactString(i onramp.Impact) string {
	var parts []string
	for _, op := range i.Operations {
		p := fmt.Sprintf("%s:%d@%s[%s]", op.Operation, op.Calls, op.LastCall.Format("01-02T15"), strings.Join(op.Environments, ","))
		for _, c := range op.Credentials {
			p += " " + c.ID + "/" + c.Environment
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

func TestImpactWindowIsThirtyUTCDaysEndingNow(t *testing.T) {
	from, to := onramp.ImpactWindow(impactAt)
	if !from.Equal(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)) || !to.Equal(impactAt) {
		t.Errorf("ImpactWindow(%s) = %s – %s, want 2027-03-02T00:00 (29 days before today) – now", impactAt, from, to)
	}
}

// Both sides of the 30-day bound: a call of 29 days ago counts, one of 30 days ago does not —
// for calls and for the credentials that made them.
func TestImpactOfCountsOnlyTheLastThirtyDays(t *testing.T) {
	u := []onramp.OperationUsage{
		usage("v1", "listPayments", onramp.Sandbox, map[int]int64{31: 100, 30: 50, 29: 3, 0: 2},
			map[string]time.Time{"k_old": daysAgo(30).Add(23 * time.Hour), "k_new": daysAgo(0).Add(9 * time.Hour), "k_edge": daysAgo(29)}),
	}
	got := onramp.ImpactOf(plan("listPayments"), "org_a", u)
	if want := "listPayments:5@03-31T09[sandbox] k_new/sandbox k_edge/sandbox"; impactString(got) != want {
		t.Errorf("impact = %s\nwant %s (days 29 and 0 only; k_old last called 30 days ago)", impactString(got), want)
	}
	if got.OrgID != "org_a" || got.Called != "v1" || got.Calls() != 5 || !got.From.Equal(daysAgo(29)) {
		t.Errorf("impact = %+v", got)
	}
	old := []onramp.OperationUsage{usage("v1", "listPayments", onramp.Sandbox, map[int]int64{30: 50, 35: 1}, map[string]time.Time{"k_old": daysAgo(30)})}
	if got := onramp.ImpactOf(plan("listPayments"), "org_a", old); len(got.Operations) != 0 {
		t.Errorf("calls of 30 and more days ago = %s, want no impact", impactString(got))
	}
}

// Only calls of the affected operations in the version the plan names count: an organisation
// that calls other operations, or the same one in another version, is not affected.
func TestImpactOfCountsOnlyAffectedOperationsOfTheCalledVersion(t *testing.T) {
	k := map[string]time.Time{"k1": daysAgo(1)}
	u := []onramp.OperationUsage{
		usage("v1", "listPayments", onramp.Sandbox, map[int]int64{1: 4}, k),
		usage("v1", "listPayments", onramp.Production, map[int]int64{2: 6}, map[string]time.Time{"k_prod": daysAgo(2).Add(time.Hour)}),
		usage("v1", "createPayment", onramp.Sandbox, map[int]int64{1: 40}, k),
		usage("v1", "getPayment", onramp.Sandbox, map[int]int64{1: 1}, k),
		usage("v2", "listPayments", onramp.Sandbox, map[int]int64{1: 90}, k),
		usage("v0", "getPayment", onramp.Sandbox, map[int]int64{1: 90}, k),
	}
	got := onramp.ImpactOf(plan("listPayments", "getPayment", "deletePayment"), "org_a", u)
	if want := "listPayments:10@03-30T00[production,sandbox] k1/sandbox k_prod/production; getPayment:1@03-30T00[sandbox] k1/sandbox"; impactString(got) != want {
		t.Errorf("impact = %s\nwant %s", impactString(got), want)
	}
	if got.Operations[0].Changes[0] != "listPayments changes" || got.Operations[0].Method != "GET" {
		t.Errorf("the operation lost what changes: %+v", got.Operations[0])
	}
	if none := onramp.ImpactOf(plan("deletePayment"), "org_a", u); len(none.Operations) != 0 || none.Calls() != 0 {
		t.Errorf("an organisation with no calls of the affected operation: %s, want none", impactString(none))
	}
	if none := onramp.ImpactOf(plan(), "org_a", u); len(none.Operations) != 0 {
		t.Errorf("a plan with nothing affected: %s, want none", impactString(none))
	}
}

func TestImpactEventKeys(t *testing.T) {
	s1, s2 := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), time.Date(2027, 7, 31, 0, 0, 0, 0, time.UTC)
	dep := onramp.ImpactEvent{Kind: onramp.ImpactDeprecated, Product: "payments", Version: "v1", Sunset: &s1}
	moved := onramp.ImpactEvent{Kind: onramp.ImpactSunset, Product: "payments", Version: "v1", Sunset: &s1}
	later := onramp.ImpactEvent{Kind: onramp.ImpactSunset, Product: "payments", Version: "v1", Sunset: &s2}
	breaking := onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: "payments", Version: "v2"}
	if dep.Key() != moved.Key() || dep.Key() == later.Key() || breaking.Key() == dep.Key() {
		t.Errorf("keys: %s %s %s %s; want deprecation and the same sunset to share one, a new sunset and a breaking version their own", dep.Key(), moved.Key(), later.Key(), breaking.Key())
	}
	for _, e := range []onramp.ImpactEvent{{Kind: "nope", Product: "p", Version: "v"}, {Kind: onramp.ImpactSunset, Product: "p", Version: "v"}, {Kind: onramp.ImpactBreaking}} {
		if onramp.ErrorCode(e.Validate()) != onramp.EINVALID {
			t.Errorf("Validate(%+v) = %v, want EINVALID", e, e.Validate())
		}
	}
	for _, e := range []onramp.ImpactEvent{dep, moved, breaking} {
		if err := e.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", e, err)
		}
	}
}

func TestWeekStartIsMondayUTC(t *testing.T) {
	for in, want := range map[string]string{"2027-03-31T15:00:00Z": "2027-03-29", "2027-03-29T00:00:00Z": "2027-03-29", "2027-03-28T23:59:59Z": "2027-03-22"} {
		at, _ := time.Parse(time.RFC3339, in)
		if got := onramp.WeekStart(at).Format(time.DateOnly); got != want {
			t.Errorf("WeekStart(%s) = %s, want %s", in, got, want)
		}
	}
}
