package gateway

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Quota counts calls per organisation × product × environment × period. Each node counts
// locally and adds its counts to MongoDB with $inc every interval, learning the other nodes'
// totals at the same time. Worst case, a node admits what the others admitted during the last
// interval on top of the limit: over-admission ≤ (nodes − 1) × per-node rate × interval.
type Quota struct {
	store    onramp.UsageStore
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	pending map[string]int64 // counted here, not yet flushed
	known   map[string]int64 // totals last read from MongoDB
	done    chan struct{}
	stop    chan struct{}
}

// NewQuota starts the flusher.
func NewQuota(store onramp.UsageStore, log *slog.Logger, interval time.Duration) *Quota {
	q := &Quota{store: store, log: log, interval: interval, pending: map[string]int64{}, known: map[string]int64{}, done: make(chan struct{}), stop: make(chan struct{})}
	go q.run()
	return q
}

// Period returns the counter window of a quota at now: its start and reset time (UTC).
func Period(q onramp.Quota, now time.Time) (start, reset time.Time) {
	now = now.UTC()
	if q.Period == "day" {
		start = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1)
	}
	start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// CounterID names a quota counter.
func CounterID(orgID, product, env string, start time.Time) string {
	return orgID + ":" + product + ":" + env + ":" + strconv.FormatInt(start.Unix(), 10)
}

// Take counts one call against the counter if the limit allows it and returns what remains.
func (q *Quota) Take(ctx context.Context, id string, limit int64) (allowed bool, remaining int64) {
	q.mu.Lock()
	_, loaded := q.known[id]
	q.mu.Unlock()
	if !loaded {
		totals, err := q.store.Counters(ctx, []string{id})
		if err != nil {
			q.log.Error("read quota counter", "counter", id, "error", err)
		}
		q.mu.Lock()
		if _, ok := q.known[id]; !ok {
			q.known[id] = totals[id]
		}
		q.mu.Unlock()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	used := q.known[id] + q.pending[id]
	if used >= limit {
		return false, 0
	}
	q.pending[id]++
	return true, limit - used - 1
}

func (q *Quota) run() {
	defer close(q.done)
	t := time.NewTicker(q.interval)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			q.flush()
			return
		case <-t.C:
			q.flush()
		}
	}
}

func (q *Quota) flush() {
	q.mu.Lock()
	deltas := q.pending
	q.pending = map[string]int64{}
	q.mu.Unlock()
	if len(deltas) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	totals, err := q.store.AddToCounters(ctx, deltas)
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		q.log.Error("flush quota counters", "error", err)
		for id, d := range deltas { // counted again next time
			if _, done := totals[id]; !done {
				q.pending[id] += d
			}
		}
	}
	for id, total := range totals {
		q.known[id] = total
	}
}

// Stop flushes the pending counts.
func (q *Quota) Stop() {
	close(q.stop)
	<-q.done
}
