package gateway

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Kinds of flush: every counter, the hot ones, the urgent ones.
const (
	flushFull = iota
	flushHot
	flushUrgent
)

// flush writes this node's totals and reads the other nodes': every counter's on a full flush
// (so an idle node still learns the others' use), only the hot or urgent ones' otherwise.
// Counters of a window that has ended are dropped once written. It returns whether there was
// any counter to consider: an urgent flush finding none ends the urgent ticks.
func (q *Quota) flush(kind int) bool {
	full := kind == flushFull
	q.mu.Lock()
	now := q.cfg.Now()
	writes := map[string]int64{}
	var read []*counter
	candidates := q.counters
	if kind == flushUrgent { // only the counters Take found urgent, not every counter each millisecond
		candidates = map[windowKey]*counter{}
		for c := range q.urgent {
			candidates[c.w.key()] = c
			delete(q.urgent, c)
		}
	}
	for k, c := range candidates {
		if c.loading {
			continue
		}
		if full && c.own == c.saved && !now.Before(c.w.Reset) {
			delete(q.counters, k)
			delete(q.byID, c.id)
			delete(q.urgent, c)
			delete(q.push, c)
			continue
		}
		if full || (kind == flushHot && c.hot()) || (kind == flushUrgent && c.urgent(q.cfg.HotInterval, q.cfg.Interval)) {
			if c.own != c.saved {
				writes[c.id] = c.own
			}
			c.fresh = 0
			read = append(read, c)
		}
	}
	considered := len(candidates) > 0
	q.mu.Unlock()
	if len(read) == 0 || (kind == flushUrgent && len(writes) == 0) {
		return considered
	}
	timeout := 5 * time.Second
	if !full {
		timeout = q.cfg.Interval / 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	started := time.Now()
	var werr error
	var wg sync.WaitGroup
	if len(writes) > 0 { // written and read at once: one round trip less of staleness
		wg.Go(func() { werr = q.cfg.Store.SaveQuotaCounts(ctx, q.cfg.Node, writes) })
	}
	rerr := q.read(ctx, read, full)
	wg.Wait()
	if werr == nil {
		q.mu.Lock()
		for _, c := range read {
			if n, ok := writes[c.id]; ok {
				c.saved = max(c.saved, n)
			}
		}
		q.mu.Unlock()
	}
	err := errors.Join(werr, rerr)
	q.cfg.Metrics.quotaFlushed(kind, time.Since(started))
	q.reached.Store(err == nil)
	if err != nil {
		q.cfg.Logger.Error("flush quota counters", "node", q.cfg.Node, "error", err)
	}
	return true
}

// read learns the other nodes' totals of the counters, grouped by window start (only nodes seen
// since a window began can have counted in it): the live nodes' at every read, a gone node's
// once (settle). A full read also measures the interval's rate.
func (q *Quota) read(ctx context.Context, cs []*counter, full bool) error {
	others, err := q.otherNodes(ctx)
	if err != nil {
		return err
	}
	if err := q.readLegacy(ctx, cs); err != nil {
		return err
	}
	byStart := map[time.Time][]*counter{}
	for _, c := range cs {
		byStart[c.w.Start] = append(byStart[c.w.Start], c)
	}
	now := q.cfg.Now()
	for start, group := range byStart {
		var live, gone []string
		for _, n := range others {
			switch {
			case n.SeenAt.Before(start.Add(-onramp.NodeReadMargin)):
			case n.SeenAt.Before(now.Add(-nodeGone)):
				gone = append(gone, n.ID)
			default:
				live = append(live, n.ID)
			}
		}
		if err := q.settle(ctx, group, gone); err != nil {
			return err
		}
		ids := make([]string, len(group))
		for i, c := range group {
			ids[i] = c.id
		}
		totals, err := q.cfg.Store.QuotaCounts(ctx, ids, live)
		if err != nil {
			return err
		}
		q.apply(group, totals, live, full)
	}
	return nil
}

// nodeGone is how long a node unseen has stopped counting: it writes its heartbeat every second
// and its last totals when it stops, within a flush's timeout (5 s).
const nodeGone = 15 * time.Second

// settle reads, once per counter, the summed totals of the gone nodes it has not settled yet: one
// read for the counters missing the same nodes (a new counter misses them all, a node just gone is
// missing from every counter), whatever the number of nodes.
func (q *Quota) settle(ctx context.Context, cs []*counter, gone []string) error {
	type group struct {
		nodes []string
		cs    []*counter
	}
	groups := map[string]*group{}
	q.mu.Lock()
	for _, c := range cs {
		var missing []string
		for _, n := range gone {
			if !c.settled[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			continue
		}
		key := strings.Join(missing, "\x00")
		if groups[key] == nil {
			groups[key] = &group{nodes: missing}
		}
		groups[key].cs = append(groups[key].cs, c)
	}
	q.mu.Unlock()
	for _, g := range groups {
		ids := make([]string, len(g.cs))
		for i, c := range g.cs {
			ids[i] = c.id
		}
		totals, err := q.cfg.Store.QuotaCounts(ctx, ids, g.nodes)
		if err != nil {
			return err
		}
		q.mu.Lock()
		for _, c := range g.cs {
			if c.settled == nil {
				c.settled = map[string]bool{}
			}
			for _, n := range g.nodes {
				c.settled[n] = true
				c.heardSum -= c.heard[n] // in settledSum now
				delete(c.heard, n)
			}
			c.settledSum += totals[c.id]
		}
		q.mu.Unlock()
	}
	return nil
}

// readLegacy reads, once per counter, what its window's shared counter held before per-node
// counting (nobody writes it any more), and what this node wrote of it already (a counter
// forgotten and seen again starts from it).
func (q *Quota) readLegacy(ctx context.Context, cs []*counter) error {
	var ids []string
	q.mu.Lock()
	for _, c := range cs {
		if !c.hasOld {
			ids = append(ids, c.id)
		}
	}
	q.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	old, err := q.cfg.Store.QuotaCounts(ctx, ids, []string{onramp.LegacyNode})
	if err != nil {
		return err
	}
	mine, err := q.cfg.Store.QuotaCounts(ctx, ids, []string{q.cfg.Node})
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range cs {
		if !c.hasOld {
			c.legacy, c.hasOld = old[c.id], true
			c.own, c.saved = max(c.own, mine[c.id]), max(c.saved, mine[c.id])
		}
	}
	return nil
}

// apply sets the counters' others to the live nodes' totals plus the settled ones; a settled
// node seen live again is read live again.
func (q *Quota) apply(cs []*counter, totals map[string]int64, live []string, full bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range cs {
		for _, n := range live {
			if c.settled[n] { // back: read live, and the others settled again without it
				c.settled, c.settledSum = nil, 0
				break
			}
		}
		c.others, c.isRead, c.nodes = max(c.others, totals[c.id]+c.settledSum), true, int64(len(live))+1
		if full {
			total := c.used()
			c.rate, c.base, c.recent = max(0, total-c.base), total, 0
		}
		q.alert(c)
	}
}

// nodeListing is how long the list of other nodes is reused.
const nodeListing = 250 * time.Millisecond

// NodeListedWithin is how soon after its first heartbeat (NewRecorder) every other node lists a
// new node: one listing interval, and one for a listing read in flight. A node serves its first
// call only then, or the calls it admits meanwhile are invisible to the others' quota reads (seen
// in e2e: 191 calls admitted for a quota of 120 by a node started a moment before).
const NodeListedWithin = 2 * nodeListing

// otherNodes lists the nodes other than this one seen in the last 32 days (every window began
// since), at most every nodeListing.
func (q *Quota) otherNodes(ctx context.Context) ([]onramp.GatewayNode, error) {
	q.mu.Lock()
	others, fresh := q.others, time.Since(q.listed) < nodeListing
	q.mu.Unlock()
	if fresh {
		return others, nil
	}
	all, err := q.cfg.Store.Nodes(ctx, q.cfg.Now().AddDate(0, 0, -32))
	if err != nil {
		return others, err
	}
	all = slices.DeleteFunc(all, func(n onramp.GatewayNode) bool { return n.ID == q.cfg.Node })
	q.mu.Lock()
	q.others, q.listed = all, time.Now()
	q.mu.Unlock()
	return all, nil
}
