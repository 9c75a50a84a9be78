package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Quota counts calls per organisation × product × environment × window. Each node counts
// locally and adds its counts to MongoDB with $inc every interval, learning the other nodes'
// totals at the same time. A counter that may run out before the next flush is "hot": it is
// flushed and re-read every interval/40, so a node admits at most what the other nodes admitted
// during that short interval on top of the limit (docs/benchmarks.md measures it). One node alone
// never over-admits: what it is flushing still counts.
//
// Crossing 80 % or 95 % of a quota raises an alert through QuotaAlerts, whose workflow id makes it
// exactly-once across nodes; the node only avoids asking twice itself.
type Quota struct {
	cfg QuotaConfig

	mu       sync.Mutex
	counters map[string]*counter
	done     chan struct{}
	stop     chan struct{}
}

// QuotaConfig configures the counters.
type QuotaConfig struct {
	Store    onramp.UsageStore
	Alerts   onramp.QuotaAlerts // nil: no alerts
	Logger   *slog.Logger
	Interval time.Duration // flush interval (default 1s)
	// HotInterval is how often hot counters are flushed (0: Interval/40; negative: never, which
	// only the over-admission benchmark's baseline wants).
	HotInterval time.Duration
	Now         func() time.Time
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

type counter struct {
	w        Window
	known    int64 // the total last read from MongoDB
	inflight int64 // being added to MongoDB now
	pending  int64 // counted here since
	base     int64 // the total read at the last full flush
	rate     int64 // calls all nodes added during the last full interval
	recent   int64 // calls this node admitted since the last full flush
	raised   map[int]bool
}

func (c *counter) used() int64 { return c.known + c.inflight + c.pending }

// hot reports whether the counter is in use and may run out before the next full flush: what is
// left is within twice what all nodes used in the last interval plus what this node has used
// since (before the first full flush, the other nodes are assumed as busy as this one).
func (c *counter) hot() bool {
	left := c.w.Quota.Limit - c.used()
	return (c.recent > 0 || c.rate > 0) && left > 0 && left <= 2*(c.rate+c.recent)+1
}

// NewQuota starts the flusher; Stop flushes what is pending.
func NewQuota(cfg QuotaConfig) *Quota {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HotInterval == 0 {
		cfg.HotInterval = cfg.Interval / 40
	}
	q := &Quota{cfg: cfg, counters: map[string]*counter{}, done: make(chan struct{}), stop: make(chan struct{})}
	go q.run()
	return q
}

// load returns the window's counter, reading its total from MongoDB the first time.
func (q *Quota) load(ctx context.Context, w Window) *counter {
	id := w.id()
	q.mu.Lock()
	c, ok := q.counters[id]
	q.mu.Unlock()
	if ok {
		return c
	}
	totals, err := q.cfg.Store.Counters(ctx, []string{id})
	if err != nil {
		q.cfg.Logger.Error("read quota counter", "counter", id, "error", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if c, ok = q.counters[id]; !ok {
		c = &counter{w: w, known: totals[id], base: totals[id], raised: map[int]bool{}}
		q.counters[id] = c
	}
	return c
}

// Take counts one call if the quota allows it and returns what remains.
func (q *Quota) Take(ctx context.Context, w Window) (allowed bool, remaining int64) {
	c := q.load(ctx, w)
	q.mu.Lock()
	defer q.mu.Unlock()
	c.w.Quota = w.Quota // an approved increase applies at once
	used := c.used()
	if used >= w.Quota.Limit {
		return false, 0
	}
	c.pending++
	c.recent++
	q.alert(c)
	return true, w.Quota.Limit - used - 1
}

// Remaining is what the quota still allows, without counting a call.
func (q *Quota) Remaining(ctx context.Context, w Window) int64 {
	c := q.load(ctx, w)
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
	var hot <-chan time.Time
	if q.cfg.HotInterval > 0 {
		t := time.NewTicker(q.cfg.HotInterval)
		defer t.Stop()
		hot = t.C
	}
	full := time.NewTicker(q.cfg.Interval)
	defer full.Stop()
	for {
		select {
		case <-q.stop:
			q.flush(true)
			return
		case <-full.C:
			q.flush(true)
		case <-hot:
			q.flush(false)
		}
	}
}

// flush adds the pending counts to MongoDB and reads the totals back: every counter's on a full
// flush (so an idle node still learns the others' use), only the hot ones' otherwise. Counters of
// a window that has ended are dropped.
func (q *Quota) flush(full bool) {
	q.mu.Lock()
	deltas := map[string]int64{}
	now := q.cfg.Now()
	for id, c := range q.counters {
		if full && c.pending == 0 && !now.Before(c.w.Reset) {
			delete(q.counters, id)
			continue
		}
		if full || c.hot() {
			deltas[id] = c.pending
			c.inflight, c.pending = c.pending, 0
		}
	}
	q.mu.Unlock()
	if len(deltas) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	totals, err := q.cfg.Store.AddToCounters(ctx, deltas)
	if err != nil {
		q.cfg.Logger.Error("flush quota counters", "error", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for id := range deltas {
		c, ok := q.counters[id]
		if !ok {
			continue
		}
		total, added := totals[id]
		if !added { // counted again at the next flush
			c.pending += c.inflight
			c.inflight = 0
			continue
		}
		if full {
			c.rate, c.base, c.recent = max(0, total-c.base), total, 0
		}
		c.known, c.inflight = total, 0
		q.alert(c)
	}
}

// Stop flushes the pending counts.
func (q *Quota) Stop() {
	close(q.stop)
	<-q.done
}
