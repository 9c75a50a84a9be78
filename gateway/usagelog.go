package gateway

import (
	"time"

	"github.com/onramp-dev/onramp"
)

// callLog is one kind (successes or errors) of an organisation's recent-calls log on this node:
// pages of one hour and up to onramp.CallPageSize calls, oldest first.
type callLog struct {
	errors bool
	pages  []*logPage
	total  int // calls in pages
}

type logPage struct {
	ref   onramp.CallPageRef  // ref.Count: the calls in the page
	calls []onramp.UsageEvent // append-only; released once a full page is written (only the open page is rewritten)
	saved int                 // calls written to the store
	open  bool                // last written as open: it must be written again once closed
	shut  bool                // a snapshot wrote it closed: it never grows again
	done  bool                // written closed and released
}

// add appends a call, opening a page for a new hour or when the last is full, and lets the oldest
// pages go past bound. It returns how many of their calls were never written (now counted only).
func (l *callLog) add(e onramp.UsageEvent, bound int, o *orgUsage) (unwritten int) {
	hour := e.At.UTC().Truncate(time.Hour)
	var p *logPage
	if n := len(l.pages); n > 0 {
		p = l.pages[n-1]
	}
	if p == nil || p.shut || hour.After(p.ref.Hour) || p.ref.Count >= onramp.CallPageSize {
		part := 0
		if p != nil && !hour.After(p.ref.Hour) { // a late call of the page's hour, or a full page
			hour, part = p.ref.Hour, p.ref.Part+1
		}
		p = &logPage{ref: onramp.CallPageRef{Errors: l.errors, Hour: hour, Part: part, First: e.At, Last: e.At}}
		l.pages = append(l.pages, p)
	}
	p.calls = append(p.calls, e)
	p.ref.Count++
	if e.At.Before(p.ref.First) {
		p.ref.First = e.At
	}
	if e.At.After(p.ref.Last) {
		p.ref.Last = e.At
	}
	l.total++
	for l.total > bound && len(l.pages) > 1 {
		unwritten += l.dropOldest(o)
	}
	return unwritten
}

// dropOldest lets the oldest page go (its deletion is written at the next flush).
func (l *callLog) dropOldest(o *orgUsage) (unwritten int) {
	old := l.pages[0]
	l.pages = l.pages[1:]
	l.total -= old.ref.Count
	unwritten = old.ref.Count - old.saved
	old.saved = old.ref.Count
	o.drops = append(o.drops, old.ref)
	return unwritten
}

// expire lets pages of hours past retention go.
func (l *callLog) expire(o *orgUsage, before time.Time) (unwritten int) {
	for len(l.pages) > 1 && !l.pages[0].ref.Hour.Add(time.Hour).After(before) {
		unwritten += l.dropOldest(o)
	}
	return unwritten
}

// orgSnapshot is one organisation's flush and what it covered, to mark written once it is.
type orgSnapshot struct {
	org     *orgUsage
	flush   onramp.UsageFlush
	version uint64
	months  map[*monthUsage]uint64
	pages   map[*logPage]pageWrite
	drops   int
}

// pageWrite is what a snapshot wrote of a page: how many calls, and whether as open.
type pageWrite struct {
	calls int
	open  bool
}

// snapshots takes the flush of every organisation with something to write.
func (r *Recorder) snapshots() []orgSnapshot {
	now := r.cfg.Now().UTC()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []orgSnapshot
	for _, o := range r.orgs {
		for _, l := range o.logs {
			lost := l.expire(o, now.Add(-r.cfg.Retention))
			r.queued -= lost
			r.degraded += int64(lost)
		}
		if o.version == o.saved && len(o.drops) == 0 {
			continue
		}
		s := orgSnapshot{org: o, version: o.version, months: map[*monthUsage]uint64{}, pages: map[*logPage]pageWrite{}, drops: len(o.drops)}
		s.flush.Head = onramp.UsageHead{OrgID: o.id, UpdatedAt: now, Credentials: o.credentials(now)}
		for _, l := range o.logs {
			for i, p := range l.pages {
				ref := p.ref
				// The last page may grow: it is open until it is full or its hour is over.
				ref.Open = !r.closing && i == len(l.pages)-1 && p.ref.Count < onramp.CallPageSize && !p.ref.Hour.Add(time.Hour).Before(now)
				p.shut = p.shut || !ref.Open
				s.flush.Head.Pages = append(s.flush.Head.Pages, ref)
				if p.saved < p.ref.Count || (p.open && !ref.Open) {
					s.flush.Pages = append(s.flush.Pages, onramp.CallPage{Ref: ref, Calls: p.calls[:len(p.calls):len(p.calls)]})
					s.pages[p] = pageWrite{len(p.calls), ref.Open}
				}
			}
		}
		for _, m := range o.months {
			if m.version > m.saved {
				s.flush.Months = append(s.flush.Months, m.doc(o.id, now))
				s.months[m] = m.version
			}
		}
		s.flush.Drop = append([]onramp.CallPageRef(nil), o.drops...)
		out = append(out, s)
	}
	return out
}

// saved marks what a snapshot covered as written, and forgets months before the last one that
// are written: calls no longer land in them.
func (r *Recorder) saved(s orgSnapshot) {
	now := r.cfg.Now().UTC()
	r.mu.Lock()
	defer r.mu.Unlock()
	o := s.org
	o.saved = max(o.saved, s.version)
	for m, v := range s.months {
		m.saved = max(m.saved, v)
	}
	for p, w := range s.pages {
		if w.calls > p.saved {
			r.queued -= w.calls - p.saved
			p.saved = w.calls
		}
		p.open = w.open
		if !w.open && p.saved == p.ref.Count {
			p.calls, p.done = nil, true // written closed: a later call opens a new page
		}
	}
	o.drops = o.drops[s.drops:]
	r.cfg.Metrics.queue(r.queued)
	keep := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	for start, m := range o.months {
		if start.Before(keep) && m.saved >= m.version {
			delete(o.months, start)
			if next := start.AddDate(0, 1, 0); next.After(o.oldest) {
				o.oldest = next
			}
		}
	}
}
