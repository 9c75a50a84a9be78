package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/policies"
)

// Two portal nodes share the stores; each serves the catalog from its snapshot. What one node
// writes, or the worker writes to the store, reaches the other through the change feed within a
// second, and the reads that serve a page do not touch the store.

// feedStore is the shared store: every write the gateways and the snapshot follow is recorded
// in a change feed, as the MongoDB adapter records it; reads are counted.
type feedStore struct {
	*catalogtest.Memory
	mu      sync.Mutex
	changes []onramp.Change
	reads   atomic.Int64
	held    atomic.Bool // the feed answers nothing new: a node that has not read it yet
}

func (f *feedStore) record(kind, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, onramp.Change{ID: fmt.Sprint(len(f.changes)), Kind: kind, Key: key, At: time.Now()})
}

func (f *feedStore) Changes(_ context.Context, since time.Time) ([]onramp.Change, error) {
	if f.held.Load() {
		return nil, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []onramp.Change
	for _, c := range f.changes {
		if !c.At.Before(since) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *feedStore) PublishVersion(ctx context.Context, v onramp.ProductVersion) error {
	defer f.record(onramp.ChangeProduct, v.Product)
	return f.Memory.PublishVersion(ctx, v)
}

func (f *feedStore) UpdateVersion(ctx context.Context, v onramp.ProductVersion) error {
	defer f.record(onramp.ChangeProduct, v.Product)
	return f.Memory.UpdateVersion(ctx, v)
}

func (f *feedStore) SaveProduct(ctx context.Context, p onramp.Product) error {
	defer f.record(onramp.ChangeProduct, p.Slug)
	return f.Memory.SaveProduct(ctx, p)
}

func (f *feedStore) SetBrownouts(ctx context.Context, product, version string, ws []onramp.BrownoutWindow) error {
	defer f.record(onramp.ChangeProduct, product)
	return f.Memory.SetBrownouts(ctx, product, version, ws)
}

func (f *feedStore) SaveAssignment(ctx context.Context, a onramp.Assignment) error {
	defer f.record(onramp.ChangeAssignments, a.OrgID)
	return f.Memory.SaveAssignment(ctx, a)
}

func (f *feedStore) DeleteAssignment(ctx context.Context, orgID, product string) error {
	defer f.record(onramp.ChangeAssignments, orgID)
	return f.Memory.DeleteAssignment(ctx, orgID, product)
}

func (f *feedStore) ListVersions(ctx context.Context, product string) ([]onramp.ProductVersion, error) {
	f.reads.Add(1)
	return f.Memory.ListVersions(ctx, product)
}

func (f *feedStore) AssignmentsOf(ctx context.Context, orgID string) ([]onramp.Assignment, error) {
	f.reads.Add(1)
	return f.Memory.AssignmentsOf(ctx, orgID)
}

func mustNode(t *testing.T, store *feedStore, engine *policies.Engine) *catalog.Catalog {
	t.Helper()
	c, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{},
		Changes: store, SandboxURL: "http://sandbox.test", ProductionURL: "http://prod.test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// within waits up to a second for cond, failing with what it saw last.
func within(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a second (last saw %s)", what, saw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSnapshotFollowsWritesOfOtherNodes(t *testing.T) {
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store := &feedStore{Memory: catalogtest.NewMemory()}
	a, b := mustNode(t, store, engine), mustNode(t, store, engine)
	if _, err := a.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	org := MustOrg(t, a, "org_snap", "standard")
	ctx := t.Context()
	phase := func(c *catalog.Catalog, version string) (string, error) {
		view, err := c.Product(ctx, org, "payments", version)
		return view.Version.Phase, err
	}
	if p, err := phase(b, "v2"); err != nil || p != onramp.VersionCurrent {
		t.Fatalf("node b before any change: v2 %q, %v", p, err)
	}

	// A publication on node a.
	spec, _ := demoFS(t).(interface{ ReadFile(string) ([]byte, error) }).ReadFile("products/payments/v2.yaml")
	if _, err := a.Publish(ctx, catalog.Publish{Product: "payments", Version: "v3", Status: onramp.VersionBeta, Spec: spec}); err != nil {
		t.Fatal(err)
	}
	within(t, "v3 published on node a, seen on node b", func() (bool, string) {
		_, err := b.Product(ctx, org, "payments", "v3")
		return err == nil, fmt.Sprint(err)
	})

	// A status change and a sunset on node a.
	sunset := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	if _, err := a.UpdateVersion(ctx, "payments", "v2", onramp.VersionDeprecated, &sunset, ""); err != nil {
		t.Fatal(err)
	}
	within(t, "v2 deprecated with a sunset on node a, seen on node b", func() (bool, string) {
		view, err := b.Product(ctx, org, "payments", "v2")
		return err == nil && view.Version.Status == onramp.VersionDeprecated && view.Version.Sunset != nil && view.Version.Sunset.Equal(sunset),
			fmt.Sprintf("%s %v %v", view.Version.Status, view.Version.Sunset, err)
	})

	// A sunset moved into the past by the store directly (another process): retired on b.
	past := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	v1, _ := store.Memory.FindVersion(ctx, "payments", "v1")
	v1.Sunset = &past
	if err := store.UpdateVersion(ctx, v1); err != nil {
		t.Fatal(err)
	}
	within(t, "v1's sunset passed, written by another process, seen on node b", func() (bool, string) {
		p, err := phase(b, "v1")
		return p == onramp.PhaseRetired, p + " " + fmt.Sprint(err)
	})

	// An assignment change on node a: payments leaves the organisation's catalog on node b.
	if err := a.Unassign(ctx, org.ID, "payments"); err != nil {
		t.Fatal(err)
	}
	within(t, "payments unassigned on node a, gone on node b", func() (bool, string) {
		entries, err := b.List(ctx, org, "", "")
		return err == nil && !strings.Contains(slugs(entries), "payments"), slugs(entries)
	})
}

// A workflow that found a version in the store (the announcement of a version another node just
// stored) syncs the catalog before it asks who sees the version, and is not answered from a
// snapshot that has not read the change feed yet.
func TestSyncReadsAVersionTheSnapshotHasNotSeen(t *testing.T) {
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store := &feedStore{Memory: catalogtest.NewMemory()}
	a, b := mustNode(t, store, engine), mustNode(t, store, engine)
	if _, err := a.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	org := MustOrg(t, a, "org_sync", "standard")
	ctx := t.Context()
	if _, err := b.Product(ctx, org, "payments", "v2"); err != nil {
		t.Fatal(err)
	}
	store.held.Store(true)
	spec, _ := demoFS(t).(interface{ ReadFile(string) ([]byte, error) }).ReadFile("products/payments/v2.yaml")
	if _, err := a.Publish(ctx, catalog.Publish{Product: "payments", Version: "v3", Status: onramp.VersionBeta, Spec: spec}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // more than two polls of the (held) feed
	if _, err := b.Product(ctx, org, "payments", "v3"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Fatalf("node b before the feed and without Sync: v3 %v, want ENOTFOUND (the snapshot has not seen it)", err)
	}
	if err := b.Sync(ctx, "payments", "v3"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Product(ctx, org, "payments", "v3"); err != nil {
		t.Errorf("node b after Sync: v3 %v, want it seen", err)
	}
	if err := b.Sync(ctx, "payments", "v9"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("Sync of a version no store has: %v, want ENOTFOUND", err)
	}
}

func TestSnapshotServesPagesWithoutReadingTheStore(t *testing.T) {
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store := &feedStore{Memory: catalogtest.NewMemory()}
	c := mustNode(t, store, engine)
	if _, err := c.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	org := MustOrg(t, c, "org_reads", "premium")
	if _, err := c.List(t.Context(), org, "", ""); err != nil { // the first read loads
		t.Fatal(err)
	}
	before := store.reads.Load()
	for range 20 {
		if _, err := c.List(t.Context(), org, "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Product(t.Context(), org, "payments", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.reads.Load() - before; n != 0 {
		t.Errorf("20 catalog pages and 20 product pages read the store %d times, want 0", n)
	}
	// A catalog without a change feed reads the store, so it is never stale.
	plain, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{},
		SandboxURL: "http://sandbox.test", ProductionURL: "http://prod.test"})
	if err != nil {
		t.Fatal(err)
	}
	before = store.reads.Load()
	if _, err := plain.List(t.Context(), org, "", ""); err != nil {
		t.Fatal(err)
	}
	if store.reads.Load() == before {
		t.Error("a catalog without a feed served from memory")
	}
}
