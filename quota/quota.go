// Package quota is the service for an organisation's usage against its quotas: the usage lines
// (quota counters and the gateways' totals), the call history, and quota-increase requests
// with the provider's decisions. The numbers are sums over the gateway nodes' own documents,
// which each node flushes every second, so a call shows within about a second.
package quota

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// Assignments lists an organisation's assignments (catalog.Catalog).
type Assignments interface {
	AssignmentsOf(ctx context.Context, orgID string) ([]onramp.Assignment, error)
}

// Notifications lists a page of an organisation's notifications, newest first.
type Notifications interface {
	NotificationsOf(ctx context.Context, orgID string, page onramp.PageRequest) (onramp.Page[onramp.Notification], error)
}

// Config holds the service's dependencies.
type Config struct {
	Policy        onramp.Policy
	Assignments   Assignments
	Usage         onramp.UsageReader
	Requests      onramp.QuotaRequestStore
	Reviews       onramp.QuotaReviews
	Notifications Notifications
	Audit         onramp.AuditLog
	Logger        *slog.Logger
	Now           func() time.Time
}

// Service answers usage questions and runs quota requests.
type Service struct {
	cfg   Config
	audit onramp.Auditor
}

// New fails fast on a missing dependency.
func New(cfg Config) (*Service, error) {
	if cfg.Policy == nil || cfg.Assignments == nil || cfg.Usage == nil || cfg.Requests == nil || cfg.Reviews == nil ||
		cfg.Notifications == nil || cfg.Audit == nil || cfg.Logger == nil {
		return nil, errors.New("quota.New: Policy, Assignments, Usage, Requests, Reviews, Notifications, Audit and Logger are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, audit: onramp.Auditor{Log: cfg.Audit, Logger: cfg.Logger, Now: cfg.Now}}, nil
}

// Line is one product × environment of the organisation's usage.
type Line struct {
	Product     string               `json:"product"`
	Environment string               `json:"environment"`
	Limit       int64                `json:"limit"`
	Period      string               `json:"period"`
	Used        int64                `json:"used"`
	Remaining   int64                `json:"remaining"`
	Percent     float64              `json:"percent"`
	PeriodStart time.Time            `json:"period_start"`
	ResetAt     time.Time            `json:"reset_at"`
	Calls       int64                `json:"calls"`  // every call this period, refused ones too
	Errors      int64                `json:"errors"` // of which answered ≥ 400
	ErrorRate   float64              `json:"error_rate"`
	Alert       int                  `json:"alert,omitempty"` // the highest alert threshold crossed
	RateLimit   *onramp.RateLimit    `json:"rate_limit,omitempty"`
	Today       []onramp.UsageHour   `json:"today"` // hourly, today (UTC)
	Daily       []onramp.UsageHour   `json:"daily"` // daily, this period
	Pending     *onramp.QuotaRequest `json:"pending_request,omitempty"`
}

// ErrorPercent is the error rate in percent, for the page.
func (l Line) ErrorPercent() float64 { return l.ErrorRate * 100 }

// View is the organisation's usage page: its lines, its quota requests and its usage alerts.
type View struct {
	Lines         []Line                `json:"usage"`
	QuotaRequests []onramp.QuotaRequest `json:"quota_requests"`
	Notifications []onramp.Notification `json:"notifications"`
}

// Usage computes the organisation's usage of each assigned product in each of its environments.
func (s *Service) Usage(ctx context.Context, a onramp.Actor, orgID string) (View, error) {
	if _, err := onramp.Authorize(ctx, s.cfg.Policy, a, orgID, onramp.ActionUsageView, onramp.Target{}); err != nil {
		return View{}, err
	}
	now := s.cfg.Now().UTC()
	as, err := s.cfg.Assignments.AssignmentsOf(ctx, orgID)
	if err != nil {
		return View{}, err
	}
	v := View{Lines: []Line{}}
	if v.QuotaRequests, err = s.cfg.Requests.QuotaRequestsOf(ctx, orgID); err != nil {
		return v, err
	}
	pending := map[string]*onramp.QuotaRequest{}
	for i, r := range v.QuotaRequests {
		if r.Status == onramp.QuotaPending {
			pending[r.Product] = &v.QuotaRequests[i]
		}
	}
	var ids []string
	for _, a := range as {
		start, reset := onramp.QuotaPeriod(a.Quota, now)
		for _, env := range a.Environments {
			ids = append(ids, onramp.CounterID(orgID, a.Product, env, start))
			v.Lines = append(v.Lines, Line{Product: a.Product, Environment: env, Limit: a.Quota.Limit, Period: a.Quota.Period,
				PeriodStart: start, ResetAt: reset, RateLimit: a.RateLimit, Pending: pending[a.Product]})
		}
	}
	counters, err := s.cfg.Usage.Counters(ctx, ids)
	if err != nil {
		return v, err
	}
	// Every line's totals from one read of the nodes' months (a node's month holds every line).
	from := now
	for _, l := range v.Lines {
		if l.PeriodStart.Before(from) {
			from = l.PeriodStart
		}
	}
	months, err := s.cfg.Usage.UsageMonths(ctx, orgID, from, now.Add(time.Hour))
	if err != nil {
		return v, err
	}
	for i := range v.Lines {
		s.fill(&v.Lines[i], counters[ids[i]], onramp.SumUsage(months, v.Lines[i].Product, v.Lines[i].Environment, v.Lines[i].PeriodStart, now.Add(time.Hour)), now)
	}
	if v.Notifications, err = s.alerts(ctx, orgID); err != nil {
		return v, err
	}
	return v, nil
}

// fill completes a line with its counter and the period's daily and today's hourly totals.
func (*Service) fill(l *Line, used int64, totals onramp.UsageTotals, now time.Time) {
	l.Used = used
	l.Remaining = max(0, l.Limit-l.Used)
	l.Percent = float64(l.Used) * 100 / float64(l.Limit)
	for _, t := range onramp.AlertThresholds {
		if l.Percent >= float64(t) {
			l.Alert = t
		}
	}
	today := now.Truncate(24 * time.Hour)
	l.Today, l.Daily = []onramp.UsageHour{}, []onramp.UsageHour{}
	for d := l.PeriodStart; !d.After(today); d = d.AddDate(0, 0, 1) {
		l.Daily = append(l.Daily, onramp.UsageHour{Hour: d})
	}
	for _, d := range totals.Days {
		l.Calls, l.Errors = l.Calls+d.Calls, l.Errors+d.Errors
		if day := int(d.Hour.Sub(l.PeriodStart).Hours()) / 24; day >= 0 && day < len(l.Daily) {
			l.Daily[day].Calls += d.Calls
			l.Daily[day].Errors += d.Errors
		}
	}
	for _, h := range totals.Hours {
		if !h.Hour.Before(today) {
			l.Today = append(l.Today, h)
		}
	}
	if l.Calls > 0 {
		l.ErrorRate = float64(l.Errors) / float64(l.Calls)
	}
}

// alerts are the usage notifications among the organisation's newest (the first page of them).
func (s *Service) alerts(ctx context.Context, orgID string) ([]onramp.Notification, error) {
	notes, err := s.cfg.Notifications.NotificationsOf(ctx, orgID, onramp.PageRequest{Limit: onramp.DefaultPageLimit})
	if err != nil {
		return nil, err
	}
	out := []onramp.Notification{}
	for _, n := range notes.Items {
		if strings.Contains(n.Link, "/usage") {
			out = append(out, n)
		}
	}
	return out, nil
}

// Calls lists the organisation's calls that pass the filter, newest first.
func (s *Service) Calls(ctx context.Context, a onramp.Actor, orgID string, f onramp.CallFilter) ([]onramp.UsageEvent, error) {
	if _, err := onramp.Authorize(ctx, s.cfg.Policy, a, orgID, onramp.ActionUsageView, onramp.Target{}); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return s.cfg.Usage.Calls(ctx, orgID, f)
}

// CallPage is one page of the calls that pass the filter (f.Limit of them, DefaultPageLimit
// unless set), newest first from f.After, with the cursor of the next page when there is one.
// EINVALID for a limit above MaxPageLimit.
func (s *Service) CallPage(ctx context.Context, a onramp.Actor, orgID string, f onramp.CallFilter) (onramp.Page[onramp.UsageEvent], error) {
	if f.Limit == 0 {
		f.Limit = onramp.DefaultPageLimit
	}
	if f.Limit < 0 || f.Limit > onramp.MaxPageLimit {
		return onramp.Page[onramp.UsageEvent]{}, onramp.Errorf(onramp.EINVALID, "limit %d must be from 1 to %d", f.Limit, onramp.MaxPageLimit)
	}
	limit := f.Limit
	f.Limit++ // a call more than the page tells whether there is a next one
	events, err := s.Calls(ctx, a, orgID, f)
	p := onramp.Page[onramp.UsageEvent]{Items: events}
	if len(events) > limit {
		p.Items = events[:limit]
		p.Next = onramp.CallCursorOf(p.Items[limit-1])
	}
	return p, err
}

// MayRequest reports whether the actor may ask for more quota in orgID (the page's form).
func (s *Service) MayRequest(ctx context.Context, a onramp.Actor, orgID string) bool {
	m, ok := a.In(orgID)
	return ok && onramp.Allows(ctx, s.cfg.Policy, m.Role, onramp.ActionQuotaRequest, onramp.Target{})
}

// Increase is what a member asks for.
type Increase struct {
	Product       string `json:"product"`
	NewLimit      int64  `json:"new_limit"`
	Justification string `json:"justification"`
}

// RequestIncrease starts the provider's review of a quota increase and returns the request as
// its workflow recorded it. ENOTFOUND for a product the organisation does not have, EINVALID
// for a limit not above the current one or no justification, ECONFLICT while another request
// for the product waits (the review's workflow id is the guard).
func (s *Service) RequestIncrease(ctx context.Context, a onramp.Actor, orgID string, in Increase) (onramp.QuotaRequest, error) {
	if _, err := onramp.Authorize(ctx, s.cfg.Policy, a, orgID, onramp.ActionQuotaRequest, onramp.Target{}); err != nil {
		return onramp.QuotaRequest{}, err
	}
	as, err := s.cfg.Assignments.AssignmentsOf(ctx, orgID)
	if err != nil {
		return onramp.QuotaRequest{}, err
	}
	var asg *onramp.Assignment
	for i := range as {
		if as[i].Product == in.Product {
			asg = &as[i]
		}
	}
	if asg == nil {
		return onramp.QuotaRequest{}, onramp.Errorf(onramp.ENOTFOUND, "no product %q for your organisation; ask for one of the products on your usage page", in.Product)
	}
	now := s.cfg.Now()
	r := onramp.QuotaRequest{ID: onramp.NewID("qr"), OrgID: orgID, Product: asg.Product, Period: asg.Quota.Period,
		CurrentLimit: asg.Quota.Limit, RequestedLimit: in.NewLimit, Justification: strings.TrimSpace(in.Justification),
		Status: onramp.QuotaPending, RequestedBy: a.Email, CreatedAt: now, UpdatedAt: now}
	if err := r.Validate(); err != nil {
		return r, err
	}
	// Answers once the review's workflow has stored the request (Update-with-Start).
	if err := s.cfg.Reviews.StartQuotaReview(ctx, r); err != nil {
		return r, err
	}
	s.audit.Record(ctx, orgID, a.Email, "quota.requested", asg.Product, strconv.FormatInt(r.CurrentLimit, 10)+" → "+strconv.FormatInt(r.RequestedLimit, 10)+" per "+r.Period)
	return s.cfg.Requests.FindQuotaRequest(ctx, r.ID)
}

// Requests lists the organisation's quota requests, newest first.
func (s *Service) Requests(ctx context.Context, a onramp.Actor, orgID string) ([]onramp.QuotaRequest, error) {
	if _, err := onramp.Authorize(ctx, s.cfg.Policy, a, orgID, onramp.ActionUsageView, onramp.Target{}); err != nil {
		return nil, err
	}
	return s.cfg.Requests.QuotaRequestsOf(ctx, orgID)
}

// Queue returns, for the provider, a page of the quota requests in one of the statuses (default:
// pending), oldest first. EINVALID for a bad page.
func (s *Service) Queue(ctx context.Context, a onramp.Actor, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.QuotaRequest], error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Page[onramp.QuotaRequest]{}, err
	}
	if len(statuses) == 0 {
		statuses = []string{onramp.QuotaPending}
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.QuotaRequest]{}, err
	}
	return s.cfg.Requests.QuotaRequestsIn(ctx, statuses, page)
}

// Quota decisions.
const (
	Approve = "approve"
	Reject  = "reject"
)

// Decide approves (the asked limit, or d.Limit) or rejects (with the reason the partner reads)
// a quota request, as the provider. ENOTFOUND for an unknown request or action, EINVALID for a
// bad limit or no reason, ECONFLICT for a request decided already.
func (s *Service) Decide(ctx context.Context, a onramp.Actor, id, action string, d onramp.QuotaDecision) (onramp.QuotaRequest, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.QuotaRequest{}, err
	}
	switch {
	case action != Approve && action != Reject:
		return onramp.QuotaRequest{}, onramp.Errorf(onramp.ENOTFOUND, "unknown action %q; use approve or reject", action)
	case action == Approve && d.Limit < 0:
		return onramp.QuotaRequest{}, onramp.Errorf(onramp.EINVALID, "limit must be positive (or left out to grant what was asked)")
	case action == Reject && strings.TrimSpace(d.Reason) == "":
		return onramp.QuotaRequest{}, onramp.Errorf(onramp.EINVALID, "give the reason the partner will read (reason)")
	}
	if strings.TrimSpace(d.By) == "" {
		d.By = a.Email
	}
	r, err := s.cfg.Requests.FindQuotaRequest(ctx, id)
	if err != nil {
		return r, err
	}
	if err := s.cfg.Reviews.DecideQuota(ctx, r, action, d); err != nil {
		return r, err
	}
	return s.cfg.Requests.FindQuotaRequest(ctx, id)
}
