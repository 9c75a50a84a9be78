package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/internal/requestid"
	"github.com/onramp-dev/onramp/specs"
)

// The version lifecycle at the gateway. Every answer for a deprecated version — the upstream's,
// the sandbox's, and every error the gateway itself gives once the version is known — carries
// Deprecation (RFC 9745: @<unix seconds> of when it was deprecated), Sunset (RFC 8594: the
// HTTP-date) when it has one, and Link to its migration page (rel="deprecation", and
// rel="sunset" with a sunset) and to its successor (rel="successor-version"). From its sunset on,
// and inside its brownout windows, it answers 410 Gone instead, in both environments alike:
// before the upstream or the sandbox, and without taking quota. The call is still recorded in
// usage, with status 410 and the operation it would have been, so the provider sees who still
// calls the version. Windows come with the version from the catalog the gateway caches (for up to
// the route cache's 5 s); the decision is onramp.ProductVersion.PhaseAt at the gateway's clock.

// deprecation is what a deprecated version's answers say, prepared when its route loads.
type deprecation struct {
	version   onramp.ProductVersion
	name      string // "payments v1"
	successor string // the version to move to; "" when none
	page      string // onramp.MigrationPage
	headers   http.Header
}

// newDeprecation prepares v's headers; nil when v is not deprecated.
func newDeprecation(portal string, p onramp.Product, v onramp.ProductVersion, versions []onramp.ProductVersion) *deprecation {
	if v.Status != onramp.VersionDeprecated {
		return nil
	}
	d := &deprecation{version: v, name: p.Slug + " " + v.Version, page: onramp.MigrationPage(portal, p.Slug, v.Version), headers: http.Header{}}
	d.headers.Set("Deprecation", "@"+strconv.FormatInt(v.DeprecationDate().Unix(), 10))
	d.headers.Add("Link", "<"+d.page+`>; rel="deprecation"; type="text/html"`)
	if v.Sunset != nil {
		d.headers.Set("Sunset", v.Sunset.UTC().Format(http.TimeFormat))
		d.headers.Add("Link", "<"+d.page+`>; rel="sunset"; type="text/html"`)
	}
	if s, ok := onramp.Successor(versions, v); ok {
		d.successor = s.Version
		d.headers.Add("Link", "</"+url.PathEscape(p.Slug)+"/"+url.PathEscape(s.Version)+`>; rel="successor-version"`)
	}
	return d
}

// goneProblem is the 410's problem, with where to go next as extension members.
type goneProblem struct {
	problem.Problem
	Successor    string `json:"successor,omitempty"`
	MigrationURL string `json:"migration_url"`
	Sunset       string `json:"sunset,omitempty"`        // RFC 3339
	BrownoutEnds string `json:"brownout_ends,omitempty"` // RFC 3339, during a brownout
}

// deprecated sets a deprecated version's headers on whatever the gateway answers next and, when
// the version is retired or browned out now, answers 410 Gone; it reports whether it answered.
func (g *Gateway) deprecated(w http.ResponseWriter, r *http.Request, c *call, rt *route, rest string, win Window) bool {
	d := rt.deprecation
	if d == nil {
		return false
	}
	for k, vs := range d.headers {
		w.Header()[k] = append(w.Header()[k], vs...)
	}
	now := g.cfg.Now()
	phase := d.version.PhaseAt(now)
	if phase != onramp.PhaseRetired && phase != onramp.PhaseBrownout {
		return false
	}
	// The operation the call would have been, for the usage history (who still calls what).
	inner := &http.Request{Method: r.Method, URL: &url.URL{Scheme: "http", Host: "gateway", Path: rest}, Host: "gateway", Header: http.Header{}}
	if op, _, err := rt.cp.router.FindRoute(inner); err == nil {
		c.operation = specs.OperationID(op.Method, op.Path, op.Operation)
	}
	next := " There is no current version of " + rt.product.Slug + " to move to yet; see " + d.page + "."
	if d.successor != "" {
		next = " Move to " + d.successor + " (call /" + rt.product.Slug + "/" + d.successor + "/…); what changed and how to migrate: " + d.page + "."
	}
	p := goneProblem{Successor: d.successor, MigrationURL: d.page}
	sunset := "its sunset"
	if s := d.version.Sunset; s != nil {
		p.Sunset, sunset = s.UTC().Format(time.RFC3339), "its sunset ("+s.UTC().Format(http.TimeFormat)+")"
	}
	if phase == onramp.PhaseRetired {
		p.Problem = problem.New(http.StatusGone, "version-gone", "Version gone",
			d.name+" was retired at "+sunset+" and answers 410 Gone to every call. This call did not use your quota."+next)
	} else {
		bw, _ := d.version.BrownoutAt(now)
		p.BrownoutEnds = bw.End.UTC().Format(time.RFC3339)
		p.Problem = problem.New(http.StatusGone, "version-gone", "Version gone",
			d.name+" is in a scheduled brownout until "+p.BrownoutEnds+": it answers 410 Gone exactly as it will for good from "+sunset+
				" on. This call did not use your quota."+next)
	}
	g.quotaHeaders(w, win, g.cfg.Quota.Remaining(r.Context(), win))
	p.Instance, p.RequestID = r.URL.Path, w.Header().Get(requestid.Header)
	w.Header().Set("Content-Type", problem.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusGone)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
	return true
}
