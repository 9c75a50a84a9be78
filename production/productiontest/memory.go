// Package productiontest holds the contract the production request, onboarding and quota request
// stores pass — the MongoDB adapter and the in-memory fake alike — and the fake.
package productiontest

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Store is everything mongo.Onboarding keeps.
type Store interface {
	onramp.ProductionRequestStore
	onramp.OnboardingStore
	onramp.QuotaRequestStore
}

// Memory is an in-memory Store; one mutex makes every method atomic.
type Memory struct {
	mu            sync.Mutex
	requests      map[string]onramp.ProductionRequest
	notifications map[string]onramp.Notification
	journeys      map[string]onramp.Journey
	quotas        map[string]onramp.QuotaRequest
	sla           onramp.SLACompliance
	funnel        onramp.FunnelStats
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{requests: map[string]onramp.ProductionRequest{}, notifications: map[string]onramp.Notification{},
		journeys: map[string]onramp.Journey{}, quotas: map[string]onramp.QuotaRequest{}}
}

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// SaveProductionRequest implements onramp.ProductionRequestStore.
func (m *Memory) SaveProductionRequest(_ context.Context, r onramp.ProductionRequest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.CreatedAt = ms(r.CreatedAt)
	r.History, r.Products, r.WebhookURLs = slices.Clone(r.History), slices.Clone(r.Products), slices.Clone(r.WebhookURLs)
	if old, ok := m.requests[r.ID]; ok {
		m.sla.Count(old, -1)
	}
	m.sla.Count(r, 1)
	m.requests[r.ID] = r
	return nil
}

// SLACompliance implements onramp.ProductionRequestStore: counted as requests are saved.
func (m *Memory) SLACompliance(context.Context) (onramp.SLACompliance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sla, nil
}

// FindProductionRequest implements onramp.ProductionRequestStore.
func (m *Memory) FindProductionRequest(_ context.Context, id string) (onramp.ProductionRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.requests[id]
	if !ok {
		return r, onramp.Errorf(onramp.ENOTFOUND, "no production request %q", id)
	}
	return r, nil
}

func (m *Memory) requestsWhere(keep func(onramp.ProductionRequest) bool, less func(a, b onramp.ProductionRequest) bool) []onramp.ProductionRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.ProductionRequest{}
	for _, r := range m.requests {
		if keep(r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// ProductionRequestsOf implements onramp.ProductionRequestStore: newest first.
func (m *Memory) ProductionRequestsOf(_ context.Context, orgID string) ([]onramp.ProductionRequest, error) {
	return m.requestsWhere(func(r onramp.ProductionRequest) bool { return r.OrgID == orgID }, func(a, b onramp.ProductionRequest) bool {
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.After(b.CreatedAt)
		}
		return a.ID < b.ID
	}), nil
}

// ProductionRequests implements onramp.ProductionRequestStore: soonest SLA due first, none first.
func (m *Memory) ProductionRequests(_ context.Context, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.ProductionRequest], error) {
	rs := m.requestsWhere(func(r onramp.ProductionRequest) bool { return slices.Contains(statuses, r.Status) }, func(a, b onramp.ProductionRequest) bool { return false })
	return onramp.PageOf(rs, onramp.ProductionRequest.QueuePosition, page)
}

// Notify implements onramp.OnboardingStore: once per id.
func (m *Memory) Notify(_ context.Context, n onramp.Notification) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.notifications[n.ID]; !ok {
		n.At = ms(n.At)
		m.notifications[n.ID] = n
	}
	return nil
}

// NotificationsOf implements onramp.OnboardingStore: newest first.
func (m *Memory) NotificationsOf(_ context.Context, orgID string, page onramp.PageRequest) (onramp.Page[onramp.Notification], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.Notification{}
	for _, n := range m.notifications {
		if n.OrgID == orgID {
			out = append(out, n)
		}
	}
	return onramp.PageOf(out, onramp.Notification.Position, page)
}

// ReachStage implements onramp.OnboardingStore: the first time stays, and counts in the funnel once.
func (m *Memory) ReachStage(_ context.Context, orgID, stage string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.journeys[orgID]
	if !ok {
		j = onramp.Journey{OrgID: orgID, Stages: map[string]time.Time{}}
	}
	m.funnel.Add(onramp.JourneyStep(j.Stages, stage, ms(at)))
	if _, done := j.Stages[stage]; !done {
		j.Stages[stage] = ms(at)
	}
	m.journeys[orgID] = j
	return nil
}

// Journeys implements onramp.OnboardingStore: by organisation id.
func (m *Memory) Journeys(_ context.Context, page onramp.PageRequest) (onramp.Page[onramp.Journey], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.Journey{}
	for _, j := range m.journeys {
		stages := map[string]time.Time{}
		for k, v := range j.Stages {
			stages[k] = v
		}
		out = append(out, onramp.Journey{OrgID: j.OrgID, Stages: stages})
	}
	return onramp.PageOf(out, onramp.Journey.Position, page)
}

// FunnelStats implements onramp.OnboardingStore: counted as stages are reached.
func (m *Memory) FunnelStats(context.Context) (onramp.FunnelStats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out onramp.FunnelStats
	out.Add(m.funnel) // a copy
	return out, nil
}

// SaveQuotaRequest implements onramp.QuotaRequestStore.
func (m *Memory) SaveQuotaRequest(_ context.Context, r onramp.QuotaRequest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.CreatedAt, r.UpdatedAt = ms(r.CreatedAt), ms(r.UpdatedAt)
	m.quotas[r.ID] = r
	return nil
}

// FindQuotaRequest implements onramp.QuotaRequestStore.
func (m *Memory) FindQuotaRequest(_ context.Context, id string) (onramp.QuotaRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.quotas[id]
	if !ok {
		return r, onramp.Errorf(onramp.ENOTFOUND, "no quota request %q", id)
	}
	return r, nil
}

func (m *Memory) quotasWhere(keep func(onramp.QuotaRequest) bool, newestFirst bool) []onramp.QuotaRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.QuotaRequest{}
	for _, r := range m.quotas {
		if keep(r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt) == newestFirst
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// QuotaRequestsOf implements onramp.QuotaRequestStore: newest first.
func (m *Memory) QuotaRequestsOf(_ context.Context, orgID string) ([]onramp.QuotaRequest, error) {
	return m.quotasWhere(func(r onramp.QuotaRequest) bool { return r.OrgID == orgID }, true), nil
}

// QuotaRequestsIn implements onramp.QuotaRequestStore: oldest first.
func (m *Memory) QuotaRequestsIn(_ context.Context, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.QuotaRequest], error) {
	rs := m.quotasWhere(func(r onramp.QuotaRequest) bool { return slices.Contains(statuses, r.Status) }, false)
	return onramp.PageOf(rs, onramp.QuotaRequest.QueuePosition, page)
}
