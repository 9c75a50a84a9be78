package gateway

import (
	"container/list"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onramp-dev/onramp"
)

// cache holds what the data plane reads from the store. A request reads it from memory; only a
// key never seen (a miss) is loaded on the request path, once however many requests miss it at
// the same time. Entries do not expire on the request path: the refresher replaces them in the
// background (a ttl, when set, is for entries nobody refreshes, such as unknown keys). It holds at
// most max entries and evicts the least recently used one, so a flood of distinct keys never
// drops the hot ones.
type cache[V any] struct {
	mu       sync.Mutex
	ttl      time.Duration // 0: entries stay until replaced or evicted
	max      int
	now      func() time.Time
	entries  map[string]*list.Element
	order    *list.List // front: most recently used
	inflight map[string]*flight[V]
	hit      prometheus.Counter // nil without metrics
	miss     prometheus.Counter
}

type cacheEntry[V any] struct {
	key     string
	v       V
	err     error
	expires time.Time
}

// flight is one load that concurrent misses of a key share.
type flight[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func newCache[V any](ttl time.Duration, max int, now func() time.Time) *cache[V] {
	return &cache[V]{ttl: ttl, max: max, now: now, entries: map[string]*list.Element{}, order: list.New(), inflight: map[string]*flight[V]{}}
}

// counted makes the cache count hits and misses in m under name.
func (c *cache[V]) counted(m *Metrics, name string) *cache[V] {
	c.hit, c.miss = m.cacheCounters(name)
	return c
}

// remembered reports whether a load's answer is kept: values and answers about the data (not
// found, unknown key), not a failing dependency, which is asked again next time.
func remembered(err error) bool {
	code := onramp.ErrorCode(err)
	return code != onramp.EINTERNAL && code != onramp.EUNAVAILABLE
}

// count counts a lookup made outside get as a hit or a miss.
func (c *cache[V]) count(hit bool) {
	switch {
	case c.hit == nil:
	case hit:
		c.hit.Inc()
	default:
		c.miss.Inc()
	}
}

// get returns the cached value (or answer) for key, loading it on a miss.
func (c *cache[V]) get(key string, load func() (V, error)) (V, error) {
	v, err, ok := c.lookup(key)
	c.count(ok)
	if ok {
		return v, err
	}
	return c.fill(key, load)
}

// getBytes is get for a key built in a buffer: its string is made only on a miss.
func (c *cache[V]) getBytes(key []byte, load func() (V, error)) (V, error) {
	v, err, ok := c.lookupBytes(key)
	c.count(ok)
	if ok {
		return v, err
	}
	return c.fill(string(key), load)
}

// fill loads a missed key, once however many requests miss it at the same time.
func (c *cache[V]) fill(key string, load func() (V, error)) (V, error) {
	c.mu.Lock()
	if f, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-f.done
		return f.v, f.err
	}
	f := &flight[V]{done: make(chan struct{})}
	c.inflight[key] = f
	c.mu.Unlock()
	f.v, f.err = load()
	if remembered(f.err) {
		c.put(key, f.v, f.err)
	}
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	close(f.done)
	return f.v, f.err
}

func (c *cache[V]) lookup(key string) (V, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.found(c.entries[key])
}

// lookupBytes is lookup of string(key), which a map index does not allocate.
func (c *cache[V]) lookupBytes(key []byte) (V, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.found(c.entries[string(key)])
}

// found is a looked-up entry's value, if it is there and fresh; c.mu is held.
func (c *cache[V]) found(el *list.Element) (V, error, bool) {
	if el == nil {
		var zero V
		return zero, nil, false
	}
	e := el.Value.(*cacheEntry[V])
	if c.ttl > 0 && !c.now().Before(e.expires) {
		var zero V
		return zero, nil, false
	}
	c.order.MoveToFront(el)
	return e.v, e.err, true
}

// put stores key's value (or answer), evicting the least recently used entry past max.
func (c *cache[V]) put(key string, v V, err error) {
	expires := time.Time{}
	if c.ttl > 0 {
		expires = c.now().Add(c.ttl)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		*el.Value.(*cacheEntry[V]) = cacheEntry[V]{key: key, v: v, err: err, expires: expires}
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry[V]{key: key, v: v, err: err, expires: expires})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry[V]).key)
	}
}

// replace stores a refreshed value only if key is still cached: a refresh never brings back an
// entry that was evicted or removed meanwhile.
func (c *cache[V]) replace(key string, v V, err error) {
	c.mu.Lock()
	el, ok := c.entries[key]
	if ok {
		e := el.Value.(*cacheEntry[V])
		e.v, e.err = v, err
	}
	c.mu.Unlock()
}

// remove forgets the keys that match.
func (c *cache[V]) remove(match func(key string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, el := range c.entries {
		if match(key) {
			c.order.Remove(el)
			delete(c.entries, key)
		}
	}
}

// snapshot returns every key with its value, for a refresh.
func (c *cache[V]) snapshot() map[string]V {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]V, len(c.entries))
	for key, el := range c.entries {
		out[key] = el.Value.(*cacheEntry[V]).v
	}
	return out
}

// len is how many entries are held.
func (c *cache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
