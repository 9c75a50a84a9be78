// Package production is the service for production access: the partner's request (a draft they
// edit, then submit), its timeline, and the provider's review — the queue with its SLA
// countdowns, compliance, and decisions with grants narrower than asked. The review itself is a
// Temporal workflow (onramp.Reviews); this service decides what may be asked of it.
package production

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onramp-dev/onramp"
)

// Plans is what the service needs of the catalog: the plans and their products.
type Plans interface {
	Plans(ctx context.Context) ([]onramp.Plan, error)
}

// Config holds the service's dependencies.
type Config struct {
	Policy        onramp.Policy
	Requests      onramp.ProductionRequestStore
	Reviews       onramp.Reviews
	Plans         Plans
	Organizations onramp.OrganizationStore // names in the provider's queue
	Onboarding    onramp.OnboardingStore   // notifications
	Now           func() time.Time
}

// Service handles production requests and their review.
type Service struct {
	cfg   Config
	names sync.Map // organisation id → name, for the queues (see OrgNames)
	named atomic.Int64
}

// New fails fast on a missing dependency.
func New(cfg Config) (*Service, error) {
	if cfg.Policy == nil || cfg.Requests == nil || cfg.Reviews == nil || cfg.Plans == nil || cfg.Organizations == nil || cfg.Onboarding == nil {
		return nil, errors.New("production.New: Policy, Requests, Reviews, Plans, Organizations and Onboarding are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}, nil
}

// Form is what a partner fills in; Apply normalises it into a request.
type Form struct {
	LegalName        string                    `json:"legal_name"`
	Country          string                    `json:"country"`
	Website          string                    `json:"website"`
	TechnicalContact string                    `json:"technical_contact"`
	SecurityContact  string                    `json:"security_contact"`
	Products         []onramp.RequestedProduct `json:"products"`
	WebhookURLs      []string                  `json:"webhook_urls"`
	UseCase          string                    `json:"use_case"`
}

func (f Form) apply(r *onramp.ProductionRequest) {
	r.LegalName, r.Country, r.Website = strings.TrimSpace(f.LegalName), strings.ToUpper(strings.TrimSpace(f.Country)), strings.TrimSpace(f.Website)
	r.TechnicalContact, r.SecurityContact = strings.ToLower(strings.TrimSpace(f.TechnicalContact)), strings.ToLower(strings.TrimSpace(f.SecurityContact))
	r.Products, r.WebhookURLs, r.UseCase = f.Products, []string{}, strings.TrimSpace(f.UseCase)
	for _, w := range f.WebhookURLs {
		if w = strings.TrimSpace(w); w != "" {
			r.WebhookURLs = append(r.WebhookURLs, w)
		}
	}
	if r.Products == nil {
		r.Products = []onramp.RequestedProduct{}
	}
}

// FormOf is the form a request was made from (to edit a draft).
func FormOf(r onramp.ProductionRequest) Form {
	return Form{LegalName: r.LegalName, Country: r.Country, Website: r.Website, TechnicalContact: r.TechnicalContact,
		SecurityContact: r.SecurityContact, Products: r.Products, WebhookURLs: r.WebhookURLs, UseCase: r.UseCase}
}

func (s *Service) authorize(ctx context.Context, a onramp.Actor, orgID string, action onramp.Action) (onramp.Membership, error) {
	return onramp.Authorize(ctx, s.cfg.Policy, a, orgID, action, onramp.Target{})
}

// Can reports whether a may request production access for orgID.
func (s *Service) Can(ctx context.Context, a onramp.Actor, orgID string) bool {
	_, err := s.authorize(ctx, a, orgID, onramp.ActionProductionRequest)
	return err == nil
}

// orgRequest returns one of the organisation's requests; ENOTFOUND for another's.
func (s *Service) orgRequest(ctx context.Context, orgID, id string) (onramp.ProductionRequest, error) {
	r, err := s.cfg.Requests.FindProductionRequest(ctx, id)
	return onramp.Owned(r, err, func(r onramp.ProductionRequest) string { return r.OrgID }, orgID, "production request", id)
}

// Requests lists the organisation's requests, newest first (any member may follow them).
func (s *Service) Requests(ctx context.Context, a onramp.Actor, orgID string) ([]onramp.ProductionRequest, error) {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionCatalogView); err != nil {
		return nil, err
	}
	return s.cfg.Requests.ProductionRequestsOf(ctx, orgID)
}

// Request returns one of the organisation's requests; ENOTFOUND for another's.
func (s *Service) Request(ctx context.Context, a onramp.Actor, orgID, id string) (onramp.ProductionRequest, error) {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionCatalogView); err != nil {
		return onramp.ProductionRequest{}, err
	}
	return s.orgRequest(ctx, orgID, id)
}

// SaveDraft creates (id "") or edits a request; only drafts and requests sent back for changes
// can be edited (ECONFLICT otherwise).
func (s *Service) SaveDraft(ctx context.Context, a onramp.Actor, orgID, id string, f Form) (onramp.ProductionRequest, error) {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionProductionRequest); err != nil {
		return onramp.ProductionRequest{}, err
	}
	r := onramp.ProductionRequest{ID: onramp.NewID("prq"), OrgID: orgID, Status: onramp.RequestDraft, History: []onramp.StatusChange{},
		CreatedAt: s.cfg.Now(), CreatedBy: a.Email}
	if id != "" {
		var err error
		if r, err = s.orgRequest(ctx, orgID, id); err != nil {
			return r, err
		}
		if r.Status != onramp.RequestDraft && r.Status != onramp.RequestChangesRequested {
			return r, onramp.Errorf(onramp.ECONFLICT, "the request is %s and can no longer be edited; submit a new one if needed", r.Status)
		}
	}
	f.apply(&r)
	return r, s.cfg.Requests.SaveProductionRequest(ctx, r)
}

// Submit validates the request (EINVALID listing every field to fix) and starts its review, or
// resubmits it after changes; ECONFLICT when it is already submitted.
func (s *Service) Submit(ctx context.Context, a onramp.Actor, orgID, id string) (onramp.ProductionRequest, error) {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionProductionRequest); err != nil {
		return onramp.ProductionRequest{}, err
	}
	r, err := s.orgRequest(ctx, orgID, id)
	if err != nil {
		return r, err
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	if err := s.checkRequestedProducts(ctx, r); err != nil {
		return r, err
	}
	switch r.Status {
	case onramp.RequestDraft:
		err = s.cfg.Reviews.StartReview(ctx, r)
	case onramp.RequestChangesRequested:
		err = s.cfg.Reviews.Review(ctx, r.ID, "resubmit", onramp.ReviewDecision{By: a.Email})
	default:
		err = onramp.Errorf(onramp.ECONFLICT, "the request is already %s", r.Status)
	}
	if err != nil {
		return r, err
	}
	// The review has recorded "received" by the time StartReview and Review return.
	return s.cfg.Requests.FindProductionRequest(ctx, id)
}

// checkRequestedProducts refuses products or plans that do not exist, naming what does.
func (s *Service) checkRequestedProducts(ctx context.Context, r onramp.ProductionRequest) error {
	plans, err := s.cfg.Plans.Plans(ctx)
	if err != nil {
		return err
	}
	for i, p := range r.Products {
		ok := false
		var names []string
		for _, pl := range plans {
			names = append(names, pl.Name)
			if _, has := pl.Products[p.Product]; has && pl.Name == p.Plan {
				ok = true
			}
		}
		if !ok {
			return &onramp.Error{Code: onramp.EINVALID, Message: "a requested product is not offered on that plan",
				Details: []onramp.ErrorDetail{{Location: "products[" + strconv.Itoa(i) + "]", Message: p.Product + " is not on plan " + p.Plan + "; plans: " + strings.Join(names, ", ")}}}
		}
	}
	return nil
}

// Notifications returns a page of the organisation's notifications, newest first (any member).
// EINVALID for a bad page.
func (s *Service) Notifications(ctx context.Context, a onramp.Actor, orgID string, page onramp.PageRequest) (onramp.Page[onramp.Notification], error) {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionCatalogView); err != nil {
		return onramp.Page[onramp.Notification]{}, err
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Notification]{}, err
	}
	return s.cfg.Onboarding.NotificationsOf(ctx, orgID, page)
}

// Choices are the products of the organisation's plan a request can ask for, sorted.
func (s *Service) Choices(ctx context.Context, org onramp.Organization) ([]onramp.RequestedProduct, error) {
	plans, err := s.cfg.Plans.Plans(ctx)
	if err != nil {
		return nil, err
	}
	var out []onramp.RequestedProduct
	for _, pl := range plans {
		if pl.Name != org.Tier {
			continue
		}
		for _, slug := range slices.Sorted(maps.Keys(pl.Products)) {
			out = append(out, onramp.RequestedProduct{Product: slug, Plan: pl.Name})
		}
	}
	return out, nil
}

// Provider side.

// QueueItem is a request in the review queue, with its organisation's name and SLA countdown.
type QueueItem struct {
	onramp.ProductionRequest
	OrgName   string `json:"org_name"`
	DueIn     string `json:"due_in"` // "due in 3h12m", or "overdue by 20m"
	Breached  bool   `json:"sla_breached"`
	DueSecond int64  `json:"due_in_seconds"` // negative once breached
}

// Compliance is how many decided requests met their SLA.
type Compliance struct {
	Decided int64   `json:"decided"`
	OnTime  int64   `json:"on_time"`
	Percent float64 `json:"percent"`
}

// Statuses of the queue: waiting for a decision, and decided.
var (
	OpenStatuses    = onramp.OpenRequestStatuses
	DecidedStatuses = onramp.DecidedRequestStatuses
)

var requestStatuses = []string{onramp.RequestDraft, onramp.RequestReceived, onramp.RequestInReview, onramp.RequestApproved, onramp.RequestRejected, onramp.RequestChangesRequested}

// Queue returns a page of the requests in statuses, soonest due first, with their countdowns.
// EINVALID for an unknown status or a bad page.
func (s *Service) Queue(ctx context.Context, a onramp.Actor, statuses []string, page onramp.PageRequest) (onramp.Page[QueueItem], error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Page[QueueItem]{}, err
	}
	for _, st := range statuses {
		if !slices.Contains(requestStatuses, st) {
			return onramp.Page[QueueItem]{}, onramp.Errorf(onramp.EINVALID, "status %q is unknown; use %s", st, strings.Join(requestStatuses, ", "))
		}
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[QueueItem]{}, err
	}
	rs, err := s.cfg.Requests.ProductionRequests(ctx, statuses, page)
	if err != nil {
		return onramp.Page[QueueItem]{}, err
	}
	ids := make([]string, len(rs.Items))
	for i, r := range rs.Items {
		ids[i] = r.OrgID
	}
	names := s.OrgNames(ctx, ids)
	now := s.cfg.Now()
	return onramp.MapPage(rs, func(r onramp.ProductionRequest) QueueItem {
		q := QueueItem{ProductionRequest: r, OrgName: names[r.OrgID]}
		if r.SLADue != nil {
			// Breached and the seconds come from the exact time left, not the minute shown: a
			// request 29 s past due was shown as not breached, though a decision then is late.
			left := r.SLADue.Sub(now)
			q.DueSecond, q.Breached = int64(math.Floor(left.Seconds())), left < 0
			shown := left.Round(time.Minute)
			q.DueIn = "due in " + shown.String()
			if q.Breached {
				q.DueIn = "overdue by " + max(-shown, time.Minute).String()
			}
		}
		return q
	}), nil
}

// Compliance is the share of decided requests whose decision came by their SLA due time, from
// the counters the store keeps as requests are decided (no request is read).
func (s *Service) Compliance(ctx context.Context, a onramp.Actor) (Compliance, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return Compliance{}, err
	}
	c, err := s.cfg.Requests.SLACompliance(ctx)
	return Compliance{Decided: c.Decided, OnTime: c.OnTime, Percent: c.Percent()}, err
}

// OrgNames names the organisations of ids for the provider's queues (an unknown one has none).
func (s *Service) OrgNames(ctx context.Context, ids []string) map[string]string {
	names := map[string]string{}
	for _, id := range ids {
		if _, ok := names[id]; ok {
			continue
		}
		if n, ok := s.names.Load(id); ok {
			names[id] = n.(string)
			continue
		}
		if o, err := s.cfg.Organizations.FindOrganization(ctx, id); err == nil {
			names[id] = o.Name
			if s.named.Load() < maxNamesCached {
				s.names.Store(id, o.Name)
				s.named.Add(1)
			}
		}
	}
	return names
}

// maxNamesCached bounds OrgNames' cache: an organisation's name is set when it is invited and
// nothing changes it, so a cached name is never stale, and the queues' pages (five lists of up to
// 50) read only the names they have not seen — each an organisation document read.
const maxNamesCached = 100_000

// AdminRequest returns any request for the provider; ENOTFOUND for an unknown id.
func (s *Service) AdminRequest(ctx context.Context, a onramp.Actor, id string) (onramp.ProductionRequest, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.ProductionRequest{}, err
	}
	return s.cfg.Requests.FindProductionRequest(ctx, id)
}

// Decision is a reviewer's action. An approval grants what was asked unless Grants, or Scopes and
// Quota, narrow it (onramp.Approval); neither may go beyond the request.
type Decision struct {
	By, Reason, Changes string
	Grants              []onramp.ApprovedProduct
	Scopes              []string
	Quota               *onramp.Quota
}

var reviewActions = map[string]bool{"claim": true, "approve": true, "reject": true, "request-changes": true}

// Review takes a reviewer's action and returns the request as recorded. ENOTFOUND for an unknown
// action or request, EINVALID (naming the field) for an approval wider than the request or an
// invalid quota, ECONFLICT (with the workflow's reason) when the action is not possible now.
func (s *Service) Review(ctx context.Context, a onramp.Actor, id, action string, d Decision) (onramp.ProductionRequest, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.ProductionRequest{}, err
	}
	if !reviewActions[action] {
		return onramp.ProductionRequest{}, onramp.Errorf(onramp.ENOTFOUND, "unknown action %q; use claim, approve, reject or request-changes", action)
	}
	r, err := s.cfg.Requests.FindProductionRequest(ctx, id)
	if err != nil {
		return r, err
	}
	if r.Status == onramp.RequestDraft {
		return r, onramp.Errorf(onramp.ECONFLICT, "the request is a draft the partner has not submitted")
	}
	grants, err := s.narrowed(ctx, r, action, d)
	if err != nil {
		return r, err
	}
	by := strings.TrimSpace(d.By)
	if by == "" {
		by = a.Email
	}
	if err := s.cfg.Reviews.Review(ctx, id, action, onramp.ReviewDecision{By: by, Reason: d.Reason, Changes: d.Changes, Grants: grants}); err != nil {
		return r, err
	}
	return s.cfg.Requests.FindProductionRequest(ctx, id)
}

// narrowed is what an approval grants: nil for what was asked, or the reviewer's narrowing of it
// under onramp.ProductionRequest.Narrow, the rule the review's grant applies again (a Signal from
// the Web UI reaches it without this service), so the portal refuses here, naming the field.
func (s *Service) narrowed(ctx context.Context, r onramp.ProductionRequest, action string, d Decision) ([]onramp.ApprovedProduct, error) {
	if action != "approve" || (len(d.Grants) == 0 && len(d.Scopes) == 0 && d.Quota == nil) {
		return nil, nil
	}
	plans, err := s.cfg.Plans.Plans(ctx)
	if err != nil {
		return nil, err
	}
	return r.Narrow(plans, onramp.Approval{Grants: d.Grants, Scopes: d.Scopes, Quota: d.Quota})
}

// ProviderNotifications returns a page of the provider's own notifications (reminders,
// escalations), newest first.
func (s *Service) ProviderNotifications(ctx context.Context, a onramp.Actor, page onramp.PageRequest) (onramp.Page[onramp.Notification], error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Page[onramp.Notification]{}, err
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Notification]{}, err
	}
	return s.cfg.Onboarding.NotificationsOf(ctx, onramp.ProviderInbox, page)
}
