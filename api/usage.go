package api

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/quota"
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

func (s *Server) usageJSON(c *gin.Context, orgID string) {
	v, err := s.cfg.Quota.Usage(c.Request.Context(), actor(c), orgID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, v)
}

func (s *Server) apiUsage(c *gin.Context) { s.usageJSON(c, c.Param("org")) }

// Call history.

// A JSON page of the call history holds up to MaxPageLimit calls (DefaultPageLimit unless asked;
// next_cursor continues it); a CSV export up to 10 000 (all of them unless asked); narrow the
// time range for more.
const maxCallsCSV = 10000

// callFilter reads the history's filters from the query string, for a JSON page (with its
// cursor) or a CSV export.
func callFilter(c *gin.Context, csvOut bool) (onramp.CallFilter, error) {
	maxLimit, limit := onramp.MaxPageLimit, onramp.DefaultPageLimit
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
	if v := c.Query("cursor"); v != "" && !csvOut {
		after, err := onramp.ParseCallCursor(v)
		if err != nil {
			return f, err
		}
		f.After = after
	}
	return f, f.Validate()
}

// calls answers the filtered call history as a JSON page or, with csv, as a CSV download.
func (s *Server) calls(c *gin.Context, orgID string, csvOut bool) {
	f, err := callFilter(c, csvOut)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !csvOut {
		p, err := s.cfg.Quota.CallPage(c.Request.Context(), actor(c), orgID, f)
		s.respond(c, http.StatusOK, pageBody("calls", p), err)
		return
	}
	events, err := s.cfg.Quota.Calls(c.Request.Context(), actor(c), orgID, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="calls-`+orgID+`.csv"`)
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

func (s *Server) apiRequestQuota(c *gin.Context) {
	var in quota.Increase
	if !s.bind(c, &in, `send {"product": "payments", "new_limit": 50000, "justification": "launch in December"}`) {
		return
	}
	r, err := s.cfg.Quota.RequestIncrease(c.Request.Context(), actor(c), c.Param("org"), in)
	s.respond(c, http.StatusAccepted, r, err)
}

func (s *Server) apiQuotaRequests(c *gin.Context) {
	rs, err := s.cfg.Quota.Requests(c.Request.Context(), actor(c), c.Param("org"))
	s.respond(c, http.StatusOK, gin.H{"quota_requests": rs}, err)
}

func (s *Server) apiAdminQuotaRequests(c *gin.Context) {
	var statuses []string
	if st := c.Query("status"); st != "" {
		statuses = strings.Split(st, ",")
	}
	page, err := pageRequest(c, "cursor")
	var rs onramp.Page[onramp.QuotaRequest]
	if err == nil {
		rs, err = s.cfg.Quota.Queue(c.Request.Context(), adminActor(), statuses, page)
	}
	s.respond(c, http.StatusOK, pageBody("quota_requests", rs), err)
}

func (s *Server) apiAdminQuotaAction(c *gin.Context) {
	var d onramp.QuotaDecision
	if !s.bind(c, &d, `send {"by": "ana@provider.example", "limit": 50000} to approve or {"by": "…", "reason": "…"} to reject`) {
		return
	}
	r, err := s.cfg.Quota.Decide(c.Request.Context(), adminActor(), c.Param("id"), c.Param("action"), d)
	s.respond(c, http.StatusOK, r, err)
}

// Usage page.

type usagePageView struct {
	page
	Memberships   []Membership
	Org           Membership
	Usage         quota.View
	Credentials   []onramp.Credential
	Calls         listView[onramp.UsageEvent]
	Filter        map[string]string
	Products      []quota.Line // one line per product, for the quota request form
	Suggest       string       // the product nearest its quota, preselected in the form
	CanRequest    bool
	Notice, Error string
}

func (s *Server) usagePage(c *gin.Context) {
	s.renderUsage(c, http.StatusOK, usagePageView{Notice: s.takeFlash(c).Notice})
}

func (s *Server) renderUsage(c *gin.Context, status int, v usagePageView) {
	ctx, a := c.Request.Context(), actor(c)
	orgID := currentOrg(c, a)
	var err error
	if v.Usage, err = s.cfg.Quota.Usage(ctx, a, orgID); err != nil {
		s.failPage(c, err)
		return
	}
	m, _ := a.In(orgID)
	v.page, v.Memberships, v.Org = s.signedInPage("Usage"), a.Memberships, m
	v.CanRequest = s.cfg.Quota.MayRequest(ctx, a, orgID)
	f, ferr := callFilter(c, false)
	if ferr != nil && v.Error == "" {
		v.Error = onramp.ErrorMessage(ferr)
		f = onramp.CallFilter{Limit: onramp.DefaultPageLimit}
	}
	v.Filter = map[string]string{"environment": c.Query("environment"), "status": c.Query("status"), "credential": c.Query("credential"),
		"operation": c.Query("operation"), "from": c.Query("from"), "to": c.Query("to")}
	var calls onramp.Page[onramp.UsageEvent]
	if calls, err = s.cfg.Quota.CallPage(ctx, a, orgID, f); err == nil {
		v.Calls = callsList(c, calls, f)
		v.Credentials, err = s.cfg.Keys.List(ctx, orgID)
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	top := -1.0
	for _, l := range v.Usage.Lines {
		if !slices.ContainsFunc(v.Products, func(p quota.Line) bool { return p.Product == l.Product }) {
			v.Products = append(v.Products, l)
		}
		if l.Percent > top {
			top, v.Suggest = l.Percent, l.Product
		}
	}
	s.render(c, status, "usage.html", v)
}

// callsList is the history's pager: older calls next, and back to the newest (the history reads
// newest first only).
func callsList(c *gin.Context, calls onramp.Page[onramp.UsageEvent], f onramp.CallFilter) listView[onramp.UsageEvent] {
	l := listOf(c, "cursor", "calls", calls)
	l.Pager.NextText = "Older calls"
	if f.After != nil {
		l.Pager.Prev, l.Pager.PrevText = pageLink(c, "cursor", "", "calls"), "Newest calls"
	}
	return l
}

func (s *Server) usageData(c *gin.Context) { s.usageJSON(c, currentOrg(c, actor(c))) }

func (s *Server) usageCSV(c *gin.Context) { s.calls(c, currentOrg(c, actor(c)), true) }

func (s *Server) usageRequestQuota(c *gin.Context) {
	orgID := currentOrg(c, actor(c))
	limit, _ := strconv.ParseInt(strings.TrimSpace(c.PostForm("new_limit")), 10, 64)
	r, err := s.cfg.Quota.RequestIncrease(c.Request.Context(), actor(c), orgID, quota.Increase{Product: c.PostForm("product"), NewLimit: limit, Justification: c.PostForm("justification")})
	if err != nil {
		s.renderUsage(c, statusOf(err), usagePageView{Error: onramp.ErrorMessage(err)})
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
	r, err := s.cfg.Quota.Decide(c.Request.Context(), adminActor(), c.Param("id"), c.Param("action"), onramp.QuotaDecision{By: c.PostForm("by"), Limit: limit, Reason: c.PostForm("reason")})
	if err != nil {
		s.adminReviewsPage(c, statusOf(err), reviewsView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/reviews", "Quota request "+r.ID+" is "+r.Status+".")
}
