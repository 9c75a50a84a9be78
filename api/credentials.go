package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/internal/problem"
)

func (s *Server) credentialRoutes(g routeGroups) {
	g.org.GET("/credentials", s.apiCredentials)
	g.org.POST("/credentials", s.apiCreateCredential)
	g.org.POST("/credentials/:id/reveal", s.apiRevealCredential)
	g.org.DELETE("/credentials/:id", s.apiRevokeCredential)
	g.org.POST("/credentials/:id/rotate", s.apiRotate)
	g.org.GET("/rotations", s.apiRotations)
	g.org.POST("/rotations/:id/:action", s.apiRotationAction)
	g.admin.GET("/rotations", s.apiAdminRotations)
	g.admin.POST("/rotations/:id/:action", s.apiAdminRotationAction)

	keys := g.pages.Group("/credentials")
	keys.GET("", s.credentialsPage)
	keys.POST("", s.sameOrigin, s.credentialsCreate)
	keys.POST("/:id/reveal", s.sameOrigin, s.credentialsReveal)
	keys.POST("/:id/revoke", s.sameOrigin, s.credentialsRevoke)
	keys.POST("/:id/rotate", s.sameOrigin, s.credentialsRotate)
	keys.POST("/rotations/:id/:action", s.sameOrigin, s.credentialsRotationAction)
	g.adminPages.POST("/rotations/:id/:action", s.adminRotationAction)
}

// Credentials belong to the organisation. policies/members decides, per role and environment,
// who may create, reveal and revoke them; every reveal is in the audit log. A key is returned
// only in the body of the create and reveal answers (no-store), never in a URL or a log.

func (s *Server) apiCredentials(c *gin.Context) {
	views, err := s.cfg.Credentials.List(c.Request.Context(), actor(c), c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"credentials": views})
}

func (s *Server) apiCreateCredential(c *gin.Context) {
	var in credentials.NewCredential
	if !s.bind(c, &in, `send {"environment": "sandbox", "label": "CI", "scopes": ["payments:read"]} (scopes optional: all granted)`) {
		return
	}
	cred, key, err := s.cfg.Credentials.Create(c.Request.Context(), actor(c), c.Param("org"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"credential": cred, "key": key})
}

func (s *Server) apiRevealCredential(c *gin.Context) {
	_, key, err := s.cfg.Credentials.Reveal(c.Request.Context(), actor(c), c.Param("org"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"key": key})
}

func (s *Server) apiRevokeCredential(c *gin.Context) {
	cred, err := s.cfg.Credentials.Revoke(c.Request.Context(), actor(c), c.Param("org"), c.Param("id"))
	s.respond(c, http.StatusOK, cred, err)
}

// apiCatalogDownloadAny serves spec downloads to a signed-in member or, for a partner's CI, to
// the organisation's own API key (X-API-Key, or a Bearer key with the onr_ prefix).
func (s *Server) apiCatalogDownloadAny(c *gin.Context) {
	key := c.GetHeader("X-API-Key")
	if b, ok := bearer(c.GetHeader("Authorization")); ok && onramp.KeyEnvironment(b) != "" {
		key = b
	}
	if key == "" {
		s.requireAPISession(c)
		if c.IsAborted() {
			return
		}
		s.apiCatalogDownload(c)
		return
	}
	ctx := c.Request.Context()
	cred, err := s.cfg.Keys.Lookup(ctx, key)
	if err == nil && cred.Refusal(s.cfg.Now()) != "" {
		err = onramp.Errorf(onramp.EUNAUTHORIZED, "the credential is %s; use an active key", cred.Refusal(s.cfg.Now()))
	}
	if err != nil {
		if onramp.ErrorCode(err) == onramp.EUNAUTHORIZED {
			writeProblem(c, problem.New(http.StatusUnauthorized, "invalid-credential", "Invalid credential",
				onramp.ErrorMessage(err)+". Send an active key of your organisation as X-API-Key; manage keys at "+s.cfg.PortalURL+"/credentials."))
			return
		}
		s.fail(c, err)
		return
	}
	if cred.OrgID != c.Param("org") {
		s.fail(c, onramp.Errorf(onramp.ENOTFOUND, "no organisation %q for this key; use your own organisation's id", c.Param("org")))
		return
	}
	org, err := s.cfg.Organizations.FindOrganization(ctx, cred.OrgID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.download(c, org)
}

// Credentials page.

type credentialsPageView struct {
	page
	Memberships []Membership
	Org         Membership
	Credentials []credentials.View
	Rotations   []credentials.RotationView
	credentials.Creatable
	Key      string // a key just created or revealed, shown once on this page
	KeyLabel string
	Notice   string
	Error    string
}

func (s *Server) credentialsPage(c *gin.Context) {
	s.renderCredentials(c, http.StatusOK, credentialsPageView{})
}

func (s *Server) renderCredentials(c *gin.Context, status int, v credentialsPageView) {
	ctx, a := c.Request.Context(), actor(c)
	m, err := s.catalogOrg(c, currentOrg(c, a))
	if err != nil {
		s.failPage(c, err)
		return
	}
	v.page, v.Memberships, v.Org = s.signedInPage("Credentials"), a.Memberships, m
	if v.Credentials, err = s.cfg.Credentials.List(ctx, a, m.Organization.ID); err == nil {
		if v.Rotations, err = s.cfg.Credentials.Rotations(ctx, a, m.Organization.ID); err == nil {
			v.Creatable, err = s.cfg.Credentials.Creatable(ctx, a, m.Organization.ID)
		}
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	if v.Notice == "" {
		v.Notice = s.takeFlash(c).Notice
	}
	if v.Key != "" {
		c.Header("Cache-Control", "no-store")
	}
	s.render(c, status, "credentials.html", v)
}

func (s *Server) credentialsCreate(c *gin.Context) {
	in := credentials.NewCredential{Environment: c.PostForm("environment"), Type: c.PostForm("type"), Label: c.PostForm("label"), Scopes: c.PostFormArray("scope")}
	cred, key, err := s.cfg.Credentials.Create(c.Request.Context(), actor(c), currentOrg(c, actor(c)), in)
	if err != nil {
		s.renderCredentials(c, statusOf(err), credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.renderCredentials(c, http.StatusCreated, credentialsPageView{Key: key, KeyLabel: cred.Label,
		Notice: "Created " + cred.Label + ". Copy the key now or reveal it later from this page."})
}

func (s *Server) credentialsReveal(c *gin.Context) {
	cred, key, err := s.cfg.Credentials.Reveal(c.Request.Context(), actor(c), currentOrg(c, actor(c)), c.Param("id"))
	if err != nil {
		s.renderCredentials(c, statusOf(err), credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.renderCredentials(c, http.StatusOK, credentialsPageView{Key: key, KeyLabel: cred.Label})
}

func (s *Server) credentialsRevoke(c *gin.Context) {
	orgID := currentOrg(c, actor(c))
	cred, err := s.cfg.Credentials.Revoke(c.Request.Context(), actor(c), orgID, c.Param("id"))
	if err != nil {
		s.renderCredentials(c, statusOf(err), credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/credentials?org="+url.QueryEscape(orgID), cred.Label+" ("+cred.Masked+") is revoked.")
}

// waitForFirstKey gives the invitation workflow a moment to issue the sandbox key of an
// organisation that has just become active, so the dashboard shows it on landing.
func (s *Server) waitForFirstKey(ctx context.Context, orgID string, limit time.Duration) []onramp.Credential {
	var cs []onramp.Credential
	awaitRecorded(ctx, limit, func() bool {
		var err error
		cs, err = s.cfg.Keys.List(ctx, orgID)
		return err != nil || len(cs) > 0
	})
	return cs
}

// awaitRecorded polls done (at once, then every 100 ms) until it holds, limit passes or ctx ends:
// the portal's answers wait a moment for what a workflow is about to record.
func awaitRecorded(ctx context.Context, limit time.Duration, done func() bool) {
	deadline := time.Now().Add(limit)
	for !done() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
