package impact

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// Dashboard bounds: weeks shown, and organisations per page.
const (
	MaxWeeks, DefaultWeeks = 8, 8
	MaxPage, DefaultPage   = 500, 50
)

// DashboardQuery picks the weeks and the page of a migration dashboard.
type DashboardQuery struct {
	Weeks  int // 1 to MaxWeeks; 0: DefaultWeeks
	Offset int // organisations to skip
	Limit  int // 1 to MaxPage; 0: DefaultPage; -1: every organisation (the CSV export)
}

// Validate returns EINVALID naming the bound.
func (q DashboardQuery) Validate() error {
	switch {
	case q.Weeks < 0 || q.Weeks > MaxWeeks:
		return onramp.Errorf(onramp.EINVALID, "weeks %d must be 1 to %d", q.Weeks, MaxWeeks)
	case q.Offset < 0:
		return onramp.Errorf(onramp.EINVALID, "offset %d must not be negative", q.Offset)
	case q.Limit < -1 || q.Limit > MaxPage:
		return onramp.Errorf(onramp.EINVALID, "limit %d must be 1 to %d", q.Limit, MaxPage)
	}
	return nil
}

// Caller is one organisation still calling a version: its calls per week, oldest week first.
type Caller struct {
	OrgID        string    `json:"org_id"`
	Name         string    `json:"name"`
	Weekly       []int64   `json:"weekly"` // one per Dashboard.Weeks
	Calls        int64     `json:"calls"`  // over every week shown
	LastCall     time.Time `json:"last_call"`
	Operations   []string  `json:"operations"`   // the version's operations it called, most called first
	Environments []string  `json:"environments"` // where
}

// Dashboard is the migration dashboard of a version: who still calls it.
type Dashboard struct {
	Product    string      `json:"product"`
	Version    string      `json:"version"`
	Phase      string      `json:"phase"`
	Weeks      []time.Time `json:"weeks"` // each week's Monday (UTC), oldest first; the last one is under way
	Callers    []Caller    `json:"callers"`
	Total      int         `json:"total"`  // organisations calling, every page
	Calls      int64       `json:"calls"`  // their calls, every page
	Offset     int         `json:"offset"` // of this page
	Next       *int        `json:"next,omitempty"`
	ComputedAt time.Time   `json:"computed_at"`
}

type dashboardEntry struct {
	d    Dashboard // every caller
	done chan struct{}
	err  error
}

// WhoCalls is product's version's migration dashboard: the organisations assigned the product
// that called the version in the weeks shown, most calls first, each with its calls per week
// (Monday to Sunday, UTC; the current week so far), its last call and the operations it called.
// One computation, which reads every assigned organisation's aggregates by id, serves every page
// and export for DashboardTTL. Only the provider asks: EFORBIDDEN otherwise; ENOTFOUND for an
// unknown version; EINVALID for a query out of bounds.
func (s *Service) WhoCalls(ctx context.Context, a onramp.Actor, product, version string, q DashboardQuery) (Dashboard, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return Dashboard{}, err
	}
	if err := q.Validate(); err != nil {
		return Dashboard{}, err
	}
	if q.Weeks == 0 {
		q.Weeks = DefaultWeeks
	}
	if q.Limit == 0 {
		q.Limit = DefaultPage
	}
	v, err := s.cfg.Catalog.Version(ctx, product, version)
	if err != nil {
		return Dashboard{}, err
	}
	full, err := s.dashboard(ctx, v, q.Weeks)
	if err != nil {
		return Dashboard{}, err
	}
	out := full
	out.Phase, out.Offset = v.Phase, q.Offset
	start, end := min(q.Offset, len(full.Callers)), len(full.Callers)
	if q.Limit > 0 && start+q.Limit < end {
		end = start + q.Limit
		out.Next = &end
	}
	out.Callers = full.Callers[start:end]
	return out, nil
}

// dashboard computes (or reuses) every caller of v over weeks; concurrent askers share one
// computation.
func (s *Service) dashboard(ctx context.Context, v onramp.ProductVersion, weeks int) (Dashboard, error) {
	key := v.Product + "@" + v.Version + "#" + strconv.Itoa(weeks)
	now := s.cfg.Now().UTC()
	s.mu.Lock()
	e := s.dashboards[key]
	if e != nil {
		select {
		case <-e.done:
			if e.err != nil || now.Sub(e.d.ComputedAt) >= s.cfg.DashboardTTL || now.Before(e.d.ComputedAt) {
				e = nil
			}
		default: // under way: wait for it
		}
	}
	if e == nil {
		e = &dashboardEntry{done: make(chan struct{})}
		s.dashboards[key] = e
		s.mu.Unlock()
		e.d, e.err = s.computeDashboard(context.WithoutCancel(ctx), v, weeks, now)
		close(e.done)
	} else {
		s.mu.Unlock()
	}
	select {
	case <-e.done:
		return e.d, e.err
	case <-ctx.Done():
		return Dashboard{}, ctx.Err()
	}
}

// dashboardBatch is how many organisations' aggregates one read asks for.
const dashboardBatch = 1000

func (s *Service) computeDashboard(ctx context.Context, v onramp.ProductVersion, weeks int, now time.Time) (Dashboard, error) {
	d := Dashboard{Product: v.Product, Version: v.Version, Weeks: make([]time.Time, weeks), Callers: []Caller{}, ComputedAt: now}
	first := onramp.WeekStart(now).AddDate(0, 0, -7*(weeks-1))
	for i := range d.Weeks {
		d.Weeks[i] = first.AddDate(0, 0, 7*i)
	}
	orgs, err := s.cfg.Assignments.AssignedTo(ctx, v.Product)
	if err != nil {
		return d, err
	}
	to := now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	var callers []Caller
	for start := 0; start < len(orgs); start += dashboardBatch {
		batch := orgs[start:min(start+dashboardBatch, len(orgs))]
		usage, err := s.cfg.Usage.OperationUsage(ctx, v.Product, batch, first, to)
		if err != nil {
			return d, err
		}
		for _, org := range batch {
			if c, ok := callerOf(org, v.Version, usage[org], d.Weeks); ok {
				callers = append(callers, c)
			}
		}
	}
	ids := make([]string, len(callers))
	for i, c := range callers {
		ids[i] = c.OrgID
	}
	named, err := s.organizations(ctx, ids)
	if err != nil {
		return d, err
	}
	for _, c := range callers {
		if o, ok := named[c.OrgID]; ok {
			c.Name = o.Name
			d.Callers = append(d.Callers, c)
			d.Calls += c.Calls
		}
	}
	slices.SortFunc(d.Callers, func(a, b Caller) int {
		if a.Calls != b.Calls {
			if a.Calls > b.Calls {
				return -1
			}
			return 1
		}
		return strings.Compare(a.OrgID, b.OrgID)
	})
	d.Total = len(d.Callers)
	return d, nil
}

// callerOf sums one organisation's usage of version into weeks; false when it made no call.
func callerOf(orgID, version string, usage []onramp.OperationUsage, weeks []time.Time) (Caller, bool) {
	c := Caller{OrgID: orgID, Weekly: make([]int64, len(weeks)), Operations: []string{}, Environments: []string{}}
	perOp := map[string]int64{}
	for _, u := range usage {
		if u.Version != version {
			continue
		}
		for _, day := range u.Days {
			w := int(day.Day.Sub(weeks[0]).Hours()) / (24 * 7)
			if day.Day.Before(weeks[0]) || w >= len(weeks) {
				continue
			}
			c.Weekly[w] += day.Calls
			c.Calls += day.Calls
			perOp[u.Operation] += day.Calls
			if !slices.Contains(c.Environments, u.Environment) {
				c.Environments = append(c.Environments, u.Environment)
			}
		}
		if last := u.LastCall(); last.After(c.LastCall) {
			c.LastCall = last
		}
	}
	if c.Calls == 0 {
		return c, false
	}
	for op := range perOp {
		c.Operations = append(c.Operations, op)
	}
	slices.SortFunc(c.Operations, func(a, b string) int {
		if perOp[a] != perOp[b] {
			if perOp[a] > perOp[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	slices.Sort(c.Environments)
	return c, true
}

// DeprecatedCalls is a partner's own calls to the deprecated versions of a product.
type DeprecatedCalls struct {
	Product  string              `json:"product"`
	From     time.Time           `json:"from"` // the window's first day (UTC)
	To       time.Time           `json:"to"`
	Versions []DeprecatedVersion `json:"versions"` // every deprecated version, in publication order
}

// DeprecatedVersion is one deprecated version and the organisation's calls of its operations.
type DeprecatedVersion struct {
	Version    string                   `json:"version"`
	Phase      string                   `json:"phase"` // deprecated, brownout or retired
	Sunset     *time.Time               `json:"sunset,omitempty"`
	Successor  string                   `json:"successor,omitempty"`
	Calls      int64                    `json:"calls"`
	Operations []onramp.OperationImpact `json:"operations"` // those it called, most called first, with what moving to Successor changes
}

// DeprecatedCalls returns orgID's own calls, in the last onramp.ImpactDays, of each deprecated
// version of product (retired and browned-out ones included: their 410s count as calls), with
// what changes for each operation on moving to the successor. ENOTFOUND for an organisation the
// actor is not in, or a product it does not see (as the catalog answers); EFORBIDDEN when policy
// keeps the actor from reading usage.
func (s *Service) DeprecatedCalls(ctx context.Context, a onramp.Actor, orgID, product string) (DeprecatedCalls, error) {
	m, err := onramp.Authorize(ctx, s.cfg.Policy, a, orgID, onramp.ActionUsageView, onramp.Target{})
	if err != nil {
		return DeprecatedCalls{}, err
	}
	view, err := s.cfg.Catalog.Product(ctx, m.Organization, product, "")
	if err != nil {
		return DeprecatedCalls{}, err
	}
	now := s.cfg.Now().UTC()
	from, to := onramp.ImpactWindow(now)
	out := DeprecatedCalls{Product: view.Product.Slug, From: from, To: to, Versions: []DeprecatedVersion{}}
	var plans []onramp.ImpactPlan
	for _, v := range view.Versions {
		if v.Status != onramp.VersionDeprecated || v.Sunset == nil {
			continue
		}
		plan, err := s.affectedBy(ctx, onramp.ImpactEvent{Kind: onramp.ImpactDeprecated, Product: v.Product, Version: v.Version, Sunset: v.Sunset})
		if err != nil {
			return out, err
		}
		plan.At = now
		plans = append(plans, plan)
		out.Versions = append(out.Versions, DeprecatedVersion{Version: v.Version, Phase: v.PhaseAt(now), Sunset: v.Sunset, Successor: plan.Successor, Operations: []onramp.OperationImpact{}})
	}
	if len(plans) == 0 {
		return out, nil
	}
	usage, err := s.cfg.Usage.OperationUsage(ctx, view.Product.Slug, []string{m.Organization.ID}, from, to.Truncate(24*time.Hour).AddDate(0, 0, 1))
	if err != nil {
		return out, err
	}
	for i, plan := range plans {
		imp := onramp.ImpactOf(plan, m.Organization.ID, usage[m.Organization.ID])
		if err := s.nameCredentials(ctx, m.Organization.ID, imp.Operations); err != nil {
			return out, err
		}
		out.Versions[i].Operations, out.Versions[i].Calls = imp.Operations, imp.Calls()
	}
	return out, nil
}

// Section is the partner product page's "your calls to deprecated operations", with the
// organisation's impact alarms about the product.
type Section struct {
	DeprecatedCalls
	Alarms []onramp.Notification
}

// alarmsShown is how many of the organisation's newest notifications the section looks through.
const alarmsShown = 50

// Section is the product page's section for the actor's organisation: nil when the product has
// no deprecated version and the organisation no impact alarm about it, or when policy keeps the
// member from reading usage (the page goes without it).
func (s *Service) Section(ctx context.Context, a onramp.Actor, orgID, product string) (*Section, error) {
	dc, err := s.DeprecatedCalls(ctx, a, orgID, product)
	if onramp.ErrorCode(err) == onramp.EFORBIDDEN {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	v := &Section{DeprecatedCalls: dc}
	notes, err := s.cfg.Notifications.NotificationsOf(ctx, orgID, onramp.PageRequest{Limit: alarmsShown})
	if err != nil {
		return nil, err
	}
	for _, n := range notes.Items {
		if n.OrgID == orgID && strings.HasPrefix(n.ID, "impact-"+product+"@") {
			v.Alarms = append(v.Alarms, n)
		}
	}
	if len(v.Versions) == 0 && len(v.Alarms) == 0 {
		return nil, nil
	}
	return v, nil
}
