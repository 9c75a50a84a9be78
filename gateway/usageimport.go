package gateway

import (
	"slices"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// UsageFlushes is what a node that had served events (in any order) would write when stopped at
// now: per organisation, its months' totals, its credentials' use and its recent-calls log as
// closed pages, bounded as a running node bounds it (logBound calls of each kind; 0: the
// default). onramp seed records calls with it, so they are stored exactly as gateways store
// them, in bulk. Ordered by organisation.
func UsageFlushes(events []onramp.UsageEvent, now time.Time, logBound int) []onramp.UsageFlush {
	r := &Recorder{cfg: RecorderConfig{LogBound: orDefault(logBound, 5_000), Retention: 720 * time.Hour, Now: func() time.Time { return now }},
		orgs: map[string]*orgUsage{}, closing: true}
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b onramp.UsageEvent) int { return a.At.Compare(b.At) })
	for _, e := range sorted {
		o := r.org(e.OrgID)
		o.count(e)
		o.logs[logKind(e.Status)].add(e, r.cfg.LogBound, o)
	}
	snaps := r.snapshots()
	out := make([]onramp.UsageFlush, len(snaps))
	for i, s := range snaps {
		out[i] = s.flush
	}
	slices.SortFunc(out, func(a, b onramp.UsageFlush) int { return strings.Compare(a.Head.OrgID, b.Head.OrgID) })
	return out
}
