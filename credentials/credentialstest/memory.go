package credentialstest

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Memory is an in-memory credential and usage store for unit tests; it passes both contracts.
type Memory struct {
	mu       sync.Mutex
	byID     map[string]onramp.Credential
	byHash   map[string]string
	events   map[string]onramp.UsageEvent
	hours    map[hourKey]onramp.UsageHour
	counters map[string]int64
}

var (
	_ onramp.CredentialStore = (*Memory)(nil)
	_ onramp.UsageStore      = (*Memory)(nil)
)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{byID: map[string]onramp.Credential{}, byHash: map[string]string{}, events: map[string]onramp.UsageEvent{}, counters: map[string]int64{}}
}

func (m *Memory) CreateCredential(_ context.Context, c onramp.Credential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[c.ID]; ok {
		return onramp.Errorf(onramp.ECONFLICT, "credential %s exists", c.ID)
	}
	m.byID[c.ID], m.byHash[c.Hash] = c, c.ID
	return nil
}

func (m *Memory) FindCredential(_ context.Context, id string) (onramp.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.byID[id]
	if !ok {
		return c, onramp.Errorf(onramp.ENOTFOUND, "no credential %q", id)
	}
	return c, nil
}

func (m *Memory) CredentialByHash(ctx context.Context, hash string) (onramp.Credential, error) {
	m.mu.Lock()
	id, ok := m.byHash[hash]
	m.mu.Unlock()
	if !ok {
		return onramp.Credential{}, onramp.Errorf(onramp.ENOTFOUND, "no such credential")
	}
	return m.FindCredential(ctx, id)
}

func (m *Memory) CredentialsOf(_ context.Context, orgID string) ([]onramp.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.Credential{}
	for _, c := range m.byID {
		if c.OrgID == orgID {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

func (m *Memory) RevokeCredential(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.byID[id]
	if !ok {
		return onramp.Errorf(onramp.ENOTFOUND, "no credential %q", id)
	}
	if c.Status != onramp.CredentialRevoked {
		c.Status, c.RevokedAt = onramp.CredentialRevoked, &at
		m.byID[id] = c
	}
	return nil
}

func (m *Memory) TouchCredentials(_ context.Context, lastUsed map[string]time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, at := range lastUsed {
		if c, ok := m.byID[id]; ok {
			c.LastUsedAt = &at
			m.byID[id] = c
		}
	}
	return nil
}

func (m *Memory) RecordUsage(_ context.Context, events []onramp.UsageEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hours == nil {
		m.hours = map[hourKey]onramp.UsageHour{}
	}
	for _, e := range events {
		if _, ok := m.events[e.ID]; ok {
			continue
		}
		m.events[e.ID] = e
		if e.Product == "" {
			continue
		}
		k := hourKey{e.OrgID, e.Product, e.Environment, e.At.UTC().Truncate(time.Hour)}
		h := m.hours[k]
		h.Hour, h.Calls = k.hour, h.Calls+1
		if e.Status >= 400 {
			h.Errors++
		}
		m.hours[k] = h
	}
	return nil
}

type hourKey struct {
	org, product, env string
	hour              time.Time
}

func (m *Memory) UsageOf(ctx context.Context, orgID string, limit int) ([]onramp.UsageEvent, error) {
	return m.Calls(ctx, orgID, onramp.CallFilter{Limit: limit})
}

func (m *Memory) Calls(_ context.Context, orgID string, f onramp.CallFilter) ([]onramp.UsageEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.UsageEvent{}
	for _, e := range m.events {
		if e.OrgID == orgID && f.Matches(e) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].ID < out[j].ID
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (m *Memory) UsageHours(_ context.Context, orgID, product, env string, from, to time.Time) ([]onramp.UsageHour, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.UsageHour{}
	for k, h := range m.hours {
		if k.org == orgID && k.product == product && k.env == env && !k.hour.Before(from.UTC().Truncate(time.Hour)) && k.hour.Before(to) {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hour.Before(out[j].Hour) })
	return out, nil
}

func (m *Memory) PurgeUsage(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for id, e := range m.events {
		if e.At.Before(before) {
			delete(m.events, id)
			n++
		}
	}
	return n, nil
}

func (m *Memory) AddToCounters(_ context.Context, deltas map[string]int64) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for id, d := range deltas {
		m.counters[id] += d
		out[id] = m.counters[id]
	}
	return out, nil
}

func (m *Memory) Counters(_ context.Context, ids []string) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for _, id := range ids {
		out[id] = m.counters[id]
	}
	return out, nil
}

func (m *Memory) ExpireCredential(_ context.Context, id string, expiresAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.byID[id]
	if !ok {
		return onramp.Errorf(onramp.ENOTFOUND, "no credential %q", id)
	}
	if c.Status != onramp.CredentialRevoked {
		c.Status, c.ExpiresAt = onramp.CredentialExpiring, &expiresAt
		m.byID[id] = c
	}
	return nil
}

func (m *Memory) CallsWith(_ context.Context, credentialID string, since time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, e := range m.events {
		if e.CredentialID == credentialID && !e.At.Before(since) {
			n++
		}
	}
	return n, nil
}
