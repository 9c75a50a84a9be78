package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/gateway"
)

// The quota window ends at midnight UTC for a daily quota: the 429 says when, and the first call
// after it is admitted with the full quota again.
func TestQuotaResetsAtTheWindowBoundary(t *testing.T) {
	h := MustHarness(t)
	h.clock.Set(time.Date(2026, 11, 29, 23, 59, 58, 0, time.UTC))
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 2, onramp.Sandbox)
	for range 2 {
		if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""); rec.Code != 200 {
			t.Fatalf("within the quota: %d %s", rec.Code, rec.Body)
		}
	}
	rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, "")
	p := mustProblem(t, rec, 429, "quota-exhausted")
	if got := rec.Header(); got.Get("Retry-After") != "2" || got.Get("RateLimit-Reset") != "2" || got.Get("RateLimit-Remaining") != "0" || got.Get("RateLimit-Limit") != "2" {
		t.Errorf("429 headers = %v, want a reset in 2 s and nothing left of 2", got)
	}
	if !strings.Contains(p.Detail, "resets at 2026-11-30T00:00:00Z") || !strings.Contains(p.Detail, "http://portal.test/usage") {
		t.Errorf("detail %q does not say when the quota resets and where to ask for more", p.Detail)
	}

	h.clock.Set(time.Date(2026, 11, 30, 0, 0, 1, 0, time.UTC))
	rec = call(t, h.sandbox, "GET", "/payments/v2/payments", key, "")
	if rec.Code != 200 || rec.Header().Get("RateLimit-Remaining") != "1" || rec.Header().Get("RateLimit-Reset") != "86399" {
		t.Fatalf("after the reset: %d remaining %q reset %q, want 200 with 1 left for 86399 s", rec.Code, rec.Header().Get("RateLimit-Remaining"), rec.Header().Get("RateLimit-Reset"))
	}
}

// A plan's rate limit applies per credential: a burst beyond it gets its own 429 with
// Retry-After, the refused call does not use the quota, and another key is not slowed.
func TestRateLimitPerCredential(t *testing.T) {
	h := MustHarness(t)
	h.clock.Set(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	a, _ := h.catalog.AssignmentsOf(t.Context(), "org_1")
	a[0].RateLimit = &onramp.RateLimit{PerSecond: 1, Burst: 2}
	a[0].UpdatedAt = h.clock.Now()
	if err := h.catalog.SaveAssignment(t.Context(), a[0]); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""); rec.Code != 200 {
			t.Fatalf("call %d of the burst = %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, "")
	p := mustProblem(t, rec, 429, "rate-limited")
	if rec.Header().Get("Retry-After") != "1" || rec.Header().Get("RateLimit-Remaining") != "98" || !strings.Contains(p.Detail, "1 calls per second") {
		t.Errorf("rate-limited: headers %v, detail %q; want Retry-After 1 and the quota untouched (98 left)", rec.Header(), p.Detail)
	}
	_, other, err := h.creds.Issue(t.Context(), credentials.Request{OrgID: "org_1", Environment: onramp.Sandbox})
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", other, ""); rec.Code != 200 {
		t.Errorf("another key of the organisation = %d, want 200 (its own bucket)", rec.Code)
	}
	h.clock.Set(h.clock.Now().Add(time.Second))
	if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""); rec.Code != 200 {
		t.Errorf("a second later = %d, want 200", rec.Code)
	}
}

// A refused call still tells the caller its quota, without counting against it.
func TestQuotaHeadersOnRefusedCalls(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 10, onramp.Sandbox, "payments:read")
	rec := call(t, h.sandbox, "POST", "/payments/v2/payments", key, `{"amount":{"value":"1.00","currency":"EUR"},"creditor_iban":"DE89370400440532013000"}`)
	mustProblem(t, rec, 403, "access-denied")
	if rec.Header().Get("RateLimit-Limit") != "10" || rec.Header().Get("RateLimit-Remaining") != "10" || rec.Header().Get("RateLimit-Reset") == "" {
		t.Errorf("403 headers = %v, want the untouched quota of 10", rec.Header())
	}
	rec = call(t, h.sandbox, "GET", "/payments/v2/nowhere", key, "")
	mustProblem(t, rec, 404, "no-such-operation")
	if rec.Header().Get("RateLimit-Remaining") != "10" {
		t.Errorf("404 headers = %v, want the untouched quota of 10", rec.Header())
	}
}

// Four clients pushing an organisation past 80 % and 95 % of its quota raise each alert once on
// this node; the alert's key (the workflow id) makes it once across nodes.
func TestQuotaAlertsRaisedOncePerThreshold(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 40, onramp.Sandbox)
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 4 {
		wg.Go(func() {
			for range 12 {
				if call(t, h.sandbox, "GET", "/payments/v2/payments", key, "").Code == 200 {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != 40 {
		t.Errorf("%d calls admitted, want exactly the quota of 40 on one node", ok.Load())
	}
	waitUntil(t, time.Second, func() bool { return len(h.alerts.keys()) >= 2 })
	time.Sleep(100 * time.Millisecond) // a late duplicate would show now
	keys := h.alerts.keys()
	slices.Sort(keys)
	if len(keys) != 2 || !strings.HasSuffix(keys[0], "-80") || !strings.HasSuffix(keys[1], "-95") || !strings.Contains(keys[0], "org_1-payments-sandbox-") {
		t.Errorf("alerts raised = %v, want one 80 %% and one 95 %% alert of org_1's payments in sandbox", keys)
	}
}

func waitUntil(tb testing.TB, limit time.Duration, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("not true within %s", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// slowStore adds a MongoDB-like round trip to each counter operation, so flushes take time as
// they do on a real store.
type slowStore struct {
	*credentialstest.Memory
	delay time.Duration
}

func (s slowStore) SaveQuotaCounts(ctx context.Context, node string, totals map[string]int64) error {
	time.Sleep(s.delay)
	return s.Memory.SaveQuotaCounts(ctx, node, totals)
}

func (s slowStore) QuotaCounts(ctx context.Context, ids, nodes []string) (map[string]int64, error) {
	time.Sleep(s.delay)
	return s.Memory.QuotaCounts(ctx, ids, nodes)
}

func (s slowStore) Nodes(ctx context.Context, since time.Time) ([]onramp.GatewayNode, error) {
	time.Sleep(s.delay)
	return s.Memory.Nodes(ctx, since)
}

// BenchmarkQuotaOverAdmission measures how far past a quota several gateway nodes (Quota
// instances, each writing its own counter documents in one store with a 1 ms round trip) admit
// calls at a steady total rate, with the hot-counter flushing (now) and without it (the baseline,
// flushing once a second), and with the nodes' quota exchange. It reports over-admission in % of the quota; docs/benchmarks.md
// records the numbers (and gateway/bench measures the same on FerretDB).
func BenchmarkQuotaOverAdmission(b *testing.B) {
	for _, c := range []struct {
		nodes int
		limit int64
		rate  int // calls per second over all nodes
	}{{1, 20000, 10000}, {2, 20000, 10000}, {4, 20000, 10000}, {2, 200, 2000}} {
		for _, mode := range []string{"baseline", "now", "exchange"} {
			b.Run(fmt.Sprintf("nodes=%d/quota=%d/rate=%d/%s", c.nodes, c.limit, c.rate, mode), func(b *testing.B) {
				var over float64
				for range b.N {
					over = overAdmission(b, c.nodes, c.limit, c.rate, mode)
				}
				b.ReportMetric(over, "%over")
			})
		}
	}
}

func overAdmission(b *testing.B, nodes int, limit int64, rate int, mode string) float64 {
	store := slowStore{credentialstest.NewMemory(), time.Millisecond}
	hot := time.Duration(0)
	if mode == "baseline" {
		hot = -1
	}
	key := gateway.ExchangeKey("bench")
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC) // the current window: an ended one is forgotten
	w := gateway.Window{OrgID: "org", Product: "p", Environment: onramp.Production, Quota: onramp.Quota{Limit: limit, Period: "month"}, Start: start, Reset: start.AddDate(0, 1, 0)}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	per := time.Second * time.Duration(nodes) / time.Duration(rate) // each node's interval between calls
	// The load starts out of phase with the flushes, so the quota does not run out just as every
	// node reads the others' totals (at 10 000/s a 20 000 quota would, 2 s after the start).
	begin := time.Now().Add(370 * time.Millisecond)
	deadline := begin.Add(time.Duration(float64(limit)/float64(rate)*float64(time.Second)) + 3*time.Second)
	ids := make([]string, nodes)
	exchanges := make([]*gateway.Exchange, nodes)
	for i := range ids {
		ids[i] = gateway.NewNodeID()
		addr := ""
		if mode == "exchange" {
			ex, err := gateway.NewExchange(gateway.ExchangeConfig{Addr: "127.0.0.1:0", Key: key})
			if err != nil {
				b.Fatal(err)
			}
			defer ex.Close()
			exchanges[i], addr = ex, ex.Addr()
		}
		_ = store.SaveNode(context.Background(), onramp.GatewayNode{ID: ids[i], StartedAt: time.Now(), SeenAt: time.Now(), Exchange: addr})
	}
	for i, id := range ids {
		q := gateway.NewQuota(gateway.QuotaConfig{Store: store, Node: id, Interval: time.Second, HotInterval: hot, Exchange: exchanges[i]})
		wg.Go(func() {
			defer q.Stop()
			time.Sleep(time.Until(begin))
			next := time.Now()
			for time.Now().Before(deadline) {
				if ok, _ := q.Take(context.Background(), w); ok {
					admitted.Add(1)
				}
				next = next.Add(per)
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
			}
		})
	}
	wg.Wait()
	return float64(admitted.Load()-limit) * 100 / float64(limit)
}

// A counter that may run out before the next hot flush is written at the urgent interval, a
// twenty-fifth of the hot one: the store holds a node's total long before the hot flush would
// have written it. (The urgent ticks pause while nothing is urgent and start again with Take.)
func TestUrgentCountersReachTheStoreBeforeTheHotFlush(t *testing.T) {
	ctx := t.Context()
	store := credentialstest.NewMemory()
	start := time.Now().UTC().Truncate(24 * time.Hour)
	w := gateway.Window{OrgID: "org_1", Product: "payments", Environment: onramp.Sandbox, Quota: onramp.Quota{Limit: 100, Period: "day"}, Start: start, Reset: start.AddDate(0, 0, 1)}
	id := onramp.CounterID("org_1", "payments", onramp.Sandbox, start)
	const hot = 2 * time.Second // urgent flushes every 80 ms; full ones every 4 s
	q := gateway.NewQuota(gateway.QuotaConfig{Store: store, Node: "gw-b", Interval: 2 * hot, HotInterval: hot})
	defer q.Stop()
	stored := func() int64 {
		totals, err := store.QuotaCounts(ctx, []string{id}, []string{"gw-b"})
		if err != nil {
			t.Fatal(err)
		}
		return totals[id]
	}
	for round, upTo := range []int64{60, 80} { // the second round after the ticks have paused
		taken := time.Now()
		for stored() < upTo { // what is left (40, then 20) may go within a hot interval at this rate
			if time.Since(taken) > hot/2 {
				t.Fatalf("round %d: the store holds %d of %d calls %s after they were taken, want all before the hot flush (%s)", round+1, stored(), upTo, time.Since(taken), hot)
			}
			for used := int64(100) - q.Remaining(ctx, w); used < upTo; used++ {
				if ok, _ := q.Take(ctx, w); !ok {
					t.Fatalf("round %d: call %d refused with a quota of 100", round+1, used+1)
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // no call: nothing urgent, the ticks pause
	}
}

// nodeReads counts, per node id, the counter reads that name it.
type nodeReads struct {
	*credentialstest.Memory
	mu    sync.Mutex
	reads map[string]int
}

func (s *nodeReads) QuotaCounts(ctx context.Context, ids, nodes []string) (map[string]int64, error) {
	s.mu.Lock()
	for _, n := range nodes {
		s.reads[n]++
	}
	s.mu.Unlock()
	return s.Memory.QuotaCounts(ctx, ids, nodes)
}

func (s *nodeReads) count(node string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[node]
}

// A node not seen for a while (replaced by a deploy) has stopped counting: its totals still count
// against the quota, read once, while the live node's are read at every flush; seen again, it is
// read live again.
func TestQuotaReadsGoneNodesOnce(t *testing.T) {
	ctx := t.Context()
	store := &nodeReads{Memory: credentialstest.NewMemory(), reads: map[string]int{}}
	now := time.Now().UTC()
	start := now.Truncate(24 * time.Hour)
	w := gateway.Window{OrgID: "org_1", Product: "payments", Environment: onramp.Sandbox, Quota: onramp.Quota{Limit: 100, Period: "day"}, Start: start, Reset: start.AddDate(0, 0, 1)}
	id := onramp.CounterID("org_1", "payments", onramp.Sandbox, start)
	for node, total := range map[string]int64{"gw-live": 3, "gw-gone": 5, "gw-gone-too": 2} {
		if err := store.SaveQuotaCounts(ctx, node, map[string]int64{id: total}); err != nil {
			t.Fatal(err)
		}
	}
	gone := now.Add(-time.Minute)
	if gone.Before(start) {
		gone = start // just after midnight: gone since the window began
	}
	seen := map[string]time.Time{"gw-self": now, "gw-live": now, "gw-gone": gone, "gw-gone-too": gone}
	for node, at := range seen {
		if err := store.SaveNode(ctx, onramp.GatewayNode{ID: node, StartedAt: at, SeenAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	q := gateway.NewQuota(gateway.QuotaConfig{Store: store, Node: "gw-self", Interval: 20 * time.Millisecond})
	defer q.Stop()
	if got := q.Remaining(ctx, w); got != 90 {
		t.Fatalf("remaining = %d, want 100 - 3 (live) - 5 - 2 (gone)", got)
	}
	waitUntil(t, 2*time.Second, func() bool { return store.count("gw-live") >= 10 })
	if n, m := store.count("gw-gone"), store.count("gw-gone-too"); n != 1 || m != 1 {
		t.Errorf("the gone nodes' totals read %d and %d times over %d reads of the live one's, want once each", n, m, store.count("gw-live"))
	}
	if got := q.Remaining(ctx, w); got != 90 {
		t.Errorf("remaining after the flushes = %d, want still 90", got)
	}

	// Back (a node that had lost the store), it counts again and is read live.
	if err := store.SaveQuotaCounts(ctx, "gw-gone", map[string]int64{id: 9}); err != nil {
		t.Fatal(err)
	}
	if err := store.SaveNode(ctx, onramp.GatewayNode{ID: "gw-gone", StartedAt: now, SeenAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 2*time.Second, func() bool { return q.Remaining(ctx, w) == 86 }) // 100 - 3 - 9 - 2
}
