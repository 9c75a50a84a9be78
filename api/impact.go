package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/impact"
)

func (s *Server) impactRoutes(g routeGroups) {
	g.org.GET("/catalog/:product/deprecated-calls", s.apiDeprecatedCalls)
	g.admin.GET("/products/:slug/versions/:version/callers", s.apiAdminCallers)
	g.adminPages.GET("/products/:slug/versions/:version/callers", s.adminCallersPage)
	g.adminPages.GET("/products/:slug/versions/:version/callers.csv", s.adminCallersCSV)
}

// Impact per partner: the partner's own calls to deprecated operations (partner API and the
// product page), and the provider's migration dashboard — who still calls a version, per week —
// with its CSV export (admin API and admin UI). impact.Service decides; this reads and renders.

func (s *Server) apiDeprecatedCalls(c *gin.Context) {
	out, err := s.cfg.Impact.DeprecatedCalls(c.Request.Context(), actor(c), c.Param("org"), c.Param("product"))
	if err == nil {
		c.Header("Cache-Control", "no-store")
	}
	s.respond(c, http.StatusOK, out, err)
}

// dashboardQuery reads weeks, offset and limit from the query string.
func dashboardQuery(c *gin.Context) (impact.DashboardQuery, error) {
	var q impact.DashboardQuery
	for name, dst := range map[string]*int{"weeks": &q.Weeks, "offset": &q.Offset, "limit": &q.Limit} {
		v := c.Query(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return q, onramp.Errorf(onramp.EINVALID, "%s %q must be a whole number", name, v)
		}
		*dst = n
	}
	if q.Limit == -1 {
		return q, onramp.Errorf(onramp.EINVALID, "limit -1 must be 1 to %d", impact.MaxPage)
	}
	return q, q.Validate()
}

func (s *Server) apiAdminCallers(c *gin.Context) {
	q, err := dashboardQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	csvOut := c.Query("format") == "csv"
	if csvOut {
		q.Offset, q.Limit = 0, -1
	}
	d, err := s.cfg.Impact.WhoCalls(c.Request.Context(), adminActor(), c.Param("slug"), c.Param("version"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	if csvOut {
		writeCallersCSV(c, d)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, d)
}

// writeCallersCSV is the dashboard as a spreadsheet: one row per organisation, a column per week.
func writeCallersCSV(c *gin.Context, d impact.Dashboard) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="callers-`+d.Product+`-`+d.Version+`.csv"`)
	c.Header("Cache-Control", "no-store")
	w := csv.NewWriter(c.Writer)
	header := []string{"org_id", "organization"}
	for _, wk := range d.Weeks {
		header = append(header, "week_of_"+wk.Format(time.DateOnly))
	}
	_ = w.Write(append(header, "calls", "last_call", "operations", "environments"))
	for _, r := range d.Callers {
		row := []string{cell(r.OrgID), cell(r.Name)}
		for _, n := range r.Weekly {
			row = append(row, strconv.FormatInt(n, 10))
		}
		_ = w.Write(append(row, strconv.FormatInt(r.Calls, 10), r.LastCall.UTC().Format(time.RFC3339), cell(strings.Join(r.Operations, " ")), strings.Join(r.Environments, " ")))
	}
	w.Flush()
}

// callersView is the admin page of a version's dashboard.
type callersView struct {
	page
	Dashboard impact.Dashboard
	Weeks     int
	Prev      *int // the previous page's offset
	Limit     int
}

// Query is the page's query string for another offset.
func (v callersView) Query(offset int) string {
	return "?weeks=" + strconv.Itoa(v.Weeks) + "&offset=" + strconv.Itoa(offset) + "&limit=" + strconv.Itoa(v.Limit)
}

func (s *Server) adminCallersPage(c *gin.Context) {
	q, err := dashboardQuery(c)
	if err != nil {
		s.failPage(c, err)
		return
	}
	if q.Weeks == 0 {
		q.Weeks = impact.DefaultWeeks
	}
	if q.Limit == 0 {
		q.Limit = impact.DefaultPage
	}
	d, err := s.cfg.Impact.WhoCalls(c.Request.Context(), adminActor(), c.Param("slug"), c.Param("version"), q)
	if err != nil {
		s.failPage(c, err)
		return
	}
	v := callersView{page: s.adminPage("Who still calls " + d.Product + " " + d.Version), Dashboard: d, Weeks: q.Weeks, Limit: q.Limit}
	if q.Offset > 0 {
		prev := max(0, q.Offset-q.Limit)
		v.Prev = &prev
	}
	s.render(c, http.StatusOK, "admin_callers.html", v)
}

func (s *Server) adminCallersCSV(c *gin.Context) {
	q, err := dashboardQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	q.Offset, q.Limit = 0, -1
	d, err := s.cfg.Impact.WhoCalls(c.Request.Context(), adminActor(), c.Param("slug"), c.Param("version"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeCallersCSV(c, d)
}

// migrationSummary is a deprecated version's "who still calls it" on the admin product page: the
// first callers, and how many there are.
type migrationSummary struct {
	Version   string
	Dashboard impact.Dashboard
}

// migrationSummaries are the admin product page's dashboards of its deprecated versions.
func (s *Server) migrationSummaries(c *gin.Context, product string, lifecycles []*lifecycleView) ([]migrationSummary, error) {
	var out []migrationSummary
	for _, l := range lifecycles {
		d, err := s.cfg.Impact.WhoCalls(c.Request.Context(), adminActor(), product, l.Version, impact.DashboardQuery{Limit: 5})
		if err != nil {
			return nil, err
		}
		out = append(out, migrationSummary{Version: l.Version, Dashboard: d})
	}
	return out, nil
}
