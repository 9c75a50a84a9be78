// Package subscriptionstest holds the contract that the MongoDB subscription, feed token and
// delivery stores and their in-memory fake all pass, and the fake.
package subscriptionstest

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Store is everything the subscriptions feature keeps.
type Store interface {
	onramp.SubscriptionStore
	onramp.FeedTokenStore
	onramp.DeliveryLog
}

// Memory is the in-memory Store.
type Memory struct {
	mu          sync.Mutex
	subs        map[string]onramp.Subscriptions
	tokens      map[string]onramp.FeedToken // member id → token
	delivered   map[string]time.Time
	FailMarking error // when set, MarkDelivered fails with it
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{subs: map[string]onramp.Subscriptions{}, tokens: map[string]onramp.FeedToken{}, delivered: map[string]time.Time{}}
}

// Subscriptions implements onramp.SubscriptionStore.
func (m *Memory) Subscriptions(_ context.Context, memberID string) (onramp.Subscriptions, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.copyOf(memberID), nil
}

func (m *Memory) copyOf(memberID string) onramp.Subscriptions {
	s, ok := m.subs[memberID]
	if !ok {
		return onramp.Subscriptions{MemberID: memberID}
	}
	s.Products = maps.Clone(s.Products)
	return s
}

// SetSubscription implements onramp.SubscriptionStore.
func (m *Memory) SetSubscription(_ context.Context, memberID, product, level string, at time.Time) (onramp.Subscriptions, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.copyOf(memberID)
	apply(&s, product, level, at)
	m.subs[memberID] = s
	return m.copyOf(memberID), nil
}

// apply is SetSubscription's change: the default, a product's level, or a product following the
// default again.
func apply(s *onramp.Subscriptions, product, level string, at time.Time) {
	if s.Products == nil {
		s.Products = map[string]string{}
	}
	switch {
	case product == "":
		s.Default = level
	case level == "":
		delete(s.Products, product)
	default:
		s.Products[product] = level
	}
	s.UpdatedAt = at.UTC().Truncate(time.Millisecond)
}

// SetFeedToken implements onramp.FeedTokenStore.
func (m *Memory) SetFeedToken(_ context.Context, t onramp.FeedToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Millisecond)
	m.tokens[t.MemberID] = t
	return nil
}

// FeedTokenOf implements onramp.FeedTokenStore.
func (m *Memory) FeedTokenOf(_ context.Context, memberID string) (onramp.FeedToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[memberID]
	if !ok {
		return t, onramp.Errorf(onramp.ENOTFOUND, "no feed token")
	}
	return t, nil
}

// FeedTokenByHash implements onramp.FeedTokenStore.
func (m *Memory) FeedTokenByHash(_ context.Context, hash string) (onramp.FeedToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tokens {
		if t.Hash == hash {
			return t, nil
		}
	}
	return onramp.FeedToken{}, onramp.Errorf(onramp.ENOTFOUND, "no feed token")
}

// DeleteFeedToken implements onramp.FeedTokenStore.
func (m *Memory) DeleteFeedToken(_ context.Context, memberID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, memberID)
	return nil
}

// Delivered implements onramp.DeliveryLog.
func (m *Memory) Delivered(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.delivered[id]
	return ok, nil
}

// MarkDelivered implements onramp.DeliveryLog.
func (m *Memory) MarkDelivered(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailMarking != nil {
		return m.FailMarking
	}
	if _, ok := m.delivered[id]; !ok {
		m.delivered[id] = at
	}
	return nil
}
