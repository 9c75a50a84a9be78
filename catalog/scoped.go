package catalog

import (
	"context"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/specs"
)

// Entry is a product as an organisation sees it in the catalog list. Versions carry their phase
// (a retired one stays listed, so partners find where to go next).
type Entry struct {
	Product    onramp.Product          `json:"product"`
	Assignment onramp.Assignment       `json:"assignment"`
	Versions   []onramp.ProductVersion `json:"versions"`
	Latest     onramp.ProductVersion   `json:"latest"`
	// Successor is the version to move to from a deprecated one (onramp.Successor); "" when none.
	Successor string `json:"successor,omitempty"`
	Retired   bool   `json:"retired"` // every version is retired
}

// OperationView is an operation with whether the organisation may call it, and why not.
type OperationView struct {
	onramp.Operation
	Allowed bool     `json:"allowed"`
	Reasons []string `json:"reasons"`
}

// ProductView is one version of a product as an organisation sees it.
type ProductView struct {
	Entry
	Version    onramp.ProductVersion `json:"version"`
	Operations []OperationView       `json:"operations"`
	Tags       []string              `json:"tags"` // operation tags in the document's order
	Doc        *openapi3.T           `json:"-"`    // for rendering parameters and schemas
}

// Browse returns the actor's membership of orgID when policies/members lets them browse its
// catalog; ENOTFOUND for an organisation they are not in.
func (c *Catalog) Browse(ctx context.Context, a onramp.Actor, orgID string) (onramp.Membership, error) {
	return onramp.Authorize(ctx, c.cfg.Policy, a, orgID, onramp.ActionCatalogView, onramp.Target{})
}

// Operation returns the view's operation with the id.
func (v ProductView) Operation(id string) (onramp.Operation, bool) {
	for _, op := range v.Operations {
		if op.ID == id {
			return op.Operation, true
		}
	}
	return onramp.Operation{}, false
}

// GatewayURL is an environment's gateway.
func (c *Catalog) GatewayURL(env string) string {
	if env == onramp.Production {
		return c.cfg.ProductionURL
	}
	return c.cfg.SandboxURL
}

// BaseURL is where a product version is called in an environment: the gateway, under
// /<product>/<version>.
func (c *Catalog) BaseURL(env, product, version string) string {
	return c.GatewayURL(env) + "/" + product + "/" + version
}

// Servers lists the sandbox and production gateways for a product version; an environment the
// assignment does not grant yet says so in its description.
func (c *Catalog) Servers(a onramp.Assignment, version string) []specs.Server {
	out := make([]specs.Server, 0, len(onramp.Environments))
	for _, env := range onramp.Environments {
		desc := env
		if !slices.Contains(a.Environments, env) {
			desc += " (once your organisation has " + env + " access)"
		}
		out = append(out, specs.Server{URL: c.BaseURL(env, a.Product, version), Description: desc})
	}
	return out
}

// decide asks policies/catalog about one product version for the organisation.
func (c *Catalog) decide(ctx context.Context, org onramp.Organization, assignments []onramp.Assignment, p onramp.Product, v onramp.ProductVersion) (onramp.Decision, error) {
	input := onramp.CatalogInput(org, assignments, p, v.PhaseAt(c.cfg.Now()) == onramp.PhaseRetired, v.Operations)
	return c.cfg.Policy.Decide(ctx, PolicyName, input)
}

func notFound(slug string) error {
	return onramp.Errorf(onramp.ENOTFOUND, "there is no product %q in your catalog; see GET /api/v1/orgs/{org}/catalog for the products you can use", slug)
}

// entry loads a product the organisation may see, with its decision for version ("" or "latest":
// the latest). A product that is not assigned does not exist for the organisation: ENOTFOUND.
func (c *Catalog) entry(ctx context.Context, org onramp.Organization, assignments []onramp.Assignment, p onramp.Product, version string) (Entry, onramp.ProductVersion, onramp.Decision, error) {
	versions, err := c.cfg.Store.ListVersions(ctx, p.Slug)
	if err != nil {
		return Entry{}, onramp.ProductVersion{}, onramp.Decision{}, err
	}
	versions = c.stampedAll(versions)
	latest, err := onramp.Latest(versions)
	if err != nil {
		return Entry{}, onramp.ProductVersion{}, onramp.Decision{}, notFound(p.Slug)
	}
	v := latest
	if version != "" && version != onramp.LatestVersion {
		i := slices.IndexFunc(versions, func(x onramp.ProductVersion) bool { return x.Version == version })
		if i < 0 {
			return Entry{}, v, onramp.Decision{}, onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q; its versions are listed at GET /api/v1/orgs/{org}/catalog/%s", p.Slug, version, p.Slug)
		}
		v = versions[i]
	}
	d, err := c.decide(ctx, org, assignments, p, v)
	if err != nil {
		return Entry{}, v, d, err
	}
	if !d.Allow {
		return Entry{}, v, d, notFound(p.Slug)
	}
	e := Entry{Product: p, Versions: versions, Latest: latest, Retired: onramp.Retired(versions, c.cfg.Now())}
	if s, ok := onramp.Successor(versions, onramp.ProductVersion{}); ok {
		e.Successor = s.Version
	}
	for _, a := range assignments {
		if a.Product == p.Slug {
			e.Assignment = a
		}
	}
	return e, v, d, nil
}

// List returns the products the organisation may see, filtered by a free-text query (name,
// summary, description, tags, operations) and a tag.
func (c *Catalog) List(ctx context.Context, org onramp.Organization, query, tag string) ([]Entry, error) {
	all, err := c.visible(ctx, org)
	if err != nil {
		return nil, err
	}
	return Filter(all, query, tag), nil
}

// Filter keeps the entries that carry tag (when given) and match the free-text query.
func Filter(entries []Entry, query, tag string) []Entry {
	query = strings.ToLower(strings.TrimSpace(query))
	out := []Entry{}
	for _, e := range entries {
		if (tag == "" || slices.Contains(e.Product.Tags, tag)) && (query == "" || matches(e, query)) {
			out = append(out, e)
		}
	}
	return out
}

// visible returns every product the organisation may see: of its assigned products (no other
// exists for it, at the gateway either), those policies/catalog shows, in the catalog's order.
func (c *Catalog) visible(ctx context.Context, org onramp.Organization) ([]Entry, error) {
	assignments, err := c.cfg.Assignments.AssignmentsOf(ctx, org.ID)
	if err != nil {
		return nil, err
	}
	products, err := c.cfg.Store.ListProducts(ctx)
	if err != nil {
		return nil, err
	}
	assigned := make(map[string]bool, len(assignments))
	for _, a := range assignments {
		assigned[a.Product] = true
	}
	out := []Entry{}
	for _, p := range products {
		if !assigned[p.Slug] {
			continue
		}
		e, _, _, err := c.entry(ctx, org, assignments, p, "")
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func matches(e Entry, q string) bool {
	text := []string{e.Product.Slug, e.Product.Name, e.Product.Summary, e.Product.Description, strings.Join(e.Product.Tags, " ")}
	for _, op := range e.Latest.Operations {
		text = append(text, op.ID, op.Summary, op.Path)
	}
	return strings.Contains(strings.ToLower(strings.Join(text, "\n")), q)
}

// Tags lists the tags of the products the organisation may see.
func Tags(entries []Entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Product.Tags...)
	}
	return sortedUnique(out)
}

// Product returns one version ("" or "latest": the latest) of a product the organisation may see,
// every operation marked allowed or not with the policy's reasons. ENOTFOUND when the product is
// not the organisation's.
func (c *Catalog) Product(ctx context.Context, org onramp.Organization, slug, version string) (ProductView, error) {
	p, err := c.cfg.Store.FindProduct(ctx, slug)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		return ProductView{}, notFound(slug)
	} else if err != nil {
		return ProductView{}, err
	}
	assignments, err := c.cfg.Assignments.AssignmentsOf(ctx, org.ID)
	if err != nil {
		return ProductView{}, err
	}
	e, v, d, err := c.entry(ctx, org, assignments, p, version)
	if err != nil {
		return ProductView{}, err
	}
	doc, err := c.doc(v)
	if err != nil {
		return ProductView{}, err
	}
	view := ProductView{Entry: e, Version: v, Doc: doc, Tags: specs.Tags(doc)}
	for _, op := range v.Operations {
		od, ok := d.Operations[op.ID]
		if !ok {
			od = onramp.Decision{Reasons: []string{"the catalog policy gave no decision for this operation"}}
		}
		view.Operations = append(view.Operations, OperationView{Operation: op, Allowed: od.Allow, Reasons: od.Reasons})
	}
	return view, nil
}

// Download renders the document an organisation downloads: only the operations it may call,
// servers for its granted environments, the gateway's security schemes. format is json or yaml.
func (c *Catalog) Download(ctx context.Context, org onramp.Organization, slug, version, format string) ([]byte, ProductView, error) {
	if format != "json" && format != "yaml" {
		return nil, ProductView{}, onramp.Errorf(onramp.EINVALID, "format %q is unknown; download openapi.yaml or openapi.json", format)
	}
	view, err := c.Product(ctx, org, slug, version)
	if err != nil {
		return nil, view, err
	}
	allowed := map[string]bool{}
	for _, op := range view.Operations {
		allowed[op.ID] = op.Allowed
	}
	doc, err := specs.Export(view.Doc, slug, allowed, c.Servers(view.Assignment, view.Version.Version))
	if err != nil {
		return nil, view, err
	}
	out, err := specs.Encode(doc, format)
	return out, view, err
}
