package gateway

import (
	"math"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// rateLimits holds one token bucket per credential on this node: a plan's rate limit is per
// credential and per gateway node (n nodes admit up to n × the rate).
type rateLimits struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// take spends a token of the credential's bucket; when none is left it says how long until one is.
func (r *rateLimits) take(credentialID string, rl onramp.RateLimit, now time.Time) (bool, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buckets == nil {
		r.buckets = map[string]*bucket{}
	}
	b, ok := r.buckets[credentialID]
	if !ok {
		b = &bucket{tokens: float64(rl.Burst), last: now}
		r.buckets[credentialID] = b
	}
	b.tokens = math.Min(float64(rl.Burst), b.tokens+now.Sub(b.last).Seconds()*rl.PerSecond)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rl.PerSecond * float64(time.Second))
}
