package onramp

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RateLimit bounds one credential's calls: a token bucket refilled at PerSecond, holding Burst.
type RateLimit struct {
	PerSecond float64 `json:"per_second" bson:"per_second" yaml:"per_second"`
	Burst     int     `json:"burst" bson:"burst" yaml:"burst"`
}

// Validate returns EINVALID when the rate or the burst is not positive.
func (r RateLimit) Validate() error {
	if r.PerSecond <= 0 || r.Burst < 1 {
		return Errorf(EINVALID, "rate_limit needs a positive per_second and a burst of at least 1 (got %g/s, burst %d)", r.PerSecond, r.Burst)
	}
	return nil
}

// QuotaPeriod returns a quota's window at now: its start and its reset time (UTC).
func QuotaPeriod(q Quota, now time.Time) (start, reset time.Time) {
	now = now.UTC()
	if q.Period == "day" {
		start = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1)
	}
	start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// CounterID names the quota counter of an organisation's product in one environment and window.
func CounterID(orgID, product, env string, start time.Time) string {
	return orgID + ":" + product + ":" + env + ":" + strconv.FormatInt(start.Unix(), 10)
}

// AlertThresholds are the shares of a quota (in %) at which the organisation is warned, once each.
var AlertThresholds = []int{80, 95}

// QuotaAlert says an organisation's use of a product crossed a threshold in one window.
type QuotaAlert struct {
	OrgID       string    `json:"org_id"`
	Product     string    `json:"product"`
	Environment string    `json:"environment"`
	Threshold   int       `json:"threshold"` // percent
	Limit       int64     `json:"limit"`
	Period      string    `json:"period"`
	PeriodStart time.Time `json:"period_start"`
	ResetAt     time.Time `json:"reset_at"`
}

// Key identifies the alert: one per organisation × product × environment × window × threshold.
// It is the alert workflow's id and its notification's id, so the alert is raised exactly once.
func (a QuotaAlert) Key() string {
	return "quota-alert-" + strings.Join([]string{a.OrgID, a.Product, a.Environment, strconv.FormatInt(a.PeriodStart.Unix(), 10), strconv.Itoa(a.Threshold)}, "-")
}

// QuotaAlerts raises quota alerts (lifecycles.Temporal); raising one already raised does nothing.
type QuotaAlerts interface {
	RaiseQuotaAlert(ctx context.Context, a QuotaAlert) error
}

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
		f.StatusClass != "" && strconv.Itoa(e.Status/100)+"xx" != f.StatusClass,
		f.CredentialID != "" && e.CredentialID != f.CredentialID,
		f.Operation != "" && e.Operation != f.Operation,
		!f.From.IsZero() && e.At.Before(f.From),
		!f.To.IsZero() && !e.At.Before(f.To),
		f.After != nil && !(e.At.Before(f.After.At) || (e.At.Equal(f.After.At) && e.ID > f.After.ID)):
		return false
	}
	return true
}

// Quota request statuses.
const (
	QuotaPending  = "pending"
	QuotaApproved = "approved"
	QuotaRejected = "rejected"
)

// QuotaRequest asks for a higher quota on one product; a QuotaIncreaseReview workflow decides it.
type QuotaRequest struct {
	ID             string    `json:"id" bson:"_id"`
	OrgID          string    `json:"org_id" bson:"org_id"`
	Product        string    `json:"product" bson:"product"`
	Period         string    `json:"period" bson:"period"`
	CurrentLimit   int64     `json:"current_limit" bson:"current_limit"`
	RequestedLimit int64     `json:"requested_limit" bson:"requested_limit"`
	Justification  string    `json:"justification" bson:"justification"`
	Status         string    `json:"status" bson:"status"`
	ApprovedLimit  int64     `json:"approved_limit,omitempty" bson:"approved_limit,omitempty"`
	Reason         string    `json:"reason,omitempty" bson:"reason,omitempty"` // why it was rejected
	RequestedBy    string    `json:"requested_by" bson:"requested_by"`
	DecidedBy      string    `json:"decided_by,omitempty" bson:"decided_by,omitempty"`
	CreatedAt      time.Time `json:"created_at" bson:"created_at"`
	UpdatedAt      time.Time `json:"updated_at" bson:"updated_at"`
}

// Validate returns EINVALID naming what to fix.
func (r QuotaRequest) Validate() error {
	if r.RequestedLimit <= r.CurrentLimit {
		return Errorf(EINVALID, "ask for more than the current %d calls per %s (new_limit)", r.CurrentLimit, r.Period)
	}
	if strings.TrimSpace(r.Justification) == "" {
		return Errorf(EINVALID, "say why you need it (justification): expected traffic, launch date, use case")
	}
	if len(r.Justification) > 2000 {
		return Errorf(EINVALID, "keep the justification under 2000 characters")
	}
	return nil
}

// QuotaRequestStore keeps quota requests (the read model the review workflow writes).
type QuotaRequestStore interface {
	// SaveQuotaRequest upserts r by ID.
	SaveQuotaRequest(ctx context.Context, r QuotaRequest) error
	// FindQuotaRequest returns ENOTFOUND for an unknown id.
	FindQuotaRequest(ctx context.Context, id string) (QuotaRequest, error)
	// QuotaRequestsOf lists an organisation's requests, newest first.
	QuotaRequestsOf(ctx context.Context, orgID string) ([]QuotaRequest, error)
	// QuotaRequestsIn returns a page of the requests in one of the statuses, oldest first
	// (QueuePosition order).
	QuotaRequestsIn(ctx context.Context, statuses []string, page PageRequest) (Page[QuotaRequest], error)
}

// Position is where r sits in its organisation's list: newest first.
func (r QuotaRequest) Position() Position { return Position{Key: NewestFirst(r.CreatedAt), ID: r.ID} }

// QueuePosition is where r sits in the review queue: oldest first.
func (r QuotaRequest) QueuePosition() Position {
	return Position{Key: OldestFirst(r.CreatedAt), ID: r.ID}
}

// QuotaDecision is an admin's answer to a quota request: approve (Limit: another value than
// asked, or 0 for the asked one) or reject (Reason).
type QuotaDecision struct {
	By     string `json:"by"`
	Limit  int64  `json:"limit,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// QuotaReviews runs quota-increase reviews (lifecycles.Temporal).
type QuotaReviews interface {
	// StartQuotaReview starts the review of a request, which the workflow stores as pending.
	StartQuotaReview(ctx context.Context, r QuotaRequest) error
	// StartQuotaReview fails with ECONFLICT while another request of the product is pending.
	// DecideQuota approves or rejects r and waits until it is applied; ECONFLICT when r is decided
	// already or the workflow refuses the decision.
	DecideQuota(ctx context.Context, r QuotaRequest, action string, d QuotaDecision) error
}
