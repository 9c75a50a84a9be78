package catalogtest

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Memory is an in-memory Store for unit tests; it passes RunStoreContract.
type Memory struct {
	mu          sync.Mutex
	products    map[string]onramp.Product
	versions    map[string]onramp.ProductVersion
	plans       map[string]onramp.Plan
	assignments map[string]onramp.Assignment
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{products: map[string]onramp.Product{}, versions: map[string]onramp.ProductVersion{},
		plans: map[string]onramp.Plan{}, assignments: map[string]onramp.Assignment{}}
}

func (m *Memory) SaveProduct(_ context.Context, p onramp.Product) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.products[p.Slug] = p
	return nil
}

func (m *Memory) FindProduct(_ context.Context, slug string) (onramp.Product, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.products[slug]
	if !ok {
		return p, onramp.Errorf(onramp.ENOTFOUND, "no product %q", slug)
	}
	return p, nil
}

func (m *Memory) ListProducts(context.Context) ([]onramp.Product, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.Product{}
	for _, p := range m.products {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Position().Compare(out[j].Position()) < 0 })
	return out, nil
}

// ProductPage implements onramp.CatalogStore: by name.
func (m *Memory) ProductPage(ctx context.Context, page onramp.PageRequest) (onramp.Page[onramp.Product], error) {
	all, _ := m.ListProducts(ctx)
	return onramp.PageOf(all, onramp.Product.Position, page)
}

func (m *Memory) PublishVersion(_ context.Context, v onramp.ProductVersion) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v.ID = onramp.VersionID(v.Product, v.Version)
	if _, ok := m.versions[v.ID]; ok {
		return onramp.Errorf(onramp.ECONFLICT, "%s %s is already published", v.Product, v.Version)
	}
	m.versions[v.ID] = v
	return nil
}

func (m *Memory) UpdateVersion(_ context.Context, v onramp.ProductVersion) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := onramp.VersionID(v.Product, v.Version)
	old, ok := m.versions[id]
	if !ok {
		return onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q", v.Product, v.Version)
	}
	old.Status, old.Sunset, old.DeprecatedAt, old.ReleaseNotes = v.Status, v.Sunset, v.DeprecatedAt, v.ReleaseNotes
	m.versions[id] = old
	return nil
}

func (m *Memory) FindVersion(_ context.Context, product, version string) (onramp.ProductVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.versions[onramp.VersionID(product, version)]
	if !ok {
		return v, onramp.Errorf(onramp.ENOTFOUND, "no version %q", version)
	}
	return v, nil
}

func (m *Memory) ListVersions(_ context.Context, product string) ([]onramp.ProductVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.ProductVersion{}
	for _, v := range m.versions {
		if v.Product == product {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// AllVersions implements catalog.AllVersions: every version, by product and publication order.
func (m *Memory) AllVersions(_ context.Context) ([]onramp.ProductVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.ProductVersion{}
	for _, v := range m.versions {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Product != out[j].Product {
			return out[i].Product < out[j].Product
		}
		return out[i].Number < out[j].Number
	})
	return out, nil
}

func (m *Memory) SavePlan(_ context.Context, p onramp.Plan) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.plans[p.Name] = p
	return nil
}

func (m *Memory) ListPlans(context.Context) ([]onramp.Plan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.Plan{}
	for _, p := range m.plans {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *Memory) SaveAssignment(_ context.Context, a onramp.Assignment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a.ID = onramp.AssignmentID(a.OrgID, a.Product)
	m.assignments[a.ID] = a
	return nil
}

func (m *Memory) DeleteAssignment(_ context.Context, orgID, product string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := onramp.AssignmentID(orgID, product)
	if _, ok := m.assignments[id]; !ok {
		return onramp.Errorf(onramp.ENOTFOUND, "the organisation has no assignment of %q", product)
	}
	delete(m.assignments, id)
	return nil
}

func (m *Memory) DeleteAssignments(_ context.Context, orgID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, a := range m.assignments {
		if a.OrgID == orgID {
			delete(m.assignments, id)
		}
	}
	return nil
}

func (m *Memory) AssignedTo(_ context.Context, product string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []string{}
	for _, a := range m.assignments {
		if a.Product == product {
			out = append(out, a.OrgID)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (m *Memory) AssignmentsOf(_ context.Context, orgID string) ([]onramp.Assignment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.Assignment{}
	for _, a := range m.assignments {
		if a.OrgID == orgID {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Product < out[j].Product })
	return out, nil
}

func (m *Memory) SetBrownouts(_ context.Context, product, version string, windows []onramp.BrownoutWindow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := onramp.VersionID(product, version)
	v, ok := m.versions[id]
	if !ok {
		return onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q", product, version)
	}
	v.Brownouts = append([]onramp.BrownoutWindow{}, windows...)
	m.versions[id] = v
	return nil
}

// Notices is an in-memory NoticeLog; it passes RunNoticeLogContract.
type Notices struct {
	mu      sync.Mutex
	claimed map[string]time.Time
}

var _ onramp.NoticeLog = (*Notices)(nil)

// NewNotices returns an empty log.
func NewNotices() *Notices { return &Notices{claimed: map[string]time.Time{}} }

func (n *Notices) ClaimNotice(_ context.Context, id string, at time.Time) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.claimed[id]; ok {
		return false, nil
	}
	n.claimed[id] = at
	return true, nil
}

func (n *Notices) ReleaseNotice(_ context.Context, id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.claimed, id)
	return nil
}
