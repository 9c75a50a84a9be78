package productiontest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// NewStores returns n stores over the same, empty data: n nodes (clients) of the real store, or
// one fake n times.
type NewStores func(t *testing.T, n int) []Store

// RunContract runs the whole contract.
func RunContract(t *testing.T, newStores NewStores) {
	one := func(t *testing.T) Store { return newStores(t, 1)[0] }
	t.Run("production requests", func(t *testing.T) { runRequests(t, one(t)) })
	t.Run("notifications", func(t *testing.T) { runNotifications(t, one(t)) })
	t.Run("journeys", func(t *testing.T) { runJourneys(t, one(t)) })
	t.Run("concurrent stages", func(t *testing.T) { runConcurrentStages(t, one(t)) })
	t.Run("quota requests", func(t *testing.T) { runQuotaRequests(t, one(t)) })
	t.Run("review queue pages and SLA compliance", func(t *testing.T) { runQueuePages(t, one(t)) })
	t.Run("funnel counters, from two nodes at once", func(t *testing.T) { runFunnelCounters(t, newStores(t, 2)) })
	t.Run("SLA compliance, from two nodes at once", func(t *testing.T) { runConcurrentCompliance(t, newStores(t, 2)) })
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func runRequests(t *testing.T, s Store) {
	ctx := t.Context()
	due := func(h int) *time.Time { d := t0.Add(time.Duration(h) * time.Hour); return &d }
	for i, r := range []onramp.ProductionRequest{
		{ID: "prq_1", OrgID: "org_a", Status: onramp.RequestReceived, SLADue: due(5), CreatedAt: t0},
		{ID: "prq_2", OrgID: "org_a", Status: onramp.RequestDraft, CreatedAt: t0.Add(time.Hour)},
		{ID: "prq_3", OrgID: "org_b", Status: onramp.RequestInReview, SLADue: due(2), CreatedAt: t0.Add(2 * time.Hour)},
		{ID: "prq_4", OrgID: "org_b", Status: onramp.RequestApproved, SLADue: due(1), CreatedAt: t0.Add(3 * time.Hour),
			History: []onramp.StatusChange{{Status: onramp.RequestApproved, At: t0, By: "ana"}}},
	} {
		r.Products = []onramp.RequestedProduct{{Product: "payments", Plan: "standard", MonthlyVolume: int64(i)}}
		if err := s.SaveProductionRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FindProductionRequest(ctx, "prq_4")
	if err != nil || len(got.History) != 1 || got.History[0].By != "ana" || got.Products[0].MonthlyVolume != 3 {
		t.Fatalf("Find = %+v, %v", got, err)
	}
	if _, err := s.FindProductionRequest(ctx, "prq_x"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("Find(unknown) = %v", err)
	}
	of, _ := s.ProductionRequestsOf(ctx, "org_a")
	if len(of) != 2 || of[0].ID != "prq_2" {
		t.Errorf("requests of org_a = %+v, want prq_2 (newest) then prq_1", of)
	}
	page, _ := s.ProductionRequests(ctx, []string{onramp.RequestReceived, onramp.RequestInReview}, onramp.PageRequest{})
	open := page.Items
	if len(open) != 2 || open[0].ID != "prq_3" || open[1].ID != "prq_1" {
		t.Errorf("open requests = %+v, want prq_3 (due first) then prq_1", open)
	}
	got.Status = onramp.RequestRejected
	_ = s.SaveProductionRequest(ctx, got)
	if again, _ := s.FindProductionRequest(ctx, "prq_4"); again.Status != onramp.RequestRejected {
		t.Errorf("after saving again: %s", again.Status)
	}
}

func runNotifications(t *testing.T, s Store) {
	ctx := t.Context()
	for i := range 4 {
		n := onramp.Notification{ID: fmt.Sprintf("n_%d", i), OrgID: "org_a", Title: "t", At: t0.Add(time.Duration(i) * time.Minute)}
		for range 2 { // stored once by id
			if err := s.Notify(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = s.Notify(ctx, onramp.Notification{ID: "n_other", OrgID: "org_b", At: t0})
	page, err := s.NotificationsOf(ctx, "org_a", onramp.PageRequest{Limit: 3})
	got := page.Items
	if err != nil || len(got) != 3 || got[0].ID != "n_3" || got[2].ID != "n_1" || page.Next == "" {
		t.Fatalf("notifications = %+v, %v; want the newest 3 and more", got, err)
	}
	_ = s.Notify(ctx, onramp.Notification{ID: "n_9", OrgID: "org_a", At: t0.Add(time.Hour)}) // newer: before the cursor
	rest, _ := s.NotificationsOf(ctx, "org_a", onramp.PageRequest{Cursor: page.Next, Limit: 3})
	if len(rest.Items) != 1 || rest.Items[0].ID != "n_0" || rest.Next != "" || rest.Prev == "" {
		t.Errorf("the next page = %+v, want n_0 alone, the end", rest)
	}
	if _, err := s.NotificationsOf(ctx, "org_a", onramp.PageRequest{Limit: onramp.MaxPageLimit + 1}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a page of %d = %v, want EINVALID", onramp.MaxPageLimit+1, err)
	}
}

func runJourneys(t *testing.T, s Store) {
	ctx := t.Context()
	if err := s.ReachStage(ctx, "org_a", onramp.StageInvited, t0); err != nil {
		t.Fatal(err)
	}
	_ = s.ReachStage(ctx, "org_a", onramp.StageInvited, t0.Add(time.Hour)) // the first time stays
	_ = s.ReachStage(ctx, "org_a", onramp.StageFirstSignIn, t0.Add(2*time.Hour))
	_ = s.ReachStage(ctx, "org_b", onramp.StageInvited, t0)
	page, err := s.Journeys(ctx, onramp.PageRequest{})
	js := page.Items
	if err != nil || len(js) != 2 || js[0].OrgID != "org_a" {
		t.Fatalf("journeys = %+v, %v", js, err)
	}
	if st := js[0].Stages; !st[onramp.StageInvited].Equal(t0) || !st[onramp.StageFirstSignIn].Equal(t0.Add(2*time.Hour)) {
		t.Errorf("org_a's stages = %v, want the first times", st)
	}
}

// Two stages of one journey reached at the same moment are both kept.
func runConcurrentStages(t *testing.T, s Store) {
	ctx := t.Context()
	var wg sync.WaitGroup
	for _, st := range onramp.FunnelStages {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.ReachStage(ctx, "org_busy", st, t0) }()
	}
	wg.Wait()
	page, _ := s.Journeys(ctx, onramp.PageRequest{})
	js := page.Items
	if len(js) != 1 || len(js[0].Stages) != len(onramp.FunnelStages) {
		t.Errorf("journey after concurrent stages = %+v, want all %d", js, len(onramp.FunnelStages))
	}
}

func runQuotaRequests(t *testing.T, s Store) {
	ctx := t.Context()
	for i, r := range []onramp.QuotaRequest{
		{ID: "qr_1", OrgID: "org_a", Status: onramp.QuotaPending, CreatedAt: t0},
		{ID: "qr_2", OrgID: "org_a", Status: onramp.QuotaApproved, CreatedAt: t0.Add(time.Hour)},
		{ID: "qr_3", OrgID: "org_b", Status: onramp.QuotaPending, CreatedAt: t0.Add(2 * time.Hour)},
	} {
		r.RequestedLimit = int64(100 * (i + 1))
		if err := s.SaveQuotaRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.FindQuotaRequest(ctx, "qr_3"); err != nil || got.RequestedLimit != 300 {
		t.Fatalf("Find = %+v, %v", got, err)
	}
	if _, err := s.FindQuotaRequest(ctx, "qr_x"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("Find(unknown) = %v", err)
	}
	if of, _ := s.QuotaRequestsOf(ctx, "org_a"); len(of) != 2 || of[0].ID != "qr_2" {
		t.Errorf("of org_a = %+v, want newest first", of)
	}
	if in, _ := s.QuotaRequestsIn(ctx, []string{onramp.QuotaPending}, onramp.PageRequest{}); len(in.Items) != 2 || in.Items[0].ID != "qr_1" {
		t.Errorf("pending = %+v, want oldest first", in)
	}
	first, _ := s.QuotaRequestsIn(ctx, []string{onramp.QuotaPending}, onramp.PageRequest{Limit: 1})
	_ = s.SaveQuotaRequest(ctx, onramp.QuotaRequest{ID: "qr_1", OrgID: "org_a", Status: onramp.QuotaApproved, CreatedAt: t0}) // decided: leaves the queue
	next, _ := s.QuotaRequestsIn(ctx, []string{onramp.QuotaPending}, onramp.PageRequest{Cursor: first.Next, Limit: 1})
	if len(next.Items) != 1 || next.Items[0].ID != "qr_3" || next.Prev != "" {
		t.Errorf("after qr_1 was decided the next page = %+v, want qr_3 with nothing before it", next)
	}
}
