// Package changefeed follows a store's change feed (onramp.ChangeFeed) for the caches that keep
// records in memory: the gateways' and the portal's catalog snapshot.
package changefeed

import (
	"context"
	"time"

	"github.com/onramp-dev/onramp"
)

// Overlap is how far back each read goes before the last one, for clock skew and late inserts;
// changes seen already are skipped.
const Overlap = 5 * time.Second

// Reader remembers where a cache is in the feed.
type Reader struct {
	feed            onramp.ChangeFeed
	since, lastRead time.Time
	seen            map[string]time.Time // change ids applied, for the overlap
	gap             bool                 // changes may have been missed: reload everything
}

// NewReader starts following feed at now.
func NewReader(feed onramp.ChangeFeed, now time.Time) *Reader {
	return &Reader{feed: feed, since: now, lastRead: now, seen: map[string]time.Time{}}
}

// Read applies each change recorded since the last read, once. When the reader could not read
// for longer than the feed keeps changes, it calls reloadAll first (and again at the next read
// until that succeeds). The error is the feed's or reloadAll's; apply's are its own to log.
func (r *Reader) Read(ctx context.Context, now time.Time, reloadAll func(context.Context) error, apply func(context.Context, onramp.Change)) error {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	changes, err := r.feed.Changes(rctx, r.since.Add(-Overlap))
	if err != nil {
		if now.Sub(r.lastRead) > onramp.ChangeRetention-Overlap {
			r.gap = true
		}
		return err
	}
	if r.gap {
		if err := reloadAll(ctx); err != nil {
			return err
		}
		r.gap = false
	}
	for _, c := range changes {
		if _, done := r.seen[c.ID]; !done {
			apply(ctx, c)
			r.seen[c.ID] = c.At
		}
	}
	for id, at := range r.seen {
		if at.Before(now.Add(-2 * Overlap)) {
			delete(r.seen, id)
		}
	}
	r.since, r.lastRead = now, now
	return nil
}
