package onramp

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environments a credential, an assignment and a gateway listener belong to.
const (
	Sandbox    = "sandbox"
	Production = "production"
)

// Environments lists both, sandbox first.
var Environments = []string{Sandbox, Production}

// Version statuses. Several versions are live side by side; a deprecated one has a sunset date.
const (
	VersionBeta       = "beta"
	VersionCurrent    = "current"
	VersionDeprecated = "deprecated"
)

// LatestVersion is the alias for a product's newest non-beta version (or its newest, if all are beta).
const LatestVersion = "latest"

var (
	slugPattern    = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)
	versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$`)
)

// Product is an API product in the catalog.
type Product struct {
	Slug        string            `json:"slug" bson:"_id" yaml:"slug"`
	Name        string            `json:"name" bson:"name" yaml:"name"`
	Summary     string            `json:"summary" bson:"summary" yaml:"summary"`
	Description string            `json:"description" bson:"description" yaml:"description"` // Markdown
	Tags        []string          `json:"tags" bson:"tags" yaml:"tags"`
	Upstreams   map[string]string `json:"upstreams,omitempty" bson:"upstreams" yaml:"upstreams"` // environment → base URL (production's is where the gateway proxies)
	UpdatedAt   time.Time         `json:"updated_at" bson:"updated_at" yaml:"-"`
}

// Validate returns EINVALID naming the first field to fix.
func (p Product) Validate() error {
	switch {
	case !slugPattern.MatchString(p.Slug):
		return Errorf(EINVALID, "slug %q must be 2–40 lowercase letters, digits or dashes, starting with a letter", p.Slug)
	case strings.TrimSpace(p.Name) == "":
		return Errorf(EINVALID, "product %s needs a name", p.Slug)
	}
	for env, u := range p.Upstreams {
		if !slices.Contains(Environments, env) {
			return Errorf(EINVALID, "upstream environment %q is unknown; use sandbox or production", env)
		}
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return Errorf(EINVALID, "upstream %s URL %q must start with http:// or https://", env, u)
		}
	}
	return nil
}

// Operation is one callable operation of a published version, with the scope that calling it needs.
type Operation struct {
	ID      string   `json:"id" bson:"id"` // operationId (derived from method and path, and made unique, at publication)
	Method  string   `json:"method" bson:"method"`
	Path    string   `json:"path" bson:"path"`
	Summary string   `json:"summary,omitempty" bson:"summary"`
	Tags    []string `json:"tags,omitempty" bson:"tags"`
	Scope   string   `json:"scope" bson:"scope"`
}

// ProductVersion is a published OpenAPI document of a product. Its spec never changes once
// published; status, sunset and release notes may.
type ProductVersion struct {
	ID      string     `json:"-" bson:"_id"` // "<product>/<version>"
	Product string     `json:"product" bson:"product"`
	Version string     `json:"version" bson:"version"`
	Number  int        `json:"number" bson:"number"` // 1 for the first published, and so on
	Status  string     `json:"status" bson:"status"`
	Sunset  *time.Time `json:"sunset,omitempty" bson:"sunset,omitempty"`
	// DeprecatedAt is when the status became deprecated (the Deprecation header's date, kept
	// stable); nil for a version that is not deprecated.
	DeprecatedAt *time.Time       `json:"deprecated_at,omitempty" bson:"deprecated_at,omitempty"`
	Brownouts    []BrownoutWindow `json:"brownouts,omitempty" bson:"brownouts,omitempty"` // scheduled windows, past ones kept (lifecycle.go)
	// Phase is PhaseAt when the catalog read the version, for display; never stored.
	Phase        string      `json:"phase,omitempty" bson:"-"`
	ReleaseNotes string      `json:"release_notes" bson:"release_notes"` // Markdown
	Spec         string      `json:"-" bson:"spec"`                      // the OpenAPI 3 document as JSON
	SpecSHA256   string      `json:"spec_sha256" bson:"spec_sha256"`
	Operations   []Operation `json:"operations" bson:"operations"`
	Findings     []Finding   `json:"findings" bson:"findings"` // the document's lint findings at publication
	PublishedAt  time.Time   `json:"published_at" bson:"published_at"`
}

// Finding severities. None of them blocks publishing: they say how likely a partner's tools are to
// trip over the document (error), what misleads a reader (warning), and what is merely missing (info).
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding is one documentation-quality problem of an OpenAPI document, with where it is.
type Finding struct {
	Rule     string `json:"rule" bson:"rule"`         // e.g. example-invalid, operation-id-missing
	Severity string `json:"severity" bson:"severity"` // SeverityError, SeverityWarning or SeverityInfo
	Location string `json:"location" bson:"location"` // e.g. paths./payments.post.requestBody
	Message  string `json:"message" bson:"message"`
}

// FindingCounts counts findings by severity.
type FindingCounts struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// CountFindings counts findings by severity; an unknown severity counts as info.
func CountFindings(findings []Finding) FindingCounts {
	var c FindingCounts
	for _, f := range findings {
		switch f.Severity {
		case SeverityError:
			c.Errors++
		case SeverityWarning:
			c.Warnings++
		default:
			c.Infos++
		}
	}
	return c
}

// VersionID is the stored id of a product's version.
func VersionID(product, version string) string { return product + "/" + version }

// Validate returns EINVALID naming the first field to fix.
func (v ProductVersion) Validate() error {
	switch {
	case !versionPattern.MatchString(v.Version) || v.Version == LatestVersion:
		return Errorf(EINVALID, "version %q must be 1–32 letters, digits, dots or dashes (e.g. v2 or 2.1.0), and not %q", v.Version, LatestVersion)
	case !slices.Contains([]string{VersionBeta, VersionCurrent, VersionDeprecated}, v.Status):
		return Errorf(EINVALID, "status %q is unknown; use beta, current or deprecated", v.Status)
	case v.Status == VersionDeprecated && v.Sunset == nil:
		return Errorf(EINVALID, "a deprecated version needs a sunset date (sunset: 2027-06-30)")
	}
	return nil
}

// Latest picks the version the "latest" alias names from versions in publication order: the newest
// that is not beta, or the newest of all when every one is beta. ENOTFOUND when there is none.
func Latest(versions []ProductVersion) (ProductVersion, error) {
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i].Status != VersionBeta {
			return versions[i], nil
		}
	}
	if len(versions) > 0 {
		return versions[len(versions)-1], nil
	}
	return ProductVersion{}, Errorf(ENOTFOUND, "no version is published yet")
}

// Retired reports whether every version is retired at now (PhaseAt): the product is gone for
// everyone, though the catalog still lists it, so partners find where to go next.
func Retired(versions []ProductVersion, now time.Time) bool {
	for _, v := range versions {
		if v.PhaseAt(now) != PhaseRetired {
			return false
		}
	}
	return len(versions) > 0
}

// Grant is what a plan, or an assignment, gives an organisation on one product.
type Grant struct {
	Scopes       []string `json:"scopes" bson:"scopes" yaml:"scopes"`
	Environments []string `json:"environments" bson:"environments" yaml:"environments"`
	Quota        Quota    `json:"quota" bson:"quota" yaml:"quota"`
	// RateLimit bounds each credential's calls per second; nil: none.
	RateLimit *RateLimit `json:"rate_limit,omitempty" bson:"rate_limit,omitempty" yaml:"rate_limit"`
}

// Validate returns EINVALID naming what to fix.
func (g Grant) Validate() error {
	if len(g.Scopes) == 0 {
		return Errorf(EINVALID, "grant at least one scope (e.g. payments:read)")
	}
	for _, s := range g.Scopes {
		if !strings.Contains(s, ":") || strings.ContainsAny(s, " \t") {
			return Errorf(EINVALID, "scope %q must look like <product>:<access>, e.g. payments:read", s)
		}
	}
	if len(g.Environments) == 0 {
		return Errorf(EINVALID, "grant at least one environment: sandbox, production")
	}
	for _, e := range g.Environments {
		if !slices.Contains(Environments, e) {
			return Errorf(EINVALID, "environment %q is unknown; use sandbox or production", e)
		}
	}
	if g.RateLimit != nil {
		if err := g.RateLimit.Validate(); err != nil {
			return err
		}
	}
	return g.Quota.Validate()
}

// Plan is a named package of products (e.g. standard, premium) with the default grant for each.
type Plan struct {
	Name        string           `json:"name" bson:"_id" yaml:"name"`
	Title       string           `json:"title" bson:"title" yaml:"title"`
	Description string           `json:"description" bson:"description" yaml:"description"`
	Products    map[string]Grant `json:"products" bson:"products" yaml:"products"` // product slug → default grant
	// MaxCredentialAge is how long a key may live before it must be rotated (Go duration, e.g.
	// 2160h for a quarterly policy); empty: no limit.
	MaxCredentialAge string `json:"max_credential_age,omitempty" bson:"max_credential_age,omitempty" yaml:"max_credential_age"`
}

// AgeReminderWindow is how long before a key's maximum age the portal starts reminding.
const AgeReminderWindow = 14 * 24 * time.Hour

// RotateBy returns when a key created at createdAt must be rotated under maxAge, and a reminder
// ("rotate within 9 days", "rotation overdue by 3 days") once it is within AgeReminderWindow of it.
func RotateBy(createdAt time.Time, maxAge time.Duration, now time.Time) (time.Time, string) {
	due := createdAt.Add(maxAge)
	left := due.Sub(now)
	days := func(d time.Duration) string {
		n := int(d.Hours()/24 + 0.5)
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	}
	switch {
	case left < 0:
		return due, "rotation overdue by " + days(-left)
	case left <= AgeReminderWindow:
		return due, "rotate within " + days(left)
	}
	return due, ""
}

// Assignment gives an organisation a product under a plan: scopes, environments and quota. A
// product without an assignment does not exist for the organisation.
type Assignment struct {
	ID        string `json:"-" bson:"_id"` // "<org>/<product>"
	OrgID     string `json:"org_id" bson:"org_id"`
	Product   string `json:"product" bson:"product"`
	Plan      string `json:"plan" bson:"plan"`
	Grant     `bson:",inline"`
	UpdatedAt time.Time `json:"updated_at" bson:"updated_at"`
}

// AssignmentID is the stored id of an organisation's assignment of a product.
func AssignmentID(orgID, product string) string { return orgID + "/" + product }

// CatalogStore keeps products, their published versions and the plans.
type CatalogStore interface {
	// SaveProduct upserts p by slug.
	SaveProduct(ctx context.Context, p Product) error
	// FindProduct returns ENOTFOUND when no product has the slug.
	FindProduct(ctx context.Context, slug string) (Product, error)
	// ListProducts lists every product in Position order (by name).
	ListProducts(ctx context.Context) ([]Product, error)
	// ProductPage returns a page of them.
	ProductPage(ctx context.Context, page PageRequest) (Page[Product], error)
	// PublishVersion stores a new version in one write; ECONFLICT when the version exists.
	PublishVersion(ctx context.Context, v ProductVersion) error
	// UpdateVersion changes status, sunset, DeprecatedAt and release notes; ENOTFOUND when absent.
	UpdateVersion(ctx context.Context, v ProductVersion) error
	// FindVersion returns ENOTFOUND when the product has no such version.
	FindVersion(ctx context.Context, product, version string) (ProductVersion, error)
	// ListVersions returns the product's versions in publication order (by Number).
	ListVersions(ctx context.Context, product string) ([]ProductVersion, error)
	SavePlan(ctx context.Context, p Plan) error
	ListPlans(ctx context.Context) ([]Plan, error)
}

// AssignmentStore keeps which organisation may use which product.
type AssignmentStore interface {
	// SaveAssignment upserts a by organisation and product.
	SaveAssignment(ctx context.Context, a Assignment) error
	// DeleteAssignment returns ENOTFOUND when there is nothing to delete.
	DeleteAssignment(ctx context.Context, orgID, product string) error
	// DeleteAssignments removes every assignment of the organisation.
	DeleteAssignments(ctx context.Context, orgID string) error
	// AssignmentsOf returns the organisation's assignments ordered by product.
	AssignmentsOf(ctx context.Context, orgID string) ([]Assignment, error)
	// AssignedTo returns the ids of the organisations assigned product, sorted: one query,
	// however many organisations there are.
	AssignedTo(ctx context.Context, product string) ([]string, error)
}

// Position is where p sits in the product list: by name, then slug.
func (p Product) Position() Position { return Position{Key: keyText(p.Name), ID: p.Slug} }
