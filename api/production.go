package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

// Production access: the partner's request form and timeline, and the provider's review queue.
// The review itself is a Temporal workflow; the portal starts it and sends its actions as Updates,
// so an invalid action (approving a rejected request) comes back as a 409 with the reason.

type productionRequestBody struct {
	LegalName        string                    `json:"legal_name"`
	Country          string                    `json:"country"`
	Website          string                    `json:"website"`
	TechnicalContact string                    `json:"technical_contact"`
	SecurityContact  string                    `json:"security_contact"`
	Products         []onramp.RequestedProduct `json:"products"`
	WebhookURLs      []string                  `json:"webhook_urls"`
	UseCase          string                    `json:"use_case"`
}

func (b productionRequestBody) apply(r *onramp.ProductionRequest) {
	r.LegalName, r.Country, r.Website = strings.TrimSpace(b.LegalName), strings.ToUpper(strings.TrimSpace(b.Country)), strings.TrimSpace(b.Website)
	r.TechnicalContact, r.SecurityContact = strings.ToLower(strings.TrimSpace(b.TechnicalContact)), strings.ToLower(strings.TrimSpace(b.SecurityContact))
	r.Products, r.WebhookURLs, r.UseCase = b.Products, nil, strings.TrimSpace(b.UseCase)
	for _, w := range b.WebhookURLs {
		if w = strings.TrimSpace(w); w != "" {
			r.WebhookURLs = append(r.WebhookURLs, w)
		}
	}
	if r.Products == nil {
		r.Products = []onramp.RequestedProduct{}
	}
	if r.WebhookURLs == nil {
		r.WebhookURLs = []string{}
	}
}

func newRequestID() string { return onramp.NewID("prq") }

// orgRequest returns one of the organisation's requests; ENOTFOUND for another's.
func (s *Server) orgRequest(ctx context.Context, orgID, id string) (onramp.ProductionRequest, error) {
	r, err := s.cfg.Requests.FindProductionRequest(ctx, id)
	return onramp.Owned(r, err, func(r onramp.ProductionRequest) string { return r.OrgID }, orgID, "production request", id)
}

// saveDraft creates (id "") or edits a request; only drafts and requests sent back for changes
// can be edited.
func (s *Server) saveDraft(ctx context.Context, p Principal, orgID, id string, b productionRequestBody) (onramp.ProductionRequest, error) {
	if _, err := s.authorize(ctx, p, orgID, onramp.ActionProductionRequest, onramp.Target{}); err != nil {
		return onramp.ProductionRequest{}, err
	}
	r := onramp.ProductionRequest{ID: newRequestID(), OrgID: orgID, Status: onramp.RequestDraft, History: []onramp.StatusChange{},
		CreatedAt: s.cfg.Now(), CreatedBy: p.Email}
	if id != "" {
		var err error
		if r, err = s.orgRequest(ctx, orgID, id); err != nil {
			return r, err
		}
		if r.Status != onramp.RequestDraft && r.Status != onramp.RequestChangesRequested {
			return r, onramp.Errorf(onramp.ECONFLICT, "the request is %s and can no longer be edited; submit a new one if needed", r.Status)
		}
	}
	b.apply(&r)
	return r, s.cfg.Requests.SaveProductionRequest(ctx, r)
}

// submit validates the request and starts its review (or resubmits it after changes).
func (s *Server) submit(ctx context.Context, p Principal, orgID, id string) (onramp.ProductionRequest, error) {
	if _, err := s.authorize(ctx, p, orgID, onramp.ActionProductionRequest, onramp.Target{}); err != nil {
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
	before := len(r.History)
	switch r.Status {
	case onramp.RequestDraft:
		err = s.cfg.Reviews.StartReview(ctx, r)
	case onramp.RequestChangesRequested:
		err = s.cfg.Reviews.Review(ctx, r.ID, "resubmit", onramp.ReviewDecision{By: p.Email})
	default:
		err = onramp.Errorf(onramp.ECONFLICT, "the request is already %s", r.Status)
	}
	if err != nil {
		return r, err
	}
	// The workflow records "received" in a moment; answer with it when it is there.
	awaitRecorded(ctx, 3*time.Second, func() bool {
		r, err = s.cfg.Requests.FindProductionRequest(ctx, id)
		return err == nil && len(r.History) > before
	})
	return r, err
}

// checkRequestedProducts refuses products or plans that do not exist, naming what does.
func (s *Server) checkRequestedProducts(ctx context.Context, r onramp.ProductionRequest) error {
	plans, err := s.cfg.Catalog.Plans(ctx)
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

func (s *Server) apiProductionRequests(c *gin.Context) {
	m, err := s.catalogOrg(c, c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	rs, err := s.cfg.Requests.ProductionRequestsOf(c.Request.Context(), m.Organization.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"requests": rs})
}

func (s *Server) apiProductionRequest(c *gin.Context) {
	if _, err := s.catalogOrg(c, c.Param("org")); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.orgRequest(c.Request.Context(), c.Param("org"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) bindRequest(c *gin.Context) (productionRequestBody, bool) {
	var b productionRequestBody
	if err := c.ShouldBindJSON(&b); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"legal_name", "country", "website", "technical_contact", "security_contact", "products": [{"product", "plan", "monthly_volume"}], "webhook_urls": [..], "use_case"}: %v`, err))
		return b, false
	}
	return b, true
}

func (s *Server) apiCreateProductionRequest(c *gin.Context) {
	b, ok := s.bindRequest(c)
	if !ok {
		return
	}
	r, err := s.saveDraft(c.Request.Context(), principal(c), c.Param("org"), "", b)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) apiUpdateProductionRequest(c *gin.Context) {
	b, ok := s.bindRequest(c)
	if !ok {
		return
	}
	r, err := s.saveDraft(c.Request.Context(), principal(c), c.Param("org"), c.Param("id"), b)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) apiSubmitProductionRequest(c *gin.Context) {
	r, err := s.submit(c.Request.Context(), principal(c), c.Param("org"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, r)
}

func (s *Server) apiNotifications(c *gin.Context) {
	m, err := s.catalogOrg(c, c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	ns, err := s.cfg.Onboarding.NotificationsOf(c.Request.Context(), m.Organization.ID, 50)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"notifications": ns})
}

// Provider side.

// queueItem is a request in the review queue.
type queueItem struct {
	onramp.ProductionRequest
	OrgName   string `json:"org_name"`
	DueIn     string `json:"due_in"` // "3h12m", or "overdue by 20m"
	Breached  bool   `json:"sla_breached"`
	DueSecond int64  `json:"due_in_seconds"` // negative once breached
}

// compliance is how many decided requests met their SLA.
type compliance struct {
	Decided int     `json:"decided"`
	OnTime  int     `json:"on_time"`
	Percent float64 `json:"percent"`
}

// reviewQueue lists the requests in statuses, soonest due first, with their countdowns.
// orgNames names the organisations (an unknown one keeps no name), for the provider's queues.
func (s *Server) orgNames(ctx context.Context, ids []string) map[string]string {
	names := map[string]string{}
	for _, id := range ids {
		if _, ok := names[id]; ok {
			continue
		}
		if o, err := s.cfg.Organizations.FindOrganization(ctx, id); err == nil {
			names[id] = o.Name
		}
	}
	return names
}

func (s *Server) reviewQueue(ctx context.Context, statuses []string) ([]queueItem, error) {
	rs, err := s.cfg.Requests.ProductionRequests(ctx, statuses)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.OrgID
	}
	names := s.orgNames(ctx, ids)
	out := make([]queueItem, 0, len(rs))
	for _, r := range rs {
		q := queueItem{ProductionRequest: r, OrgName: names[r.OrgID]}
		if r.SLADue != nil {
			left := r.SLADue.Sub(now).Round(time.Minute)
			q.DueSecond, q.Breached = int64(left.Seconds()), left < 0
			q.DueIn = "due in " + left.String()
			if left < 0 {
				q.DueIn = "overdue by " + (-left).String()
			}
		}
		out = append(out, q)
	}
	return out, nil
}

var decidedStatuses = []string{onramp.RequestApproved, onramp.RequestRejected, onramp.RequestChangesRequested}

// complianceOf counts the decided requests whose decision came by their SLA due time.
func complianceOf(decided []queueItem) compliance {
	var comp compliance
	for _, r := range decided {
		if r.SLADue == nil || len(r.History) == 0 {
			continue
		}
		comp.Decided++
		if !r.History[len(r.History)-1].At.After(*r.SLADue) {
			comp.OnTime++
		}
	}
	if comp.Decided > 0 {
		comp.Percent = float64(comp.OnTime) * 100 / float64(comp.Decided)
	}
	return comp
}

var openStatuses = []string{onramp.RequestReceived, onramp.RequestInReview}

func (s *Server) apiReviewQueue(c *gin.Context) {
	statuses := openStatuses
	if st := c.Query("status"); st != "" {
		statuses = strings.Split(st, ",")
	}
	q, err := s.reviewQueue(c.Request.Context(), statuses)
	var decided []queueItem
	if err == nil {
		decided, err = s.reviewQueue(c.Request.Context(), decidedStatuses)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"requests": q, "sla_compliance": complianceOf(decided)})
}

func (s *Server) apiAdminProductionRequest(c *gin.Context) {
	r, err := s.cfg.Requests.FindProductionRequest(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

var adminActions = map[string]bool{"claim": true, "approve": true, "reject": true, "request-changes": true}

func (s *Server) review(ctx context.Context, id, action string, d onramp.ReviewDecision) (onramp.ProductionRequest, error) {
	if !adminActions[action] {
		return onramp.ProductionRequest{}, onramp.Errorf(onramp.ENOTFOUND, "unknown action %q; use claim, approve, reject or request-changes", action)
	}
	r, err := s.cfg.Requests.FindProductionRequest(ctx, id)
	if err != nil {
		return r, err
	}
	if r.Status == onramp.RequestDraft {
		return r, onramp.Errorf(onramp.ECONFLICT, "the request is a draft the partner has not submitted")
	}
	if strings.TrimSpace(d.By) == "" {
		d.By = "provider admin"
	}
	if err := s.cfg.Reviews.Review(ctx, id, action, d); err != nil {
		return r, err
	}
	return s.cfg.Requests.FindProductionRequest(ctx, id)
}

func (s *Server) apiReviewAction(c *gin.Context) {
	var d onramp.ReviewDecision
	if err := c.ShouldBindJSON(&d); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"by": "you@provider.example", "reason": "…", "changes": "…", "grants": [{"product", "plan", "scopes", "quota"}]}: %v`, err))
		return
	}
	r, err := s.review(c.Request.Context(), c.Param("id"), c.Param("action"), d)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}
