package catalog

import (
	"fmt"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The parsed documents a node keeps are bounded, the least recently used leaving first.
func TestDocCacheKeepsTheRecentlyUsed(t *testing.T) {
	c := newDocCache()
	for i := range maxParsedDocs {
		c.put(fmt.Sprint(i), &openapi3.T{})
	}
	if _, ok := c.get("0"); !ok { // used now: "1" is the least recent
		t.Fatal("a document within the bound is gone")
	}
	c.put("new", &openapi3.T{})
	if _, ok := c.get("1"); ok {
		t.Error("the least recently used document is kept past the bound")
	}
	for _, id := range []string{"0", "2", "new"} {
		if _, ok := c.get(id); !ok {
			t.Errorf("document %s is gone, want it kept", id)
		}
	}
	if len(c.docs) != maxParsedDocs || c.order.Len() != maxParsedDocs {
		t.Errorf("%d documents, %d in order, want %d", len(c.docs), c.order.Len(), maxParsedDocs)
	}
}
