package productiontest

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

func requestIDs(rs []onramp.ProductionRequest) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// The review queue pages soonest due first over several statuses, keeps its place while requests
// arrive, and the SLA compliance follows every decision, resubmission and re-decision.
func runQueuePages(t *testing.T, s Store) {
	ctx := t.Context()
	save := func(r onramp.ProductionRequest) {
		t.Helper()
		if err := s.SaveProductionRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var want []onramp.ProductionRequest
	for i := range 30 {
		due := t0.Add(time.Duration(i%10) * time.Hour) // ties in due time: ids decide
		r := onramp.ProductionRequest{ID: fmt.Sprintf("prq_q%02d", i), OrgID: fmt.Sprintf("org_%d", i%4), Status: []string{onramp.RequestReceived, onramp.RequestInReview}[i%2],
			SLADue: &due, CreatedAt: t0, History: []onramp.StatusChange{{Status: onramp.RequestReceived, At: t0}}}
		save(r)
		want = append(want, r)
	}
	open := onramp.OpenRequestStatuses
	var seen []string
	req := onramp.PageRequest{Limit: 7}
	for {
		page, err := s.ProductionRequests(ctx, open, req)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := onramp.PageOf(want, onramp.ProductionRequest.QueuePosition, req)
		if !slices.Equal(requestIDs(page.Items), requestIDs(ref.Items)) || (page.Next == "") != (ref.Next == "") || (page.Prev == "") != (ref.Prev == "") {
			t.Fatalf("queue page %v (next %v prev %v), want %v", requestIDs(page.Items), page.Next != "", page.Prev != "", requestIDs(ref.Items))
		}
		seen = append(seen, requestIDs(page.Items)...)
		if page.Next == "" {
			break
		}
		if len(seen) == 7 { // a request arrives due before the cursor and one after it
			early, late := t0.Add(-time.Hour), t0.Add(20*time.Hour)
			for _, r := range []onramp.ProductionRequest{{ID: "prq_early", OrgID: "org_x", Status: onramp.RequestReceived, SLADue: &early, CreatedAt: t0},
				{ID: "prq_late", OrgID: "org_x", Status: onramp.RequestReceived, SLADue: &late, CreatedAt: t0}} {
				save(r)
				want = append(want, r)
			}
		}
		req.Cursor = page.Next
	}
	if len(seen) != 31 || slices.Contains(seen, "prq_early") || seen[30] != "prq_late" {
		t.Errorf("walking the queue saw %d requests ending %v; want the 30 and prq_late, not prq_early (due before the cursor)", len(seen), seen[len(seen)-1])
	}

	if c, _ := s.SLACompliance(ctx); c != (onramp.SLACompliance{}) {
		t.Fatalf("compliance before any decision = %+v", c)
	}
	decide := func(id string, status string, late bool) {
		t.Helper()
		r, err := s.FindProductionRequest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		at := r.SLADue.Add(-time.Minute)
		if late {
			at = r.SLADue.Add(time.Minute)
		}
		r.Status, r.History = status, append(r.History, onramp.StatusChange{Status: status, At: at})
		save(r)
	}
	decide("prq_q00", onramp.RequestApproved, false)
	decide("prq_q01", onramp.RequestRejected, true)
	decide("prq_q02", onramp.RequestChangesRequested, false)
	decide("prq_q03", onramp.RequestApproved, false)
	decide("prq_q03", onramp.RequestApproved, false) // saved again: counted once
	if c, _ := s.SLACompliance(ctx); c.Decided != 4 || c.OnTime != 3 || math.Abs(c.Percent()-75) > 1e-9 {
		t.Errorf("compliance = %+v, want 3 of 4 on time", c)
	}
	decide("prq_q02", onramp.RequestReceived, false) // resubmitted: open again, no longer decided
	decide("prq_q02", onramp.RequestApproved, true)  // and decided late this time
	if c, _ := s.SLACompliance(ctx); c.Decided != 4 || c.OnTime != 2 {
		t.Errorf("after a resubmission decided late, compliance = %+v, want 2 of 4", c)
	}
	decided, _ := s.ProductionRequests(ctx, onramp.DecidedRequestStatuses, onramp.PageRequest{Limit: 10})
	if got := requestIDs(decided.Items); !slices.Equal(got, []string{"prq_q00", "prq_q01", "prq_q02", "prq_q03"}) {
		t.Errorf("decided = %v", got)
	}
	if open, _ := s.ProductionRequests(ctx, open, onramp.PageRequest{Limit: onramp.MaxPageLimit}); len(open.Items) != 28 {
		t.Errorf("%d open after 4 decisions, want 28", len(open.Items))
	}
}

// Twenty organisations' journeys recorded from two nodes at once, each stage twice: every stage
// counts once and the medians are those of the journeys, within the histogram's precision.
func runFunnelCounters(t *testing.T, nodes []Store) {
	ctx := t.Context()
	gap := func(i int) time.Duration { return time.Duration(i+1) * time.Hour } // invited → first sign-in of org i
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 20 {
		for round := range 2 { // each stage reported by both nodes
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := nodes[(i+round)%len(nodes)]
				org := fmt.Sprintf("org_f%02d", i)
				errs <- n.ReachStage(ctx, org, onramp.StageInvited, t0)
				errs <- n.ReachStage(ctx, org, onramp.StageFirstSignIn, t0.Add(gap(i)))
				if i%2 == 0 {
					errs <- n.ReachStage(ctx, org, onramp.StageFirstSandboxCall, t0.Add(gap(i)+30*time.Minute))
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := nodes[1].FunnelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Reached[onramp.StageInvited] != 20 || f.Reached[onramp.StageFirstSignIn] != 20 || f.Reached[onramp.StageFirstSandboxCall] != 10 || f.Reached[onramp.StageApproved] != 0 {
		t.Fatalf("reached = %v, want 20, 20 and 10", f.Reached)
	}
	// Medians: of 1 h … 20 h (10.5 h), and 30 min for everyone who called.
	for _, c := range []struct {
		from, to string
		want     time.Duration
		n        int64
	}{{onramp.StageInvited, onramp.StageFirstSignIn, 630 * time.Minute, 20}, {onramp.StageFirstSignIn, onramp.StageFirstSandboxCall, 30 * time.Minute, 10}} {
		got, ok := f.Median(c.from, c.to)
		if h := f.Gaps[onramp.GapKey(c.from, c.to)]; !ok || h.Count != c.n || math.Abs(got.Seconds()-c.want.Seconds())/c.want.Seconds() > 0.045 {
			t.Errorf("%s → %s: median %v of %v, want %v of %d (±4.5%%)", c.from, c.to, got, h, c.want, c.n)
		}
	}
	page, _ := nodes[0].Journeys(ctx, onramp.PageRequest{Limit: 15})
	more, _ := nodes[0].Journeys(ctx, onramp.PageRequest{Cursor: page.Next, Limit: 15})
	if len(page.Items) != 15 || len(more.Items) != 5 || page.Items[0].OrgID != "org_f00" || more.Next != "" || len(more.Items[4].Stages) != 2 {
		t.Errorf("journeys in pages of 15: %d then %d (%+v)", len(page.Items), len(more.Items), more.Items)
	}
}

// Twenty requests decided from two nodes at once: the compliance counts each once.
func runConcurrentCompliance(t *testing.T, nodes []Store) {
	ctx := t.Context()
	due := t0.Add(time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			decided := t0.Add(time.Duration(i%2) * 2 * time.Hour) // half of them late
			errs <- nodes[i%len(nodes)].SaveProductionRequest(ctx, onramp.ProductionRequest{ID: fmt.Sprintf("prq_c%02d", i), OrgID: "org_c",
				Status: onramp.RequestApproved, SLADue: &due, CreatedAt: t0, History: []onramp.StatusChange{{Status: onramp.RequestApproved, At: decided}}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c, err := nodes[1].SLACompliance(ctx); err != nil || c.Decided != 20 || c.OnTime != 10 {
		t.Errorf("after 20 decisions from two nodes: %+v, %v; want 10 of 20 on time", c, err)
	}
}
