package onramp

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UsageHour is an hour's calls of an organisation's product in one environment.
type UsageHour struct {
	Hour   time.Time `json:"hour"`
	Calls  int64     `json:"calls"`
	Errors int64     `json:"errors"` // status ≥ 400
}

// Status classes a call history can be filtered by.
var StatusClasses = []string{"2xx", "3xx", "4xx", "5xx"}

// CallFilter narrows a call history; zero fields do not filter.
type CallFilter struct {
	Environment  string
	StatusClass  string // 2xx, 3xx, 4xx or 5xx
	CredentialID string
	Operation    string
	From, To     time.Time // [From, To)
	Limit        int       // newest first; 0: no limit
	// After continues a history past the call it names: older calls, and those of the same
	// millisecond with a greater id (the history is newest first, then by id); nil: from the newest.
	After *CallCursor
}

// CallCursor is the position of a call in a call history.
type CallCursor struct {
	At time.Time
	ID string
}

// CallCursorOf is the opaque cursor of the history past e.
func CallCursorOf(e UsageEvent) string {
	return Cursor{Position: Position{Key: strconv.FormatInt(e.At.UnixMilli(), 10), ID: e.ID}}.Encode()
}

// ParseCallCursor reads what CallCursorOf wrote; EINVALID for anything else.
func ParseCallCursor(s string) (*CallCursor, error) {
	c, err := ParseCursor(s)
	if err != nil {
		return nil, err
	}
	ms, perr := strconv.ParseInt(c.Key, 10, 64)
	if perr != nil || c.Before {
		return nil, Errorf(EINVALID, "cursor %q is not one the call history gave out; start again from the newest calls (no cursor)", s)
	}
	return &CallCursor{At: time.UnixMilli(ms).UTC(), ID: c.ID}, nil
}

// Validate returns EINVALID naming the filter to fix.
func (f CallFilter) Validate() error {
	if f.Environment != "" && f.Environment != Sandbox && f.Environment != Production {
		return Errorf(EINVALID, "environment %q is unknown; use sandbox or production", f.Environment)
	}
	if f.StatusClass != "" && !slices.Contains(StatusClasses, f.StatusClass) {
		return Errorf(EINVALID, "status %q is not a status class; use 2xx, 3xx, 4xx or 5xx", f.StatusClass)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return Errorf(EINVALID, "from (%s) must be before to (%s)", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
	}
	return nil
}

// Matches reports whether e passes the filter (the fakes' reference semantics).
func (f CallFilter) Matches(e UsageEvent) bool {
	switch {
	case f.Environment != "" && e.Environment != f.Environment,
		f.StatusClass != "" && StatusClass(e.Status) != f.StatusClass,
		f.CredentialID != "" && e.CredentialID != f.CredentialID,
		f.Operation != "" && e.Operation != f.Operation,
		!f.From.IsZero() && e.At.Before(f.From),
		!f.To.IsZero() && !e.At.Before(f.To),
		f.After != nil && !(e.At.Before(f.After.At) || (e.At.Equal(f.After.At) && e.ID > f.After.ID)):
		return false
	}
	return true
}

// UsageEvent is one call through the gateway, as the call history shows it. It never holds a
// body or a secret.
type UsageEvent struct {
	ID           string    `json:"id" bson:"_id"`                                    // the gateway's own id for the call
	RequestID    string    `json:"request_id,omitempty" bson:"request_id,omitempty"` // X-Request-Id as answered (the caller's, when well-formed)
	At           time.Time `json:"at" bson:"at"`
	OrgID        string    `json:"org_id" bson:"org_id"`
	CredentialID string    `json:"credential_id" bson:"credential_id"`
	Label        string    `json:"credential_label" bson:"credential_label"`
	Environment  string    `json:"environment" bson:"environment"`
	Product      string    `json:"product" bson:"product"`
	Version      string    `json:"version" bson:"version"`
	Operation    string    `json:"operation" bson:"operation"`
	Method       string    `json:"method" bson:"method"`
	Path         string    `json:"path" bson:"path"`
	Status       int       `json:"status" bson:"status"`
	LatencyMS    float64   `json:"latency_ms" bson:"latency_ms"`
}

// StatusClass is a status's class as the history filters it: "2xx" … "5xx".
func StatusClass(status int) string { return strconv.Itoa(status/100) + "xx" }

// The usage pipeline. A gateway node counts and logs calls in memory and flushes, once a second,
// documents that only it writes (keyed by its node id): its quota counters, its running totals per
// organisation and month, its credentials' use and its pages of the recent-calls log. No call
// costs a write of its own, no two nodes update one document (FerretDB would lose updates, a
// replica set would get a hot document), and readers sum the nodes.

// GatewayNode is one running gateway process. Its id is random per process; it keys every
// document the node writes.
type GatewayNode struct {
	ID        string    `json:"id" bson:"_id"`
	StartedAt time.Time `json:"started_at" bson:"started_at"`
	SeenAt    time.Time `json:"seen_at" bson:"seen_at"` // its last heartbeat
	// Exchange is where the node takes the other nodes' quota totals (UDP host:port); empty: it
	// learns them from the store only.
	Exchange string `json:"exchange,omitempty" bson:"exchange,omitempty"`
}

// UsageMonth is one node's running totals of an organisation's calls in one UTC month. Totals
// only grow, so writing them again (a retried flush) changes nothing.
type UsageMonth struct {
	OrgID string      `json:"org_id" bson:"org_id"`
	Month time.Time   `json:"month" bson:"month"` // midnight of the month's first day, UTC
	Lines []UsageLine `json:"lines" bson:"lines"`
}

// UsageLine is one product in one environment; Product is "" for calls refused before the
// product was known (a revoked key, an unknown product).
type UsageLine struct {
	Product     string      `json:"product" bson:"product"`
	Environment string      `json:"environment" bson:"environment"`
	Days        []UsageHour `json:"days" bson:"days"`   // per UTC day (Hour is its midnight), oldest first
	Hours       []UsageHour `json:"hours" bson:"hours"` // per hour of the last HoursKept, oldest first
	// Operations counts the month's calls per operation and status class.
	Operations []OperationCalls `json:"operations" bson:"operations"`
	// Uses counts the month's calls per version and operation, per UTC day, with the credentials
	// that made them: who calls what, for the impact of a change and the migration dashboard.
	// Calls refused before an operation was matched are not in it.
	Uses []OperationUse `json:"uses,omitempty" bson:"uses,omitempty"`
}

// OperationUse is the calls of one operation of one version: per UTC day, and when each
// credential last made one.
type OperationUse struct {
	Version     string              `json:"version" bson:"version"`
	Operation   string              `json:"operation" bson:"operation"`
	Days        []DayCalls          `json:"days" bson:"days"`               // oldest first
	Credentials []CredentialLastUse `json:"credentials" bson:"credentials"` // by credential id
}

// DayCalls is the calls of one UTC day (Day is its midnight).
type DayCalls struct {
	Day   time.Time `json:"day" bson:"day"`
	Calls int64     `json:"calls" bson:"calls"`
}

// CredentialLastUse is when a credential last made a call (of one operation).
type CredentialLastUse struct {
	CredentialID string    `json:"credential_id" bson:"credential_id"`
	LastAt       time.Time `json:"last_at" bson:"last_at"`
}

// OperationUsage is an organisation's use of one operation of a product's version in one
// environment over a range, summed over the gateway nodes and months: the days in the range with
// calls, and the credentials whose last call of it is in the range.
type OperationUsage struct {
	Environment string `json:"environment"`
	OperationUse
}

// Calls is the calls of the days it holds.
func (u OperationUse) Calls() int64 {
	var n int64
	for _, d := range u.Days {
		n += d.Calls
	}
	return n
}

// LastCall is the latest credential's last call: the operation's last call (zero without one).
func (u OperationUse) LastCall() time.Time {
	var last time.Time
	for _, c := range u.Credentials {
		if c.LastAt.After(last) {
			last = c.LastAt
		}
	}
	return last
}

// SumOperationUsage adds up the nodes' months of product: per version, operation and environment,
// the days that start in [from, to) (from rounded down to its day) and the credentials last used
// in it. Ordered by version, operation and environment; operations without calls in range are
// left out.
func SumOperationUsage(months []UsageMonth, product string, from, to time.Time) []OperationUsage {
	type key struct{ version, operation, env string }
	start := from.UTC().Truncate(24 * time.Hour)
	days := map[key]map[time.Time]int64{}
	creds := map[key]map[string]time.Time{}
	for _, m := range months {
		for _, l := range m.Lines {
			if l.Product != product {
				continue
			}
			for _, u := range l.Uses {
				k := key{u.Version, u.Operation, l.Environment}
				for _, d := range u.Days {
					if d.Day.Before(start) || !d.Day.Before(to) || d.Calls == 0 {
						continue
					}
					if days[k] == nil {
						days[k] = map[time.Time]int64{}
					}
					days[k][d.Day.UTC()] += d.Calls
				}
				for _, c := range u.Credentials {
					if c.LastAt.Before(from) || !c.LastAt.Before(to) {
						continue
					}
					if creds[k] == nil {
						creds[k] = map[string]time.Time{}
					}
					if c.LastAt.After(creds[k][c.CredentialID]) {
						creds[k][c.CredentialID] = c.LastAt.UTC()
					}
				}
			}
		}
	}
	out := make([]OperationUsage, 0, len(days))
	for k, ds := range days {
		u := OperationUsage{Environment: k.env, OperationUse: OperationUse{Version: k.version, Operation: k.operation, Days: make([]DayCalls, 0, len(ds))}}
		for d, n := range ds {
			u.Days = append(u.Days, DayCalls{Day: d, Calls: n})
		}
		slices.SortFunc(u.Days, func(a, b DayCalls) int { return a.Day.Compare(b.Day) })
		for id, at := range creds[k] {
			u.Credentials = append(u.Credentials, CredentialLastUse{CredentialID: id, LastAt: at})
		}
		slices.SortFunc(u.Credentials, func(a, b CredentialLastUse) int { return strings.Compare(a.CredentialID, b.CredentialID) })
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b OperationUsage) int {
		return strings.Compare(a.Version+"\x00"+a.Operation+"\x00"+a.Environment, b.Version+"\x00"+b.Operation+"\x00"+b.Environment)
	})
	return out
}

// HoursKept is how far back usage is kept per hour; older hours are in their day's total.
const HoursKept = 48 * time.Hour

// OperationCalls is the calls of one operation answered in one status class.
type OperationCalls struct {
	Operation   string `json:"operation" bson:"operation"`
	StatusClass string `json:"status_class" bson:"status_class"`
	Calls       int64  `json:"calls" bson:"calls"`
}

// CredentialUse is one node's use of a credential: when it was last used and its calls per
// minute in the last MinutesKept.
type CredentialUse struct {
	CredentialID string        `json:"credential_id" bson:"credential_id"`
	LastUsedAt   time.Time     `json:"last_used_at" bson:"last_used_at"`
	Minutes      []MinuteCalls `json:"minutes" bson:"minutes"` // oldest first
}

// MinutesKept is how far back a credential's calls are kept per minute.
const MinutesKept = 2 * time.Hour

// MinuteCalls is the calls of one minute.
type MinuteCalls struct {
	Minute time.Time `json:"minute" bson:"minute"`
	Calls  int64     `json:"calls" bson:"calls"`
}

// CallPageSize is how many calls one page of the recent-calls log holds: a page is rewritten
// while it fills, and FerretDB holds its one writer lock for the whole document (a page of 250
// took 27–85 ms, long enough to delay the quota counters' writes behind it).
const CallPageSize = 50

// CallPage is one page of a node's recent-calls log of an organisation: calls of one UTC hour,
// errors (status ≥ 400) apart from the others, so a flood of successes never pushes an error
// out of the history. A page only grows until it is full or its hour is over.
type CallPage struct {
	Ref   CallPageRef  `json:"ref" bson:"ref"`
	Calls []UsageEvent `json:"calls" bson:"calls"` // oldest first
}

// CallPageRef names a page and summarises it, so readers fetch only the pages they need.
type CallPageRef struct {
	Open   bool      `json:"open" bson:"open"` // it may still grow; a page that is not open never changes again
	Errors bool      `json:"errors" bson:"errors"`
	Hour   time.Time `json:"hour" bson:"hour"`
	Part   int       `json:"part" bson:"part"`
	Count  int       `json:"count" bson:"count"`
	First  time.Time `json:"first" bson:"first"` // the oldest call's time
	Last   time.Time `json:"last" bson:"last"`   // the newest call's time
}

// Key is the page's name within its organisation's and node's log.
func (r CallPageRef) Key() string {
	kind := "ok"
	if r.Errors {
		kind = "err"
	}
	return kind + ":" + strconv.FormatInt(r.Hour.Unix(), 10) + ":" + strconv.Itoa(r.Part)
}

// UsageHead is one node's index of an organisation's usage: its credentials' use and the pages
// of its recent-calls log.
type UsageHead struct {
	OrgID       string          `json:"org_id" bson:"org_id"`
	UpdatedAt   time.Time       `json:"updated_at" bson:"updated_at"`
	Credentials []CredentialUse `json:"credentials" bson:"credentials"`
	Pages       []CallPageRef   `json:"pages" bson:"pages"` // oldest first
}

// UsageFlush is what one node writes for one organisation at a flush: its index, the months whose
// totals changed, the pages that are new or grew, and the pages that fell out of the log.
type UsageFlush struct {
	Head   UsageHead
	Months []UsageMonth
	Pages  []CallPage
	Drop   []CallPageRef
}

// LegacyNode names, in QuotaCounts, the quota counters every node shared before per-node counting:
// no node writes them any more, so a gateway reads them once per window, and the portal always.
const LegacyNode = ""

// NodeReadMargin widens which nodes readers sum: those seen since the start of what is read,
// less this margin (a node flushes what it counted a moment after counting it).
const NodeReadMargin = 5 * time.Minute

// GatewayUsageStore is what a gateway node writes and reads. It writes only documents keyed by
// its own node id, one flusher at a time, so no document is ever updated concurrently.
type GatewayUsageStore interface {
	// SaveNode records the node's heartbeat.
	SaveNode(ctx context.Context, n GatewayNode) error
	// Nodes lists the nodes seen at or after since.
	Nodes(ctx context.Context, since time.Time) ([]GatewayNode, error)
	// SaveQuotaCounts sets the node's running totals of quota counters (by counter id); a stored
	// total never decreases.
	SaveQuotaCounts(ctx context.Context, node string, totals map[string]int64) error
	// QuotaCounts sums the counters' totals over the given nodes (LegacyNode among them: what
	// the counters shared by all nodes held before per-node counting); missing counters are 0.
	QuotaCounts(ctx context.Context, ids, nodes []string) (map[string]int64, error)
	// SaveUsage writes the node's flush of one organisation: pages first, then months and the head.
	SaveUsage(ctx context.Context, node string, f UsageFlush) error
}

// UsageTotals is an organisation's use of a product in one environment over a time range, summed
// over every gateway node.
type UsageTotals struct {
	Days  []UsageHour `json:"days"`  // per UTC day in range, oldest first, days without calls left out
	Hours []UsageHour `json:"hours"` // per hour in range and within HoursKept, oldest first
}

// UsageReader is what the portal reads of the usage: sums over the documents of every gateway
// node seen (SaveNode) since what is read began, less NodeReadMargin.
type UsageReader interface {
	// Counters returns the quota counters' totals, LegacyNode's included (0 for missing ones);
	// ids are CounterIDs.
	Counters(ctx context.Context, ids []string) (map[string]int64, error)
	// UsageTotals returns the product's daily and hourly calls in env for [from, to).
	UsageTotals(ctx context.Context, orgID, product, env string, from, to time.Time) (UsageTotals, error)
	// UsageMonths returns every node's months of the organisation that overlap [from, to), for
	// SumUsage to total each line from one read (a node's month is one document of every line);
	// without the lines' Uses, which OperationUsage reads.
	UsageMonths(ctx context.Context, orgID string, from, to time.Time) ([]UsageMonth, error)
	// Calls lists the organisation's logged calls that pass the filter, newest first.
	Calls(ctx context.Context, orgID string, f CallFilter) ([]UsageEvent, error)
	// CallsWith counts a credential's calls from the minute of since on.
	CallsWith(ctx context.Context, orgID, credentialID string, since time.Time) (int64, error)
	// LastUsed returns when each of the organisation's credentials was last used.
	LastUsed(ctx context.Context, orgID string) (map[string]time.Time, error)
	// OperationUsage returns, for each of the organisations, its calls of product's operations
	// in [from, to) (SumOperationUsage over every node); organisations without any are absent.
	// It reads documents by id only, a few per organisation, so it can be asked for thousands.
	OperationUsage(ctx context.Context, product string, orgIDs []string, from, to time.Time) (map[string][]OperationUsage, error)
}

// UsageRetention purges the call log.
type UsageRetention interface {
	// PurgeUsage deletes the log's pages of the UTC days before before's day and returns how many
	// calls went.
	PurgeUsage(ctx context.Context, before time.Time) (int64, error)
}

// UsageStore is a whole usage store: what gateways write and read, what the portal reads and
// what the worker purges.
type UsageStore interface {
	GatewayUsageStore
	UsageReader
	UsageRetention
}

// SortNewestFirst orders calls as the history lists them: newest first, then by id.
func SortNewestFirst(calls []UsageEvent) {
	slices.SortFunc(calls, func(a, b UsageEvent) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// LatestUse is when each credential was last used, over the nodes' heads.
func LatestUse(heads []UsageHead) map[string]time.Time {
	out := map[string]time.Time{}
	for _, h := range heads {
		for _, c := range h.Credentials {
			if c.LastUsedAt.After(out[c.CredentialID]) {
				out[c.CredentialID] = c.LastUsedAt
			}
		}
	}
	return out
}

// SumUsage adds up the nodes' months for one product and environment: the days and hours in
// [from, to) (a day or hour counts when it starts in the range, from rounded down to it).
func SumUsage(months []UsageMonth, product, env string, from, to time.Time) UsageTotals {
	days, hours := map[time.Time]*UsageHour{}, map[time.Time]*UsageHour{}
	add := func(into map[time.Time]*UsageHour, h UsageHour, start time.Time) {
		if h.Hour.Before(start) || !h.Hour.Before(to) {
			return
		}
		if into[h.Hour] == nil {
			into[h.Hour] = &UsageHour{Hour: h.Hour.UTC()}
		}
		into[h.Hour].Calls += h.Calls
		into[h.Hour].Errors += h.Errors
	}
	for _, m := range months {
		for _, l := range m.Lines {
			if l.Product != product || l.Environment != env {
				continue
			}
			for _, d := range l.Days {
				add(days, d, from.UTC().Truncate(24*time.Hour))
			}
			for _, h := range l.Hours {
				add(hours, h, from.UTC().Truncate(time.Hour))
			}
		}
	}
	return UsageTotals{Days: sortedUsage(days), Hours: sortedUsage(hours)}
}

func sortedUsage(in map[time.Time]*UsageHour) []UsageHour {
	out := make([]UsageHour, 0, len(in))
	for _, h := range in {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b UsageHour) int { return a.Hour.Compare(b.Hour) })
	return out
}

// CredentialCalls sums the heads' per-minute calls of a credential from since's minute on.
func CredentialCalls(heads []UsageHead, credentialID string, since time.Time) int64 {
	var n int64
	for _, h := range heads {
		for _, c := range h.Credentials {
			if c.CredentialID != credentialID {
				continue
			}
			for _, m := range c.Minutes {
				if !m.Minute.Before(since.Truncate(time.Minute)) {
					n += m.Calls
				}
			}
		}
	}
	return n
}

// CollectCalls reads the call history from the nodes' heads: the pages that may hold matching
// calls, newest first, loaded (load gets the head's index and the page) until the limit is met
// and no page left can hold a newer call.
func CollectCalls(heads []UsageHead, f CallFilter, load func(head int, r CallPageRef) ([]UsageEvent, error)) ([]UsageEvent, error) {
	type candidate struct {
		head int
		ref  CallPageRef
	}
	var pages []candidate
	for i, h := range heads {
		for _, r := range h.Pages {
			if f.mayHold(r) {
				pages = append(pages, candidate{i, r})
			}
		}
	}
	slices.SortFunc(pages, func(a, b candidate) int { return b.ref.Last.Compare(a.ref.Last) })
	out := []UsageEvent{}
	for _, p := range pages {
		if f.Limit > 0 && len(out) >= f.Limit && p.ref.Last.Before(out[f.Limit-1].At) {
			break
		}
		calls, err := load(p.head, p.ref)
		if err != nil {
			return nil, err
		}
		for _, e := range calls {
			if f.Matches(e) {
				out = append(out, e)
			}
		}
		SortNewestFirst(out)
		if f.Limit > 0 && len(out) > f.Limit {
			out = out[:f.Limit]
		}
	}
	return out, nil
}

// mayHold reports whether a page can hold calls that pass the filter, from its summary.
func (f CallFilter) mayHold(r CallPageRef) bool {
	errorsOnly := f.StatusClass == "4xx" || f.StatusClass == "5xx"
	switch {
	case f.StatusClass != "" && r.Errors != errorsOnly,
		!f.From.IsZero() && r.Last.Before(f.From),
		!f.To.IsZero() && !r.First.Before(f.To),
		f.After != nil && r.First.After(f.After.At): // only calls newer than the cursor's
		return false
	}
	return true
}
