package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/clientnet"
)

// Unknown keys cost a store read each, so a client address that keeps sending keys nobody issued
// gets a small budget of them: past it, keys this node has not seen recently are refused without
// a lookup until the budget refills. Known keys, cached, keep working from that address.
const (
	guessesPerSecond = 1.0
	guessBurst       = 30
	maxGuessClients  = 50_000
)

// guessLimits holds one token bucket of unknown keys per client address.
type guessLimits struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

func newGuessLimits() *guessLimits { return &guessLimits{buckets: map[string]*bucket{}} }

// exhausted reports whether addr has no unknown key left to try at now.
func (l *guessLimits) exhausted(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[addr]
	return ok && refill(b, now) < 1
}

// spend counts one unknown key sent from addr.
func (l *guessLimits) spend(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[addr]
	if !ok {
		if len(l.buckets) >= maxGuessClients {
			l.sweep(now)
		}
		b = &bucket{tokens: guessBurst, last: now}
		l.buckets[addr] = b
	}
	refill(b, now)
	b.tokens--
}

// sweep forgets the addresses whose budget is full again: they owe nothing.
func (l *guessLimits) sweep(now time.Time) {
	for addr, b := range l.buckets {
		if refill(b, now) >= guessBurst {
			delete(l.buckets, addr)
		}
	}
}

func refill(b *bucket, now time.Time) float64 {
	b.tokens = min(guessBurst, b.tokens+now.Sub(b.last).Seconds()*guessesPerSecond)
	b.last = now
	return b.tokens
}

// clientAddress is the peer's IP, or its /64 for IPv6, where one client holds a whole prefix
// and would otherwise get a fresh budget per address. Forwarded headers are not trusted:
// whoever runs a load balancer in front of the gateways sees its address here, and its own
// limits apply.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return clientnet.Of(host)
}

// lookupKey finds a well-formed key's credential: from the cache, else from the store unless
// r's client address has spent its budget of unknown keys (ERATELIMITED) or the store is unreachable
// (EUNAVAILABLE). EUNAUTHORIZED for an unknown key.
func (g *Gateway) lookupKey(ctx context.Context, key string, r *http.Request) (onramp.Credential, error) {
	// The cache holds no key, only its hash (onramp.KeyHash), hex-encoded here on the stack: a
	// known key's lookup builds no string.
	var kb [128]byte // keys are shorter: []byte(key) would allocate past 32 bytes
	sum := sha256.Sum256(append(kb[:0], key...))
	var hexed [2 * sha256.Size]byte
	hex.Encode(hexed[:], sum[:])
	c, err, ok := g.creds.lookupBytes(hexed[:])
	g.creds.count(ok)
	if ok {
		return c, err
	}
	if c, err, ok := g.unknown.lookupBytes(hexed[:]); ok {
		return c, err
	}
	h := string(hexed[:])
	now, addr := g.cfg.Now(), clientAddress(r) // only a miss needs the caller's address
	if g.guesses.exhausted(addr, now) {
		return onramp.Credential{}, onramp.Errorf(onramp.ERATELIMITED, "too many unknown credentials from %s", addr)
	}
	if !g.storeUp.Load() {
		return onramp.Credential{}, errStoreDown // an unknown key cannot be checked: refused at once
	}
	c, err = g.cfg.Credentials.Lookup(ctx, key)
	switch code := onramp.ErrorCode(err); {
	case code == onramp.EUNAUTHORIZED:
		g.guesses.spend(addr, now)
		g.unknown.put(h, c, err)
	case code == "":
		g.creds.put(h, c, nil)
	case code == onramp.EINTERNAL:
		g.cfg.Logger.Error("credential lookup", "error", err)
		return c, errStoreDown
	}
	return c, err
}
