package gateway

import (
	"container/list"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// ttlCache remembers values for a short time, every gateway node reading MongoDB at most once per
// key per ttl, so a change (a revocation) is seen within ttl. It holds at most max entries and
// evicts the least recently used one, so a flood of distinct keys never drops the hot ones.
type ttlCache[V any] struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	entries map[string]*list.Element
	order   *list.List // front: most recently used
}

type ttlEntry[V any] struct {
	key     string
	v       V
	err     error
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration, max int, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, max: max, now: now, entries: map[string]*list.Element{}, order: list.New()}
}

// get returns the cached value (or error) for key, loading it when absent or stale. A failing
// dependency (an internal error) is not remembered: it is asked again next time.
func (c *ttlCache[V]) get(key string, load func() (V, error)) (V, error) {
	if v, err, ok := c.lookup(key); ok {
		return v, err
	}
	v, err := load()
	if err != nil && onramp.ErrorCode(err) == onramp.EINTERNAL {
		return v, err
	}
	c.put(key, v, err)
	return v, err
}

func (c *ttlCache[V]) lookup(key string) (V, error, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		var zero V
		return zero, nil, false
	}
	e := el.Value.(*ttlEntry[V])
	if !now.Before(e.expires) {
		var zero V
		return zero, nil, false
	}
	c.order.MoveToFront(el)
	return e.v, e.err, true
}

func (c *ttlCache[V]) put(key string, v V, err error) {
	expires := c.now().Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		*el.Value.(*ttlEntry[V]) = ttlEntry[V]{key: key, v: v, err: err, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	c.entries[key] = c.order.PushFront(&ttlEntry[V]{key: key, v: v, err: err, expires: expires})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*ttlEntry[V]).key)
	}
}

// len is how many entries are held.
func (c *ttlCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
