package catalog

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/changefeed"
)

// The catalog is served from memory. Published versions never change but for their status,
// sunset and brownouts, so each portal node keeps a snapshot of every product with its versions
// and of the assignments of the organisations it served, and follows the store's change feed: a
// publication, status, sunset or brownout change (ChangeProduct) or an assignment change
// (ChangeAssignments) on any node reaches this one within about feedPoll. Writes through this
// node refresh what they wrote at once. Without a feed (unit tests on fakes) the catalog reads
// its stores directly.

const (
	feedPoll = 250 * time.Millisecond
	// maxCachedOrgs bounds the assignments kept; past it the least recently loaded go first.
	maxCachedOrgs = 100_000
)

// AllVersions is a store that reads every product's versions in one go (the snapshot's first
// load: one read instead of one per product).
type AllVersions interface {
	AllVersions(ctx context.Context) ([]onramp.ProductVersion, error)
}

// snapshot is a CatalogStore and AssignmentStore whose reads come from memory; writes go to
// the store and refresh what they changed.
type snapshot struct {
	onramp.CatalogStore
	assignments onramp.AssignmentStore
	feed        onramp.ChangeFeed
	now         func() time.Time

	reloading sync.Mutex // one reload at a time: an older read never replaces a newer one
	mu        sync.RWMutex
	loadedAt  time.Time // zero: not loaded
	products  []onramp.Product
	versions  map[string][]onramp.ProductVersion // by product slug, in publication order
	orgs      map[string]orgAssignments
}

type orgAssignments struct {
	list     []onramp.Assignment
	loadedAt time.Time
}

func newSnapshot(store onramp.CatalogStore, assignments onramp.AssignmentStore, feed onramp.ChangeFeed, now func() time.Time) *snapshot {
	return &snapshot{CatalogStore: store, assignments: assignments, feed: feed, now: now, orgs: map[string]orgAssignments{}}
}

// load reads every product and version when the snapshot is empty (at the first read, or after
// a refresh failed).
func (s *snapshot) load(ctx context.Context) error {
	s.mu.RLock()
	loaded := !s.loadedAt.IsZero()
	s.mu.RUnlock()
	if loaded {
		return nil
	}
	return s.reloadAll(ctx)
}

func (s *snapshot) reloadAll(ctx context.Context) error {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	at := s.now()
	products, err := s.CatalogStore.ListProducts(ctx)
	if err != nil {
		return err
	}
	versions := map[string][]onramp.ProductVersion{}
	if all, ok := s.CatalogStore.(AllVersions); ok {
		vs, err := all.AllVersions(ctx)
		if err != nil {
			return err
		}
		for _, v := range vs {
			versions[v.Product] = append(versions[v.Product], v)
		}
		for _, vs := range versions {
			sort.SliceStable(vs, func(i, j int) bool { return vs[i].Number < vs[j].Number })
		}
	} else {
		for _, p := range products {
			if versions[p.Slug], err = s.CatalogStore.ListVersions(ctx, p.Slug); err != nil {
				return err
			}
		}
	}
	s.mu.Lock()
	s.products, s.versions, s.loadedAt = products, versions, at
	s.orgs = map[string]orgAssignments{}
	s.mu.Unlock()
	return nil
}

// reloadProduct rereads one product and its versions (after a write, or a change on another
// node). When that fails the snapshot is dropped, so the next read loads everything again.
func (s *snapshot) reloadProduct(ctx context.Context, slug string) error {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	err := s.readProduct(ctx, slug)
	if err != nil {
		s.mu.Lock()
		s.loadedAt = time.Time{}
		s.mu.Unlock()
	}
	return err
}

func (s *snapshot) readProduct(ctx context.Context, slug string) error {
	p, err := s.CatalogStore.FindProduct(ctx, slug)
	if err != nil && onramp.ErrorCode(err) != onramp.ENOTFOUND {
		return err
	}
	vs, verr := s.CatalogStore.ListVersions(ctx, slug)
	if verr != nil {
		return verr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadedAt.IsZero() {
		return nil // the first read loads everything
	}
	i := slices.IndexFunc(s.products, func(x onramp.Product) bool { return x.Slug == slug })
	products := slices.Clone(s.products)
	switch {
	case err != nil && i >= 0:
		products = slices.Delete(products, i, i+1)
	case err == nil && i >= 0:
		products[i] = p
	case err == nil:
		products = append(products, p)
	}
	// The store's order: by name, then slug.
	sort.SliceStable(products, func(a, b int) bool {
		if products[a].Name != products[b].Name {
			return products[a].Name < products[b].Name
		}
		return products[a].Slug < products[b].Slug
	})
	versions := make(map[string][]onramp.ProductVersion, len(s.versions)+1)
	for k, v := range s.versions {
		versions[k] = v
	}
	versions[slug] = vs
	s.products, s.versions = products, versions
	return nil
}

func (s *snapshot) forgetOrg(orgID string) {
	s.mu.Lock()
	delete(s.orgs, orgID)
	s.mu.Unlock()
}

// follow applies the store's changes to the snapshot until ctx ends.
func (s *snapshot) follow(ctx context.Context, log func(msg string, args ...any)) {
	r := changefeed.NewReader(s.feed, s.now())
	t := time.NewTicker(feedPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.Read(ctx, s.now(), s.reloadAll, func(ctx context.Context, c onramp.Change) {
			switch c.Kind {
			case onramp.ChangeProduct:
				if err := s.reloadProduct(ctx, c.Key); err != nil {
					log("reload a changed product", "product", c.Key, "error", err)
				}
			case onramp.ChangeAssignments:
				s.forgetOrg(c.Key)
			}
		})
		if err != nil && ctx.Err() == nil {
			log("read the catalog's change feed", "error", err)
		}
	}
}

// refresh rereads product in the snapshot, if the catalog keeps one: for what another process
// (the worker's workflow) wrote before this one answers.
func (c *Catalog) refresh(ctx context.Context, product string) {
	if snap, ok := c.cfg.Store.(*snapshot); ok {
		_ = snap.reloadProduct(ctx, product) // on failure the next read reloads everything
	}
}

// Sync makes the catalog hold product's version when the store has it: a workflow that found the
// version in the store (stored by another process, or by this one a moment before its snapshot
// reread it) asks Sync before it asks the catalog who sees the version. It rereads the product
// only when the snapshot does not hold the version yet; ENOTFOUND when the store has none either.
func (c *Catalog) Sync(ctx context.Context, product, version string) error {
	snap, ok := c.cfg.Store.(*snapshot)
	if !ok {
		return nil
	}
	if _, err := snap.FindVersion(ctx, product, version); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		return err
	}
	if err := snap.reloadProduct(ctx, product); err != nil {
		return err
	}
	_, err := snap.FindVersion(ctx, product, version)
	return err
}

// Reads from memory.

func (s *snapshot) ListProducts(ctx context.Context) ([]onramp.Product, error) {
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.products), nil
}

func (s *snapshot) FindProduct(ctx context.Context, slug string) (onramp.Product, error) {
	if err := s.load(ctx); err != nil {
		return onramp.Product{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if i := slices.IndexFunc(s.products, func(p onramp.Product) bool { return p.Slug == slug }); i >= 0 {
		return s.products[i], nil
	}
	return onramp.Product{}, onramp.Errorf(onramp.ENOTFOUND, "no product %q", slug)
}

func (s *snapshot) ListVersions(ctx context.Context, product string) ([]onramp.ProductVersion, error) {
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.versions[product]), nil
}

func (s *snapshot) FindVersion(ctx context.Context, product, version string) (onramp.ProductVersion, error) {
	vs, err := s.ListVersions(ctx, product)
	if err != nil {
		return onramp.ProductVersion{}, err
	}
	if i := slices.IndexFunc(vs, func(v onramp.ProductVersion) bool { return v.Version == version }); i >= 0 {
		return vs[i], nil
	}
	return onramp.ProductVersion{}, onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q", product, version)
}

// AssignmentsOf serves the organisation's assignments from memory once read.
func (s *snapshot) AssignmentsOf(ctx context.Context, orgID string) ([]onramp.Assignment, error) {
	s.mu.RLock()
	a, ok := s.orgs[orgID]
	s.mu.RUnlock()
	if ok {
		return slices.Clone(a.list), nil
	}
	at := s.now()
	list, err := s.assignments.AssignmentsOf(ctx, orgID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.orgs) >= maxCachedOrgs {
		s.evictOldestOrg()
	}
	s.orgs[orgID] = orgAssignments{list: slices.Clone(list), loadedAt: at}
	s.mu.Unlock()
	return list, nil
}

// AssignedTo reads the store: the snapshot keeps assignments per organisation, and the callers of
// this (impact alarms, the migration dashboard) ask rarely and for every organisation at once.
func (s *snapshot) AssignedTo(ctx context.Context, product string) ([]string, error) {
	return s.assignments.AssignedTo(ctx, product)
}

func (s *snapshot) evictOldestOrg() {
	var oldest string
	var at time.Time
	for id, a := range s.orgs {
		if oldest == "" || a.loadedAt.Before(at) {
			oldest, at = id, a.loadedAt
		}
	}
	delete(s.orgs, oldest)
}

// Writes: to the store, then what they changed is reread.

func (s *snapshot) SaveProduct(ctx context.Context, p onramp.Product) error {
	if err := s.CatalogStore.SaveProduct(ctx, p); err != nil {
		return err
	}
	_ = s.reloadProduct(ctx, p.Slug) // on failure the snapshot is dropped and the next read reloads
	return nil
}

func (s *snapshot) PublishVersion(ctx context.Context, v onramp.ProductVersion) error {
	if err := s.CatalogStore.PublishVersion(ctx, v); err != nil {
		return err
	}
	_ = s.reloadProduct(ctx, v.Product) // on failure the snapshot is dropped and the next read reloads
	return nil
}

func (s *snapshot) UpdateVersion(ctx context.Context, v onramp.ProductVersion) error {
	if err := s.CatalogStore.UpdateVersion(ctx, v); err != nil {
		return err
	}
	_ = s.reloadProduct(ctx, v.Product) // on failure the snapshot is dropped and the next read reloads
	return nil
}

func (s *snapshot) SaveAssignment(ctx context.Context, a onramp.Assignment) error {
	defer s.forgetOrg(a.OrgID)
	return s.assignments.SaveAssignment(ctx, a)
}

func (s *snapshot) DeleteAssignment(ctx context.Context, orgID, product string) error {
	defer s.forgetOrg(orgID)
	return s.assignments.DeleteAssignment(ctx, orgID, product)
}

func (s *snapshot) DeleteAssignments(ctx context.Context, orgID string) error {
	defer s.forgetOrg(orgID)
	return s.assignments.DeleteAssignments(ctx, orgID)
}
