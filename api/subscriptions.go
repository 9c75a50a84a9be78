package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/subscriptions"
)

// Subscriptions: a member's own e-mail subscriptions and feed token under
// /api/v1/orgs/{org}/subscriptions and /feed-token, the /subscriptions page, and the Atom feeds
// under /feeds/{org}/…, read with the feed token in the URL (feed readers cannot sign in; the
// access log leaves query strings out). Every rule is subscriptions.Service's.

func (s *Server) subscriptionRoutes(g routeGroups) {
	r, org, pages := g.root, g.org, g.pages
	org.GET("/subscriptions", s.apiSubscriptions)
	org.PUT("/subscriptions", s.apiSubscribeDefault)
	org.PUT("/subscriptions/:product", s.apiSubscribeProduct)
	org.DELETE("/subscriptions/:product", s.apiUnsubscribeProduct)
	org.POST("/feed-token", s.apiRotateFeedToken)
	org.DELETE("/feed-token", s.apiRevokeFeedToken)

	r.GET("/feeds/:org/catalog.atom", s.catalogFeed)
	r.GET("/feeds/:org/products/:file", s.productFeed)

	subs := pages.Group("/subscriptions")
	subs.GET("", s.subscriptionsPage)
	subs.POST("", s.sameOrigin, s.subscriptionsSave)
	subs.POST("/feed-token", s.sameOrigin, s.subscriptionsRotateToken)
	subs.POST("/feed-token/revoke", s.sameOrigin, s.subscriptionsRevokeToken)
	pages.POST("/catalog/:product/subscription", s.sameOrigin, s.productSubscriptionSave)
}

// bindOwn reads a JSON body that may name only the fields of in: subscriptions are the caller's
// own, so a body naming a member, an identity or an organisation is refused, not ignored.
func (s *Server) bindOwn(c *gin.Context, in any, hint string) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, "%s (subscriptions are always your own): %v", hint, err))
		return false
	}
	return true
}

func (s *Server) apiSubscriptions(c *gin.Context) {
	v, err := s.cfg.Subscriptions.Settings(c.Request.Context(), actor(c), c.Param("org"))
	s.respond(c, http.StatusOK, v, err)
}

func (s *Server) apiSubscribeDefault(c *gin.Context) {
	var in struct {
		Default string `json:"default"`
	}
	if !s.bindOwn(c, &in, `send {"default": "all"}, "breaking" or "none"`) {
		return
	}
	v, err := s.cfg.Subscriptions.Subscribe(c.Request.Context(), actor(c), c.Param("org"), "", in.Default)
	s.respond(c, http.StatusOK, v, err)
}

func (s *Server) apiSubscribeProduct(c *gin.Context) {
	var in struct {
		Level string `json:"level"`
	}
	if !s.bindOwn(c, &in, `send {"level": "all"}, "breaking", "none" or "default"`) {
		return
	}
	ctx, a, org := c.Request.Context(), actor(c), c.Param("org")
	if _, err := s.cfg.Subscriptions.Subscribe(ctx, a, org, c.Param("product"), in.Level); err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.cfg.Subscriptions.ProductSetting(ctx, a, org, c.Param("product"))
	s.respond(c, http.StatusOK, v, err)
}

func (s *Server) apiUnsubscribeProduct(c *gin.Context) {
	_, err := s.cfg.Subscriptions.Subscribe(c.Request.Context(), actor(c), c.Param("org"), c.Param("product"), subscriptions.FollowDefault)
	s.noContent(c, err)
}

func (s *Server) apiRotateFeedToken(c *gin.Context) {
	t, err := s.cfg.Subscriptions.RotateFeedToken(c.Request.Context(), actor(c), c.Param("org"))
	c.Header("Cache-Control", "no-store")
	s.respond(c, http.StatusCreated, t, err)
}

func (s *Server) apiRevokeFeedToken(c *gin.Context) {
	s.noContent(c, s.cfg.Subscriptions.RevokeFeedToken(c.Request.Context(), actor(c), c.Param("org")))
}

// Feeds.

func (s *Server) catalogFeed(c *gin.Context) { s.feed(c, "") }

func (s *Server) productFeed(c *gin.Context) {
	product, ok := strings.CutSuffix(c.Param("file"), ".atom")
	if !ok || product == "" {
		s.fail(c, onramp.Errorf(onramp.ENOTFOUND, "there is no feed %q; a product's feed is /feeds/{org}/products/{product}.atom", c.Param("file")))
		return
	}
	s.feed(c, product)
}

// feed answers an Atom feed, or 304 when the reader has it already (If-None-Match). It never
// sends a Referer on: the URL it was fetched with carries the token.
func (s *Server) feed(c *gin.Context, product string) {
	c.Header("Referrer-Policy", "no-referrer")
	f, err := s.cfg.Subscriptions.Feed(c.Request.Context(), c.Query("token"), c.Param("org"), product)
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := f.Atom()
	if err != nil {
		s.fail(c, err)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, no-cache")
	c.Header("Last-Modified", f.Updated.UTC().Format(http.TimeFormat))
	for _, tag := range strings.Split(c.GetHeader("If-None-Match"), ",") {
		if strings.TrimSpace(tag) == etag {
			c.Status(http.StatusNotModified)
			return
		}
	}
	c.Data(http.StatusOK, subscriptions.AtomContentType, body)
}

// Pages.

type subscriptionsPageView struct {
	page
	Memberships []Membership
	Org         Membership
	Settings    subscriptions.Settings
	Levels      []string
	Issued      *subscriptions.IssuedToken // a token just issued, shown once on this page
	Notice      string
	Error       string
}

func (s *Server) subscriptionsPage(c *gin.Context) {
	s.renderSubscriptions(c, http.StatusOK, subscriptionsPageView{})
}

func (s *Server) renderSubscriptions(c *gin.Context, status int, v subscriptionsPageView) {
	a := actor(c)
	orgID := currentOrg(c, a)
	settings, err := s.cfg.Subscriptions.Settings(c.Request.Context(), a, orgID)
	if err != nil {
		s.failPage(c, err)
		return
	}
	m, _ := a.In(orgID)
	v.page, v.Memberships, v.Org, v.Settings, v.Levels = s.signedInPage("Subscriptions"), a.Memberships, m, settings, onramp.SubscriptionLevels
	if v.Notice == "" {
		v.Notice = s.takeFlash(c).Notice
	}
	if v.Issued != nil {
		c.Header("Cache-Control", "no-store")
		c.Header("Referrer-Policy", "no-referrer")
	}
	s.render(c, status, "subscriptions.html", v)
}

// levelWords says what a level mails, for notices.
var levelWords = map[string]string{onramp.SubscribeAll: "every new version", onramp.SubscribeBreaking: "versions with breaking changes",
	onramp.SubscribeNone: "nothing", subscriptions.FollowDefault: "what your default says", "": "what your default says"}

func (s *Server) subscriptionsSave(c *gin.Context) {
	a := actor(c)
	orgID, product, level := currentOrg(c, a), c.PostForm("product"), c.PostForm("level")
	if _, err := s.cfg.Subscriptions.Subscribe(c.Request.Context(), a, orgID, product, level); err != nil {
		s.logInternal(c, err)
		if statusOf(err) == http.StatusNotFound {
			s.failPage(c, err)
			return
		}
		s.renderSubscriptions(c, statusOf(err), subscriptionsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	what := "By default you are e-mailed about " + levelWords[level] + "."
	if product != "" {
		what = "For " + product + " you are e-mailed about " + levelWords[level] + "."
	}
	s.redirectNotice(c, "/subscriptions?org="+url.QueryEscape(orgID), what)
}

func (s *Server) subscriptionsRotateToken(c *gin.Context) {
	t, err := s.cfg.Subscriptions.RotateFeedToken(c.Request.Context(), actor(c), currentOrg(c, actor(c)))
	if err != nil {
		s.failPage(c, err)
		return
	}
	s.renderSubscriptions(c, http.StatusCreated, subscriptionsPageView{Issued: &t,
		Notice: "Your feed URLs are below. Copy them now: they are not shown again, and any older feed URL of yours has stopped working."})
}

func (s *Server) subscriptionsRevokeToken(c *gin.Context) {
	orgID := currentOrg(c, actor(c))
	if err := s.cfg.Subscriptions.RevokeFeedToken(c.Request.Context(), actor(c), orgID); err != nil {
		s.failPage(c, err)
		return
	}
	s.redirectNotice(c, "/subscriptions?org="+url.QueryEscape(orgID), "Your feed token is revoked: your feed URLs have stopped working.")
}

// productSubscriptionSave is the product page's subscription form.
func (s *Server) productSubscriptionSave(c *gin.Context) {
	a := actor(c)
	orgID, product, level := currentOrg(c, a), c.Param("product"), c.PostForm("level")
	back := "/catalog/" + url.PathEscape(product) + "?org=" + url.QueryEscape(orgID) + "#subscription"
	if _, err := s.cfg.Subscriptions.Subscribe(c.Request.Context(), a, orgID, product, level); err != nil {
		s.logInternal(c, err)
		if statusOf(err) == http.StatusNotFound {
			s.failPage(c, err)
			return
		}
		s.redirectError(c, back, onramp.ErrorMessage(err))
		return
	}
	s.redirectNotice(c, back, "For this product you are e-mailed about "+levelWords[level]+".")
}

// productSubscription is the product page's subscription box; nil when policy keeps the member
// from having subscriptions.
func (s *Server) productSubscription(c *gin.Context, orgID, product string) (*subscriptions.ProductSetting, error) {
	ps, err := s.cfg.Subscriptions.ProductSetting(c.Request.Context(), actor(c), orgID, product)
	if onramp.ErrorCode(err) == onramp.EFORBIDDEN {
		return nil, nil
	}
	return &ps, err
}
