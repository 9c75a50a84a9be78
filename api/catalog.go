package api

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/yuin/goldmark"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/impact"
	"github.com/onramp-dev/onramp/specs"
	"github.com/onramp-dev/onramp/subscriptions"
)

func (s *Server) catalogRoutes(g routeGroups) {
	g.org.GET("/catalog", s.apiCatalog)
	g.org.GET("/catalog/:product", s.apiCatalogProduct)
	g.org.GET("/catalog/:product/versions/:version/changelog", s.apiCatalogChangelog)
	g.org.POST("/catalog/:product/tryit", s.apiTryIt)
	// Specs download with a session or, for a partner's CI, the organisation's API key.
	g.v1.GET("/orgs/:org/catalog/:product/versions/:version/:file", s.apiCatalogDownloadAny)

	browse := g.pages.Group("/catalog")
	browse.GET("", s.catalogPage)
	browse.GET("/:product", s.productPage)
	browse.GET("/:product/versions/:version/:file", s.catalogDownloadPage)
	browse.POST("/:product/tryit", s.sameOrigin, s.tryItPage)
}

// The partner catalog: /api/v1/orgs/{org}/catalog… and the /catalog pages. policies/members
// decides whether the member may browse; policies/catalog decides what the organisation sees.
// A product the organisation is not assigned answers 404, exactly like one that does not exist.

// catalogOrg authorizes catalog.view in the organisation named by the route (or ?org= in the UI).
func (s *Server) catalogOrg(c *gin.Context, orgID string) (Membership, error) {
	return s.cfg.Catalog.Browse(c.Request.Context(), actor(c), orgID)
}

// productSummary is one product in the catalog list.
type productSummary struct {
	Slug          string           `json:"slug"`
	Name          string           `json:"name"`
	Summary       string           `json:"summary"`
	Tags          []string         `json:"tags"`
	LatestVersion string           `json:"latest_version"`
	Versions      []versionSummary `json:"versions"`
	Plan          string           `json:"plan"`
	Scopes        []string         `json:"scopes"`
	Environments  []string         `json:"environments"`
}

type versionSummary struct {
	Version      string  `json:"version"`
	Status       string  `json:"status"`
	Sunset       *string `json:"sunset,omitempty"`
	PublishedAt  string  `json:"published_at"`
	ReleaseNotes string  `json:"release_notes"`
	versionLifecycle
}

func summarizeVersions(vs []onramp.ProductVersion) []versionSummary {
	out := make([]versionSummary, 0, len(vs))
	for _, v := range vs {
		vsum := versionSummary{Version: v.Version, Status: v.Status, PublishedAt: v.PublishedAt.UTC().Format("2006-01-02T15:04:05Z"), ReleaseNotes: v.ReleaseNotes,
			versionLifecycle: lifecycleOf(vs, v)}
		if v.Sunset != nil {
			d := v.Sunset.UTC().Format("2006-01-02")
			vsum.Sunset = &d
		}
		out = append(out, vsum)
	}
	return out
}

func summarize(e catalog.Entry) productSummary {
	return productSummary{Slug: e.Product.Slug, Name: e.Product.Name, Summary: e.Product.Summary, Tags: nonNil(e.Product.Tags),
		LatestVersion: e.Latest.Version, Versions: summarizeVersions(e.Versions), Plan: e.Assignment.Plan,
		Scopes: nonNil(e.Assignment.Scopes), Environments: nonNil(e.Assignment.Environments)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) apiCatalog(c *gin.Context) {
	m, err := s.catalogOrg(c, c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, err := s.cfg.Catalog.List(c.Request.Context(), m.Organization, c.Query("q"), c.Query("tag"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]productSummary, 0, len(entries))
	for _, e := range entries {
		out = append(out, summarize(e))
	}
	c.JSON(http.StatusOK, gin.H{"products": out, "tags": nonNil(catalog.Tags(entries))})
}

// downloadPath is the stable URL of a product version's document for an organisation.
func downloadPath(orgID, product, version, format string) string {
	return "/api/v1/orgs/" + orgID + "/catalog/" + product + "/versions/" + version + "/openapi." + format
}

func (s *Server) apiCatalogProduct(c *gin.Context) {
	m, err := s.catalogOrg(c, c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	view, err := s.cfg.Catalog.Product(c.Request.Context(), m.Organization, c.Param("product"), c.Query("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	org, slug, v := m.Organization.ID, view.Product.Slug, view.Version.Version
	servers := map[string]string{}
	for _, env := range onramp.Environments {
		servers[env] = s.cfg.Catalog.BaseURL(env, slug, v)
	}
	c.JSON(http.StatusOK, gin.H{
		"product":    gin.H{"slug": slug, "name": view.Product.Name, "summary": view.Product.Summary, "description": view.Product.Description, "tags": nonNil(view.Product.Tags)},
		"assignment": gin.H{"plan": view.Assignment.Plan, "scopes": nonNil(view.Assignment.Scopes), "environments": nonNil(view.Assignment.Environments)},
		"versions":   summarizeVersions(view.Versions),
		"version":    summaryOf(view.Versions, view.Version),
		"latest":     view.Latest.Version,
		"operations": view.Operations,
		"servers":    servers,
		"downloads": gin.H{
			"yaml": downloadPath(org, slug, v, "yaml"), "json": downloadPath(org, slug, v, "json"),
			"latest_yaml": downloadPath(org, slug, onramp.LatestVersion, "yaml"), "latest_json": downloadPath(org, slug, onramp.LatestVersion, "json"),
		},
		"changelog": "/api/v1/orgs/" + org + "/catalog/" + slug + "/versions/" + v + "/changelog",
	})
}

// download writes a scoped document: YAML or JSON, named <product>-<version>.<ext>.
func (s *Server) download(c *gin.Context, org onramp.Organization) {
	format := ""
	switch c.Param("file") {
	case "openapi.yaml":
		format = "yaml"
	case "openapi.json":
		format = "json"
	default:
		s.fail(c, onramp.Errorf(onramp.ENOTFOUND, "there is no %q; download openapi.yaml or openapi.json", c.Param("file")))
		return
	}
	body, view, err := s.cfg.Catalog.Download(c.Request.Context(), org, c.Param("product"), c.Param("version"), format)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctype := "application/yaml"
	if format == "json" {
		ctype = "application/json"
	}
	c.Header("Content-Disposition", `attachment; filename="`+view.Product.Slug+"-"+view.Version.Version+"."+format+`"`)
	c.Header("X-Onramp-Version", view.Version.Version) // which version "latest" resolved to
	c.Header("Cache-Control", "private, no-cache")
	c.Data(http.StatusOK, ctype+"; charset=utf-8", body)
}

func (s *Server) apiCatalogDownload(c *gin.Context) {
	m, err := s.catalogOrg(c, c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.download(c, m.Organization)
}

// changelogView is a version's changelog against the version before it.
type changelogView struct {
	Product      string         `json:"product"`
	Version      string         `json:"version"`
	Previous     string         `json:"previous,omitempty"`
	ReleaseNotes string         `json:"release_notes"`
	Breaking     bool           `json:"breaking"`
	Changes      []specs.Change `json:"changes"`
}

func (s *Server) changelog(ctx context.Context, view catalog.ProductView) (changelogView, error) {
	changes, prev, err := s.cfg.Catalog.Changelog(ctx, view.Versions, view.Version.Version)
	if err != nil {
		return changelogView{}, err
	}
	return changelogView{Product: view.Product.Slug, Version: view.Version.Version, Previous: prev, ReleaseNotes: view.Version.ReleaseNotes,
		Breaking: specs.HasBreaking(changes), Changes: changes}, nil
}

func (s *Server) apiCatalogChangelog(c *gin.Context) {
	m, err := s.catalogOrg(c, c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	view, err := s.cfg.Catalog.Product(c.Request.Context(), m.Organization, c.Param("product"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.changelog(c.Request.Context(), view)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// markdown renders trusted-but-untrusting Markdown: goldmark drops raw HTML by default.
func markdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := goldmark.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(buf.String()) //nolint:gosec // goldmark without WithUnsafe escapes raw HTML
}

// UI pages.

type catalogPageView struct {
	page
	Memberships []Membership
	Org         Membership
	Products    []catalog.Entry
	Tags        []string
	Query, Tag  string
}

func (s *Server) catalogPage(c *gin.Context) {
	p := actor(c)
	m, err := s.catalogOrg(c, currentOrg(c, p))
	if err != nil {
		s.failPage(c, err)
		return
	}
	all, err := s.cfg.Catalog.List(c.Request.Context(), m.Organization, "", "")
	if err != nil {
		s.failPage(c, err)
		return
	}
	v := catalogPageView{page: s.signedInPage("API catalog"), Memberships: p.Memberships, Org: m, Tags: catalog.Tags(all),
		Query: strings.TrimSpace(c.Query("q")), Tag: c.Query("tag")}
	v.Products = catalog.Filter(all, v.Query, v.Tag)
	s.render(c, http.StatusOK, "catalog.html", v)
}

type opGroup struct {
	Tag        string
	Operations []operationDoc
}

type productPageView struct {
	page
	Org         Membership
	View        catalog.ProductView
	Description template.HTML
	Notes       template.HTML
	Groups      []opGroup
	Changelog   changelogView
	Servers     []specs.Server
	Downloads   map[string]string
	Keys        []onramp.Credential // what the member may try operations with
	Quality     quality             // the version's documentation findings
	Lifecycle   *lifecycleView      // a deprecated version's section (its migration page)
	// Subscription is the member's e-mail subscription to the product (nil: policy keeps them
	// from having one); Levels are the choices.
	Subscription *subscriptions.ProductSetting
	Levels       []string
	// DeprecatedCalls is the organisation's own calls to the product's deprecated versions (nil:
	// none is deprecated, or policy keeps the member from reading usage).
	DeprecatedCalls *impact.Section
	Notice, Error   string
}

func (s *Server) productPage(c *gin.Context) {
	p := actor(c)
	m, err := s.catalogOrg(c, currentOrg(c, p))
	if err != nil {
		s.failPage(c, err)
		return
	}
	ctx := c.Request.Context()
	view, err := s.cfg.Catalog.Product(ctx, m.Organization, c.Param("product"), c.Query("version"))
	if err != nil {
		s.failPage(c, err)
		return
	}
	cl, err := s.changelog(ctx, view)
	if err != nil {
		s.failPage(c, err)
		return
	}
	org, slug, ver := m.Organization.ID, view.Product.Slug, view.Version.Version
	v := productPageView{page: s.signedInPage(view.Product.Name), Org: m, View: view, Description: markdown(view.Product.Description),
		Notes: markdown(view.Version.ReleaseNotes), Changelog: cl, Servers: s.cfg.Catalog.Servers(view.Assignment, ver),
		Downloads: map[string]string{
			"yaml": "/catalog/" + slug + "/versions/" + ver + "/openapi.yaml?org=" + org,
			"json": "/catalog/" + slug + "/versions/" + ver + "/openapi.json?org=" + org,
			"api":  downloadPath(org, slug, onramp.LatestVersion, "yaml"),
		}}
	v.Groups = groupOperations(view)
	v.Quality = qualityOf(ver, view.Version.Findings)
	v.Lifecycle = lifecycleViewOf(view.Versions, view.Version, s.cfg.Now())
	if v.Keys, err = s.cfg.TryIt.Credentials(ctx, actor(c), m.Organization.ID); err != nil {
		s.failPage(c, err)
		return
	}
	if v.Subscription, err = s.productSubscription(c, org, slug); err != nil {
		s.failPage(c, err)
		return
	}
	v.Levels = onramp.SubscriptionLevels
	if v.DeprecatedCalls, err = s.cfg.Impact.Section(ctx, actor(c), org, slug); err != nil {
		s.failPage(c, err)
		return
	}
	f := s.takeFlash(c)
	v.Notice, v.Error = f.Notice, f.Error
	s.render(c, http.StatusOK, "product.html", v)
}

func (s *Server) catalogDownloadPage(c *gin.Context) {
	m, err := s.catalogOrg(c, currentOrg(c, actor(c)))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.download(c, m.Organization)
}

func (s *Server) signedInPage(title string) page {
	p := s.page(title)
	p.SignedIn = true
	return p
}
