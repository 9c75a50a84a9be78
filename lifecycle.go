package onramp

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// A version's lifecycle: deprecated (it still answers, with Deprecation and Sunset headers),
// browned out (inside a scheduled window before its sunset it answers 410 Gone, as it will after
// the sunset) and retired (from its sunset on, 410 Gone for good). PhaseAt is the one rule that
// decides it, for the catalog's pages, policies/catalog and the gateway alike.

// Phases of a version at an instant: its status, or brownout and retired for a deprecated one.
const (
	PhaseBrownout = "brownout"
	PhaseRetired  = "retired"
)

// BrownoutWindow is a span [Start, End) during which a deprecated version answers 410 Gone.
type BrownoutWindow struct {
	Start time.Time `json:"start" bson:"start"`
	End   time.Time `json:"end" bson:"end"`
}

// Contains reports whether t is in [Start, End).
func (w BrownoutWindow) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// PhaseAt is the version's phase at now: a deprecated version is retired from its sunset on
// (Sunset <= now), browned out inside one of its windows, and deprecated otherwise; any other
// version is its status.
func (v ProductVersion) PhaseAt(now time.Time) string {
	if v.Status != VersionDeprecated {
		return v.Status
	}
	if v.Sunset != nil && !now.Before(*v.Sunset) {
		return PhaseRetired
	}
	if _, ok := v.BrownoutAt(now); ok {
		return PhaseBrownout
	}
	return VersionDeprecated
}

// BrownoutAt returns the window of a deprecated version that contains now, if any.
func (v ProductVersion) BrownoutAt(now time.Time) (BrownoutWindow, bool) {
	if v.Status != VersionDeprecated {
		return BrownoutWindow{}, false
	}
	for _, w := range v.Brownouts {
		if w.Contains(now) {
			return w, true
		}
	}
	return BrownoutWindow{}, false
}

// GoneAt reports whether the version answers 410 Gone at now (retired, or in a brownout).
func (v ProductVersion) GoneAt(now time.Time) bool {
	p := v.PhaseAt(now)
	return p == PhaseRetired || p == PhaseBrownout
}

// DeprecationDate is when the version was deprecated, as its Deprecation header says: the time
// recorded when it became deprecated (its publication, for versions deprecated before that was
// recorded), but never after its sunset, which RFC 9745 §4 forbids. Zero for a version that is
// not deprecated.
func (v ProductVersion) DeprecationDate() time.Time {
	if v.Status != VersionDeprecated {
		return time.Time{}
	}
	at := v.PublishedAt
	if v.DeprecatedAt != nil {
		at = *v.DeprecatedAt
	}
	if v.Sunset != nil && v.Sunset.Before(at) {
		at = *v.Sunset
	}
	return at.UTC()
}

// Successor is the version partners move to from a deprecated one: the product's newest current
// version (versions in publication order). False when there is none, or v is that version.
func Successor(versions []ProductVersion, v ProductVersion) (ProductVersion, bool) {
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i].Status == VersionCurrent {
			return versions[i], versions[i].Version != v.Version
		}
	}
	return ProductVersion{}, false
}

// MigrationPage is the portal page that tells partners what a version's deprecation means: the
// version's page, at its lifecycle section (its sunset, brownouts, and the successor to move to).
// The gateway links it (Link rel="deprecation" and rel="sunset") and the e-mails name it.
func MigrationPage(portalURL, product, version string) string {
	return strings.TrimRight(portalURL, "/") + "/catalog/" + url.PathEscape(product) + "?version=" + url.QueryEscape(version) + "#lifecycle"
}

// Bounds of a brownout schedule.
const (
	MaxBrownoutWindows    = 52 // a year of weekly windows
	MinBrownoutWindow     = time.Second
	MaxBrownoutWindow     = 24 * time.Hour
	DefaultBrownoutNotice = 24 * time.Hour
	MaxBrownoutNotice     = 14 * 24 * time.Hour
)

// BrownoutSpec is how a provider schedules a deprecated version's brownouts: explicit windows, a
// weekly rule, or both (their windows merged), and how long before each window the partners
// assigned the product are e-mailed. "Every Tuesday 10:00–10:15 UTC for the last 4 weeks before
// a sunset on Wednesday 30 June 2027" is {"weekly": {"start": "2027-06-08T10:00:00Z",
// "duration": "15m", "count": 4}}.
type BrownoutSpec struct {
	Windows []BrownoutWindow `json:"windows,omitempty"`
	Weekly  *WeeklyBrownouts `json:"weekly,omitempty"`
	// Notice is a Go duration (e.g. 24h, 72h, 0s); empty: DefaultBrownoutNotice. A window that
	// starts sooner than that is announced at once.
	Notice string `json:"notice,omitempty"`
}

// WeeklyBrownouts is Count windows of Duration, the first at Start and each a week after the last.
type WeeklyBrownouts struct {
	Start    time.Time `json:"start"`
	Duration string    `json:"duration"` // Go duration, e.g. 15m
	Count    int       `json:"count"`
}

// BrownoutPlan is a validated schedule for one version: its windows in order, and how long
// before each one partners are told.
type BrownoutPlan struct {
	Product string           `json:"product"`
	Version string           `json:"version"`
	Windows []BrownoutWindow `json:"windows"`
	Notice  time.Duration    `json:"notice"`
	By      string           `json:"by"` // who scheduled it
}

// Plan validates s for version v at now and expands it into windows, in UTC and in order.
// EINVALID naming the first thing to fix: v must be deprecated with a sunset still ahead; every
// window lasts MinBrownoutWindow to MaxBrownoutWindow, starts no earlier than now, ends by the
// sunset and overlaps no other; at most MaxBrownoutWindows; a notice of 0 to MaxBrownoutNotice.
func (s BrownoutSpec) Plan(v ProductVersion, now time.Time) (BrownoutPlan, error) {
	name := v.Product + " " + v.Version
	switch {
	case v.Status != VersionDeprecated || v.Sunset == nil:
		return BrownoutPlan{}, Errorf(EINVALID, "%s is %s: deprecate it with a sunset first (a brownout rehearses the sunset)", name, v.Status)
	case !now.Before(*v.Sunset):
		return BrownoutPlan{}, Errorf(EINVALID, "%s is past its sunset (%s) already: it answers 410 Gone for good", name, v.Sunset.UTC().Format(time.RFC3339))
	}
	p := BrownoutPlan{Product: v.Product, Version: v.Version, Notice: DefaultBrownoutNotice}
	if strings.TrimSpace(s.Notice) != "" {
		d, err := time.ParseDuration(strings.TrimSpace(s.Notice))
		if err != nil || d < 0 || d > MaxBrownoutNotice {
			return BrownoutPlan{}, Errorf(EINVALID, "notice %q must be a duration from 0s to %s, e.g. 24h", s.Notice, MaxBrownoutNotice)
		}
		p.Notice = d
	}
	for _, w := range s.Windows {
		p.Windows = append(p.Windows, BrownoutWindow{Start: w.Start.UTC(), End: w.End.UTC()})
	}
	if wk := s.Weekly; wk != nil {
		d, err := time.ParseDuration(strings.TrimSpace(wk.Duration))
		switch {
		case err != nil:
			return BrownoutPlan{}, Errorf(EINVALID, "weekly duration %q must be a duration such as 15m", wk.Duration)
		case wk.Start.IsZero():
			return BrownoutPlan{}, Errorf(EINVALID, "weekly needs the first window's start, e.g. 2027-06-08T10:00:00Z")
		case wk.Count < 1 || wk.Count > MaxBrownoutWindows:
			return BrownoutPlan{}, Errorf(EINVALID, "weekly count %d must be 1 to %d windows", wk.Count, MaxBrownoutWindows)
		}
		for i := range wk.Count {
			start := wk.Start.UTC().AddDate(0, 0, 7*i)
			p.Windows = append(p.Windows, BrownoutWindow{Start: start, End: start.Add(d)})
		}
	}
	if len(p.Windows) == 0 {
		return BrownoutPlan{}, Errorf(EINVALID, `give windows ([{"start": "…", "end": "…"}]) or a weekly rule ({"start": "…", "duration": "15m", "count": 4})`)
	}
	if len(p.Windows) > MaxBrownoutWindows {
		return BrownoutPlan{}, Errorf(EINVALID, "%d windows is more than the %d a schedule may have", len(p.Windows), MaxBrownoutWindows)
	}
	slices.SortFunc(p.Windows, func(a, b BrownoutWindow) int { return a.Start.Compare(b.Start) })
	sunset := v.Sunset.UTC()
	for i, w := range p.Windows {
		span := w.Start.Format(time.RFC3339) + "–" + w.End.Format(time.RFC3339)
		switch d := w.End.Sub(w.Start); {
		case d < MinBrownoutWindow || d > MaxBrownoutWindow:
			return BrownoutPlan{}, Errorf(EINVALID, "window %s lasts %s: a window lasts %s to %s", span, d, MinBrownoutWindow, MaxBrownoutWindow)
		case w.Start.Before(now):
			return BrownoutPlan{}, Errorf(EINVALID, "window %s starts in the past (it is %s)", span, now.UTC().Format(time.RFC3339))
		case w.End.After(sunset):
			return BrownoutPlan{}, Errorf(EINVALID, "window %s ends after the sunset (%s): from then on %s is gone anyway", span, sunset.Format(time.RFC3339), name)
		case i > 0 && w.Start.Before(p.Windows[i-1].End):
			return BrownoutPlan{}, Errorf(EINVALID, "windows %s and %s overlap", p.Windows[i-1].Start.Format(time.RFC3339), span)
		}
	}
	return p, nil
}

// BrownoutsBefore keeps what of ws lies before at: the windows that ended by then, and the part
// of one under way (cut to end at at). A new schedule, or a cancelled one, keeps this history.
func BrownoutsBefore(ws []BrownoutWindow, at time.Time) []BrownoutWindow {
	out := []BrownoutWindow{}
	for _, w := range ws {
		switch {
		case !w.End.After(at):
			out = append(out, w)
		case w.Start.Before(at):
			out = append(out, BrownoutWindow{Start: w.Start, End: at})
		}
	}
	return out
}

// BrownoutSchedules drives versions' brownout schedules (one Temporal workflow per version).
type BrownoutSchedules interface {
	// StartBrownouts starts p's schedule and returns once its windows are in the catalog;
	// ECONFLICT while another schedule of the version runs.
	StartBrownouts(ctx context.Context, p BrownoutPlan) error
	// CancelBrownouts ends the version's schedule: windows not yet over leave the catalog (one
	// under way ends now) and no more notices go out. ECONFLICT when none runs.
	CancelBrownouts(ctx context.Context, product, version, by string) error
}

// BrownoutStore keeps a version's brownout windows (on the version, so every gateway node reads
// them with the catalog data it already caches).
type BrownoutStore interface {
	// SetBrownouts replaces the version's windows; ENOTFOUND when the version is absent.
	SetBrownouts(ctx context.Context, product, version string, windows []BrownoutWindow) error
}

// NoticeLog remembers which lifecycle notices went out, so a retried delivery never sends one
// twice.
type NoticeLog interface {
	// ClaimNotice records id; false when it was claimed before (the notice is sent or being sent).
	ClaimNotice(ctx context.Context, id string, at time.Time) (bool, error)
	// ReleaseNotice forgets id after its delivery failed, so a retry may send it.
	ReleaseNotice(ctx context.Context, id string) error
}

// BrownoutNoticeID is the id of the notice of a version's window to one organisation.
func BrownoutNoticeID(product, version string, w BrownoutWindow, orgID string) string {
	return fmt.Sprintf("brownout-%s@%s-%d-%s", product, version, w.Start.Unix(), orgID)
}
