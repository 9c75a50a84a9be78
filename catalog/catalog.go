// Package catalog is the scoped API catalog: publishing validated versions with their computed
// changelog, plans and assignments, and what an organisation may see and download — decided by
// policies/catalog from the same assignments and scopes the gateway enforces.
package catalog

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/specs"
)

// PolicyName is the policies/ decision the catalog asks.
const PolicyName = "catalog"

// Config holds the catalog's dependencies.
type Config struct {
	Store       onramp.CatalogStore
	Assignments onramp.AssignmentStore
	Policy      onramp.Policy
	// Announcements tell subscribers of each published version (scheduled before it is stored).
	Announcements onramp.Announcements
	// Gateway base URLs that downloaded documents point at.
	SandboxURL, ProductionURL string
	// Brownouts drives brownout schedules (lifecycles.Temporal); nil: scheduling answers
	// EUNAVAILABLE, and the rest of the catalog works.
	Brownouts onramp.BrownoutSchedules
	// Changes is the store's change feed: with it the catalog is served from a snapshot in
	// memory that follows the feed (see snapshot.go); without it, from the stores.
	Changes onramp.ChangeFeed
	Logger  *slog.Logger // the snapshot's feed errors (default: discarded)
	Now     func() time.Time
}

// Catalog answers the portal's catalog questions.
type Catalog struct {
	cfg   Config
	docs  *docCache  // parsed documents by version id
	locks sync.Mutex // serialises publications, so version numbers follow publication order
	stop  context.CancelFunc
}

// New fails fast on a missing dependency.
func New(cfg Config) (*Catalog, error) {
	if cfg.Store == nil || cfg.Assignments == nil || cfg.Policy == nil || cfg.Announcements == nil || cfg.SandboxURL == "" || cfg.ProductionURL == "" {
		return nil, errors.New("catalog.New: Store, Assignments, Policy, Announcements, SandboxURL and ProductionURL are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.SandboxURL, cfg.ProductionURL = strings.TrimRight(cfg.SandboxURL, "/"), strings.TrimRight(cfg.ProductionURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Catalog{cfg: cfg, docs: newDocCache()}
	if cfg.Changes != nil {
		snap := newSnapshot(cfg.Store, cfg.Assignments, cfg.Changes, cfg.Now)
		c.cfg.Store, c.cfg.Assignments = snap, snap
		ctx, cancel := context.WithCancel(context.Background())
		c.stop = cancel
		go snap.follow(ctx, cfg.Logger.Warn)
	}
	return c, nil
}

// Versions is the catalog's products and versions as a store: the snapshot in memory when the
// catalog keeps one (reads never reach the store), the store itself otherwise.
func (c *Catalog) Versions() onramp.CatalogStore { return c.cfg.Store }

// Close stops following the change feed.
func (c *Catalog) Close() {
	if c.stop != nil {
		c.stop()
	}
}

// doc returns the parsed document of a published version, cached.
func (c *Catalog) doc(v onramp.ProductVersion) (*openapi3.T, error) {
	if d, ok := c.docs.get(v.ID); ok {
		return d, nil
	}
	d, err := specs.Load([]byte(v.Spec))
	if err != nil {
		return nil, err
	}
	c.docs.put(v.ID, d)
	return d, nil
}

// Publish is a version to publish.
type Publish struct {
	Product      string     `json:"product"`
	Version      string     `json:"version"`
	Status       string     `json:"status"`
	Sunset       *time.Time `json:"sunset,omitempty"`
	ReleaseNotes string     `json:"release_notes"`
	// Spec is the OpenAPI document (YAML or JSON), or a zip or tar.gz bundle of one with the files
	// its relative $refs name (see specs.ParseBundle).
	Spec   []byte `json:"-"`
	DryRun bool   `json:"dry_run"`
}

// Published is the outcome of a publication, or of its dry run.
type Published struct {
	Version   onramp.ProductVersion `json:"version"`
	Previous  string                `json:"previous,omitempty"` // the version the changelog compares with
	Changes   []specs.Change        `json:"changes"`
	Breaking  bool                  `json:"breaking"`
	Converted bool                  `json:"converted_from_swagger2"`
	Files     []string              `json:"files,omitempty"` // a bundle's files merged into the document, its root first
	Findings  []onramp.Finding      `json:"findings"`        // the document's lint findings, most severe first; none blocked it
	DryRun    bool                  `json:"dry_run"`
}

// Publish checks p's document (or bundle) and, unless it is a dry run, stores the version in one
// write with the document's lint findings, its announcement to subscribers scheduled first.
// EINVALID for what makes the document unusable, every problem located (see specs.Parse);
// ECONFLICT when the version exists; ENOTFOUND for an unknown product; the announcement's error
// when it cannot be scheduled (nothing is stored then). The changelog compares with the newest
// version published before it.
func (c *Catalog) Publish(ctx context.Context, p Publish) (Published, error) {
	v, err := c.newVersion(ctx, p)
	if err != nil {
		return Published{}, err
	}
	warmed := c.warmLatest(ctx, p.Product)
	spec, err := specs.ParseUpload(ctx, p.Spec)
	<-warmed
	if err != nil {
		return Published{}, err
	}
	return c.publish(ctx, v, spec, p.DryRun)
}

// warmLatest loads the product's newest document into the cache while the new one is parsed, so
// a large publication's changelog does not wait for it in turn (each takes seconds at 5 MB); the
// channel closes when it is done. A failure is left for the changelog to report.
func (c *Catalog) warmLatest(ctx context.Context, product string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if vs, err := c.cfg.Store.ListVersions(ctx, product); err == nil && len(vs) > 0 {
			_, _ = c.doc(vs[len(vs)-1])
		}
	}()
	return done
}

// newVersion validates what p says about the version and that its product exists.
func (c *Catalog) newVersion(ctx context.Context, p Publish) (onramp.ProductVersion, error) {
	if p.Status == "" {
		p.Status = onramp.VersionCurrent
	}
	v := onramp.ProductVersion{Product: p.Product, Version: strings.TrimSpace(p.Version), Status: p.Status, Sunset: wholeSecond(p.Sunset),
		ReleaseNotes: strings.TrimSpace(p.ReleaseNotes), PublishedAt: c.cfg.Now()}
	if v.Status == onramp.VersionDeprecated {
		at := v.PublishedAt
		v.DeprecatedAt = &at
	}
	if err := v.Validate(); err != nil {
		return v, err
	}
	_, err := c.cfg.Store.FindProduct(ctx, p.Product)
	return v, err
}

// publish numbers v after the product's newest version, computes its changelog against it and,
// unless dryRun, stores it.
func (c *Catalog) publish(ctx context.Context, v onramp.ProductVersion, spec *specs.Spec, dryRun bool) (Published, error) {
	c.locks.Lock()
	defer c.locks.Unlock()
	existing, err := c.cfg.Store.ListVersions(ctx, v.Product)
	if err != nil {
		return Published{}, err
	}
	if slices.ContainsFunc(existing, func(e onramp.ProductVersion) bool { return e.Version == v.Version }) {
		return Published{}, onramp.Errorf(onramp.ECONFLICT, "%s %s is already published; publish a new version instead (published specs never change)", v.Product, v.Version)
	}
	v.ID = onramp.VersionID(v.Product, v.Version)
	v.Number = len(existing) + 1
	if n := len(existing); n > 0 {
		v.Number = existing[n-1].Number + 1
	}
	v.Spec, v.SpecSHA256 = string(spec.JSON), spec.SHA256()
	v.Operations = specs.Operations(spec.Doc, v.Product)
	v.Findings = spec.Findings
	out := Published{Version: v, Changes: []specs.Change{}, Converted: spec.Converted, Files: spec.Files, Findings: spec.Findings, DryRun: dryRun}
	if n := len(existing); n > 0 {
		prev := existing[n-1]
		prevDoc, err := c.doc(prev)
		if err != nil {
			return Published{}, err
		}
		if out.Changes, err = specs.Changelog(prevDoc, spec.Doc); err != nil {
			return Published{}, err
		}
		out.Previous, out.Breaking = prev.Version, specs.HasBreaking(out.Changes)
	}
	if dryRun {
		return out, nil
	}
	// Scheduled before the write, so a stored version is never left unannounced; the announcement
	// waits for the version and mails nobody if it is never stored.
	if err := c.cfg.Announcements.AnnounceVersion(ctx, v.Product, v.Version); err != nil {
		return Published{}, err
	}
	if err := c.cfg.Store.PublishVersion(ctx, v); err != nil {
		return Published{}, err
	}
	c.docs.put(v.ID, spec.Doc) // what loading v.Spec would give, without the seconds a large one takes
	return out, nil
}

// UpdateVersion changes a version's status, sunset and release notes (its document never
// changes). Becoming deprecated records when (the Deprecation header's date, unchanged by later
// edits); leaving deprecated forgets it and cancels the version's brownout schedule. Once a
// deprecated version is stored, the organisations that call it are alarmed of its sunset
// (Announcements.AlarmImpact, once per sunset: saving it again, e.g. after that failed, raises
// nothing twice); EUNAVAILABLE, with the version stored, when the alarms cannot be scheduled.
func (c *Catalog) UpdateVersion(ctx context.Context, product, version, status string, sunset *time.Time, notes string) (onramp.ProductVersion, error) {
	v, err := c.cfg.Store.FindVersion(ctx, product, version)
	if err != nil {
		return v, err
	}
	was, wasSunset := v.Status, v.Sunset
	v.Status, v.Sunset, v.ReleaseNotes = status, wholeSecond(sunset), strings.TrimSpace(notes)
	if err := v.Validate(); err != nil {
		return v, err
	}
	switch {
	case v.Status != onramp.VersionDeprecated:
		v.DeprecatedAt = nil
	case was != onramp.VersionDeprecated:
		now := c.cfg.Now()
		v.DeprecatedAt = &now
	}
	if err := c.cfg.Store.UpdateVersion(ctx, v); err != nil {
		return v, err
	}
	if was == onramp.VersionDeprecated && v.Status != onramp.VersionDeprecated {
		c.stopBrownouts(ctx, v)
	}
	if v.Status == onramp.VersionDeprecated {
		e := onramp.ImpactEvent{Kind: onramp.ImpactSunset, Product: v.Product, Version: v.Version, Sunset: v.Sunset}
		if was != onramp.VersionDeprecated || wasSunset == nil {
			e.Kind = onramp.ImpactDeprecated
		}
		if err := c.cfg.Announcements.AlarmImpact(ctx, e); err != nil {
			return c.stamped(v), err
		}
	}
	return c.stamped(v), nil
}

// SaveProduct validates and stores p.
func (c *Catalog) SaveProduct(ctx context.Context, p onramp.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = c.cfg.Now()
	return c.cfg.Store.SaveProduct(ctx, p)
}

// Changelog compares version with the version published before it; previous is "" for the first.
func (c *Catalog) Changelog(ctx context.Context, versions []onramp.ProductVersion, version string) (changes []specs.Change, previous string, err error) {
	i := slices.IndexFunc(versions, func(v onramp.ProductVersion) bool { return v.Version == version })
	if i < 0 {
		return nil, "", onramp.Errorf(onramp.ENOTFOUND, "no version %q", version)
	}
	if i == 0 {
		return []specs.Change{}, "", nil
	}
	base, err := c.doc(versions[i-1])
	if err != nil {
		return nil, "", err
	}
	rev, err := c.doc(versions[i])
	if err != nil {
		return nil, "", err
	}
	changes, err = specs.Changelog(base, rev)
	return changes, versions[i-1].Version, err
}

// Compare lists the changes from product's version from to its version to (any two published
// versions), breaking first; ENOTFOUND for an unknown one.
func (c *Catalog) Compare(ctx context.Context, product, from, to string) ([]specs.Change, error) {
	base, err := c.cfg.Store.FindVersion(ctx, product, from)
	if err != nil {
		return nil, err
	}
	rev, err := c.cfg.Store.FindVersion(ctx, product, to)
	if err != nil {
		return nil, err
	}
	baseDoc, err := c.doc(base)
	if err != nil {
		return nil, err
	}
	revDoc, err := c.doc(rev)
	if err != nil {
		return nil, err
	}
	return specs.Changelog(baseDoc, revDoc)
}

// Plans lists the plans by name.
func (c *Catalog) Plans(ctx context.Context) ([]onramp.Plan, error) {
	return c.cfg.Store.ListPlans(ctx)
}

// plan returns the named plan; EINVALID naming the known ones otherwise.
func (c *Catalog) plan(ctx context.Context, name string) (onramp.Plan, error) {
	plans, err := c.cfg.Store.ListPlans(ctx)
	if err != nil {
		return onramp.Plan{}, err
	}
	var names []string
	for _, p := range plans {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return onramp.Plan{}, onramp.Errorf(onramp.EINVALID, "plan %q is unknown; plans are %s", name, strings.Join(names, ", "))
}

// CheckPlan returns EINVALID when no plan has the name; without any plan loaded, the default
// tiers (onramp.Tiers) are accepted.
func (c *Catalog) CheckPlan(ctx context.Context, name string) error {
	plans, err := c.cfg.Store.ListPlans(ctx)
	if err != nil {
		return err
	}
	if len(plans) == 0 {
		if !slices.Contains(onramp.Tiers, name) {
			return onramp.Errorf(onramp.EINVALID, "tier %q is unknown; use one of %s", name, strings.Join(onramp.Tiers, ", "))
		}
		return nil
	}
	_, err = c.plan(ctx, name)
	return err
}

// ApplyPlan assigns the organisation every product of the plan with the plan's default grant.
// Existing assignments of other products stay. Without any plan loaded there is nothing to assign.
func (c *Catalog) ApplyPlan(ctx context.Context, orgID, planName string) error {
	plans, err := c.cfg.Store.ListPlans(ctx)
	if err != nil || len(plans) == 0 {
		return err
	}
	p, err := c.plan(ctx, planName)
	if err != nil {
		return err
	}
	slugs := make([]string, 0, len(p.Products))
	for s := range p.Products {
		slugs = append(slugs, s)
	}
	sort.Strings(slugs)
	for _, s := range slugs {
		a := onramp.Assignment{OrgID: orgID, Product: s, Plan: p.Name, Grant: p.Products[s], UpdatedAt: c.cfg.Now()}
		if err := c.cfg.Assignments.SaveAssignment(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// Assign validates and stores a: the product exists, the plan exists, and every scope is one
// the product's versions use.
func (c *Catalog) Assign(ctx context.Context, a onramp.Assignment) (onramp.Assignment, error) {
	if err := a.Grant.Validate(); err != nil {
		return a, err
	}
	if _, err := c.cfg.Store.FindProduct(ctx, a.Product); err != nil {
		return a, onramp.Errorf(onramp.EINVALID, "product %q does not exist; create it first", a.Product)
	}
	if _, err := c.plan(ctx, a.Plan); err != nil {
		return a, err
	}
	known, err := c.Scopes(ctx, a.Product)
	if err != nil {
		return a, err
	}
	for _, s := range a.Scopes {
		if !slices.Contains(known, s) {
			return a, onramp.Errorf(onramp.EINVALID, "scope %q is not used by any version of %s; its scopes are %s", s, a.Product, strings.Join(known, ", "))
		}
	}
	a.Scopes, a.Environments = sortedUnique(a.Scopes), sortedUnique(a.Environments)
	a.UpdatedAt = c.cfg.Now()
	return a, c.cfg.Assignments.SaveAssignment(ctx, a)
}

// Scopes lists every scope the product's published versions use, sorted.
func (c *Catalog) Scopes(ctx context.Context, product string) ([]string, error) {
	versions, err := c.cfg.Store.ListVersions(ctx, product)
	if err != nil {
		return nil, err
	}
	return ScopesOf(versions), nil
}

// ScopesOf lists every scope the versions' operations use, sorted.
func ScopesOf(versions []onramp.ProductVersion) []string {
	var out []string
	for _, v := range versions {
		for _, op := range v.Operations {
			out = append(out, op.Scope)
		}
	}
	return sortedUnique(out)
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return slices.Compact(out)
}

// Unassign removes the organisation's assignment of product.
func (c *Catalog) Unassign(ctx context.Context, orgID, product string) error {
	return c.cfg.Assignments.DeleteAssignment(ctx, orgID, product)
}

// AssignmentsOf lists the organisation's assignments.
func (c *Catalog) AssignmentsOf(ctx context.Context, orgID string) ([]onramp.Assignment, error) {
	return c.cfg.Assignments.AssignmentsOf(ctx, orgID)
}

// RemoveOrganization drops every assignment of an organisation that is being removed.
func (c *Catalog) RemoveOrganization(ctx context.Context, orgID string) error {
	return c.cfg.Assignments.DeleteAssignments(ctx, orgID)
}
