package gateway_test

import (
	"slices"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/gateway"
)

// The flushes UsageFlushes builds store what a node that recorded the same calls stores: the same
// history (in any order the calls came), totals and credentials' last use.
func TestUsageFlushesStoreWhatARecorderStores(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	var events []onramp.UsageEvent
	for i := range 180 {
		status := 200
		if i%6 == 5 {
			status = 502
		}
		events = append(events, event(i, status, now.Add(-3*time.Hour+time.Duration(i)*time.Minute)))
	}
	recorded := credentialstest.NewMemory()
	r := gateway.NewRecorder(gateway.RecorderConfig{Store: recorded, Node: "node-r", Now: fixedClock(now), LogPerSecond: 1000})
	for _, e := range events {
		r.Record(e)
	}
	r.Stop()

	imported := credentialstest.NewMemory()
	if err := imported.SaveNode(t.Context(), onramp.GatewayNode{ID: "node-i", StartedAt: now, SeenAt: now}); err != nil {
		t.Fatal(err)
	}
	shuffled := slices.Clone(events)
	slices.Reverse(shuffled)
	flushes := gateway.UsageFlushes(shuffled, now, 0)
	if len(flushes) != 1 || flushes[0].Head.OrgID != "org_1" {
		t.Fatalf("flushes = %d, want one of org_1", len(flushes))
	}
	for _, f := range flushes {
		for _, p := range f.Pages {
			if p.Ref.Open {
				t.Errorf("page %s is open: a stopped node's pages are closed", p.Ref.Key())
			}
		}
		if err := imported.SaveUsage(t.Context(), "node-i", f); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(es []onramp.UsageEvent) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	want, got := mustCalls(t, recorded, onramp.CallFilter{}), mustCalls(t, imported, onramp.CallFilter{})
	if len(want) != 180 || !slices.Equal(ids(got), ids(want)) {
		t.Errorf("imported history has %d calls, the recorder's %d (want 180, the same)", len(got), len(want))
	}
	wt, _ := recorded.UsageTotals(t.Context(), "org_1", "payments", onramp.Sandbox, now.Add(-24*time.Hour), now.Add(time.Hour))
	gt, _ := imported.UsageTotals(t.Context(), "org_1", "payments", onramp.Sandbox, now.Add(-24*time.Hour), now.Add(time.Hour))
	if !slices.Equal(wt.Hours, gt.Hours) || !slices.Equal(wt.Days, gt.Days) || len(gt.Hours) == 0 {
		t.Errorf("imported totals %+v, recorded %+v", gt, wt)
	}
	wl, _ := recorded.LastUsed(t.Context(), "org_1")
	gl, _ := imported.LastUsed(t.Context(), "org_1")
	if !wl["cred_1"].Equal(gl["cred_1"]) || wl["cred_1"].IsZero() {
		t.Errorf("last used: imported %v, recorded %v", gl, wl)
	}
}
