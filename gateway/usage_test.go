package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/gateway"
)

// Concurrent clients through two gateway nodes sharing one store: the usage totals hold every
// call exactly once, the quota counters every admitted call, and each call is either in the call
// log or counted as degraded.
func TestUsageTotalsAddUpToTheCallsServedAcrossTwoNodes(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 300, onramp.Sandbox)
	r2, q2 := h.mustNode(t, h.usage)
	nodes := []*gateway.Gateway{h.sandbox, h.mustGateway(t, onramp.Sandbox, r2, q2)}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			for i := range 50 {
				path := "/payments/v2/payments"
				if i%10 == 9 {
					path = "/payments/v2/nowhere"
				}
				rec := call(t, nodes[(c+i)%2], "GET", path, key, "")
				mu.Lock()
				statuses[rec.Code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	h.recorder.Stop()
	r2.Stop()
	h.quota.Stop()
	q2.Stop()
	if statuses[404] != 40 || statuses[200]+statuses[429] != 360 {
		t.Fatalf("statuses = %v, want 40 404s and 360 admitted or refused", statuses)
	}
	if statuses[200] < 300 {
		t.Errorf("%d admitted of a quota of 300: the quota is under-admitted", statuses[200])
	}
	now := time.Now().UTC()
	totals, err := h.usage.UsageTotals(t.Context(), "org_1", "payments", onramp.Sandbox, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var calls, errs int64
	for _, d := range totals.Days {
		calls, errs = calls+d.Calls, errs+d.Errors
	}
	if calls != 400 || errs != int64(400-statuses[200]) {
		t.Errorf("usage totals = %d calls, %d errors; want the 400 calls served, %d of them errors", calls, errs, 400-statuses[200])
	}
	window := gateway.WindowAt(onramp.Assignment{OrgID: "org_1", Product: "payments", Grant: onramp.Grant{Quota: onramp.Quota{Limit: 300, Period: "day"}}}, onramp.Sandbox, now)
	id := onramp.CounterID("org_1", "payments", onramp.Sandbox, window.Start)
	if used, err := h.usage.Counters(t.Context(), []string{id}); err != nil || used[id] != int64(statuses[200]) {
		t.Errorf("quota counter = %v, %v; want the %d calls admitted", used, err, statuses[200])
	}
	logged, err := h.usage.Calls(t.Context(), "org_1", onramp.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var counted, degraded int64
	for _, r := range []*gateway.Recorder{h.recorder, r2} {
		c, d, q := r.Counts()
		counted, degraded = counted+c, degraded+d
		if q != 0 {
			t.Errorf("%d logged calls still queued after Stop", q)
		}
	}
	if counted != 400 || int64(len(logged))+degraded != 400 {
		t.Errorf("recorders counted %d; %d logged + %d degraded; want 400 = logged + degraded", counted, len(logged), degraded)
	}
}

// fixedClock is a clock stopped at one instant.
func fixedClock(at time.Time) func() time.Time { return func() time.Time { return at } }

func event(i, status int, at time.Time) onramp.UsageEvent {
	return onramp.UsageEvent{ID: fmt.Sprintf("e-%04d", i), At: at.Add(time.Duration(i) * time.Microsecond), OrgID: "org_1", CredentialID: "cred_1", Environment: onramp.Sandbox,
		Product: "payments", Operation: "listPayments", Status: status}
}

func mustCalls(tb testing.TB, s onramp.UsageReader, f onramp.CallFilter) []onramp.UsageEvent {
	tb.Helper()
	got, err := s.Calls(tb.Context(), "org_1", f)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// Past the log's per-second budget calls are counted only; errors have a budget of their own, so
// a flood of successes never keeps them out of the history.
func TestCallLogBudgetKeepsErrorsApart(t *testing.T) {
	store, at := credentialstest.NewMemory(), time.Now().UTC()
	r := gateway.NewRecorder(gateway.RecorderConfig{Store: store, Node: "gw-a", Interval: time.Hour, LogPerSecond: 5, ErrorsPerSecond: 50, Now: fixedClock(at)})
	defer r.Stop()
	for i := range 100 {
		r.Record(event(i, 200, at))
	}
	for i := 100; i < 120; i++ {
		r.Record(event(i, 503, at))
	}
	if counted, degraded, queued := r.Counts(); counted != 120 || degraded != 95 || queued != 25 {
		t.Errorf("counts = %d counted, %d degraded, %d queued; want 120, 95 (successes past 5 a second), 25", counted, degraded, queued)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := mustCalls(t, store, onramp.CallFilter{StatusClass: "5xx"}); len(got) != 20 {
		t.Errorf("%d errors logged, want all 20", len(got))
	}
	if got := mustCalls(t, store, onramp.CallFilter{StatusClass: "2xx"}); len(got) != 5 || got[0].ID != "e-0004" {
		t.Errorf("successes logged = %v, want the first 5 of the second", got)
	}
	totals, _ := store.UsageTotals(t.Context(), "org_1", "payments", onramp.Sandbox, at.Add(-time.Hour), at.Add(time.Hour))
	if len(totals.Days) != 1 || totals.Days[0].Calls != 120 || totals.Days[0].Errors != 20 || len(totals.Hours) != 1 || totals.Hours[0].Calls != 120 {
		t.Errorf("totals = %+v, want every one of the 120 calls (20 errors)", totals)
	}
}

// downStore fails every write and read while down, as an unreachable MongoDB would.
type downStore struct {
	*credentialstest.Memory
	down atomic.Bool
}

var errDown = errors.New("server selection error: context deadline exceeded")

func (s *downStore) SaveNode(ctx context.Context, n onramp.GatewayNode) error {
	if s.down.Load() {
		return errDown
	}
	return s.Memory.SaveNode(ctx, n)
}

func (s *downStore) SaveUsage(ctx context.Context, node string, f onramp.UsageFlush) error {
	if s.down.Load() {
		return errDown
	}
	return s.Memory.SaveUsage(ctx, node, f)
}

func (s *downStore) SaveQuotaCounts(ctx context.Context, node string, totals map[string]int64) error {
	if s.down.Load() {
		return errDown
	}
	return s.Memory.SaveQuotaCounts(ctx, node, totals)
}

func (s *downStore) QuotaCounts(ctx context.Context, ids, nodes []string) (map[string]int64, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Memory.QuotaCounts(ctx, ids, nodes)
}

func (s *downStore) Nodes(ctx context.Context, since time.Time) ([]onramp.GatewayNode, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Memory.Nodes(ctx, since)
}

// While the store is down a full write buffer turns logging off, never counting: when the store
// is back, the totals hold every call and the log what fitted.
func TestFullBufferDegradesToAggregatesWhileTheStoreIsDown(t *testing.T) {
	store, at := &downStore{Memory: credentialstest.NewMemory()}, time.Now().UTC()
	r := gateway.NewRecorder(gateway.RecorderConfig{Store: store, Node: "gw-a", Interval: time.Hour, LogPerSecond: 1000, MaxQueued: 50, Now: fixedClock(at)})
	defer r.Stop()
	store.down.Store(true)
	for i := range 200 {
		r.Record(event(i, 200, at))
	}
	if err := r.Flush(t.Context()); err == nil {
		t.Fatal("a flush to a store that is down succeeded")
	}
	if counted, degraded, queued := r.Counts(); counted != 200 || degraded != 150 || queued != 50 {
		t.Errorf("counts while down = %d, %d degraded, %d queued; want 200, 150, 50", counted, degraded, queued)
	}
	store.down.Store(false)
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	totals, _ := store.UsageTotals(t.Context(), "org_1", "payments", onramp.Sandbox, at.Add(-time.Hour), at.Add(time.Hour))
	if len(totals.Days) != 1 || totals.Days[0].Calls != 200 {
		t.Errorf("totals after the outage = %+v, want all 200 calls", totals)
	}
	if got := mustCalls(t, store, onramp.CallFilter{}); len(got) != 50 {
		t.Errorf("%d calls logged, want the 50 that fitted the buffer", len(got))
	}
	if _, _, queued := r.Counts(); queued != 0 {
		t.Errorf("%d still queued after the store came back", queued)
	}
}

// The log keeps the newest calls of each kind up to its bound: older pages go, in memory and in
// the store; those that went before they were written count as degraded.
func TestCallLogBoundDropsTheOldestPages(t *testing.T) {
	const p = onramp.CallPageSize
	store, at := credentialstest.NewMemory(), time.Now().UTC()
	r := gateway.NewRecorder(gateway.RecorderConfig{Store: store, Node: "gw-a", Interval: time.Hour, LogPerSecond: 100 * p, LogBound: 6 * p, Now: fixedClock(at)})
	defer r.Stop()
	for i := range 8 * p { // pages 0 and 1 go before the flush
		r.Record(event(i, 200, at))
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := 8 * p; i < 20*p; i++ { // pages 2 to 7 (written) and 8 to 13 (not) go
		r.Record(event(i, 200, at))
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := mustCalls(t, store, onramp.CallFilter{})
	first, last := fmt.Sprintf("e-%04d", 20*p-1), fmt.Sprintf("e-%04d", 14*p)
	if len(got) != 6*p || got[0].ID != first || got[len(got)-1].ID != last {
		t.Errorf("logged %d calls from %s to %s, want the newest %d: %s to %s", len(got), got[0].ID, got[len(got)-1].ID, 6*p, first, last)
	}
	if counted, degraded, _ := r.Counts(); counted != 20*p || degraded != 8*p {
		t.Errorf("counts = %d, %d degraded; want %d, %d (pages 0, 1 and 8 to 13 went unwritten)", counted, degraded, 20*p, 8*p)
	}
}

// Every call with an operation counts in its version × operation's day, and its credential's
// last call of it; a call refused before an operation was matched counts in the totals only.
func TestRecorderCountsCallsPerVersionOperationAndDay(t *testing.T) {
	store := credentialstest.NewMemory()
	at := time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
	r := gateway.NewRecorder(gateway.RecorderConfig{Store: store, Node: "gw-a", Interval: time.Hour, Now: fixedClock(at)})
	defer r.Stop()
	ev := func(i int, after time.Duration, version, op, cred string) onramp.UsageEvent {
		e := event(i, 200, at.Add(after))
		e.Version, e.Operation, e.CredentialID = version, op, cred
		return e
	}
	for _, e := range []onramp.UsageEvent{
		ev(1, -24*time.Hour, "v1", "listPayments", "cred_1"),
		ev(2, 0, "v1", "listPayments", "cred_1"),
		ev(3, 30*time.Second, "v1", "listPayments", "cred_2"),
		ev(4, 2*time.Minute, "v1", "listPayments", "cred_1"), // the next day
		ev(5, 0, "v2", "listPayments", "cred_1"),
		ev(6, 0, "v1", "", "cred_1"), // no such operation: 404 before one matched
	} {
		r.Record(e)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := store.OperationUsage(t.Context(), "payments", []string{"org_1"}, at.AddDate(0, 0, -30), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, u := range got["org_1"] {
		p := u.Version + "/" + u.Operation
		for _, d := range u.Days {
			p += fmt.Sprintf(" %s:%d", d.Day.Format("01-02"), d.Calls)
		}
		for _, c := range u.Credentials {
			p += " " + c.CredentialID + "@" + c.LastAt.Format("15:04:05")
		}
		parts = append(parts, p)
	}
	want := []string{
		"v1/listPayments 11-30:1 12-01:2 12-02:1 cred_1@00:01:00 cred_2@23:59:30",
		"v2/listPayments 12-01:1 cred_1@23:59:00",
	}
	if fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Errorf("operation usage =\n%s\nwant\n%s", parts, want)
	}
}

// BenchmarkRecord is a call's cost on the hot path: counting it in memory (and logging it while
// the budget allows), across 20 operations and 4 credentials of one organisation.
func BenchmarkRecord(b *testing.B) {
	at := time.Now().UTC()
	r := gateway.NewRecorder(gateway.RecorderConfig{Store: credentialstest.NewMemory(), Node: "gw-a", Interval: time.Hour, LogPerSecond: 1, ErrorsPerSecond: 1, Now: fixedClock(at)})
	defer r.Stop()
	events := make([]onramp.UsageEvent, 80)
	for i := range events {
		events[i] = event(i, 200, at)
		events[i].Version, events[i].Operation, events[i].CredentialID = "v1", fmt.Sprintf("op%02d", i%20), fmt.Sprintf("cred_%d", i%4)
	}
	b.ResetTimer()
	for i := range b.N {
		r.Record(events[i%len(events)])
	}
}
