package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

func (s *Server) usageRoutes(g routeGroups) {
	g.org.GET("/calls", s.apiCalls)
	g.org.GET("/usage", s.apiUsage)
	g.org.GET("/quota-requests", s.apiQuotaRequests)
	g.org.POST("/quota-requests", s.apiRequestQuota)
	g.admin.GET("/quota-requests", s.apiAdminQuotaRequests)
	g.admin.POST("/quota-requests/:id/:action", s.apiAdminQuotaAction)

	usage := g.pages.Group("/usage")
	usage.GET("", s.usagePage)
	usage.GET("/data.json", s.usageData)
	usage.GET("/calls.csv", s.usageCSV)
	usage.POST("/quota-requests", s.sameOrigin, s.usageRequestQuota)
	g.adminPages.POST("/quota-requests/:id/:action", s.adminQuotaAction)
}

// Usage against quota, the call history and quota-increase requests. The numbers are sums over the
// gateway nodes' own documents, which each node flushes every second (quota counters, day and
// hour totals, credential use, the recent-calls log), so a call shows within about a second.

// usageLine is one product × environment of the organisation's usage.
type usageLine struct {
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
func (l usageLine) ErrorPercent() float64 { return l.ErrorRate * 100 }

type usageView struct {
	Lines         []usageLine           `json:"usage"`
	QuotaRequests []onramp.QuotaRequest `json:"quota_requests"`
	Notifications []onramp.Notification `json:"notifications"`
}

// usage computes the organisation's usage of each assigned product in each of its environments.
func (s *Server) usage(ctx context.Context, orgID string) (usageView, error) {
	now := s.cfg.Now().UTC()
	as, err := s.cfg.Catalog.AssignmentsOf(ctx, orgID)
	if err != nil {
		return usageView{}, err
	}
	v := usageView{Lines: []usageLine{}}
	if v.QuotaRequests, err = s.cfg.QuotaRequests.QuotaRequestsOf(ctx, orgID); err != nil {
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
			v.Lines = append(v.Lines, usageLine{Product: a.Product, Environment: env, Limit: a.Quota.Limit, Period: a.Quota.Period,
				PeriodStart: start, ResetAt: reset, RateLimit: a.RateLimit, Pending: pending[a.Product]})
		}
	}
	counters, err := s.cfg.Usage.Counters(ctx, ids)
	if err != nil {
		return v, err
	}
	today := now.Truncate(24 * time.Hour)
	for i := range v.Lines {
		l := &v.Lines[i]
		l.Used = counters[ids[i]]
		l.Remaining = max(0, l.Limit-l.Used)
		l.Percent = float64(l.Used) * 100 / float64(l.Limit)
		for _, t := range onramp.AlertThresholds {
			if l.Percent >= float64(t) {
				l.Alert = t
			}
		}
		totals, err := s.cfg.Usage.UsageTotals(ctx, orgID, l.Product, l.Environment, l.PeriodStart, now.Add(time.Hour))
		if err != nil {
			return v, err
		}
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
	notes, err := s.cfg.Onboarding.NotificationsOf(ctx, orgID, 50)
	if err != nil {
		return v, err
	}
	v.Notifications = []onramp.Notification{}
	for _, n := range notes {
		if strings.Contains(n.Link, "/usage") {
			v.Notifications = append(v.Notifications, n)
		}
	}
	return v, nil
}

func (s *Server) usageJSON(c *gin.Context, orgID string) {
	m, err := s.authorize(c.Request.Context(), principal(c), orgID, onramp.ActionUsageView, onramp.Target{})
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.usage(c.Request.Context(), m.Organization.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, v)
}

func (s *Server) apiUsage(c *gin.Context) { s.usageJSON(c, c.Param("org")) }

// Call history.

// Call history page sizes: a JSON page holds up to 1000 calls (100 unless asked), a CSV export up
// to 10 000 (all of them unless asked); narrow the time range for more.
const (
	maxCallsJSON, defaultCallsJSON = 1000, 100
	maxCallsCSV                    = 10000
)

// callFilter reads the history's filters from the query string, for a JSON page or a CSV export.
func callFilter(c *gin.Context, csvOut bool) (onramp.CallFilter, error) {
	maxLimit, limit := maxCallsJSON, defaultCallsJSON
	if csvOut {
		maxLimit, limit = maxCallsCSV, maxCallsCSV
	}
	f := onramp.CallFilter{Environment: c.Query("environment"), StatusClass: c.Query("status"), CredentialID: c.Query("credential"),
		Operation: c.Query("operation"), Limit: limit}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, onramp.Errorf(onramp.EINVALID, "%s %q is not a time; use RFC 3339, e.g. 2026-11-29T09:00:00Z", name, v)
			}
			*dst = t
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return f, onramp.Errorf(onramp.EINVALID, "limit %q must be a number from 1 to %d", v, maxLimit)
		}
		f.Limit = n
	}
	return f, f.Validate()
}

// calls answers the filtered call history as JSON or, with csv, as a CSV download.
func (s *Server) calls(c *gin.Context, orgID string, csvOut bool) {
	m, err := s.authorize(c.Request.Context(), principal(c), orgID, onramp.ActionUsageView, onramp.Target{})
	if err != nil {
		s.fail(c, err)
		return
	}
	f, err := callFilter(c, csvOut)
	if err != nil {
		s.fail(c, err)
		return
	}
	events, err := s.cfg.Usage.Calls(c.Request.Context(), m.Organization.ID, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !csvOut {
		c.JSON(http.StatusOK, gin.H{"calls": events})
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="calls-`+m.Organization.ID+`.csv"`)
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"time", "request_id", "environment", "method", "path", "operation", "status", "latency_ms", "credential_label", "credential_id"})
	for _, e := range events {
		requestID := e.RequestID // the X-Request-Id the call was answered with
		if requestID == "" {
			requestID = e.ID
		}
		_ = w.Write([]string{e.At.UTC().Format(time.RFC3339Nano), requestID, e.Environment, e.Method, cell(e.Path), cell(e.Operation),
			strconv.Itoa(e.Status), strconv.FormatFloat(e.LatencyMS, 'f', 3, 64), cell(e.Label), e.CredentialID})
	}
	w.Flush()
}

// cell keeps a value a spreadsheet would run as a formula inert (OWASP CSV injection).
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *Server) apiCalls(c *gin.Context) { s.calls(c, c.Param("org"), c.Query("format") == "csv") }

// Quota-increase requests.

type quotaRequestBody struct {
	Product       string `json:"product"`
	NewLimit      int64  `json:"new_limit"`
	Justification string `json:"justification"`
}

// requestQuota starts the review of a quota increase and waits a moment for the workflow to
// store it, so the answer and the next page show it.
func (s *Server) requestQuota(ctx context.Context, p Principal, orgID string, in quotaRequestBody) (onramp.QuotaRequest, error) {
	if _, err := s.authorize(ctx, p, orgID, onramp.ActionQuotaRequest, onramp.Target{}); err != nil {
		return onramp.QuotaRequest{}, err
	}
	as, err := s.cfg.Catalog.AssignmentsOf(ctx, orgID)
	if err != nil {
		return onramp.QuotaRequest{}, err
	}
	var a *onramp.Assignment
	for i := range as {
		if as[i].Product == in.Product {
			a = &as[i]
		}
	}
	if a == nil {
		return onramp.QuotaRequest{}, onramp.Errorf(onramp.ENOTFOUND, "no product %q for your organisation; ask for one of the products on your usage page", in.Product)
	}
	now := s.cfg.Now()
	r := onramp.QuotaRequest{ID: onramp.NewID("qr"), OrgID: orgID, Product: a.Product, Period: a.Quota.Period,
		CurrentLimit: a.Quota.Limit, RequestedLimit: in.NewLimit, Justification: strings.TrimSpace(in.Justification),
		Status: onramp.QuotaPending, RequestedBy: p.Email, CreatedAt: now, UpdatedAt: now}
	if err := r.Validate(); err != nil {
		return r, err
	}
	if err := s.cfg.QuotaReviews.StartQuotaReview(ctx, r); err != nil {
		return r, err
	}
	s.audit(ctx, orgID, p.Email, "quota.requested", a.Product, strconv.FormatInt(r.CurrentLimit, 10)+" → "+strconv.FormatInt(r.RequestedLimit, 10)+" per "+r.Period)
	awaitRecorded(ctx, 5*time.Second, func() bool {
		_, err := s.cfg.QuotaRequests.FindQuotaRequest(ctx, r.ID)
		return err == nil
	})
	return r, nil
}

func (s *Server) apiRequestQuota(c *gin.Context) {
	var in quotaRequestBody
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"product": "payments", "new_limit": 50000, "justification": "launch in December"}: %v`, err))
		return
	}
	r, err := s.requestQuota(c.Request.Context(), principal(c), c.Param("org"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, r)
}

func (s *Server) apiQuotaRequests(c *gin.Context) {
	m, err := s.authorize(c.Request.Context(), principal(c), c.Param("org"), onramp.ActionUsageView, onramp.Target{})
	if err != nil {
		s.fail(c, err)
		return
	}
	rs, err := s.cfg.QuotaRequests.QuotaRequestsOf(c.Request.Context(), m.Organization.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"quota_requests": rs})
}

// decideQuota approves or rejects a quota request as the provider; bad input is EINVALID, a
// request decided already ECONFLICT.
func (s *Server) decideQuota(ctx context.Context, id, action string, d onramp.QuotaDecision) (onramp.QuotaRequest, error) {
	switch {
	case action != "approve" && action != "reject":
		return onramp.QuotaRequest{}, onramp.Errorf(onramp.ENOTFOUND, "unknown action %q; use approve or reject", action)
	case action == "approve" && d.Limit < 0:
		return onramp.QuotaRequest{}, onramp.Errorf(onramp.EINVALID, "limit must be positive (or left out to grant what was asked)")
	case action == "reject" && strings.TrimSpace(d.Reason) == "":
		return onramp.QuotaRequest{}, onramp.Errorf(onramp.EINVALID, "give the reason the partner will read (reason)")
	}
	if strings.TrimSpace(d.By) == "" {
		d.By = "provider admin"
	}
	r, err := s.cfg.QuotaRequests.FindQuotaRequest(ctx, id)
	if err != nil {
		return r, err
	}
	if err := s.cfg.QuotaReviews.DecideQuota(ctx, r, action, d); err != nil {
		return r, err
	}
	return s.cfg.QuotaRequests.FindQuotaRequest(ctx, id)
}

func (s *Server) apiAdminQuotaRequests(c *gin.Context) {
	status := c.DefaultQuery("status", onramp.QuotaPending)
	rs, err := s.cfg.QuotaRequests.QuotaRequestsIn(c.Request.Context(), strings.Split(status, ","))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"quota_requests": rs})
}

func (s *Server) apiAdminQuotaAction(c *gin.Context) {
	var d onramp.QuotaDecision
	if err := c.ShouldBindJSON(&d); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"by": "ana@provider.example", "limit": 50000} to approve or {"by": "…", "reason": "…"} to reject: %v`, err))
		return
	}
	r, err := s.decideQuota(c.Request.Context(), c.Param("id"), c.Param("action"), d)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// Usage page.

type usagePageView struct {
	page
	Memberships   []Membership
	Org           Membership
	Usage         usageView
	Credentials   []onramp.Credential
	Calls         []onramp.UsageEvent
	Filter        map[string]string
	Products      []usageLine // one line per product, for the quota request form
	Suggest       string      // the product nearest its quota, preselected in the form
	CanRequest    bool
	Notice, Error string
}

func (s *Server) usagePage(c *gin.Context) {
	s.renderUsage(c, http.StatusOK, usagePageView{Notice: s.takeFlash(c).Notice})
}

func (s *Server) renderUsage(c *gin.Context, status int, v usagePageView) {
	ctx, p := c.Request.Context(), principal(c)
	m, err := s.authorize(ctx, p, currentOrg(c, p), onramp.ActionUsageView, onramp.Target{})
	if err != nil {
		s.failPage(c, err)
		return
	}
	v.page, v.Memberships, v.Org = s.signedInPage("Usage"), p.Memberships, m
	v.CanRequest = onramp.Allows(ctx, s.cfg.Policy, m.Role, onramp.ActionQuotaRequest, onramp.Target{})
	f, ferr := callFilter(c, false)
	if ferr != nil && v.Error == "" {
		v.Error = onramp.ErrorMessage(ferr)
		f = onramp.CallFilter{Limit: defaultCallsJSON}
	}
	v.Filter = map[string]string{"environment": c.Query("environment"), "status": c.Query("status"), "credential": c.Query("credential"),
		"operation": c.Query("operation"), "from": c.Query("from"), "to": c.Query("to")}
	if v.Usage, err = s.usage(ctx, m.Organization.ID); err == nil {
		if v.Calls, err = s.cfg.Usage.Calls(ctx, m.Organization.ID, f); err == nil {
			v.Credentials, err = s.cfg.Keys.List(ctx, m.Organization.ID)
		}
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	top := -1.0
	for _, l := range v.Usage.Lines {
		if !slices.ContainsFunc(v.Products, func(p usageLine) bool { return p.Product == l.Product }) {
			v.Products = append(v.Products, l)
		}
		if l.Percent > top {
			top, v.Suggest = l.Percent, l.Product
		}
	}
	s.render(c, status, "usage.html", v)
}

func (s *Server) usageData(c *gin.Context) { s.usageJSON(c, currentOrg(c, principal(c))) }

func (s *Server) usageCSV(c *gin.Context) { s.calls(c, currentOrg(c, principal(c)), true) }

func (s *Server) usageRequestQuota(c *gin.Context) {
	p := principal(c)
	orgID := currentOrg(c, p)
	limit, _ := strconv.ParseInt(strings.TrimSpace(c.PostForm("new_limit")), 10, 64)
	r, err := s.requestQuota(c.Request.Context(), p, orgID, quotaRequestBody{Product: c.PostForm("product"), NewLimit: limit, Justification: c.PostForm("justification")})
	if err != nil {
		s.renderUsage(c, http.StatusBadRequest, usagePageView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/usage?org="+url.QueryEscape(orgID), "Asked for "+strconv.FormatInt(r.RequestedLimit, 10)+" calls per "+r.Period+" on "+r.Product+"; the provider reviews it and you will be told here and by e-mail.")
}

func (s *Server) adminQuotaAction(c *gin.Context) {
	var limit int64
	if v := strings.TrimSpace(c.PostForm("limit")); v != "" {
		var err error
		if limit, err = strconv.ParseInt(v, 10, 64); err != nil || limit <= 0 {
			s.adminReviewsPage(c, http.StatusBadRequest, reviewsView{Error: "The limit " + strconv.Quote(v) + " is not a positive number; leave it empty to grant what was asked."})
			return
		}
	}
	r, err := s.decideQuota(c.Request.Context(), c.Param("id"), c.Param("action"), onramp.QuotaDecision{By: c.PostForm("by"), Limit: limit, Reason: c.PostForm("reason")})
	if err != nil {
		s.adminReviewsPage(c, http.StatusConflict, reviewsView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/reviews", "Quota request "+r.ID+" is "+r.Status+".")
}
