package gateway

import (
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// ttlCache remembers values for a short time; every gateway node reads MongoDB at most once per
// key per ttl, and a change (a revocation) is seen within ttl.
type ttlCache[V any] struct {
	mu      sync.Mutex
	ttl     time.Duration
	now     func() time.Time
	entries map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	err     error
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, now: now, entries: map[string]ttlEntry[V]{}}
}

// get returns the cached value (or error) for key, loading it when absent or stale.
func (c *ttlCache[V]) get(key string, load func() (V, error)) (V, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.v, e.err
	}
	v, err := load()
	if err != nil && onramp.ErrorCode(err) == onramp.EINTERNAL {
		return v, err // a failing dependency is asked again next time
	}
	c.mu.Lock()
	if len(c.entries) > 100000 { // bounded: forget everything rather than grow without end
		c.entries = map[string]ttlEntry[V]{}
	}
	c.entries[key] = ttlEntry[V]{v: v, err: err, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return v, err
}
