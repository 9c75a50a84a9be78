package credentialstest

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Rotations is an in-memory rotation store for unit tests; it passes RunRotationStoreContract.
type Rotations struct {
	mu   sync.Mutex
	byID map[string]onramp.Rotation
}

var _ onramp.RotationStore = (*Rotations)(nil)

// NewRotations returns an empty rotation store.
func NewRotations() *Rotations { return &Rotations{byID: map[string]onramp.Rotation{}} }

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// SaveRotation implements onramp.RotationStore.
func (m *Rotations) SaveRotation(_ context.Context, r onramp.Rotation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.CreatedAt, r.UpdatedAt = ms(r.CreatedAt), ms(r.UpdatedAt)
	r.ReviewReasons = slices.Clone(r.ReviewReasons)
	m.byID[r.ID] = r
	return nil
}

// FindRotation implements onramp.RotationStore.
func (m *Rotations) FindRotation(_ context.Context, id string) (onramp.Rotation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.byID[id]
	if !ok {
		return r, onramp.Errorf(onramp.ENOTFOUND, "no rotation %q", id)
	}
	return r, nil
}

// RotationsOf implements onramp.RotationStore: newest first.
func (m *Rotations) RotationsOf(_ context.Context, orgID string) ([]onramp.Rotation, error) {
	out := m.where(func(r onramp.Rotation) bool { return r.OrgID == orgID })
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// RotationsIn implements onramp.RotationStore: oldest first.
func (m *Rotations) RotationsIn(_ context.Context, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.Rotation], error) {
	return onramp.PageOf(m.where(func(r onramp.Rotation) bool { return slices.Contains(statuses, r.Status) }), onramp.Rotation.QueuePosition, page)
}

// where lists the rotations that pass keep, oldest first (ties by id).
func (m *Rotations) where(keep func(onramp.Rotation) bool) []onramp.Rotation {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.Rotation{}
	for _, r := range m.byID {
		if keep(r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
