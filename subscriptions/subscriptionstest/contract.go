package subscriptionstest

import (
	"fmt"
	"strings"
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
	t.Run("subscriptions", func(t *testing.T) { runSubscriptions(t, newStores(t, 1)[0]) })
	t.Run("concurrent subscription changes are all kept", func(t *testing.T) { runConcurrentSubscriptions(t, newStores(t, 2)) })
	t.Run("feed tokens", func(t *testing.T) { runFeedTokens(t, newStores(t, 1)[0]) })
	t.Run("concurrent rotations leave exactly one token", func(t *testing.T) { runConcurrentRotations(t, newStores(t, 2)) })
	t.Run("deliveries", func(t *testing.T) { runDeliveries(t, newStores(t, 2)) })
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func runSubscriptions(t *testing.T, s Store) {
	ctx := t.Context()
	got, err := s.Subscriptions(ctx, "org_1:ana")
	if err != nil || got.MemberID != "org_1:ana" || got.Default != "" || len(got.Products) != 0 || got.Level("payments") != onramp.SubscribeNone {
		t.Fatalf("never chose: %+v, %v; want the zero value with the member id", got, err)
	}
	if _, err := s.SetSubscription(ctx, "org_1:ana", "", onramp.SubscribeBreaking, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetSubscription(ctx, "org_1:ana", "payments", onramp.SubscribeAll, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	set, err := s.SetSubscription(ctx, "org_1:ana", "insights", onramp.SubscribeNone, t0.Add(2*time.Minute))
	if err != nil || set.Default != onramp.SubscribeBreaking || set.Products["payments"] != onramp.SubscribeAll || set.Products["insights"] != onramp.SubscribeNone {
		t.Fatalf("SetSubscription answered %+v, %v; want every choice so far", set, err)
	}
	got, err = s.Subscriptions(ctx, "org_1:ana")
	if err != nil || got.Default != onramp.SubscribeBreaking || len(got.Products) != 2 || got.Level("payments") != onramp.SubscribeAll ||
		got.Level("insights") != onramp.SubscribeNone || got.Level("accounts") != onramp.SubscribeBreaking || !got.UpdatedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("stored %+v, %v", got, err)
	}
	// Clearing a product's level makes it follow the default again.
	if _, err := s.SetSubscription(ctx, "org_1:ana", "payments", "", t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Subscriptions(ctx, "org_1:ana"); got.Level("payments") != onramp.SubscribeBreaking || len(got.Products) != 1 {
		t.Errorf("after clearing payments: %+v, want it to follow the default", got)
	}
	// Another member, of the same organisation or of another, is untouched.
	for _, other := range []string{"org_1:bo", "org_2:ana"} {
		if got, err := s.Subscriptions(ctx, other); err != nil || got.Default != "" || len(got.Products) != 0 {
			t.Errorf("%s: %+v, %v; want nothing chosen", other, got, err)
		}
	}
}

// Two nodes change one member's subscriptions at once, each a different product: every change is
// kept (FerretDB loses concurrent updates of one document unless the store serialises them).
func runConcurrentSubscriptions(t *testing.T, stores []Store) {
	ctx := t.Context()
	const perNode = 8
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*perNode)
	for n, s := range stores {
		for i := range perNode {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.SetSubscription(ctx, "org_1:ana", fmt.Sprintf("product-%d-%d", n, i), onramp.SubscribeAll, t0)
				errs <- err
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
	got, err := stores[0].Subscriptions(ctx, "org_1:ana")
	if err != nil || len(got.Products) != len(stores)*perNode {
		t.Fatalf("after %d concurrent changes: %d kept (%v), %v", len(stores)*perNode, len(got.Products), got.Products, err)
	}
}

func token(member, hash string, at time.Time) onramp.FeedToken {
	org, id, _ := strings.Cut(member, ":")
	return onramp.FeedToken{MemberID: member, OrgID: org, IdentityID: id, Hash: hash, CreatedAt: at}
}

func runFeedTokens(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.FeedTokenOf(ctx, "org_1:ana"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Fatalf("FeedTokenOf(none) = %v, want ENOTFOUND", err)
	}
	if _, err := s.FeedTokenByHash(ctx, "hash-unknown"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Fatalf("FeedTokenByHash(unknown) = %v, want ENOTFOUND", err)
	}
	for _, tk := range []onramp.FeedToken{token("org_1:ana", "hash-1", t0), token("org_1:bo", "hash-bo", t0), token("org_2:ana", "hash-other-org", t0)} {
		if err := s.SetFeedToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FeedTokenByHash(ctx, "hash-1")
	if err != nil || got.MemberID != "org_1:ana" || got.OrgID != "org_1" || got.IdentityID != "ana" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("FeedTokenByHash = %+v, %v", got, err)
	}
	// Rotating replaces the token at once: the old hash finds nothing, the new one the member.
	if err := s.SetFeedToken(ctx, token("org_1:ana", "hash-2", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FeedTokenByHash(ctx, "hash-1"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("the rotated-out token = %v, want ENOTFOUND", err)
	}
	if got, err := s.FeedTokenByHash(ctx, "hash-2"); err != nil || got.MemberID != "org_1:ana" || !got.CreatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("the new token = %+v, %v", got, err)
	}
	if got, err := s.FeedTokenOf(ctx, "org_1:ana"); err != nil || got.Hash != "hash-2" {
		t.Errorf("FeedTokenOf = %+v, %v; want the new one", got, err)
	}
	// The same person's token in another organisation, and a colleague's, are separate.
	for hash, member := range map[string]string{"hash-bo": "org_1:bo", "hash-other-org": "org_2:ana"} {
		if got, err := s.FeedTokenByHash(ctx, hash); err != nil || got.MemberID != member {
			t.Errorf("%s: %+v, %v; want %s's token untouched", hash, got, err, member)
		}
	}
	if err := s.DeleteFeedToken(ctx, "org_1:ana"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFeedToken(ctx, "org_1:ana"); err != nil {
		t.Errorf("deleting again = %v, want nothing to do", err)
	}
	if _, err := s.FeedTokenByHash(ctx, "hash-2"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("a deleted token = %v, want ENOTFOUND", err)
	}
	if _, err := s.FeedTokenOf(ctx, "org_1:ana"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("FeedTokenOf after delete = %v, want ENOTFOUND", err)
	}
	if _, err := s.FeedTokenByHash(ctx, "hash-bo"); err != nil {
		t.Errorf("a colleague's token after the delete: %v", err)
	}
}

// Two nodes rotate one member's token several times at once: afterwards exactly one of the
// tokens works, and it is the member's current one.
func runConcurrentRotations(t *testing.T, stores []Store) {
	ctx := t.Context()
	const perNode = 4
	var wg sync.WaitGroup
	var hashes []string
	for n, s := range stores {
		for i := range perNode {
			h := fmt.Sprintf("hash-%d-%d", n, i)
			hashes = append(hashes, h)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.SetFeedToken(ctx, token("org_1:ana", h, t0)); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	current, err := stores[0].FeedTokenOf(ctx, "org_1:ana")
	if err != nil {
		t.Fatal(err)
	}
	var working []string
	for _, h := range hashes {
		for _, s := range stores {
			if _, err := s.FeedTokenByHash(ctx, h); err == nil {
				working = append(working, h)
			} else if onramp.ErrorCode(err) != onramp.ENOTFOUND {
				t.Fatal(err)
			}
		}
	}
	if len(working) != len(stores) || working[0] != current.Hash {
		t.Fatalf("tokens that work on each node: %v, want only the current one %s", working, current.Hash)
	}
}

func runDeliveries(t *testing.T, stores []Store) {
	ctx := t.Context()
	s, other := stores[0], stores[1]
	if done, err := s.Delivered(ctx, "msg-1"); err != nil || done {
		t.Fatalf("Delivered(new) = %v, %v", done, err)
	}
	for range 2 {
		if err := s.MarkDelivered(ctx, "msg-1", t0); err != nil {
			t.Fatalf("MarkDelivered: %v (marking twice must be harmless)", err)
		}
	}
	for _, st := range []Store{s, other} {
		if done, err := st.Delivered(ctx, "msg-1"); err != nil || !done {
			t.Errorf("Delivered(marked) = %v, %v; want true on every node", done, err)
		}
	}
	if done, _ := other.Delivered(ctx, "msg-2"); done {
		t.Error("an unmarked message reads as delivered")
	}
	var wg sync.WaitGroup
	for _, st := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.MarkDelivered(ctx, "msg-3", t0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if done, _ := s.Delivered(ctx, "msg-3"); !done {
		t.Error("msg-3 marked from two nodes at once reads as undelivered")
	}
}
