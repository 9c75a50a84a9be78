package onramp

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Quotas: what a grant allows per period, the windows and counters the gateways keep, the
// alerts at its thresholds, and the partner's requests for more with the provider's decisions.

// Quota is a number of requests per period.
type Quota struct {
	Limit  int64  `json:"limit" bson:"limit" yaml:"limit"`
	Period string `json:"period" bson:"period" yaml:"period"` // "day" or "month"
}

// Validate returns EINVALID when the limit is not positive or the period unknown.
func (q Quota) Validate() error {
	if q.Limit <= 0 || (q.Period != "day" && q.Period != "month") {
		return Errorf(EINVALID, "quota needs a positive limit and a period of day or month (got %d per %q)", q.Limit, q.Period)
	}
	return nil
}

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
