package gateway

import (
	"fmt"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
)

// A flood of distinct keys evicts the least recently used entries, never the whole cache: a key
// in use stays, however many others pass through.
func TestCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := newCache[int](time.Minute, 3, func() time.Time { return now })
	loads := 0
	load := func(v int) func() (int, error) { return func() (int, error) { loads++; return v, nil } }
	_, _ = c.get("hot", load(1))
	for i := range 100 {
		_, _ = c.get(fmt.Sprint("flood", i), load(i))
		if v, _ := c.get("hot", load(-1)); v != 1 {
			t.Fatalf("after %d others the hot entry was reloaded as %d", i+1, v)
		}
	}
	if c.len() != 3 {
		t.Errorf("cache holds %d entries, want its bound of 3", c.len())
	}
	if loads != 101 {
		t.Errorf("%d loads, want 101 (the hot key once, each flood key once)", loads)
	}
	if _, err, ok := c.lookup("flood0"); ok {
		t.Errorf("the oldest flood entry is still cached (%v)", err)
	}
	now = now.Add(2 * time.Minute)
	if _, _, ok := c.lookup("hot"); ok {
		t.Error("an expired entry is still served")
	}
	_, err := c.get("broken", func() (int, error) { return 0, fmt.Errorf("store down") })
	if onramp.ErrorCode(err) != onramp.EINTERNAL {
		t.Fatalf("err = %v", err)
	}
	if _, _, ok := c.lookup("broken"); ok {
		t.Error("a failing load is remembered")
	}
}

// A node that has listed the others sees a node started after that once NodeListedWithin has
// passed since the new node's first heartbeat, which the stack waits before serving.
func TestNewNodeListedWithin(t *testing.T) {
	store := credentialstest.NewMemory()
	q := NewQuota(QuotaConfig{Store: store, Node: "gw-a"})
	defer q.Stop()
	if others, err := q.otherNodes(t.Context()); err != nil || len(others) != 0 {
		t.Fatalf("others before gw-b = %v, %v; want none", others, err)
	}
	r := NewRecorder(RecorderConfig{Store: store, Node: "gw-b"})
	defer r.Stop()
	if others, _ := q.otherNodes(t.Context()); len(others) != 0 {
		t.Fatalf("others at once = %v, want the list of a moment ago (else this test shows nothing)", others)
	}
	time.Sleep(NodeListedWithin)
	if others, err := q.otherNodes(t.Context()); err != nil || len(others) != 1 || others[0].ID != "gw-b" {
		t.Errorf("others after NodeListedWithin = %v, %v; want gw-b", others, err)
	}
}
