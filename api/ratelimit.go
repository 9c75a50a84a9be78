package api

import (
	"sync"
	"time"
)

// limiter counts attempts per key in fixed windows. It lives in one portal process: with several
// portal replicas each enforces its own count, so the effective limit is at most replicas × limit.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	counts map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(limit int, per time.Duration) *limiter {
	return &limiter{limit: limit, window: per, now: time.Now, counts: map[string]*window{}}
}

// allow counts one attempt for key and returns false, with the wait, once the window is full.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.counts) > 100_000 {
		l.sweep(now) // bound memory under a flood of distinct keys
	}
	w, ok := l.counts[key]
	if !ok || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.counts[key] = w
	}
	if w.n >= l.limit {
		return false, w.start.Add(l.window).Sub(now)
	}
	w.n++
	return true, 0
}

func (l *limiter) sweep(now time.Time) {
	for k, w := range l.counts {
		if now.Sub(w.start) >= l.window {
			delete(l.counts, k)
		}
	}
}
