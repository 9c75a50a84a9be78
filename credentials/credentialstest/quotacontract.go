package credentialstest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// RunQuotaCountsConcurrently runs two gateway nodes against one store through two clients (from
// newClients): on each node, callers take calls on shared counters while flushers write the
// node's running totals and readers sum both nodes. No increment may be lost, no read may see more
// than was taken or less than it saw before, and the end totals must be exact.
func RunQuotaCountsConcurrently(t *testing.T, newClients func(t *testing.T) (onramp.UsageStore, onramp.UsageStore)) {
	a, b := newClients(t)
	ctx := t.Context()
	window := time.Now().UTC().Truncate(24 * time.Hour)
	const counters, callers, calls, flushers = 8, 4, 150, 2
	ids := make([]string, counters)
	for i := range ids {
		ids[i] = onramp.CounterID(fmt.Sprintf("org_%d", i), "payments", onramp.Production, window)
	}
	nodes := []string{"gw-a", "gw-b"}
	var taken [counters]atomic.Int64
	var violations atomic.Value
	var wg, readers sync.WaitGroup
	done := make(chan struct{})
	for n, store := range []onramp.UsageStore{a, b} {
		if err := store.SaveNode(ctx, onramp.GatewayNode{ID: nodes[n], StartedAt: time.Now(), SeenAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		own := new([counters]atomic.Int64)
		var taking sync.WaitGroup
		for g := range callers {
			taking.Go(func() {
				for k := range calls {
					i := (g + k) % counters
					own[i].Add(1)
					taken[i].Add(1)
				}
			})
		}
		for f := range flushers {
			wg.Go(func() {
				stop := make(chan struct{})
				go func() { taking.Wait(); close(stop) }()
				for last := false; !last; {
					select {
					case <-stop:
						last = true // one more flush after the callers are done
					default:
					}
					totals := map[string]int64{}
					for i := f; i < counters; i += flushers {
						totals[ids[i]] = own[i].Load()
					}
					if err := store.SaveQuotaCounts(ctx, nodes[n], totals); err != nil {
						violations.Store(fmt.Sprintf("%s: SaveQuotaCounts: %v", nodes[n], err))
						return
					}
				}
			})
		}
		readers.Go(func() { readMonotonically(ctx, store, ids, nodes, &taken, done, &violations) })
	}
	wg.Wait()
	close(done)
	readers.Wait()
	if v := violations.Load(); v != nil {
		t.Fatal(v)
	}
	for _, store := range []onramp.UsageStore{a, b} {
		got, err := store.QuotaCounts(ctx, ids, nodes)
		if err != nil {
			t.Fatal(err)
		}
		summed, err := store.Counters(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if want := taken[i].Load(); got[id] != want || summed[id] != want {
				t.Errorf("counter %s: QuotaCounts %d, Counters %d, want the %d calls taken (lost increments)", id, got[id], summed[id], want)
			}
		}
	}
}

// readMonotonically sums the nodes' counters until done, recording a read that exceeds what was
// taken or goes back below an earlier read.
func readMonotonically(ctx context.Context, s onramp.UsageStore, ids, nodes []string, taken *[8]atomic.Int64, done <-chan struct{}, violations *atomic.Value) {
	seen := map[string]int64{}
	for {
		select {
		case <-done:
			return
		default:
		}
		got, err := s.QuotaCounts(ctx, ids, nodes)
		if err != nil {
			violations.Store(fmt.Sprintf("QuotaCounts: %v", err))
			return
		}
		for i, id := range ids {
			if got[id] < seen[id] || got[id] > taken[i].Load() {
				violations.Store(fmt.Sprintf("counter %s read %d after %d, with %d taken", id, got[id], seen[id], taken[i].Load()))
			}
			seen[id] = got[id]
		}
	}
}
