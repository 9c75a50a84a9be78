package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

// Version lifecycle: what version summaries say of deprecation, sunset and brownouts, and the
// provider's brownout schedule (admin API and admin UI). The catalog decides; this reads and
// renders.

// versionLifecycle is a version summary's lifecycle fields.
type versionLifecycle struct {
	Phase         string                  `json:"phase"`                   // beta, current, deprecated, brownout or retired
	SunsetAt      string                  `json:"sunset_at,omitempty"`     // RFC 3339: from then on, 410 Gone
	DeprecatedAt  string                  `json:"deprecated_at,omitempty"` // the Deprecation header's date
	Successor     string                  `json:"successor,omitempty"`     // the version to move to
	MigrationPage string                  `json:"migration_page,omitempty"`
	Brownouts     []onramp.BrownoutWindow `json:"brownouts,omitempty"` // past windows included
}

// lifecycleOf summarises v's lifecycle among its product's versions vs.
func lifecycleOf(vs []onramp.ProductVersion, v onramp.ProductVersion) versionLifecycle {
	l := versionLifecycle{Phase: v.Phase, Brownouts: v.Brownouts}
	if l.Phase == "" {
		l.Phase = v.Status
	}
	if v.Sunset != nil {
		l.SunsetAt = v.Sunset.UTC().Format(time.RFC3339)
	}
	if v.Status == onramp.VersionDeprecated {
		l.DeprecatedAt = v.DeprecationDate().Format(time.RFC3339)
		l.MigrationPage = onramp.MigrationPage("", v.Product, v.Version)
		if s, ok := onramp.Successor(vs, v); ok {
			l.Successor = s.Version
		}
	}
	return l
}

// summaryOf summarises v, one of vs (its successor is among them).
func summaryOf(vs []onramp.ProductVersion, v onramp.ProductVersion) versionSummary {
	for _, sum := range summarizeVersions(vs) {
		if sum.Version == v.Version {
			return sum
		}
	}
	return summarizeVersions([]onramp.ProductVersion{v})[0]
}

// versionSummary summarises one version with its product's others (for its successor).
func (s *Server) versionSummary(ctx context.Context, product, version string) (versionSummary, error) {
	pa, err := s.cfg.Catalog.ProductAdmin(ctx, product)
	if err != nil {
		return versionSummary{}, err
	}
	i := slices.IndexFunc(pa.Versions, func(v onramp.ProductVersion) bool { return v.Version == version })
	if i < 0 {
		return versionSummary{}, onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q", product, version)
	}
	return summarizeVersions(pa.Versions)[i], nil
}

// brownoutSchedule is a scheduled plan as the admin API answers it.
type brownoutSchedule struct {
	Product string                  `json:"product"`
	Version versionSummary          `json:"version"`
	Windows []onramp.BrownoutWindow `json:"windows"`
	Notice  string                  `json:"notice"` // how long before each window partners are e-mailed
	By      string                  `json:"by"`
}

const sendBrownouts = `send {"windows": [{"start": "2027-06-01T10:00:00Z", "end": "2027-06-01T10:15:00Z"}], "weekly": {"start": "2027-06-08T10:00:00Z", "duration": "15m", "count": 4}, "notice": "24h"} (windows, weekly or both)`

func (s *Server) apiAdminScheduleBrownouts(c *gin.Context) {
	var spec onramp.BrownoutSpec
	if err := c.ShouldBindJSON(&spec); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, "%s: %v", sendBrownouts, err))
		return
	}
	ctx := c.Request.Context()
	p, _, err := s.cfg.Catalog.ScheduleBrownouts(ctx, adminActor(), c.Param("slug"), c.Param("version"), spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.versionSummary(ctx, p.Product, p.Version)
	s.respond(c, http.StatusCreated, brownoutSchedule{Product: p.Product, Version: v, Windows: p.Windows, Notice: p.Notice.String(), By: p.By}, err)
}

func (s *Server) apiAdminCancelBrownouts(c *gin.Context) {
	ctx := c.Request.Context()
	v, err := s.cfg.Catalog.CancelBrownouts(ctx, adminActor(), c.Param("slug"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.versionSummary(ctx, v.Product, v.Version)
	s.respond(c, http.StatusOK, out, err)
}

// parseInstant reads a time as the admin forms and API give it: RFC 3339, or a form's
// date-time without a zone (2027-06-08T10:00, read as UTC).
func parseInstant(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, onramp.Errorf(onramp.EINVALID, "%s %q must be a UTC time like 2027-06-08T10:00:00Z", field, s)
}

// brownoutForm reads the admin UI's schedule form: one window a line ("start/end" or
// "start/duration", e.g. 2027-06-01T10:00:00Z/15m), and an optional weekly rule.
func brownoutForm(c *gin.Context) (onramp.BrownoutSpec, error) {
	spec := onramp.BrownoutSpec{Notice: strings.TrimSpace(c.PostForm("notice"))}
	for i, line := range splitLines(c.PostForm("windows")) {
		field := "window " + strconv.Itoa(i+1)
		from, to, ok := strings.Cut(line, "/")
		if !ok {
			return spec, onramp.Errorf(onramp.EINVALID, "%s %q must be start/end or start/duration, e.g. 2027-06-01T10:00:00Z/15m", field, line)
		}
		start, err := parseInstant(field+" start", from)
		if err != nil {
			return spec, err
		}
		end, err := parseInstant(field+" end", to)
		if d, derr := time.ParseDuration(strings.TrimSpace(to)); derr == nil {
			end, err = start.Add(d), nil
		}
		if err != nil {
			return spec, err
		}
		spec.Windows = append(spec.Windows, onramp.BrownoutWindow{Start: start, End: end})
	}
	if first := strings.TrimSpace(c.PostForm("weekly_start")); first != "" {
		start, err := parseInstant("weekly start", first)
		if err != nil {
			return spec, err
		}
		count, err := strconv.Atoi(strings.TrimSpace(c.PostForm("weekly_count")))
		if err != nil {
			return spec, onramp.Errorf(onramp.EINVALID, "weekly count %q must be a number of windows, e.g. 4", c.PostForm("weekly_count"))
		}
		spec.Weekly = &onramp.WeeklyBrownouts{Start: start, Duration: strings.TrimSpace(c.PostForm("weekly_duration")), Count: count}
	}
	return spec, nil
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// adminScheduleBrownouts is the version's brownout form on the admin product page.
func (s *Server) adminScheduleBrownouts(c *gin.Context) {
	spec, err := brownoutForm(c)
	var p onramp.BrownoutPlan
	if err == nil {
		p, _, err = s.cfg.Catalog.ScheduleBrownouts(c.Request.Context(), adminActor(), c.Param("slug"), c.Param("version"), spec)
	}
	if err != nil {
		if onramp.ErrorCode(err) == onramp.EINTERNAL {
			s.fail(c, err)
			return
		}
		s.adminProductPage(c, http.StatusBadRequest, adminProductView{Error: c.Param("version") + ": " + onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/products/"+p.Product+"#lifecycle-"+p.Version, "Scheduled "+strconv.Itoa(len(p.Windows))+" brownout window(s) of "+p.Product+" "+p.Version+
		"; the partners assigned it are e-mailed "+p.Notice.String()+" before each.")
}

// adminCancelBrownouts is the version's cancel button on the admin product page.
func (s *Server) adminCancelBrownouts(c *gin.Context) {
	v, err := s.cfg.Catalog.CancelBrownouts(c.Request.Context(), adminActor(), c.Param("slug"), c.Param("version"))
	if err != nil {
		if onramp.ErrorCode(err) == onramp.EINTERNAL {
			s.fail(c, err)
			return
		}
		s.adminProductPage(c, http.StatusConflict, adminProductView{Error: c.Param("version") + ": " + onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/products/"+v.Product+"#lifecycle-"+v.Version, "Cancelled the brownouts of "+v.Product+" "+v.Version+" still to come.")
}

// lifecycleView is a deprecated version's lifecycle section on the partner's product page (the
// migration page, #lifecycle) and the admin's: where it stands now, the way out, its windows.
type lifecycleView struct {
	Product      string
	Version      string
	Phase        string
	DeprecatedAt time.Time
	Sunset       *time.Time
	Successor    string
	Current      *onramp.BrownoutWindow // the window under way
	Upcoming     []onramp.BrownoutWindow
	Past         []onramp.BrownoutWindow
}

// lifecycleViewOf is v's section at now; nil when v is not deprecated.
func lifecycleViewOf(vs []onramp.ProductVersion, v onramp.ProductVersion, now time.Time) *lifecycleView {
	if v.Status != onramp.VersionDeprecated {
		return nil
	}
	l := &lifecycleView{Product: v.Product, Version: v.Version, Phase: v.Phase, DeprecatedAt: v.DeprecationDate(), Sunset: v.Sunset}
	if l.Phase == "" {
		l.Phase = v.PhaseAt(now)
	}
	if s, ok := onramp.Successor(vs, v); ok {
		l.Successor = s.Version
	}
	if w, ok := v.BrownoutAt(now); ok {
		l.Current = &w
	}
	for _, w := range v.Brownouts {
		switch {
		case !w.End.After(now):
			l.Past = append(l.Past, w)
		case w.Start.After(now):
			l.Upcoming = append(l.Upcoming, w)
		}
	}
	return l
}
