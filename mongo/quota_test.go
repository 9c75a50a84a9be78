package mongo_test

import (
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/mongo"
)

func TestQuotaRequests(t *testing.T) {
	s := mongo.NewOnboarding(MustOpen(t))
	ctx := t.Context()
	t0 := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	a := onramp.QuotaRequest{ID: "qr_a", OrgID: "org_1", Product: "payments", Period: "month", CurrentLimit: 10, RequestedLimit: 20, Status: onramp.QuotaPending, CreatedAt: t0}
	b := onramp.QuotaRequest{ID: "qr_b", OrgID: "org_1", Product: "accounts", Period: "month", CurrentLimit: 10, RequestedLimit: 30, Status: onramp.QuotaPending, CreatedAt: t0.Add(time.Hour)}
	c := onramp.QuotaRequest{ID: "qr_c", OrgID: "org_2", Product: "payments", Status: onramp.QuotaRejected, CreatedAt: t0}
	for _, r := range []onramp.QuotaRequest{a, b, c} {
		if err := s.SaveQuotaRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	b.Status, b.ApprovedLimit = onramp.QuotaApproved, 25
	if err := s.SaveQuotaRequest(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindQuotaRequest(ctx, "qr_b"); err != nil || got.Status != onramp.QuotaApproved || got.ApprovedLimit != 25 || !got.CreatedAt.Equal(b.CreatedAt) {
		t.Errorf("FindQuotaRequest = %+v, %v", got, err)
	}
	if _, err := s.FindQuotaRequest(ctx, "qr_x"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("unknown request: %v, want ENOTFOUND", err)
	}
	if of, err := s.QuotaRequestsOf(ctx, "org_1"); err != nil || len(of) != 2 || of[0].ID != "qr_b" {
		t.Errorf("QuotaRequestsOf = %+v, %v; want qr_b (newest) then qr_a", of, err)
	}
	if in, err := s.QuotaRequestsIn(ctx, []string{onramp.QuotaPending}, onramp.PageRequest{}); err != nil || len(in.Items) != 1 || in.Items[0].ID != "qr_a" {
		t.Errorf("QuotaRequestsIn(pending) = %+v, %v; want qr_a", in, err)
	}
}

// The purge drops the call log's day collections before the retention, counting their calls, and
// keeps the newer days'.
func TestUsageRetention(t *testing.T) {
	db := MustOpen(t)
	u := mongo.NewUsage(db)
	ctx := t.Context()
	now := time.Now().UTC()
	call := func(id string, at time.Time) onramp.CallPage {
		return onramp.CallPage{Ref: onramp.CallPageRef{Hour: at.Truncate(time.Hour), Count: 1, First: at, Last: at}, Calls: []onramp.UsageEvent{{ID: id, At: at, OrgID: "o", Status: 200}}}
	}
	old, recent := call("old", now.Add(-48*time.Hour)), call("new", now)
	if err := u.SaveUsage(ctx, "gw-a", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: "o", UpdatedAt: now, Pages: []onramp.CallPageRef{old.Ref, recent.Ref}}, Pages: []onramp.CallPage{old, recent}}); err != nil {
		t.Fatal(err)
	}
	if err := u.SaveNode(ctx, onramp.GatewayNode{ID: "gw-a", StartedAt: now, SeenAt: now}); err != nil {
		t.Fatal(err)
	}
	if n, err := u.PurgeUsage(ctx, now.Add(-24*time.Hour)); err != nil || n != 1 {
		t.Errorf("PurgeUsage = %d, %v; want the old call gone", n, err)
	}
	if left, _ := u.Calls(ctx, "o", onramp.CallFilter{}); len(left) != 1 || left[0].ID != "new" {
		t.Errorf("left %+v, want the new call", left)
	}
	names, err := db.CollectionNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name == "usage_pages_"+old.Ref.Hour.Format("20060102") {
			t.Errorf("the old day's collection %s is still there", name)
		}
	}
}
