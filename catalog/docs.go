package catalog

import (
	"container/list"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxParsedDocs bounds the parsed documents a node keeps (least recently used go first): at
// 500 products × 5 versions all of them would not fit in the memory a portal should take, and
// the pages read mostly the newest versions.
const maxParsedDocs = 256

// docCache holds parsed documents by version id; published documents never change.
type docCache struct {
	mu    sync.Mutex
	order *list.List // of version ids, most recently used first
	byID  map[string]*list.Element
	docs  map[string]*openapi3.T
}

func newDocCache() *docCache {
	return &docCache{order: list.New(), byID: map[string]*list.Element{}, docs: map[string]*openapi3.T{}}
}

func (c *docCache) get(id string) (*openapi3.T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if ok {
		c.order.MoveToFront(e)
	}
	return c.docs[id], ok
}

func (c *docCache) put(id string, d *openapi3.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.order.MoveToFront(e)
		c.docs[id] = d
		return
	}
	c.byID[id], c.docs[id] = c.order.PushFront(id), d
	for c.order.Len() > maxParsedDocs {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byID, last.Value.(string))
		delete(c.docs, last.Value.(string))
	}
}
