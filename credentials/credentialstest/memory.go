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
	mu     sync.Mutex
	byID   map[string]onramp.Credential
	byHash map[string]string
	nodes  map[string]onramp.GatewayNode
	quota  map[string]map[string]int64 // counter id → node → total
	months map[monthKey]onramp.UsageMonth
	heads  map[string]map[string]onramp.UsageHead // org → node → head
	pages  map[pageKey]onramp.CallPage
}

var (
	_ onramp.CredentialStore = (*Memory)(nil)
	_ onramp.UsageStore      = (*Memory)(nil)
)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{byID: map[string]onramp.Credential{}, byHash: map[string]string{}, nodes: map[string]onramp.GatewayNode{},
		quota: map[string]map[string]int64{}, months: map[monthKey]onramp.UsageMonth{}, heads: map[string]map[string]onramp.UsageHead{}, pages: map[pageKey]onramp.CallPage{}}
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
