package gateway

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onramp-dev/onramp"
)

// Quota counts calls per organisation × product × environment × window. Each node counts the
// calls it admits and writes its own running total (one document per node and window, which only
// it writes); it learns the other nodes' totals by reading theirs. A node admits a call while its
// own total plus the others' last read is under the limit, so it never admits fewer than the
// quota, and one node alone never more.
//
// Every node writes and reads each counter once per Interval; a counter that may run out before
// the next such flush is "hot" and is written and read every HotInterval (Interval/40), and one
// this node is still admitting calls of that may run out within one HotInterval is "urgent": every
// HotInterval/25 (1 ms). So a node admits at most what the other nodes admitted since it last
// read their totals:
//
//	admitted ≤ limit + (nodes − 1) × per-node rate × (2 × HotInterval + write and read round trips)
//
// once per window, and typically what they admit in two urgent intervals and the round trips
// (docs/benchmarks.md measures it). The round trips read only live nodes: a node that has not
// been seen for nodeGone has stopped counting, and its totals are read once, so nodes replaced
// by deploys over a month's window do not slow every hot read. The first call of a window on a node waits up to FirstRead
// for the other nodes' totals.
//
// With an Exchange, a node also sends its hot counters' totals straight to the other nodes
// every urgent interval, and counts what it hears from them: the bound's round trips become one
// datagram's way (see Exchange).
//
// Crossing 80 % or 95 % of a quota raises an alert through QuotaAlerts, whose workflow id makes it
// exactly-once across nodes; the node only avoids asking twice itself.
type Quota struct {
	cfg QuotaConfig

	mu                   sync.Mutex
	counters             map[windowKey]*counter
	byID                 map[string]*counter  // the same counters by id, for the exchange
	urgent               map[*counter]bool    // counters Take found urgent, for the urgent flushes
	push                 map[*counter]bool    // counters Take found hot, for the exchange
	urgentBell, pushBell doorbell             // rung when urgent or push becomes non-empty: their loops tick only then
	others               []onramp.GatewayNode // the other nodes, as last listed
	listed               time.Time
	reached              atomic.Bool // the last flush reached the store
	done                 chan struct{}
	stop                 chan struct{}
	stopOnce             sync.Once
}

// QuotaConfig configures the counters; Store and Node are required.
type QuotaConfig struct {
	Store    onramp.GatewayUsageStore
	Node     string             // this node's id, the same as its Recorder's
	Alerts   onramp.QuotaAlerts // nil: no alerts
	Logger   *slog.Logger
	Interval time.Duration // flush interval (default 1s)
	// HotInterval is how often hot counters are flushed (0: Interval/40; negative: never, which
	// only the over-admission benchmark's baseline wants).
	HotInterval time.Duration
	// FirstRead bounds the wait of a window's first call for the other nodes' totals (default
	// 100 ms; never waited for while the store is unreachable).
	FirstRead time.Duration
	Metrics   *Metrics // nil: none
	Now       func() time.Time
	// Exchange sends and takes hot totals between nodes directly (nil: through the store
	// only); its address goes in the node's heartbeat (RecorderConfig.Exchange).
	Exchange *Exchange
}

// Window is one quota counter: an organisation's product in an environment during the quota's
// current window.
type Window struct {
	OrgID, Product, Environment string
	Quota                       onramp.Quota
	Start, Reset                time.Time
}

// WindowAt returns the window of an assignment's quota in env at now.
func WindowAt(a onramp.Assignment, env string, now time.Time) Window {
	start, reset := onramp.QuotaPeriod(a.Quota, now)
	return Window{OrgID: a.OrgID, Product: a.Product, Environment: env, Quota: a.Quota, Start: start, Reset: reset}
}

func (w Window) id() string { return onramp.CounterID(w.OrgID, w.Product, w.Environment, w.Start) }

// windowKey is what a counter's id is made of: the counters are found by it on every call
// without building the id.
type windowKey struct {
	org, product, env string
	start             int64 // Unix seconds, as in the id
}

func (w Window) key() windowKey { return windowKey{w.OrgID, w.Product, w.Environment, w.Start.Unix()} }

type counter struct {
	id         string // w.id(), fixed: the flusher reads it without q.mu while Take updates w.Quota
	w          Window
	own        int64           // calls this node admitted in the window
	saved      int64           // own, as last written
	others     int64           // the other nodes' totals, as last read (the live ones' and the settled)
	settled    map[string]bool // nodes gone quiet whose final totals are in settledSum (see settle)
	settledSum int64
	legacy     int64            // what the window's shared counter held before per-node counting (read once)
	heard      map[string]int64 // the live nodes' totals as they sent them (Exchange)
	heardSum   int64
	pushed     int64 // own, as last sent
	loaded     chan struct{}
	isRead     bool  // others was read at least once
	hasOld     bool  // legacy was read
	base       int64 // all nodes' total at the last full flush
	rate       int64 // calls all nodes added during the last full interval
	recent     int64 // calls this node admitted since the last full flush
	nodes      int64 // the live nodes, this one included, as last read
	fresh      int64 // calls this node admitted since its last write of the counter
	raised     map[int]bool
	loading    bool
}

// used counts the others' calls as the store read them or as they sent them, whichever is more:
// both are what the nodes counted at some point, so neither is ever more than they did.
func (c *counter) used() int64 { return c.own + max(c.others, c.heardSum+c.settledSum) + c.legacy }

// hot reports whether the counter is unread, or in use and may run out before the next full
// flush: what is left is within twice what all nodes used in the last interval plus what the live
// nodes may have used since, each assumed as busy as this one — a burst after a quiet interval is
// hot early, before the nodes' unshared calls add up to the quota (seen in e2e: two nodes became
// hot only with the quota half used each, and admitted 147 calls for 120).
func (c *counter) hot() bool {
	if !c.isRead {
		return true
	}
	left := c.w.Quota.Limit - c.used()
	return (c.recent > 0 || c.rate > 0) && left > 0 && left <= 2*(c.rate+c.nodes*c.recent)+1
}

// urgent reports whether the counter is hot, this node is admitting calls of it, and what is left
// may go within one hot interval at the rate of the last interval (or twice this node's since).
func (c *counter) urgent(hot, full time.Duration) bool {
	left := c.w.Quota.Limit - c.used()
	return c.isRead && c.fresh > 0 && left > 0 && float64(left) <= float64(max(c.rate, 2*c.recent))*hot.Seconds()/full.Seconds()+1
}

// NewQuota starts the flusher; Stop flushes what is pending.
func NewQuota(cfg QuotaConfig) *Quota {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Interval = orDefault(cfg.Interval, time.Second)
	cfg.FirstRead = orDefault(cfg.FirstRead, 100*time.Millisecond)
	if cfg.HotInterval == 0 {
		cfg.HotInterval = cfg.Interval / 40
	}
	q := &Quota{cfg: cfg, counters: map[windowKey]*counter{}, byID: map[string]*counter{}, urgent: map[*counter]bool{}, push: map[*counter]bool{},
		urgentBell: make(doorbell, 1), pushBell: make(doorbell, 1), done: make(chan struct{}), stop: make(chan struct{})}
	q.reached.Store(true)
	if cfg.Exchange != nil {
		cfg.Exchange.start(cfg.Node, q.heard)
	}
	go q.run()
	return q
}

// load returns the window's counter; the first call of a window reads the other nodes' totals,
// and calls arriving meanwhile wait for that read, both at most FirstRead.
func (q *Quota) load(w Window) *counter {
	k := w.key()
	q.mu.Lock()
	c, ok := q.counters[k]
	if !ok {
		c = &counter{id: w.id(), w: w, loaded: make(chan struct{}), raised: map[int]bool{}, loading: true}
		q.counters[k], q.byID[c.id] = c, c
	}
	q.mu.Unlock()
	if !ok {
		if q.reached.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), q.cfg.FirstRead)
			_ = q.read(ctx, []*counter{c}, false)
			cancel()
		}
		q.mu.Lock()
		c.loading = false
		close(c.loaded)
		q.mu.Unlock()
		return c
	}
	select {
	case <-c.loaded: // read already: no timer for every call
		return c
	default:
	}
	t := time.NewTimer(q.cfg.FirstRead)
	defer t.Stop()
	select {
	case <-c.loaded:
	case <-t.C:
	}
	return c
}

// Take counts one call if the quota allows it and returns what remains.
func (q *Quota) Take(ctx context.Context, w Window) (allowed bool, remaining int64) {
	c := q.load(w)
	q.mu.Lock()
	defer q.mu.Unlock()
	c.w.Quota = w.Quota // an approved increase applies at once
	used := c.used()
	if used >= w.Quota.Limit {
		return false, 0
	}
	c.own++
	c.recent++
	c.fresh++
	if q.cfg.HotInterval > 0 && c.urgent(q.cfg.HotInterval, q.cfg.Interval) {
		if len(q.urgent) == 0 {
			q.urgentBell.ring()
		}
		q.urgent[c] = true
	}
	// A hot counter's total is sent every urgent interval, not only an urgent one's: a datagram
	// costs no store round trip, and a node whose view of the others is older than a hot
	// interval (a slow store) would find the counter urgent only once it had run out.
	if q.cfg.Exchange != nil && q.cfg.HotInterval > 0 && c.hot() {
		if len(q.push) == 0 {
			q.pushBell.ring()
		}
		q.push[c] = true
	}
	q.alert(c)
	return true, w.Quota.Limit - used - 1
}

// Remaining is what the quota still allows, without counting a call.
func (q *Quota) Remaining(ctx context.Context, w Window) int64 {
	c := q.load(w)
	q.mu.Lock()
	defer q.mu.Unlock()
	return max(0, w.Quota.Limit-c.used())
}

// alert raises, off the request path, each threshold the counter has newly crossed; q.mu is held.
func (q *Quota) alert(c *counter) {
	if q.cfg.Alerts == nil {
		return
	}
	for _, t := range onramp.AlertThresholds {
		if c.raised[t] || c.used()*100 < c.w.Quota.Limit*int64(t) {
			continue
		}
		c.raised[t] = true
		a := onramp.QuotaAlert{OrgID: c.w.OrgID, Product: c.w.Product, Environment: c.w.Environment, Threshold: t,
			Limit: c.w.Quota.Limit, Period: c.w.Quota.Period, PeriodStart: c.w.Start, ResetAt: c.w.Reset}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := q.cfg.Alerts.RaiseQuotaAlert(ctx, a); err != nil {
				q.cfg.Logger.Error("raise quota alert", "alert", a.Key(), "error", err)
				q.mu.Lock()
				c.raised[t] = false // asked again at the next call or flush
				q.mu.Unlock()
			}
		}()
	}
}

func (q *Quota) run() {
	defer close(q.done)
	if q.cfg.Exchange != nil && q.cfg.HotInterval > 0 {
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(q.sendLoop) // apart: the urgent flushes wait for the store, the datagrams do not
	}
	var hot <-chan time.Time
	if q.cfg.HotInterval > 0 {
		t := time.NewTicker(q.cfg.HotInterval)
		defer t.Stop()
		hot = t.C
	}
	urgent := pausedTicker{every: q.urgentEvery()}
	defer urgent.stop()
	full := time.NewTicker(q.cfg.Interval)
	defer full.Stop()
	for {
		select {
		case <-q.stop:
			q.flush(flushFull)
			return
		case <-full.C:
			q.flush(flushFull)
		case <-hot:
			q.flush(flushHot)
		case <-q.urgentBell:
			urgent.start()
		case <-urgent.c():
			if !q.flush(flushUrgent) {
				urgent.stop() // nothing urgent any more: until the bell rings again
			}
		}
	}
}

// Stop flushes the pending counts; stopping again does nothing.
func (q *Quota) Stop() {
	q.stopOnce.Do(func() { close(q.stop) })
	<-q.done
}

// sendLoop sends the hot counters' totals to the other nodes every urgent interval while
// any is hot.
func (q *Quota) sendLoop() {
	t := pausedTicker{every: q.urgentEvery()}
	defer t.stop()
	for {
		select {
		case <-q.stop:
			return
		case <-q.pushBell:
			t.start()
		case <-t.c():
			if !q.send() {
				t.stop()
			}
		}
	}
}

// urgentEvery is how often urgent counters are flushed and sent.
func (q *Quota) urgentEvery() time.Duration { return max(q.cfg.HotInterval/25, time.Millisecond) }

// doorbell is a one-slot signal: ringing it again before it is heard does nothing.
type doorbell chan struct{}

func (d doorbell) ring() {
	select {
	case d <- struct{}{}:
	default:
	}
}

// pausedTicker ticks only between start and stop: a millisecond's ticker left running would wake
// an idle gateway a thousand times a second.
type pausedTicker struct {
	every time.Duration
	t     *time.Ticker
}

func (p *pausedTicker) start() {
	if p.t == nil {
		p.t = time.NewTicker(p.every)
	}
}

func (p *pausedTicker) stop() {
	if p.t != nil {
		p.t.Stop()
		p.t = nil
	}
}

// c is the ticks' channel; nil, which never receives, while paused.
func (p *pausedTicker) c() <-chan time.Time {
	if p.t == nil {
		return nil
	}
	return p.t.C
}

// send sends this node's totals of the counters it admitted calls of since the last send, and
// found hot, to the live nodes that take them; false when there was none.
func (q *Quota) send() bool {
	q.mu.Lock()
	if len(q.push) == 0 {
		q.mu.Unlock()
		return false
	}
	var totals []exchangedTotal
	for c := range q.push {
		if c.own > c.pushed {
			totals = append(totals, exchangedTotal{c.id, c.own})
			c.pushed = c.own
		}
		delete(q.push, c)
	}
	var to []string
	live := q.cfg.Now().Add(-nodeGone)
	for _, n := range q.others {
		if n.Exchange != "" && n.SeenAt.After(live) {
			to = append(to, n.Exchange)
		}
	}
	q.mu.Unlock()
	if len(totals) > 0 && len(to) > 0 {
		q.cfg.Exchange.send(q.cfg.Node, totals, to)
	}
	return true
}

// heard counts a total another node sent: only a counter this node has, and only more than that
// node sent before; a node settled for the counter (gone quiet) is counted by its stored total.
func (q *Quota) heard(node, id string, total int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.byID[id]
	if c == nil || c.settled[node] || total <= c.heard[node] { // this node's own: refused by receive
		return
	}
	if c.heard == nil {
		c.heard = map[string]int64{}
	}
	c.heardSum += total - c.heard[node]
	c.heard[node] = total
}
