package credentialstest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// RunUsageStoreContract runs the usage store contract against stores from newStore (each one
// empty): nodes, per-node quota counters, month totals, credential use and the call log, each
// written by two nodes and read back summed.
func RunUsageStoreContract(t *testing.T, newStore func(t *testing.T) onramp.UsageStore) {
	t.Run("nodes and quota counters", func(t *testing.T) { runNodesAndCounters(t, newStore(t)) })
	t.Run("month totals", func(t *testing.T) { runMonthTotals(t, newStore(t)) })
	t.Run("credential use", func(t *testing.T) { runCredentialUse(t, newStore(t)) })
	t.Run("call log", func(t *testing.T) { runCallLog(t, newStore(t)) })
	t.Run("operation usage", func(t *testing.T) { runOperationUsage(t, newStore(t)) })
}

func use(version, op string, days []onramp.DayCalls, creds ...onramp.CredentialLastUse) onramp.OperationUse {
	return onramp.OperationUse{Version: version, Operation: op, Days: days, Credentials: creds}
}

// runOperationUsage: two nodes' months of two organisations, read for a range across a month's
// end: days and credentials outside it left out, nodes and months summed, other products and
// organisations never mixed in, organisations without calls absent.
func runOperationUsage(t *testing.T, s onramp.UsageStore) {
	ctx := t.Context()
	mustNodes(t, s, "gw-a", "gw-b")
	nov, dec := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	d := func(month time.Time, day int, n int64) onramp.DayCalls {
		return onramp.DayCalls{Day: month.AddDate(0, 0, day-1), Calls: n}
	}
	last := func(id string, at time.Time) onramp.CredentialLastUse {
		return onramp.CredentialLastUse{CredentialID: id, LastAt: at}
	}
	months := map[string][]onramp.UsageMonth{
		"gw-a": {
			{OrgID: "org_1", Month: nov, Lines: []onramp.UsageLine{
				{Product: "payments", Environment: onramp.Sandbox, Uses: []onramp.OperationUse{
					use("v1", "listPayments", []onramp.DayCalls{d(nov, 10, 7), d(nov, 25, 2)}, last("k_old", nov.AddDate(0, 0, 9)), last("k_sb", nov.AddDate(0, 0, 24).Add(time.Hour))),
				}},
				{Product: "accounts", Environment: onramp.Sandbox, Uses: []onramp.OperationUse{use("v1", "listAccounts", []onramp.DayCalls{d(nov, 25, 100)})}},
			}},
			{OrgID: "org_1", Month: dec, Lines: []onramp.UsageLine{
				{Product: "payments", Environment: onramp.Production, Uses: []onramp.OperationUse{
					use("v1", "listPayments", []onramp.DayCalls{d(dec, 2, 5)}, last("k_prod", dec.AddDate(0, 0, 1).Add(8*time.Hour))),
					use("v2", "listPayments", []onramp.DayCalls{d(dec, 3, 1)}, last("k_prod", dec.AddDate(0, 0, 2))),
				}},
			}},
			{OrgID: "org_2", Month: dec, Lines: []onramp.UsageLine{
				{Product: "payments", Environment: onramp.Sandbox, Uses: []onramp.OperationUse{use("v2", "createPayment", []onramp.DayCalls{d(dec, 1, 4)}, last("k_2", dec.Add(time.Minute)))}},
			}},
		},
		"gw-b": {
			{OrgID: "org_1", Month: nov, Lines: []onramp.UsageLine{
				{Product: "payments", Environment: onramp.Sandbox, Uses: []onramp.OperationUse{
					use("v1", "listPayments", []onramp.DayCalls{d(nov, 25, 3)}, last("k_sb", nov.AddDate(0, 0, 24).Add(2*time.Hour))),
				}},
			}},
		},
	}
	for node, ms := range months {
		for _, m := range ms {
			mustSaveUsage(t, s, node, onramp.UsageFlush{Head: onramp.UsageHead{OrgID: m.OrgID}, Months: []onramp.UsageMonth{m}})
		}
	}
	from, to := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	got, err := s.OperationUsage(ctx, "payments", []string{"org_1", "org_2", "org_3"}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	str := func(us []onramp.OperationUsage) string {
		var parts []string
		for _, u := range us {
			p := fmt.Sprintf("%s/%s/%s", u.Version, u.Operation, u.Environment)
			for _, d := range u.Days {
				p += fmt.Sprintf(" %s:%d", d.Day.Format("01-02"), d.Calls)
			}
			for _, c := range u.Credentials {
				p += " " + c.CredentialID + "@" + c.LastAt.UTC().Format("01-02T15")
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "; ")
	}
	for org, want := range map[string]string{
		// Nov 10 and k_old (last used Nov 10) are before the range; Dec 3 (v2) is at its end.
		"org_1": "v1/listPayments/production 12-02:5 k_prod@12-02T08; v1/listPayments/sandbox 11-25:5 k_sb@11-25T02",
		"org_2": "v2/createPayment/sandbox 12-01:4 k_2@12-01T00",
	} {
		if s := str(got[org]); s != want {
			t.Errorf("OperationUsage[%s] = %s\nwant %s", org, s, want)
		}
	}
	if _, ok := got["org_3"]; ok || len(got) != 2 {
		t.Errorf("OperationUsage = %d organisations (%v), want org_1 and org_2 only", len(got), got["org_3"])
	}
	if got, err := s.OperationUsage(ctx, "payments", []string{"org_2"}, dec.AddDate(0, 0, 1), to); err != nil || len(got) != 0 {
		t.Errorf("org_2 from Dec 2 = %v, %v; want nothing (its only day is Dec 1)", got, err)
	}
	if got, err := s.OperationUsage(ctx, "payments", nil, from, to); err != nil || len(got) != 0 {
		t.Errorf("no organisations = %v, %v; want nothing", got, err)
	}
	// A node's running totals replace what it wrote: again unchanged, then grown.
	grown := months["gw-b"][0]
	mustSaveUsage(t, s, "gw-b", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_1"}, Months: []onramp.UsageMonth{grown}})
	grown.Lines = []onramp.UsageLine{{Product: "payments", Environment: onramp.Sandbox, Uses: []onramp.OperationUse{
		use("v1", "listPayments", []onramp.DayCalls{d(nov, 25, 6)}, last("k_sb", nov.AddDate(0, 0, 24).Add(3*time.Hour))),
	}}}
	mustSaveUsage(t, s, "gw-b", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_1"}, Months: []onramp.UsageMonth{grown}})
	got, err = s.OperationUsage(ctx, "payments", []string{"org_1"}, from, to)
	if want := "v1/listPayments/production 12-02:5 k_prod@12-02T08; v1/listPayments/sandbox 11-25:8 k_sb@11-25T03"; err != nil || str(got["org_1"]) != want {
		t.Errorf("after gw-b's totals grew: OperationUsage[org_1] = %s, %v\nwant %s", str(got["org_1"]), err, want)
	}
	// The months' totals come without the uses (OperationUsage reads those), every line kept.
	ms, err := s.UsageMonths(ctx, "org_1", nov, dec)
	lines := 0
	for _, m := range ms {
		for _, l := range m.Lines {
			lines++
			if len(l.Uses) != 0 {
				t.Errorf("UsageMonths: %s/%s of %s has %d uses, want none", l.Product, l.Environment, m.Month.Format("2006-01"), len(l.Uses))
			}
		}
	}
	if err != nil || len(ms) != 2 || lines != 3 {
		t.Errorf("UsageMonths(org_1, November) = %d months of %d lines, %v; want gw-a's (payments, accounts) and gw-b's (payments)", len(ms), lines, err)
	}
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func runNodesAndCounters(t *testing.T, s onramp.UsageStore) {
	ctx := t.Context()
	for _, n := range []onramp.GatewayNode{{ID: "gw-a", StartedAt: t0, SeenAt: t0}, {ID: "gw-b", StartedAt: t0, SeenAt: t0.Add(time.Hour)}} {
		if err := s.SaveNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if ns, err := s.Nodes(ctx, t0.Add(30*time.Minute)); err != nil || len(ns) != 1 || ns[0].ID != "gw-b" || !ns[0].SeenAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("Nodes(since 09:30) = %+v, %v; want gw-b seen at 10:00", ns, err)
	}
	if ns, err := s.Nodes(ctx, t0); err != nil || len(ns) != 2 {
		t.Errorf("Nodes(since 09:00) = %+v, %v; want both", ns, err)
	}
	window := t0.Truncate(24 * time.Hour)
	c1, c2, c9 := onramp.CounterID("org_1", "payments", onramp.Sandbox, window), onramp.CounterID("org_1", "accounts", onramp.Sandbox, window), onramp.CounterID("org_9", "payments", onramp.Sandbox, window)
	mustSaveCounts(t, s, "gw-a", map[string]int64{c1: 3, c2: 1})
	mustSaveCounts(t, s, "gw-b", map[string]int64{c1: 2})
	mustSaveCounts(t, s, "gw-a", map[string]int64{c1: 2}) // a late, older total: stored totals never decrease
	if got, err := s.QuotaCounts(ctx, []string{c1, c2, c9}, []string{"gw-a", "gw-b"}); err != nil || got[c1] != 5 || got[c2] != 1 || got[c9] != 0 {
		t.Errorf("QuotaCounts(both nodes) = %v, %v; want c1 5, c2 1, c9 0", got, err)
	}
	if got, err := s.QuotaCounts(ctx, []string{c1}, []string{"gw-b"}); err != nil || got[c1] != 2 {
		t.Errorf("QuotaCounts(gw-b only) = %v, %v; want 2", got, err)
	}
	if got, err := s.QuotaCounts(ctx, []string{c1}, nil); err != nil || got[c1] != 0 {
		t.Errorf("QuotaCounts(no nodes) = %v, %v; want 0", got, err)
	}
	if got, err := s.Counters(ctx, []string{c1, c2, c9}); err != nil || got[c1] != 5 || got[c2] != 1 || got[c9] != 0 {
		t.Errorf("Counters = %v, %v; want every node summed: 5, 1, 0", got, err)
	}
}

func mustSaveCounts(tb testing.TB, s onramp.GatewayUsageStore, node string, totals map[string]int64) {
	tb.Helper()
	if err := s.SaveQuotaCounts(tb.Context(), node, totals); err != nil {
		tb.Fatal(err)
	}
}

func line(product, env string, days, hours []onramp.UsageHour, ops ...onramp.OperationCalls) onramp.UsageLine {
	return onramp.UsageLine{Product: product, Environment: env, Days: days, Hours: hours, Operations: ops}
}

// mustNodes registers nodes seen now: readers sum only the nodes seen since what they read began.
func mustNodes(tb testing.TB, s onramp.GatewayUsageStore, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		if err := s.SaveNode(tb.Context(), onramp.GatewayNode{ID: id, StartedAt: time.Now(), SeenAt: time.Now()}); err != nil {
			tb.Fatal(err)
		}
	}
}

func runMonthTotals(t *testing.T, s onramp.UsageStore) {
	ctx := t.Context()
	mustNodes(t, s, "gw-a", "gw-b")
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	d27, d28 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	h9, h10 := d28.Add(9*time.Hour), d28.Add(10*time.Hour)
	a := onramp.UsageMonth{OrgID: "org_1", Month: month, Lines: []onramp.UsageLine{
		line("payments", onramp.Sandbox, []onramp.UsageHour{{Hour: d27, Calls: 3, Errors: 1}, {Hour: d28, Calls: 2}}, []onramp.UsageHour{{Hour: h9, Calls: 2}},
			onramp.OperationCalls{Operation: "listPayments", StatusClass: "2xx", Calls: 4}, onramp.OperationCalls{Operation: "listPayments", StatusClass: "4xx", Calls: 1}),
		line("payments", onramp.Production, []onramp.UsageHour{{Hour: d28, Calls: 7}}, nil),
	}}
	b := onramp.UsageMonth{OrgID: "org_1", Month: month, Lines: []onramp.UsageLine{
		line("payments", onramp.Sandbox, []onramp.UsageHour{{Hour: d28, Calls: 1, Errors: 1}}, []onramp.UsageHour{{Hour: h9, Calls: 1, Errors: 1}}),
	}}
	other := onramp.UsageMonth{OrgID: "org_2", Month: month, Lines: []onramp.UsageLine{line("payments", onramp.Sandbox, []onramp.UsageHour{{Hour: d28, Calls: 50}}, nil)}}
	stale := a
	stale.Lines = []onramp.UsageLine{line("payments", onramp.Sandbox, []onramp.UsageHour{{Hour: d27, Calls: 1}}, nil)}
	mustSaveUsage(t, s, "gw-a", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_1"}, Months: []onramp.UsageMonth{stale}})
	mustSaveUsage(t, s, "gw-a", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_1"}, Months: []onramp.UsageMonth{a}}) // running totals replace
	mustSaveUsage(t, s, "gw-b", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_1"}, Months: []onramp.UsageMonth{b}})
	mustSaveUsage(t, s, "gw-a", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_2"}, Months: []onramp.UsageMonth{other}})
	got, err := s.UsageTotals(ctx, "org_1", "payments", onramp.Sandbox, month, month.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if want := "2026-11-27:3/1 2026-11-28:3/1"; hoursString(got.Days) != want {
		t.Errorf("days = %s, want %s (both nodes summed, the stale total replaced)", hoursString(got.Days), want)
	}
	if want := "2026-11-28T09:3/1"; hoursString(got.Hours) != want {
		t.Errorf("hours = %s, want %s", hoursString(got.Hours), want)
	}
	got, err = s.UsageTotals(ctx, "org_1", "payments", onramp.Sandbox, h10, h10.Add(time.Hour))
	if err != nil || hoursString(got.Days) != "2026-11-28:3/1" || len(got.Hours) != 0 {
		t.Errorf("from 10:00 = %+v, %v; want the day that holds it and no hour", got, err)
	}
	if got, _ := s.UsageTotals(ctx, "org_1", "payments", onramp.Production, month, month.AddDate(0, 1, 0)); hoursString(got.Days) != "2026-11-28:7/0" {
		t.Errorf("production days = %s, want only production's", hoursString(got.Days))
	}
	if got, _ := s.UsageTotals(ctx, "org_1", "payments", onramp.Sandbox, month.AddDate(0, 1, 0), month.AddDate(0, 2, 0)); len(got.Days)+len(got.Hours) != 0 {
		t.Errorf("next month = %+v, want nothing", got)
	}
	// The months themselves, read once for every line: summed, they are the lines' totals.
	months, err := s.UsageMonths(ctx, "org_1", month, month.AddDate(0, 1, 0))
	if err != nil || len(months) != 2 {
		t.Fatalf("UsageMonths = %d months, %v; want gw-a's and gw-b's of org_1", len(months), err)
	}
	for _, env := range []string{onramp.Sandbox, onramp.Production} {
		want, _ := s.UsageTotals(ctx, "org_1", "payments", env, month, month.AddDate(0, 1, 0))
		if got := onramp.SumUsage(months, "payments", env, month, month.AddDate(0, 1, 0)); hoursString(got.Days) != hoursString(want.Days) || hoursString(got.Hours) != hoursString(want.Hours) {
			t.Errorf("%s: the months sum to %s, UsageTotals says %s", env, hoursString(got.Days), hoursString(want.Days))
		}
	}
	if months, _ := s.UsageMonths(ctx, "org_1", month.AddDate(0, 1, 0), month.AddDate(0, 2, 0)); len(months) != 0 {
		t.Errorf("next month's months = %+v, want none", months)
	}
}

func hoursString(hs []onramp.UsageHour) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		layout := "2006-01-02"
		if h.Hour.Hour() != 0 {
			layout = "2006-01-02T15"
		}
		parts[i] = fmt.Sprintf("%s:%d/%d", h.Hour.UTC().Format(layout), h.Calls, h.Errors)
	}
	return strings.Join(parts, " ")
}

func mustSaveUsage(tb testing.TB, s onramp.GatewayUsageStore, node string, f onramp.UsageFlush) {
	tb.Helper()
	if err := s.SaveUsage(tb.Context(), node, f); err != nil {
		tb.Fatal(err)
	}
}

func runCredentialUse(t *testing.T, s onramp.UsageStore) {
	ctx := t.Context()
	mustNodes(t, s, "gw-a", "gw-b")
	m := func(after time.Duration, n int64) onramp.MinuteCalls {
		return onramp.MinuteCalls{Minute: t0.Add(after), Calls: n}
	}
	mustSaveUsage(t, s, "gw-a", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_1", Credentials: []onramp.CredentialUse{
		{CredentialID: "cred_a", LastUsedAt: t0.Add(10*time.Minute + 5*time.Second), Minutes: []onramp.MinuteCalls{m(0, 4), m(10*time.Minute, 1)}},
		{CredentialID: "cred_b", LastUsedAt: t0.Add(time.Minute), Minutes: []onramp.MinuteCalls{m(time.Minute, 2)}},
	}}})
	mustSaveUsage(t, s, "gw-b", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_1", Credentials: []onramp.CredentialUse{
		{CredentialID: "cred_a", LastUsedAt: t0.Add(5 * time.Minute), Minutes: []onramp.MinuteCalls{m(5*time.Minute, 3)}},
	}}})
	mustSaveUsage(t, s, "gw-b", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_2", Credentials: []onramp.CredentialUse{
		{CredentialID: "cred_z", LastUsedAt: t0, Minutes: []onramp.MinuteCalls{m(0, 9)}},
	}}})
	last, err := s.LastUsed(ctx, "org_1")
	if err != nil || len(last) != 2 || !last["cred_a"].Equal(t0.Add(10*time.Minute+5*time.Second)) || !last["cred_b"].Equal(t0.Add(time.Minute)) {
		t.Errorf("LastUsed = %v, %v; want cred_a at 09:10:05 (the later node's) and cred_b at 09:01", last, err)
	}
	for _, c := range []struct {
		since time.Duration
		want  int64
	}{{0, 8}, {30 * time.Second, 8}, {5*time.Minute + 59*time.Second, 4}, {6 * time.Minute, 1}, {11 * time.Minute, 0}} {
		if n, err := s.CallsWith(ctx, "org_1", "cred_a", t0.Add(c.since)); err != nil || n != c.want {
			t.Errorf("CallsWith(cred_a, since +%s) = %d, %v; want %d (from the minute of since, both nodes)", c.since, n, err, c.want)
		}
	}
	if n, _ := s.CallsWith(ctx, "org_1", "cred_z", t0); n != 0 {
		t.Errorf("another organisation's credential counted %d calls in org_1", n)
	}
}

// page builds a log page of calls (oldest first), summarised in its ref.
func page(errs bool, part int, calls ...onramp.UsageEvent) onramp.CallPage {
	p := onramp.CallPage{Ref: onramp.CallPageRef{Errors: errs, Hour: calls[0].At.Truncate(time.Hour), Part: part, Count: len(calls),
		First: calls[0].At, Last: calls[len(calls)-1].At}, Calls: calls}
	return p
}

func runCallLog(t *testing.T, s onramp.UsageStore) {
	ctx := t.Context()
	mustNodes(t, s, "gw-a", "gw-b")
	t0 := time.Date(2026, 11, 28, 23, 30, 0, 0, time.UTC)
	ev := func(id string, after time.Duration, env string, status int, cred, op string) onramp.UsageEvent {
		return onramp.UsageEvent{ID: id, At: t0.Add(after), OrgID: "org_h", Product: "payments", Environment: env, Status: status, CredentialID: cred,
			Operation: op, Method: "GET", Path: "/payments/v2/payments", Label: "key " + cred, LatencyMS: 1.5}
	}
	h1, h2 := ev("h-1", 0, onramp.Sandbox, 200, "k1", "listPayments"), ev("h-2", 10*time.Minute, onramp.Sandbox, 403, "k1", "createPayment")
	h3, h4 := ev("h-3", 40*time.Minute, onramp.Sandbox, 200, "k2", "listPayments"), ev("h-4", 50*time.Minute, onramp.Production, 502, "k3", "listPayments")
	h5 := ev("h-5", 55*time.Minute, onramp.Sandbox, 429, "k1", "listPayments")
	x := make([]onramp.UsageEvent, 7)
	for i := 1; i <= 6; i++ {
		x[i] = ev(fmt.Sprintf("x-%d", i), 150*time.Minute+time.Duration(i)*time.Minute, onramp.Sandbox, 200, "k1", "listPayments")
	}
	aOK0 := page(false, 0, x[1], x[3])
	open := page(false, 1, x[5]) // still filling: a node may rewrite it
	open.Ref.Open = true
	a := []onramp.CallPage{page(false, 0, h1), page(true, 0, h2), page(true, 0, h5), aOK0, open}
	b := []onramp.CallPage{page(false, 0, h3), page(true, 0, h4), page(false, 0, x[2], x[4], x[6])}
	grown := page(false, 0, x[2]) // open at a first flush, closed with two more calls at the next
	grown.Ref.Open = true
	mustSaveUsage(t, s, "gw-b", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_h", Pages: refs(grown)}, Pages: []onramp.CallPage{grown}})
	mustSaveUsage(t, s, "gw-a", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_h", Pages: refs(a...)}, Pages: a})
	mustSaveUsage(t, s, "gw-b", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_h", Pages: refs(b...)}, Pages: b}) // the grown page replaces the first
	otherOrg := page(false, 0, onramp.UsageEvent{ID: "o-1", At: t0, OrgID: "org_o", Status: 200})
	mustSaveUsage(t, s, "gw-a", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_o", Pages: refs(otherOrg)}, Pages: []onramp.CallPage{otherOrg}})
	for _, c := range []struct {
		f    onramp.CallFilter
		want string
	}{
		{onramp.CallFilter{}, "x-6 x-5 x-4 x-3 x-2 x-1 h-5 h-4 h-3 h-2 h-1"},
		{onramp.CallFilter{Limit: 4}, "x-6 x-5 x-4 x-3"},
		{onramp.CallFilter{To: t0.Add(60 * time.Minute), Limit: 2}, "h-5 h-4"},
		{onramp.CallFilter{Environment: onramp.Sandbox, To: t0.Add(time.Hour)}, "h-5 h-3 h-2 h-1"},
		{onramp.CallFilter{StatusClass: "4xx"}, "h-5 h-2"},
		{onramp.CallFilter{StatusClass: "5xx"}, "h-4"},
		{onramp.CallFilter{StatusClass: "2xx", From: t0.Add(time.Hour), Limit: 3}, "x-6 x-5 x-4"},
		{onramp.CallFilter{CredentialID: "k1", Operation: "listPayments", To: t0.Add(time.Hour)}, "h-5 h-1"},
		{onramp.CallFilter{From: t0.Add(10 * time.Minute), To: t0.Add(50 * time.Minute)}, "h-3 h-2"},
		{onramp.CallFilter{From: t0.Add(152 * time.Minute), To: t0.Add(155 * time.Minute)}, "x-4 x-3 x-2"},
		// A cursor continues past the call it names: older calls, across pages and nodes.
		{onramp.CallFilter{After: &onramp.CallCursor{At: x[4].At, ID: x[4].ID}, Limit: 3}, "x-3 x-2 x-1"},
		{onramp.CallFilter{After: &onramp.CallCursor{At: h4.At, ID: h4.ID}, StatusClass: "4xx"}, "h-2"},
		{onramp.CallFilter{After: &onramp.CallCursor{At: h1.At, ID: h1.ID}}, ""},
	} {
		if got := mustCallIDs(t, s, "org_h", c.f); got != c.want {
			t.Errorf("Calls(%+v) = %s, want %s", c.f, got, c.want)
		}
	}
	got, err := s.Calls(ctx, "org_h", onramp.CallFilter{Limit: 1})
	if err != nil || len(got) != 1 || got[0] != x[6] {
		t.Errorf("the newest call = %+v, %v; want it whole: %+v", got, err, x[6])
	}
	// The node drops a page that fell out of its log's bound; the purge removes the hours before
	// midnight (their pages' calls all older than it).
	mustSaveUsage(t, s, "gw-a", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "org_h", Pages: refs(a[0], a[1], a[2], a[4])}, Drop: refs(aOK0)})
	if got := mustCallIDs(t, s, "org_h", onramp.CallFilter{From: t0.Add(time.Hour)}); got != "x-6 x-5 x-4 x-2" {
		t.Errorf("after dropping gw-a's first page of 02:00: %s, want x-1 and x-3 gone", got)
	}
	n, err := s.PurgeUsage(ctx, t0.Add(30*time.Minute))
	if err != nil || n != 3 {
		t.Errorf("PurgeUsage(before midnight) = %d, %v; want the 3 calls of 23:00 (h-1, h-2 and org_o's)", n, err)
	}
	if got := mustCallIDs(t, s, "org_h", onramp.CallFilter{}); got != "x-6 x-5 x-4 x-2 h-5 h-4 h-3" {
		t.Errorf("after the purge: %s", got)
	}
}

func refs(pages ...onramp.CallPage) []onramp.CallPageRef {
	out := make([]onramp.CallPageRef, len(pages))
	for i, p := range pages {
		out[i] = p.Ref
	}
	return out
}

func mustCallIDs(tb testing.TB, s onramp.UsageReader, org string, f onramp.CallFilter) string {
	tb.Helper()
	got, err := s.Calls(tb.Context(), org, f)
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]string, len(got))
	for i, e := range got {
		ids[i] = e.ID
	}
	return strings.Join(ids, " ")
}
