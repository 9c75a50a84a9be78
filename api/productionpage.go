package api

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

type productChoice struct {
	Product, Plan string
	Checked       bool
	Volume        int64
}

type productionPageView struct {
	page
	Memberships   []Membership
	Org           Membership
	Requests      []onramp.ProductionRequest
	Editing       *onramp.ProductionRequest // the draft or sent-back request the form edits
	Form          productionRequestBody
	Choices       []productChoice
	Notifications []onramp.Notification
	Webhooks      string
	CanRequest    bool
	Notice, Error string
	Errors        []onramp.ErrorDetail
}

func (s *Server) productionPage(c *gin.Context) {
	s.renderProduction(c, http.StatusOK, productionPageView{Notice: s.takeFlash(c).Notice})
}

func (s *Server) renderProduction(c *gin.Context, status int, v productionPageView) {
	ctx, p := c.Request.Context(), principal(c)
	m, err := s.catalogOrg(c, currentOrg(c, p))
	if err != nil {
		s.fail(c, err)
		return
	}
	v.page, v.Memberships, v.Org = s.signedInPage("Production access"), p.Memberships, m
	v.CanRequest = s.allowed(ctx, m.Role, "production.request", "")
	if v.Requests, err = s.cfg.Requests.ProductionRequestsOf(ctx, m.Organization.ID); err != nil {
		s.fail(c, err)
		return
	}
	if v.Notifications, err = s.cfg.Onboarding.NotificationsOf(ctx, m.Organization.ID, 20); err != nil {
		s.fail(c, err)
		return
	}
	if len(v.Requests) > 0 && (v.Requests[0].Status == onramp.RequestDraft || v.Requests[0].Status == onramp.RequestChangesRequested) {
		v.Editing = &v.Requests[0]
		if v.Form.LegalName == "" && v.Error == "" {
			r := v.Requests[0]
			v.Form = productionRequestBody{LegalName: r.LegalName, Country: r.Country, Website: r.Website, TechnicalContact: r.TechnicalContact,
				SecurityContact: r.SecurityContact, Products: r.Products, WebhookURLs: r.WebhookURLs, UseCase: r.UseCase}
		}
	}
	v.Webhooks = strings.Join(v.Form.WebhookURLs, "\n")
	plans, err := s.cfg.Catalog.Plans(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, pl := range plans {
		if pl.Name != m.Organization.Tier {
			continue
		}
		for _, slug := range sortedKeys(pl.Products) {
			ch := productChoice{Product: slug, Plan: pl.Name}
			for _, rp := range v.Form.Products {
				if rp.Product == slug {
					ch.Checked, ch.Volume = true, rp.MonthlyVolume
				}
			}
			v.Choices = append(v.Choices, ch)
		}
	}
	s.render(c, status, "production.html", v)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func timeText(t *time.Time) string {
	if t == nil {
		return "soon"
	}
	return t.UTC().Format("Mon 2 Jan 15:04 MST")
}

func productionForm(c *gin.Context) productionRequestBody {
	b := productionRequestBody{LegalName: c.PostForm("legal_name"), Country: c.PostForm("country"), Website: c.PostForm("website"),
		TechnicalContact: c.PostForm("technical_contact"), SecurityContact: c.PostForm("security_contact"), UseCase: c.PostForm("use_case"),
		WebhookURLs: strings.Split(strings.ReplaceAll(c.PostForm("webhook_urls"), "\r", ""), "\n")}
	for _, slug := range c.PostFormArray("product") {
		vol, _ := strconv.ParseInt(strings.TrimSpace(c.PostForm("volume_"+slug)), 10, 64)
		b.Products = append(b.Products, onramp.RequestedProduct{Product: slug, Plan: c.PostForm("plan_" + slug), MonthlyVolume: vol})
	}
	return b
}

// productionSave saves the form as a draft, or saves and submits it.
func (s *Server) productionSave(c *gin.Context) {
	ctx, p := c.Request.Context(), principal(c)
	orgID := currentOrg(c, p)
	b := productionForm(c)
	r, err := s.saveDraft(ctx, p, orgID, c.PostForm("id"), b)
	if err == nil && c.PostForm("submit") != "" {
		r, err = s.submit(ctx, p, orgID, r.ID)
	}
	if err != nil {
		s.renderProduction(c, http.StatusBadRequest, productionPageView{Form: b, Error: onramp.ErrorMessage(err), Errors: onramp.ErrorDetails(err)})
		return
	}
	notice := "Draft saved."
	if c.PostForm("submit") != "" {
		notice = "Submitted: the provider reviews it by " + timeText(r.SLADue) + "."
	}
	s.redirectNotice(c, "/production?org="+url.QueryEscape(orgID), notice)
}

// Admin review queue and funnel pages.

type reviewsView struct {
	page
	Queue      []queueItem
	Decided    []queueItem
	Compliance compliance
	Notices    []onramp.Notification
	Rotations  []onramp.Rotation     // elevated rotations waiting for the security review
	Quotas     []onramp.QuotaRequest // quota increases waiting for a decision
	OrgNames   map[string]string     // of the rotations' and quota requests' organisations
	Notice     string
	Error      string
}

func (s *Server) adminReviewsPage(c *gin.Context, status int, v reviewsView) {
	ctx := c.Request.Context()
	var err error
	if v.Queue, err = s.reviewQueue(ctx, openStatuses); err == nil {
		v.Decided, err = s.reviewQueue(ctx, decidedStatuses)
	}
	v.Compliance = complianceOf(v.Decided)
	if err == nil {
		v.Notices, err = s.cfg.Onboarding.NotificationsOf(ctx, onramp.ProviderInbox, 20)
	}
	if err == nil {
		v.Rotations, err = s.cfg.RotationStore.RotationsIn(ctx, []string{onramp.RotationPendingReview})
	}
	if err == nil {
		v.Quotas, err = s.cfg.QuotaRequests.QuotaRequestsIn(ctx, []string{onramp.QuotaPending})
	}
	var ids []string
	for _, r := range v.Rotations {
		ids = append(ids, r.OrgID)
	}
	for _, q := range v.Quotas {
		ids = append(ids, q.OrgID)
	}
	v.OrgNames = s.orgNames(ctx, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	v.page = s.adminPage("Reviews")
	if v.Notice == "" {
		v.Notice = s.takeFlash(c).Notice
	}
	s.render(c, status, "admin_reviews.html", v)
}

func (s *Server) adminReviews(c *gin.Context) { s.adminReviewsPage(c, http.StatusOK, reviewsView{}) }

func (s *Server) adminReviewAction(c *gin.Context) {
	d := onramp.ReviewDecision{By: c.PostForm("by"), Reason: c.PostForm("reason"), Changes: c.PostForm("changes")}
	scopes := splitList(c.PostForm("scopes"))
	var quota *onramp.Quota
	if v := strings.TrimSpace(c.PostForm("quota_limit")); v != "" && c.Param("action") == "approve" {
		limit, err := strconv.ParseInt(v, 10, 64)
		if err != nil || limit <= 0 {
			s.adminReviewsPage(c, http.StatusBadRequest, reviewsView{Error: "The quota " + strconv.Quote(v) + " is not a positive number of calls; leave it empty for the plan's."})
			return
		}
		quota = &onramp.Quota{Limit: limit, Period: c.DefaultPostForm("quota_period", "month")}
	}
	if c.Param("action") == "approve" && (len(scopes) > 0 || quota != nil) {
		// Narrower than asked: each requested product gets the listed scopes that are its own, and the quota.
		req, err := s.cfg.Requests.FindProductionRequest(c.Request.Context(), c.Param("id"))
		if err != nil {
			s.adminReviewsPage(c, http.StatusNotFound, reviewsView{Error: onramp.ErrorMessage(err)})
			return
		}
		for _, p := range req.Products {
			g := onramp.ApprovedProduct{Product: p.Product, Plan: p.Plan, Quota: quota}
			for _, sc := range scopes {
				if strings.HasPrefix(sc, p.Product+":") {
					g.Scopes = append(g.Scopes, sc)
				}
			}
			d.Grants = append(d.Grants, g)
		}
	}
	r, err := s.review(c.Request.Context(), c.Param("id"), c.Param("action"), d)
	if err != nil {
		s.adminReviewsPage(c, http.StatusConflict, reviewsView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/reviews", "Request "+r.ID+" is now "+strings.ReplaceAll(r.Status, "_", " ")+".")
}
