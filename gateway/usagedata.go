package gateway

import (
	"slices"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// orgUsage is one organisation's usage on this node: running totals since the node started,
// written whole at each flush (so a retried write is harmless), and its recent-calls log.
type orgUsage struct {
	id      string
	version uint64 // bumped by every call counted
	saved   uint64 // the version last written
	months  map[time.Time]*monthUsage
	oldest  time.Time // months before it were written and forgotten
	creds   map[string]*credUse
	logs    [2]*callLog // successes, errors
	drops   []onramp.CallPageRef
	second  int64
	spent   [2]int // calls logged in that second, per kind
}

type monthUsage struct {
	start   time.Time
	lines   map[lineKey]*lineUsage
	version uint64 // the organisation's version at its last change
	saved   uint64
}

type lineKey struct{ product, env string }

type opKey struct{ operation, class string }

type lineUsage struct {
	days, hours map[time.Time]*onramp.UsageHour
	ops         map[opKey]int64
	uses        map[useKey]*opUse
}

type useKey struct{ version, operation string }

// opUse is an operation's calls per day and its credentials' last calls: a call costs two map
// updates, whatever the history holds.
type opUse struct {
	days  map[time.Time]int64
	creds map[string]time.Time
}

type credUse struct {
	last    time.Time
	minutes map[time.Time]int64
}

func newOrgUsage(id string) *orgUsage {
	return &orgUsage{id: id, months: map[time.Time]*monthUsage{}, creds: map[string]*credUse{},
		logs: [2]*callLog{{}, {errors: true}}}
}

func logKind(status int) int {
	if status >= 400 {
		return 1
	}
	return 0
}

// count adds a call to the running totals.
func (o *orgUsage) count(e onramp.UsageEvent) {
	at := e.At.UTC()
	o.version++
	m := o.month(at)
	m.version = o.version
	l := m.lines[lineKey{e.Product, e.Environment}]
	if l == nil {
		l = &lineUsage{days: map[time.Time]*onramp.UsageHour{}, hours: map[time.Time]*onramp.UsageHour{}, ops: map[opKey]int64{}, uses: map[useKey]*opUse{}}
		m.lines[lineKey{e.Product, e.Environment}] = l
	}
	failed := e.Status >= 400
	bump(l.days, at.Truncate(24*time.Hour), failed)
	bump(l.hours, at.Truncate(time.Hour), failed)
	l.ops[opKey{e.Operation, statusClass(e.Status)}]++
	if e.Operation != "" {
		u := l.uses[useKey{e.Version, e.Operation}]
		if u == nil {
			u = &opUse{days: map[time.Time]int64{}, creds: map[string]time.Time{}}
			l.uses[useKey{e.Version, e.Operation}] = u
		}
		u.days[at.Truncate(24*time.Hour)]++
		if at.After(u.creds[e.CredentialID]) {
			u.creds[e.CredentialID] = at
		}
	}
	c := o.creds[e.CredentialID]
	if c == nil {
		c = &credUse{minutes: map[time.Time]int64{}}
		o.creds[e.CredentialID] = c
	}
	if at.After(c.last) {
		c.last = at
	}
	c.minutes[at.Truncate(time.Minute)]++
}

// statusClasses are onramp.StatusClass of 100 … 599, built once: the class is counted per call.
var statusClasses = [6]string{"", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) string {
	if status >= 100 && status < 600 {
		return statusClasses[status/100]
	}
	return onramp.StatusClass(status)
}

func bump(into map[time.Time]*onramp.UsageHour, at time.Time, failed bool) {
	h := into[at]
	if h == nil {
		h = &onramp.UsageHour{Hour: at}
		into[at] = h
	}
	h.Calls++
	if failed {
		h.Errors++
	}
}

// month is the month a call at `at` counts in. A call of a month already written and forgotten
// (a request that outlived it) counts in the newest month: rewriting the old one from nothing
// would replace its totals.
func (o *orgUsage) month(at time.Time) *monthUsage {
	start := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	if start.Before(o.oldest) {
		for s := range o.months {
			if s.After(start) {
				start = s
			}
		}
	}
	m := o.months[start]
	if m == nil {
		m = &monthUsage{start: start, lines: map[lineKey]*lineUsage{}}
		o.months[start] = m
	}
	return m
}

// spend takes one of this second's log entries of a kind, if any is left.
func (o *orgUsage) spend(kind int, now time.Time, per [2]int) bool {
	if s := now.Unix(); s != o.second {
		o.second, o.spent = s, [2]int{}
	}
	if o.spent[kind] >= per[kind] {
		return false
	}
	o.spent[kind]++
	return true
}

// monthDoc is the month's totals as written; hours older than onramp.HoursKept are forgotten.
func (m *monthUsage) doc(org string, now time.Time) onramp.UsageMonth {
	out := onramp.UsageMonth{OrgID: org, Month: m.start, Lines: make([]onramp.UsageLine, 0, len(m.lines))}
	for k, l := range m.lines {
		for h := range l.hours {
			if h.Before(now.Add(-onramp.HoursKept)) {
				delete(l.hours, h)
			}
		}
		line := onramp.UsageLine{Product: k.product, Environment: k.env, Days: values(l.days), Hours: values(l.hours)}
		for op, n := range l.ops {
			line.Operations = append(line.Operations, onramp.OperationCalls{Operation: op.operation, StatusClass: op.class, Calls: n})
		}
		slices.SortFunc(line.Operations, func(a, b onramp.OperationCalls) int {
			return strings.Compare(a.Operation+" "+a.StatusClass, b.Operation+" "+b.StatusClass)
		})
		for k, u := range l.uses {
			use := onramp.OperationUse{Version: k.version, Operation: k.operation, Days: make([]onramp.DayCalls, 0, len(u.days)), Credentials: make([]onramp.CredentialLastUse, 0, len(u.creds))}
			for d, n := range u.days {
				use.Days = append(use.Days, onramp.DayCalls{Day: d, Calls: n})
			}
			slices.SortFunc(use.Days, func(a, b onramp.DayCalls) int { return a.Day.Compare(b.Day) })
			for id, at := range u.creds {
				use.Credentials = append(use.Credentials, onramp.CredentialLastUse{CredentialID: id, LastAt: at})
			}
			slices.SortFunc(use.Credentials, func(a, b onramp.CredentialLastUse) int { return strings.Compare(a.CredentialID, b.CredentialID) })
			line.Uses = append(line.Uses, use)
		}
		slices.SortFunc(line.Uses, func(a, b onramp.OperationUse) int {
			return strings.Compare(a.Version+"\x00"+a.Operation, b.Version+"\x00"+b.Operation)
		})
		out.Lines = append(out.Lines, line)
	}
	slices.SortFunc(out.Lines, func(a, b onramp.UsageLine) int {
		return strings.Compare(a.Product+" "+a.Environment, b.Product+" "+b.Environment)
	})
	return out
}

func values(in map[time.Time]*onramp.UsageHour) []onramp.UsageHour {
	out := make([]onramp.UsageHour, 0, len(in))
	for _, h := range in {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b onramp.UsageHour) int { return a.Hour.Compare(b.Hour) })
	return out
}

// credentials is the credentials' use as written; minutes older than onramp.MinutesKept go.
func (o *orgUsage) credentials(now time.Time) []onramp.CredentialUse {
	out := make([]onramp.CredentialUse, 0, len(o.creds))
	for id, c := range o.creds {
		u := onramp.CredentialUse{CredentialID: id, LastUsedAt: c.last}
		for m, n := range c.minutes {
			if m.Before(now.Add(-onramp.MinutesKept)) {
				delete(c.minutes, m)
				continue
			}
			u.Minutes = append(u.Minutes, onramp.MinuteCalls{Minute: m, Calls: n})
		}
		slices.SortFunc(u.Minutes, func(a, b onramp.MinuteCalls) int { return a.Minute.Compare(b.Minute) })
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b onramp.CredentialUse) int { return strings.Compare(a.CredentialID, b.CredentialID) })
	return out
}
