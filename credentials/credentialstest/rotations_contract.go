package credentialstest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// RunRotationStoreContract checks a rotation store: saving replaces, lists are ordered and
// filtered, and concurrent saves from several nodes all land. newStores returns n stores over
// the same, empty data (n clients of the real store, or one fake n times).
func RunRotationStoreContract(t *testing.T, newStores func(t *testing.T, n int) []onramp.RotationStore) {
	t.Run("save, find and list", func(t *testing.T) { runRotations(t, newStores(t, 1)[0]) })
	t.Run("concurrent saves", func(t *testing.T) { runConcurrentRotations(t, newStores(t, 2)) })
}

var r0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func rotation(id, org, status string, created time.Time) onramp.Rotation {
	return onramp.Rotation{ID: id, OrgID: org, OldCredentialID: "cred_" + id, Environment: onramp.Production, Label: "CI",
		Overlap: "24h0m0s", Status: status, RequestedBy: "dev@p.example", CreatedAt: created, UpdatedAt: created}
}

func runRotations(t *testing.T, s onramp.RotationStore) {
	ctx := t.Context()
	if _, err := s.FindRotation(ctx, "rot_missing"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("find(missing) = %v, want ENOTFOUND", err)
	}
	for _, r := range []onramp.Rotation{
		rotation("rot_a", "org_1", onramp.RotationPendingReview, r0),
		rotation("rot_b", "org_1", onramp.RotationOverlapping, r0.Add(time.Minute)),
		rotation("rot_c", "org_2", onramp.RotationPendingReview, r0.Add(2*time.Minute)),
	} {
		if err := s.SaveRotation(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	expires := r0.Add(24 * time.Hour)
	changed := rotation("rot_a", "org_1", onramp.RotationOverlapping, r0)
	changed.NewCredentialID, changed.ExpiresAt, changed.ReviewReasons = "cred_new", &expires, []string{"production key"}
	if err := s.SaveRotation(ctx, changed); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindRotation(ctx, "rot_a")
	if err != nil || got.Status != onramp.RotationOverlapping || got.NewCredentialID != "cred_new" || got.ExpiresAt == nil ||
		!got.ExpiresAt.Equal(expires) || len(got.ReviewReasons) != 1 || !got.CreatedAt.Equal(r0) {
		t.Errorf("after a second save: %+v, %v; want the new version whole", got, err)
	}
	of, _ := s.RotationsOf(ctx, "org_1")
	if ids := idsOf(of); ids != "[rot_b rot_a]" {
		t.Errorf("RotationsOf(org_1) = %s, want newest first [rot_b rot_a]", ids)
	}
	pending, _ := s.RotationsIn(ctx, []string{onramp.RotationPendingReview}, onramp.PageRequest{})
	if ids := idsOf(pending.Items); ids != "[rot_c]" {
		t.Errorf("RotationsIn(pending) = %s, want [rot_c]", ids)
	}
	both, _ := s.RotationsIn(ctx, []string{onramp.RotationPendingReview, onramp.RotationOverlapping}, onramp.PageRequest{})
	if ids := idsOf(both.Items); ids != "[rot_a rot_b rot_c]" {
		t.Errorf("RotationsIn(pending, overlapping) = %s, want oldest first [rot_a rot_b rot_c]", ids)
	}
	if none, _ := s.RotationsIn(ctx, []string{onramp.RotationRejected}, onramp.PageRequest{}); len(none.Items) != 0 {
		t.Errorf("RotationsIn(rejected) = %s, want none", idsOf(none.Items))
	}
	// The queue pages: two statuses merged in order, a cursor kept while rotations are added,
	// both limits enforced.
	first, err := s.RotationsIn(ctx, []string{onramp.RotationPendingReview, onramp.RotationOverlapping}, onramp.PageRequest{Limit: 2})
	if err != nil || idsOf(first.Items) != "[rot_a rot_b]" || first.Next == "" || first.Prev != "" {
		t.Fatalf("first page of 2 = %s, %v (next %v)", idsOf(first.Items), err, first.Next != "")
	}
	if err := s.SaveRotation(ctx, rotation("rot_0", "org_3", onramp.RotationPendingReview, r0.Add(-time.Hour))); err != nil { // before the cursor
		t.Fatal(err)
	}
	if err := s.SaveRotation(ctx, rotation("rot_d", "org_3", onramp.RotationPendingReview, r0.Add(3*time.Minute))); err != nil { // after it
		t.Fatal(err)
	}
	second, _ := s.RotationsIn(ctx, []string{onramp.RotationPendingReview, onramp.RotationOverlapping}, onramp.PageRequest{Cursor: first.Next, Limit: 2})
	if idsOf(second.Items) != "[rot_c rot_d]" || second.Prev == "" || second.Next != "" {
		t.Errorf("second page = %s (prev %v, next %v), want [rot_c rot_d], the end", idsOf(second.Items), second.Prev != "", second.Next != "")
	}
	back, _ := s.RotationsIn(ctx, []string{onramp.RotationPendingReview, onramp.RotationOverlapping}, onramp.PageRequest{Cursor: second.Prev, Limit: 2})
	if idsOf(back.Items) != "[rot_a rot_b]" || back.Prev == "" {
		t.Errorf("back = %s (prev %v), want [rot_a rot_b] with rot_0 before them", idsOf(back.Items), back.Prev != "")
	}
	for limit, ok := range map[int]bool{-1: false, onramp.MaxPageLimit: true, onramp.MaxPageLimit + 1: false} {
		if _, err := s.RotationsIn(ctx, []string{onramp.RotationPendingReview}, onramp.PageRequest{Limit: limit}); (err == nil) != ok {
			t.Errorf("limit %d = %v, want ok=%v", limit, err, ok)
		}
	}
}

func idsOf(rs []onramp.Rotation) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return fmt.Sprint(ids)
}

// Twenty rotations saved from two nodes at once: every one is there.
func runConcurrentRotations(t *testing.T, nodes []onramp.RotationStore) {
	ctx := t.Context()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- nodes[i%len(nodes)].SaveRotation(ctx, rotation(fmt.Sprintf("rot_%02d", i), "org_busy", onramp.RotationStarting, r0.Add(time.Duration(i)*time.Second)))
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all, _ := nodes[1].RotationsOf(ctx, "org_busy")
	if len(all) != 20 || all[0].ID != "rot_19" || all[19].ID != "rot_00" {
		t.Errorf("after 20 concurrent saves: %s, want all 20 newest first", idsOf(all))
	}
}
