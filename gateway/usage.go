package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Recorder is a gateway node's usage pipeline. Record counts a call in memory — running totals per
// organisation × product × environment × operation × status class, per day and hour, per
// version × operation per day with each credential's last call of it, a credential's last use
// and calls per minute — and puts it in the organisation's recent-calls log
// while the log's per-second budget and the write buffer allow; past them the call is counted
// only ("degraded to aggregates"), never lost. Once a second the node writes what changed to
// documents only it writes (onramp.GatewayUsageStore). A failed flush is retried with newer
// totals, so a store outage delays usage but loses none of it.
type Recorder struct {
	cfg RecorderConfig

	mu       sync.Mutex
	orgs     map[string]*orgUsage
	queued   int   // logged calls not yet written
	counted  int64 // every call recorded
	degraded int64 // calls counted but not logged
	started  time.Time
	closing  bool // the final flush: every page is written closed (a stopped node's never grow)
	done     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
}

// RecorderConfig configures a node's usage pipeline; Store and Node are required.
type RecorderConfig struct {
	Store    onramp.GatewayUsageStore
	Node     string // NewNodeID()
	Exchange string // the node's Exchange address, published with its heartbeat ("": none)
	Logger   *slog.Logger
	Interval time.Duration // flush interval (default 1s)
	// LogPerSecond and ErrorsPerSecond bound the calls per organisation and second that this node
	// logs, successes and errors (status ≥ 400) apart (defaults 100 and 1000).
	LogPerSecond, ErrorsPerSecond int
	// MaxQueued bounds the logged calls held for writing, all organisations (default 50 000).
	MaxQueued int
	// LogBound is how many calls of each kind per organisation the node's log keeps (default
	// 5 000: its index, rewritten with each flush, stays small); Retention how long (default 720h).
	LogBound  int
	Retention time.Duration
	Metrics   *Metrics // nil: none
	Now       func() time.Time
}

// NewRecorder records the node's first heartbeat and starts the flusher; Stop flushes what is left.
func NewRecorder(cfg RecorderConfig) *Recorder {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Interval = orDefault(cfg.Interval, time.Second)
	cfg.Retention = orDefault(cfg.Retention, 720*time.Hour)
	cfg.LogPerSecond, cfg.ErrorsPerSecond = orDefault(cfg.LogPerSecond, 100), orDefault(cfg.ErrorsPerSecond, 1000)
	cfg.MaxQueued, cfg.LogBound = orDefault(cfg.MaxQueued, 50_000), orDefault(cfg.LogBound, 5_000)
	r := &Recorder{cfg: cfg, orgs: map[string]*orgUsage{}, started: cfg.Now(), done: make(chan struct{}), stop: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.heartbeat(ctx); err != nil {
		cfg.Logger.Error("register gateway node", "node", cfg.Node, "error", err)
	}
	go r.run()
	return r
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Record counts one call and logs it if the budget and the buffer allow; it never blocks on I/O.
func (r *Recorder) Record(e onramp.UsageEvent) {
	now := r.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.org(e.OrgID)
	o.count(e)
	r.counted++
	kind := logKind(e.Status)
	if !o.spend(kind, now, [2]int{r.cfg.LogPerSecond, r.cfg.ErrorsPerSecond}) || r.queued >= r.cfg.MaxQueued {
		r.degraded++
		r.cfg.Metrics.degraded()
		return
	}
	lost := o.logs[kind].add(e, r.cfg.LogBound, o)
	r.queued += 1 - lost
	r.degraded += int64(lost)
	r.cfg.Metrics.queue(r.queued)
}

// org is the organisation's usage on this node, new when it had none.
func (r *Recorder) org(id string) *orgUsage {
	o := r.orgs[id]
	if o == nil {
		o = newOrgUsage(id)
		r.orgs[id] = o
	}
	return o
}

// Counts reports every call recorded, of which how many were counted but not logged, and how
// many logged calls wait to be written.
func (r *Recorder) Counts() (counted, degraded int64, queued int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counted, r.degraded, r.queued
}

func (r *Recorder) run() {
	defer close(r.done)
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			r.mu.Lock()
			r.closing = true
			r.mu.Unlock()
			r.Flush(context.Background()) // a store that is down fails the heartbeat at once and holds up nothing
			return
		case <-t.C:
			r.Flush(context.Background())
		}
	}
}

// flushTimeout bounds each write of a flush.
const flushTimeout = 5 * time.Second

// Flush writes the heartbeat and every organisation's changes now; it returns the last error
// (what failed is written again at the next flush).
func (r *Recorder) Flush(ctx context.Context) error {
	started := time.Now()
	err := r.write(ctx, func(ctx context.Context) error { return r.heartbeat(ctx) })
	if err == nil {
		for _, s := range r.snapshots() {
			if serr := r.write(ctx, func(ctx context.Context) error { return r.cfg.Store.SaveUsage(ctx, r.cfg.Node, s.flush) }); serr != nil {
				err = serr
				continue
			}
			r.saved(s)
		}
	}
	r.cfg.Metrics.flushed(time.Since(started), err)
	if err != nil {
		r.cfg.Logger.Error("flush usage", "node", r.cfg.Node, "error", err)
	}
	return err
}

func (r *Recorder) write(ctx context.Context, w func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	return w(ctx)
}

func (r *Recorder) heartbeat(ctx context.Context) error {
	return r.cfg.Store.SaveNode(ctx, onramp.GatewayNode{ID: r.cfg.Node, StartedAt: r.started, SeenAt: r.cfg.Now(), Exchange: r.cfg.Exchange})
}

// Stop flushes what is left and stops the flusher.
func (r *Recorder) Stop() {
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
}
