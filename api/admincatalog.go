package api

import (
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/specs"
)

func (s *Server) adminCatalogRoutes(g routeGroups) {
	g.admin.GET("/partners/:id/assignments", s.apiAdminAssignments)
	g.admin.PUT("/partners/:id/assignments/:product", s.apiAdminAssign)
	g.admin.DELETE("/partners/:id/assignments/:product", s.apiAdminUnassign)
	g.admin.GET("/products", s.apiAdminProducts)
	g.admin.GET("/products/:slug", s.apiAdminProduct)
	g.admin.PUT("/products/:slug", s.apiAdminSaveProduct)
	g.admin.POST("/products/:slug/versions", s.apiAdminPublish)
	g.admin.PATCH("/products/:slug/versions/:version", s.apiAdminUpdateVersion)
	g.admin.GET("/products/:slug/versions/:version/changelog", s.apiAdminChangelog)
	g.admin.POST("/products/:slug/versions/:version/brownouts", s.apiAdminScheduleBrownouts)
	g.admin.POST("/products/:slug/versions/:version/brownouts/cancel", s.apiAdminCancelBrownouts)
	g.admin.GET("/plans", s.apiAdminPlans)
	g.admin.GET("/policies", s.apiAdminPolicies)

	ui := g.adminPages
	ui.POST("/partners/:id/assignments", s.adminAssign)
	ui.POST("/partners/:id/assignments/:product/delete", s.adminUnassign)
	ui.GET("/products", s.adminProducts)
	ui.POST("/products", s.adminSaveProduct)
	ui.GET("/products/:slug", s.adminProduct)
	ui.POST("/products/:slug/publish", s.adminPublish)
	ui.POST("/products/:slug/versions/:version", s.adminUpdateVersion)
	ui.POST("/products/:slug/versions/:version/brownouts", s.adminScheduleBrownouts)
	ui.POST("/products/:slug/versions/:version/brownouts/cancel", s.adminCancelBrownouts)
	ui.GET("/policies", s.adminPolicies)
}

// The provider's side of the catalog: products, publishing versions (with a dry run that shows
// the validation errors or the computed changelog before anything is stored), plans,
// assignments per organisation, and the state of the live policies.

// maxUploadBytes bounds an uploaded OpenAPI document or bundle (as uploaded, before unpacking);
// a publication request may be twice that, for the confirmation form's base64 and its fields.
const (
	maxUploadBytes  = specs.MaxDocumentBytes
	maxRequestBytes = 2 * maxUploadBytes
)

type productAdmin struct {
	onramp.Product
	Versions []versionSummary `json:"versions"`
	Scopes   []string         `json:"scopes"`
}

func toProductAdmin(pa catalog.ProductAdmin) productAdmin {
	p := pa.Product
	p.Tags = nonNil(p.Tags)
	return productAdmin{Product: p, Versions: summarizeVersions(pa.Versions), Scopes: nonNil(pa.Scopes)}
}

// productAdmins is a page of the products as the admin pages list them.
func (s *Server) productAdmins(c *gin.Context) (onramp.Page[productAdmin], error) {
	page, err := pageRequest(c, "cursor")
	if err != nil {
		return onramp.Page[productAdmin]{}, err
	}
	ps, err := s.cfg.Catalog.ProductPage(c.Request.Context(), page)
	return onramp.MapPage(ps, toProductAdmin), err
}

func (s *Server) apiAdminProducts(c *gin.Context) {
	out, err := s.productAdmins(c)
	s.respond(c, http.StatusOK, pageBody("products", out), err)
}

func (s *Server) apiAdminProduct(c *gin.Context) {
	pa, err := s.cfg.Catalog.ProductAdmin(c.Request.Context(), c.Param("slug"))
	s.respond(c, http.StatusOK, toProductAdmin(pa), err)
}

func (s *Server) apiAdminSaveProduct(c *gin.Context) {
	var p onramp.Product
	if err := c.ShouldBindJSON(&p); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"name": "…", "summary": "…", "description": "Markdown", "tags": [..], "upstreams": {"production": "https://…"}}: %v`, err))
		return
	}
	p.Slug = c.Param("slug")
	if err := s.cfg.Catalog.SaveProduct(c.Request.Context(), p); err != nil {
		s.fail(c, err)
		return
	}
	s.apiAdminProduct(c)
}

type publishRequest struct {
	Version      string `json:"version"`
	Status       string `json:"status"`
	Sunset       string `json:"sunset"` // YYYY-MM-DD (midnight UTC), or an RFC 3339 time
	ReleaseNotes string `json:"release_notes"`
	Spec         string `json:"spec"`   // the OpenAPI document, YAML or JSON
	Bundle       string `json:"bundle"` // or a zip or tar.gz bundle of one, base64
	DryRun       bool   `json:"dry_run"`
}

// parseSunset reads a date (its midnight UTC) or an RFC 3339 time: the instant the version
// starts answering 410 Gone.
func parseSunset(s string) (*time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err != nil {
			return nil, onramp.Errorf(onramp.EINVALID, "sunset %q must be a date like 2027-06-30 or a time like 2027-06-30T12:00:00Z", s)
		}
	}
	return &t, nil
}

const sendSpec = "send the OpenAPI document (YAML or JSON) as spec, or a zip or tar.gz bundle as bundle (base64) or as the file of a multipart/form-data upload"

func (in publishRequest) publish(product string) (catalog.Publish, error) {
	sunset, err := parseSunset(in.Sunset)
	if err != nil {
		return catalog.Publish{}, err
	}
	doc := []byte(in.Spec)
	switch {
	case in.Bundle != "" && strings.TrimSpace(in.Spec) != "":
		return catalog.Publish{}, onramp.Errorf(onramp.EINVALID, "send spec or bundle, not both")
	case in.Bundle != "":
		if doc, err = base64.StdEncoding.DecodeString(in.Bundle); err != nil || !specs.IsBundle(doc) {
			return catalog.Publish{}, onramp.Errorf(onramp.EINVALID, "bundle must be a zip or tar.gz archive, base64-encoded")
		}
	case strings.TrimSpace(in.Spec) == "":
		return catalog.Publish{}, onramp.Errorf(onramp.EINVALID, "%s", sendSpec)
	}
	return catalog.Publish{Product: product, Version: in.Version, Status: in.Status, Sunset: sunset, ReleaseNotes: in.ReleaseNotes, Spec: doc, DryRun: in.DryRun}, nil
}

// limitPublishRequest reads a multipart publication form in memory: limitBodies has bounded the
// body to SpecUploadLimit already (413 beyond), so no temporary file is ever written.
func limitPublishRequest(c *gin.Context) error {
	if c.ContentType() != "multipart/form-data" {
		return nil
	}
	if err := c.Request.ParseMultipartForm(SpecUploadLimit + 1<<20); err != nil {
		return onramp.Errorf(onramp.EINVALID, "the form cannot be read: %v", err)
	}
	return nil
}

// readUpload puts the form's file, when there is one, into in: a bundle as Bundle, a document as
// Spec. EINVALID when it is larger than maxUploadBytes.
func readUpload(c *gin.Context, in *publishRequest) error {
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 {
		return nil
	}
	if fh.Size > maxUploadBytes {
		return onramp.Errorf(onramp.EINVALID, "the file is larger than %d MiB", maxUploadBytes>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUploadBytes))
	if err != nil {
		return err
	}
	if specs.IsBundle(b) {
		in.Bundle, in.Spec = base64.StdEncoding.EncodeToString(b), ""
	} else {
		in.Spec, in.Bundle = string(b), ""
	}
	return nil
}

// publishForm reads the publication's fields from a form (the admin UI's, or a multipart API call).
func publishForm(c *gin.Context) publishRequest {
	return publishRequest{Version: strings.TrimSpace(c.PostForm("version")), Status: c.PostForm("status"), Sunset: c.PostForm("sunset"),
		ReleaseNotes: c.PostForm("release_notes"), Spec: c.PostForm("spec"), Bundle: c.PostForm("bundle")}
}

// readPublishRequest reads a JSON publication, or a multipart/form-data one whose file is the
// document or bundle.
func readPublishRequest(c *gin.Context) (publishRequest, error) {
	if err := limitPublishRequest(c); err != nil {
		return publishRequest{}, err
	}
	if c.ContentType() != "multipart/form-data" {
		var in publishRequest
		if err := c.ShouldBindJSON(&in); err != nil {
			return in, onramp.Errorf(onramp.EINVALID, `send {"version": "v3", "status": "current", "release_notes": "…", "spec": "<OpenAPI YAML or JSON>", "dry_run": true}, or the same fields as multipart/form-data with the document or a zip/tar.gz bundle as file: %v`, err)
		}
		return in, nil
	}
	in := publishForm(c)
	in.DryRun = c.PostForm("dry_run") == "true"
	return in, readUpload(c, &in)
}

func (s *Server) apiAdminPublish(c *gin.Context) {
	in, err := readPublishRequest(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	pub, err := in.publish(c.Param("slug"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.cfg.Catalog.Publish(c.Request.Context(), pub)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusCreated
	if out.DryRun {
		status = http.StatusOK
	} else {
		c.Header("Location", "/admin/api/v1/products/"+out.Version.Product+"/versions/"+out.Version.Version+"/changelog")
	}
	c.JSON(status, out)
}

type versionUpdate struct {
	Status       string  `json:"status"`
	Sunset       string  `json:"sunset"`
	ReleaseNotes *string `json:"release_notes"`
}

func (s *Server) apiAdminUpdateVersion(c *gin.Context) {
	var in versionUpdate
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"status": "deprecated", "sunset": "2027-06-30", "release_notes": "…"}: %v`, err))
		return
	}
	ctx := c.Request.Context()
	old, err := s.cfg.Catalog.Version(ctx, c.Param("slug"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	sunset, err := parseSunset(in.Sunset)
	if err != nil {
		s.fail(c, err)
		return
	}
	if in.Status == "" {
		in.Status = old.Status
	}
	notes := old.ReleaseNotes
	if in.ReleaseNotes != nil {
		notes = *in.ReleaseNotes
	}
	v, err := s.cfg.Catalog.UpdateVersion(ctx, old.Product, old.Version, in.Status, sunset, notes)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.versionSummary(ctx, v.Product, v.Version)
	s.respond(c, http.StatusOK, out, err)
}

func (s *Server) apiAdminChangelog(c *gin.Context) {
	ctx := c.Request.Context()
	pa, err := s.cfg.Catalog.ProductAdmin(ctx, c.Param("slug"))
	if err != nil {
		s.fail(c, err)
		return
	}
	vs := pa.Versions
	i := slices.IndexFunc(vs, func(v onramp.ProductVersion) bool { return v.Version == c.Param("version") })
	if i < 0 {
		s.fail(c, onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q", c.Param("slug"), c.Param("version")))
		return
	}
	out, err := s.changelog(ctx, catalog.ProductView{Entry: catalog.Entry{Product: onramp.Product{Slug: c.Param("slug")}, Versions: vs}, Version: vs[i]})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) apiAdminPlans(c *gin.Context) {
	plans, err := s.cfg.Catalog.Plans(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"plans": plans})
}

func (s *Server) apiAdminAssignments(c *gin.Context) {
	ctx := c.Request.Context()
	if _, err := s.cfg.Partners.Get(ctx, adminActor(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	as, err := s.cfg.Catalog.AssignmentsOf(ctx, c.Param("id"))
	s.respond(c, http.StatusOK, gin.H{"assignments": as}, err)
}

type assignRequest struct {
	Plan         string       `json:"plan"`
	Scopes       []string     `json:"scopes"`
	Environments []string     `json:"environments"`
	Quota        onramp.Quota `json:"quota"`
	// RateLimit bounds each credential's calls per second; omitted: none.
	RateLimit *onramp.RateLimit `json:"rate_limit"`
}

func (s *Server) assign(c *gin.Context, orgID, product string, in assignRequest) (onramp.Assignment, error) {
	if _, err := s.cfg.Organizations.FindOrganization(c.Request.Context(), orgID); err != nil {
		return onramp.Assignment{}, err
	}
	return s.cfg.Catalog.Assign(c.Request.Context(), onramp.Assignment{OrgID: orgID, Product: product, Plan: in.Plan,
		Grant: onramp.Grant{Scopes: in.Scopes, Environments: in.Environments, Quota: in.Quota, RateLimit: in.RateLimit}})
}

func (s *Server) apiAdminAssign(c *gin.Context) {
	var in assignRequest
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"plan": "standard", "scopes": ["payments:read"], "environments": ["sandbox"], "quota": {"limit": 10000, "period": "month"}}: %v`, err))
		return
	}
	a, err := s.assign(c, c.Param("id"), c.Param("product"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) apiAdminUnassign(c *gin.Context) {
	if err := s.cfg.Catalog.Unassign(c.Request.Context(), c.Param("id"), c.Param("product")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiAdminPolicies(c *gin.Context) {
	c.JSON(http.StatusOK, s.cfg.Policies.Status())
}

// Admin UI.

type productsView struct {
	page
	Products listView[productAdmin]
	Form     onramp.Product
	Error    string
	Notice   string
}

func (s *Server) adminProductsPage(c *gin.Context, status int, v productsView) {
	ps, err := s.productAdmins(c)
	if err != nil {
		s.failPage(c, err)
		return
	}
	v.Products = listOf(c, "cursor", "products", ps)
	v.page = s.adminPage("Products")
	if v.Notice == "" {
		v.Notice = s.takeFlash(c).Notice
	}
	s.render(c, status, "admin_products.html", v)
}

func (s *Server) adminPage(title string) page {
	p := s.page(title)
	p.Admin = true
	return p
}

func (s *Server) adminProducts(c *gin.Context) { s.adminProductsPage(c, http.StatusOK, productsView{}) }

func splitList(s string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) adminSaveProduct(c *gin.Context) {
	p := onramp.Product{Slug: strings.TrimSpace(c.PostForm("slug")), Name: strings.TrimSpace(c.PostForm("name")), Summary: strings.TrimSpace(c.PostForm("summary")),
		Description: c.PostForm("description"), Tags: splitList(c.PostForm("tags")), Upstreams: map[string]string{}}
	for _, env := range onramp.Environments {
		if u := strings.TrimSpace(c.PostForm("upstream_" + env)); u != "" {
			p.Upstreams[env] = u
		}
	}
	if err := s.cfg.Catalog.SaveProduct(c.Request.Context(), p); err != nil {
		s.adminProductsPage(c, http.StatusBadRequest, productsView{Form: p, Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/products/"+p.Slug, "Saved "+p.Name+".")
}

type adminProductView struct {
	page
	Product productAdmin
	Quality []quality // each version's findings, newest first
	Form    publishRequest
	Preview *catalog.Published
	// PreviewQuality is the previewed document's findings.
	PreviewQuality quality
	Lifecycles     []*lifecycleView   // each deprecated version's section, with its brownout form
	Migrations     []migrationSummary // who still calls each deprecated version
	Errors         []onramp.ErrorDetail
	Error          string
	Notice         string
}

// quality is a version's "documentation quality" section: its findings, counted by severity.
type quality struct {
	Version  string
	Counts   onramp.FindingCounts
	Findings []onramp.Finding
}

func qualityOf(version string, findings []onramp.Finding) quality {
	return quality{Version: version, Counts: onramp.CountFindings(findings), Findings: findings}
}

func (s *Server) adminProductPage(c *gin.Context, status int, v adminProductView) {
	ctx := c.Request.Context()
	pa, err := s.cfg.Catalog.ProductAdmin(ctx, c.Param("slug"))
	if err != nil {
		s.failPage(c, err)
		return
	}
	p, vs := pa.Product, pa.Versions
	v.Product = toProductAdmin(pa)
	for i := len(vs) - 1; i >= 0; i-- {
		v.Quality = append(v.Quality, qualityOf(vs[i].Version, vs[i].Findings))
	}
	for _, x := range vs {
		if l := lifecycleViewOf(vs, x, s.cfg.Now()); l != nil {
			v.Lifecycles = append(v.Lifecycles, l)
		}
	}
	if v.Migrations, err = s.migrationSummaries(c, p.Slug, v.Lifecycles); err != nil {
		s.failPage(c, err)
		return
	}
	v.page = s.adminPage(p.Name)
	if v.Notice == "" {
		v.Notice = s.takeFlash(c).Notice
	}
	s.render(c, status, "admin_product.html", v)
}

func (s *Server) adminProduct(c *gin.Context) {
	s.adminProductPage(c, http.StatusOK, adminProductView{})
}

// adminPublish is the upload form: without confirm it is a dry run that shows the problems or
// the changelog and findings; the confirmation re-sends the same document (or bundle) to publish it.
func (s *Server) adminPublish(c *gin.Context) {
	err := limitPublishRequest(c)
	in := publishForm(c)
	in.DryRun = c.PostForm("confirm") == ""
	if err == nil {
		err = readUpload(c, &in)
	}
	var out catalog.Published
	if err == nil {
		var pub catalog.Publish
		if pub, err = in.publish(c.Param("slug")); err == nil {
			out, err = s.cfg.Catalog.Publish(c.Request.Context(), pub)
		}
	}
	if err != nil {
		if onramp.ErrorCode(err) == onramp.EINTERNAL {
			s.fail(c, err)
			return
		}
		s.adminProductPage(c, http.StatusBadRequest, adminProductView{Form: in, Error: onramp.ErrorMessage(err), Errors: onramp.ErrorDetails(err)})
		return
	}
	if out.DryRun {
		s.adminProductPage(c, http.StatusOK, adminProductView{Form: in, Preview: &out, PreviewQuality: qualityOf("", out.Findings)})
		return
	}
	s.redirectNotice(c, "/admin/products/"+out.Version.Product, "Published "+out.Version.Product+" "+out.Version.Version+".")
}

// adminUpdateVersion is the version row's status and sunset form.
func (s *Server) adminUpdateVersion(c *gin.Context) {
	ctx := c.Request.Context()
	old, err := s.cfg.Catalog.Version(ctx, c.Param("slug"), c.Param("version"))
	var sunset *time.Time
	if err == nil {
		sunset, err = parseSunset(c.PostForm("sunset"))
	}
	if err == nil && sunset != nil && old.Sunset != nil && old.Sunset.UTC().Format(time.DateOnly) == c.PostForm("sunset") {
		sunset = old.Sunset // the date field shows the day only: an unchanged day keeps the time set through the API
	}
	if err == nil {
		_, err = s.cfg.Catalog.UpdateVersion(ctx, old.Product, old.Version, c.PostForm("status"), sunset, old.ReleaseNotes)
	}
	if err != nil {
		s.adminProductPage(c, http.StatusBadRequest, adminProductView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/products/"+old.Product, old.Product+" "+old.Version+" is now "+c.PostForm("status")+".")
}

// assignmentForm reads the partner page's assignment form.
func assignmentForm(c *gin.Context) (string, assignRequest, error) {
	limit, err := strconv.ParseInt(strings.TrimSpace(c.PostForm("quota_limit")), 10, 64)
	if err != nil {
		return "", assignRequest{}, onramp.Errorf(onramp.EINVALID, "quota limit %q must be a whole number of requests", c.PostForm("quota_limit"))
	}
	in := assignRequest{Plan: c.PostForm("plan"), Scopes: append(c.PostFormArray("scope"), splitList(c.PostForm("scopes"))...),
		Environments: c.PostFormArray("environment"), Quota: onramp.Quota{Limit: limit, Period: c.PostForm("quota_period")}}
	if rate := strings.TrimSpace(c.PostForm("rate_per_second")); rate != "" {
		perSecond, err := strconv.ParseFloat(rate, 64)
		burst, berr := strconv.Atoi(strings.TrimSpace(c.PostForm("rate_burst")))
		if err != nil || berr != nil {
			return "", in, onramp.Errorf(onramp.EINVALID, "a rate limit needs calls per second (e.g. 50) and a burst (e.g. 100); leave both empty for none")
		}
		in.RateLimit = &onramp.RateLimit{PerSecond: perSecond, Burst: burst}
	}
	return strings.TrimSpace(c.PostForm("product")), in, nil
}

func (s *Server) adminAssign(c *gin.Context) {
	product, in, err := assignmentForm(c)
	if err == nil {
		_, err = s.assign(c, c.Param("id"), product, in)
	}
	if err != nil {
		s.redirectError(c, "/admin/partners/"+c.Param("id")+"#assignments", onramp.ErrorMessage(err))
		return
	}
	s.redirectNotice(c, "/admin/partners/"+c.Param("id")+"#assignments", "Assignment of "+product+" saved.")
}

func (s *Server) adminUnassign(c *gin.Context) {
	if err := s.cfg.Catalog.Unassign(c.Request.Context(), c.Param("id"), c.Param("product")); err != nil {
		s.redirectError(c, "/admin/partners/"+c.Param("id")+"#assignments", onramp.ErrorMessage(err))
		return
	}
	s.redirectNotice(c, "/admin/partners/"+c.Param("id")+"#assignments", c.Param("product")+" is no longer assigned.")
}

type policiesView struct {
	page
	Status onramp.PolicyStatus
}

func (s *Server) adminPolicies(c *gin.Context) {
	s.render(c, http.StatusOK, "admin_policies.html", policiesView{page: s.adminPage("Policies"), Status: s.cfg.Policies.Status()})
}
