package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/production"
)

// Production access: the partner's request form and timeline (/api/v1/orgs/{org}/production-
// requests, /production), and the provider's review queue (/admin/api/v1/production-requests,
// /admin/reviews). Every rule is production.Service's; the review is a Temporal workflow.

func (s *Server) productionRoutes(g routeGroups) {
	org, pages, admin, adminUI := g.org, g.pages, g.admin, g.adminPages
	org.GET("/production-requests", s.apiProductionRequests)
	org.POST("/production-requests", s.apiCreateProductionRequest)
	org.GET("/production-requests/:id", s.apiProductionRequest)
	org.PUT("/production-requests/:id", s.apiUpdateProductionRequest)
	org.POST("/production-requests/:id/submit", s.apiSubmitProductionRequest)
	org.GET("/notifications", s.apiNotifications)
	pages.GET("/production", s.productionPage)
	pages.POST("/production", s.sameOrigin, s.productionSave)

	admin.GET("/production-requests", s.apiReviewQueue)
	admin.GET("/production-requests/:id", s.apiAdminProductionRequest)
	admin.POST("/production-requests/:id/:action", s.apiReviewAction)
	adminUI.GET("/reviews", s.adminReviews)
	adminUI.POST("/reviews/:id/:action", s.adminReviewAction)
}

func (s *Server) apiProductionRequests(c *gin.Context) {
	rs, err := s.cfg.Production.Requests(c.Request.Context(), actor(c), c.Param("org"))
	s.respond(c, http.StatusOK, gin.H{"requests": rs}, err)
}

func (s *Server) apiProductionRequest(c *gin.Context) {
	r, err := s.cfg.Production.Request(c.Request.Context(), actor(c), c.Param("org"), c.Param("id"))
	s.respond(c, http.StatusOK, r, err)
}

const productionFormHint = `send {"legal_name", "country", "website", "technical_contact", "security_contact", "products": [{"product", "plan", "monthly_volume"}], "webhook_urls": [..], "use_case"}`

func (s *Server) apiCreateProductionRequest(c *gin.Context) {
	var f production.Form
	if !s.bind(c, &f, productionFormHint) {
		return
	}
	r, err := s.cfg.Production.SaveDraft(c.Request.Context(), actor(c), c.Param("org"), "", f)
	s.respond(c, http.StatusCreated, r, err)
}

func (s *Server) apiUpdateProductionRequest(c *gin.Context) {
	var f production.Form
	if !s.bind(c, &f, productionFormHint) {
		return
	}
	r, err := s.cfg.Production.SaveDraft(c.Request.Context(), actor(c), c.Param("org"), c.Param("id"), f)
	s.respond(c, http.StatusOK, r, err)
}

func (s *Server) apiSubmitProductionRequest(c *gin.Context) {
	r, err := s.cfg.Production.Submit(c.Request.Context(), actor(c), c.Param("org"), c.Param("id"))
	s.respond(c, http.StatusAccepted, r, err)
}

func (s *Server) apiNotifications(c *gin.Context) {
	page, err := pageRequest(c, "cursor")
	var ns onramp.Page[onramp.Notification]
	if err == nil {
		ns, err = s.cfg.Production.Notifications(c.Request.Context(), actor(c), c.Param("org"), page)
	}
	s.respond(c, http.StatusOK, pageBody("notifications", ns), err)
}

func (s *Server) apiReviewQueue(c *gin.Context) {
	ctx := c.Request.Context()
	statuses := production.OpenStatuses
	if st := c.Query("status"); st != "" {
		statuses = strings.Split(st, ",")
	}
	page, err := pageRequest(c, "cursor")
	var q onramp.Page[production.QueueItem]
	var comp production.Compliance
	if err == nil {
		q, err = s.cfg.Production.Queue(ctx, adminActor(), statuses, page)
	}
	if err == nil {
		comp, err = s.cfg.Production.Compliance(ctx, adminActor())
	}
	body := pageBody("requests", q)
	body["sla_compliance"] = comp
	s.respond(c, http.StatusOK, body, err)
}

func (s *Server) apiAdminProductionRequest(c *gin.Context) {
	r, err := s.cfg.Production.AdminRequest(c.Request.Context(), adminActor(), c.Param("id"))
	s.respond(c, http.StatusOK, r, err)
}

func (s *Server) apiReviewAction(c *gin.Context) {
	var in struct {
		By      string                   `json:"by"`
		Reason  string                   `json:"reason"`
		Changes string                   `json:"changes"`
		Grants  []onramp.ApprovedProduct `json:"grants"`
		Scopes  []string                 `json:"scopes"`
		Quota   *onramp.Quota            `json:"quota"`
	}
	if !s.bind(c, &in, `send {"by": "you@provider.example", "reason": "…", "changes": "…", "grants": [{"product", "plan", "scopes", "quota"}]} (or "scopes" and "quota" for every requested product)`) {
		return
	}
	r, err := s.cfg.Production.Review(c.Request.Context(), adminActor(), c.Param("id"), c.Param("action"),
		production.Decision{By: in.By, Reason: in.Reason, Changes: in.Changes, Grants: in.Grants, Scopes: in.Scopes, Quota: in.Quota})
	s.respond(c, http.StatusOK, r, err)
}

// The /production page.

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
	Form          production.Form
	Choices       []productChoice
	Notifications listView[onramp.Notification]
	Webhooks      string
	CanRequest    bool
	Notice, Error string
	Errors        []onramp.ErrorDetail
}

func (s *Server) productionPage(c *gin.Context) {
	s.renderProduction(c, http.StatusOK, productionPageView{Notice: s.takeFlash(c).Notice})
}

func (s *Server) renderProduction(c *gin.Context, status int, v productionPageView) {
	ctx, a := c.Request.Context(), actor(c)
	orgID := currentOrg(c, a)
	page, err := pageRequest(c, "notifications_cursor")
	var notes onramp.Page[onramp.Notification]
	if err == nil {
		v.Requests, err = s.cfg.Production.Requests(ctx, a, orgID)
	}
	if err == nil {
		notes, err = s.cfg.Production.Notifications(ctx, a, orgID, page)
	}
	v.Notifications = listOf(c, "notifications_cursor", "notifications", notes)
	if err != nil {
		s.failPage(c, err)
		return
	}
	m, _ := a.In(orgID)
	v.page, v.Memberships, v.Org, v.CanRequest = s.signedInPage("Production access"), a.Memberships, m, s.cfg.Production.Can(ctx, a, orgID)
	if len(v.Requests) > 0 && (v.Requests[0].Status == onramp.RequestDraft || v.Requests[0].Status == onramp.RequestChangesRequested) {
		v.Editing = &v.Requests[0]
		if v.Form.LegalName == "" && v.Error == "" {
			v.Form = production.FormOf(v.Requests[0])
		}
	}
	v.Webhooks = strings.Join(v.Form.WebhookURLs, "\n")
	choices, err := s.cfg.Production.Choices(ctx, m.Organization)
	if err != nil {
		s.failPage(c, err)
		return
	}
	for _, ch := range choices {
		pc := productChoice{Product: ch.Product, Plan: ch.Plan}
		for _, rp := range v.Form.Products {
			if rp.Product == ch.Product {
				pc.Checked, pc.Volume = true, rp.MonthlyVolume
			}
		}
		v.Choices = append(v.Choices, pc)
	}
	s.render(c, status, "production.html", v)
}

func timeText(t *time.Time) string {
	if t == nil {
		return "soon"
	}
	return t.UTC().Format("Mon 2 Jan 15:04 MST")
}

func productionForm(c *gin.Context) production.Form {
	f := production.Form{LegalName: c.PostForm("legal_name"), Country: c.PostForm("country"), Website: c.PostForm("website"),
		TechnicalContact: c.PostForm("technical_contact"), SecurityContact: c.PostForm("security_contact"), UseCase: c.PostForm("use_case"),
		WebhookURLs: strings.Split(strings.ReplaceAll(c.PostForm("webhook_urls"), "\r", ""), "\n")}
	for _, slug := range c.PostFormArray("product") {
		vol, _ := strconv.ParseInt(strings.TrimSpace(c.PostForm("volume_"+slug)), 10, 64)
		f.Products = append(f.Products, onramp.RequestedProduct{Product: slug, Plan: c.PostForm("plan_" + slug), MonthlyVolume: vol})
	}
	return f
}

// productionSave saves the form as a draft, or saves and submits it.
func (s *Server) productionSave(c *gin.Context) {
	ctx, a := c.Request.Context(), actor(c)
	orgID := currentOrg(c, a)
	f := productionForm(c)
	r, err := s.cfg.Production.SaveDraft(ctx, a, orgID, c.PostForm("id"), f)
	if err == nil && c.PostForm("submit") != "" {
		r, err = s.cfg.Production.Submit(ctx, a, orgID, r.ID)
	}
	if err != nil {
		s.logInternal(c, err)
		s.renderProduction(c, statusOf(err), productionPageView{Form: f, Error: onramp.ErrorMessage(err), Errors: onramp.ErrorDetails(err)})
		return
	}
	notice := "Draft saved."
	if c.PostForm("submit") != "" {
		notice = "Submitted: the provider reviews it by " + timeText(r.SLADue) + "."
	}
	s.redirectNotice(c, "/production?org="+url.QueryEscape(orgID), notice)
}

// The admin Reviews page: production requests, elevated rotations and quota increases.

type reviewsView struct {
	page
	Queue      listView[production.QueueItem]
	Decided    listView[production.QueueItem]
	Compliance production.Compliance
	Notices    listView[onramp.Notification]
	Rotations  listView[onramp.Rotation]     // elevated rotations waiting for the security review
	Quotas     listView[onramp.QuotaRequest] // quota increases waiting for a decision
	OrgNames   map[string]string             // of the rotations' and quota requests' organisations
	Notice     string
	Error      string
}

// adminReviewsPage shows a page of each queue (each list has its own cursor parameter).
func (s *Server) adminReviewsPage(c *gin.Context, status int, v reviewsView) {
	ctx, admin := c.Request.Context(), adminActor()
	pages := map[string]onramp.PageRequest{}
	for _, param := range []string{"queue_cursor", "decided_cursor", "notices_cursor", "rotations_cursor", "quotas_cursor"} {
		r, err := pageRequest(c, param)
		if err != nil {
			s.failPage(c, err)
			return
		}
		pages[param] = r
	}
	queue, err := s.cfg.Production.Queue(ctx, admin, production.OpenStatuses, pages["queue_cursor"])
	var decided onramp.Page[production.QueueItem]
	var notices onramp.Page[onramp.Notification]
	var rotations onramp.Page[onramp.Rotation]
	var quotas onramp.Page[onramp.QuotaRequest]
	if err == nil {
		decided, err = s.cfg.Production.Queue(ctx, admin, production.DecidedStatuses, pages["decided_cursor"])
	}
	if err == nil {
		v.Compliance, err = s.cfg.Production.Compliance(ctx, admin)
	}
	if err == nil {
		notices, err = s.cfg.Production.ProviderNotifications(ctx, admin, pages["notices_cursor"])
	}
	if err == nil {
		rotations, err = s.cfg.Credentials.RotationQueue(ctx, admin, nil, pages["rotations_cursor"])
	}
	if err == nil {
		quotas, err = s.cfg.Quota.Queue(ctx, admin, nil, pages["quotas_cursor"])
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	v.Queue, v.Decided = listOf(c, "queue_cursor", "queue", queue), listOf(c, "decided_cursor", "decided", decided)
	v.Notices, v.Rotations = listOf(c, "notices_cursor", "notices", notices), listOf(c, "rotations_cursor", "rotations", rotations)
	v.Quotas = listOf(c, "quotas_cursor", "quotas", quotas)
	var ids []string
	for _, r := range rotations.Items {
		ids = append(ids, r.OrgID)
	}
	for _, q := range quotas.Items {
		ids = append(ids, q.OrgID)
	}
	v.OrgNames = s.cfg.Production.OrgNames(ctx, ids)
	v.page = s.adminPage("Reviews")
	if v.Notice == "" {
		v.Notice = s.takeFlash(c).Notice
	}
	s.render(c, status, "admin_reviews.html", v)
}

func (s *Server) adminReviews(c *gin.Context) { s.adminReviewsPage(c, http.StatusOK, reviewsView{}) }

func (s *Server) adminReviewAction(c *gin.Context) {
	d := production.Decision{By: c.PostForm("by"), Reason: c.PostForm("reason"), Changes: c.PostForm("changes"), Scopes: splitList(c.PostForm("scopes"))}
	if v := strings.TrimSpace(c.PostForm("quota_limit")); v != "" && c.Param("action") == "approve" {
		limit, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.adminReviewsPage(c, http.StatusBadRequest, reviewsView{Error: "The quota " + strconv.Quote(v) + " is not a number of calls; leave it empty for the plan's."})
			return
		}
		d.Quota = &onramp.Quota{Limit: limit, Period: c.DefaultPostForm("quota_period", "month")}
	}
	r, err := s.cfg.Production.Review(c.Request.Context(), adminActor(), c.Param("id"), c.Param("action"), d)
	if err != nil {
		s.logInternal(c, err)
		s.adminReviewsPage(c, statusOf(err), reviewsView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/reviews", "Request "+r.ID+" is now "+strings.ReplaceAll(r.Status, "_", " ")+".")
}
