// Package api is the portal's HTTP server (Gin): the partner JSON API under /api/v1, the provider's
// admin API under /admin/api/v1, the server-rendered UI, health, readiness and metrics. Every
// error is RFC 9457 problem+json (or an HTML page for a browser navigating the UI).
package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/impact"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/partners"
	"github.com/onramp-dev/onramp/production"
	"github.com/onramp-dev/onramp/quota"
	"github.com/onramp-dev/onramp/subscriptions"
	"github.com/onramp-dev/onramp/team"
	"github.com/onramp-dev/onramp/web"
)

// Check is one dependency that /readyz reports on.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Identity is what the portal needs from the identity provider (kratos.Client).
type Identity interface {
	SessionFromCookie(ctx context.Context, cookie string) (onramp.Session, error)
	Whoami(ctx context.Context, token string) (onramp.Session, error)
	GetLoginFlow(ctx context.Context, id, cookie string) (onramp.SignInFlow, error)
	GetRegistrationFlow(ctx context.Context, id, cookie string) (onramp.SignInFlow, error)
	LogoutURL(ctx context.Context, cookie string) (string, error)
	StartCodeLogin(ctx context.Context, email string) (string, error)
	CompleteCodeLogin(ctx context.Context, flowID, email, code string) (string, error)
	RevokeSession(ctx context.Context, token string) error
	FlowErrorCode(ctx context.Context, id string) (string, error)
}

// PolicyStatus reports the running policies' version and the last refused change.
type PolicyStatus interface {
	Status() onramp.PolicyStatus
}

// Config holds the portal's dependencies. Mailbox and CourierToken are set only in dev mode.
type Config struct {
	Logger          *slog.Logger
	Checks          []Check
	AdminToken      string
	DevMode         bool
	Mailbox         onramp.Mailbox // dev mailbox shown at /dev/mail
	CourierToken    string         // Kratos's courier authenticates to /dev/mail/courier with it
	Registry        *prometheus.Registry
	PortalURL       string // public URL of the portal
	KratosPublicURL string // Kratos's public API, served to browsers under /.ory
	Identity        Identity
	Organizations   onramp.OrganizationStore
	TeamService     *team.Service
	Partners        *partners.Service
	Production      *production.Service
	Policies        PolicyStatus // the admin Policies page
	Catalog         *catalog.Catalog
	Credentials     *credentials.Manager
	Subscriptions   *subscriptions.Service // feeds, feed tokens and e-mail subscriptions
	Impact          *impact.Service        // partners' calls to deprecated operations, the migration dashboard
	Keys            *credentials.Service   // catalog downloads by key, the first key on landing
	TryIt           *catalog.TryIt
	Quota           *quota.Service
	SignInPerClient int // sign-in attempts per client address per 15 minutes; 0: DefaultPostsPerAddress
	// TrustedProxies are the CIDRs (or addresses) of proxies whose X-Forwarded-For names the
	// client; none by default, so the peer's address is the client's.
	TrustedProxies []string
	HookToken      string // Kratos's hooks (registration gate, sign-in completion) authenticate with it
	Now            func() time.Time
}

// missing names the required dependencies cfg lacks.
func (cfg Config) missing() []string {
	var out []string
	for name, absent := range map[string]bool{
		"Logger": cfg.Logger == nil, "Registry": cfg.Registry == nil, "Identity": cfg.Identity == nil, "Organizations": cfg.Organizations == nil,
		"TeamService": cfg.TeamService == nil, "Partners": cfg.Partners == nil, "Production": cfg.Production == nil,
		"Policies": cfg.Policies == nil, "Catalog": cfg.Catalog == nil, "Credentials": cfg.Credentials == nil, "Subscriptions": cfg.Subscriptions == nil, "Impact": cfg.Impact == nil, "Keys": cfg.Keys == nil, "TryIt": cfg.TryIt == nil,
		"Quota":     cfg.Quota == nil,
		"PortalURL": cfg.PortalURL == "", "KratosPublicURL": cfg.KratosPublicURL == "",
	} {
		if absent {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Server is the portal's http.Handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	pages   map[string]*template.Template
	engine  *gin.Engine
	metrics *httpMetrics
	signIn  *signInLimits
}

// New validates cfg and builds the routes; it fails on a missing dependency.
func New(cfg Config) (*Server, error) {
	if m := cfg.missing(); len(m) > 0 {
		return nil, fmt.Errorf("api.New: %s required", strings.Join(m, ", "))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PortalURL = strings.TrimRight(cfg.PortalURL, "/")
	if len(cfg.AdminToken) < 32 {
		return nil, errors.New("api.New: AdminToken must be at least 32 characters")
	}
	if cfg.DevMode && (cfg.Mailbox == nil || len(cfg.CourierToken) < 32) {
		return nil, errors.New("api.New: dev mode needs a Mailbox and a CourierToken of at least 32 characters")
	}
	for _, p := range cfg.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("api.New: TRUSTED_PROXIES: %q is neither a CIDR such as 10.0.0.0/8 nor an address", p)
		}
	}
	pages, err := web.Templates()
	if err != nil {
		return nil, err
	}
	m, err := newHTTPMetrics(cfg.Registry, "portal")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, pages: pages, metrics: m, signIn: newSignInLimits(cfg.SignInPerClient)}
	s.engine = s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// routeGroups are the route groups every capability's routes hang from: the partner API (member
// session; org for /orgs/:org), partner pages (browser session), the admin API (admin token) and
// the admin UI (admin cookie).
type routeGroups struct {
	root              *gin.Engine
	v1, member, org   *gin.RouterGroup
	pages             *gin.RouterGroup
	admin, adminPages *gin.RouterGroup
}

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Forwarded headers name the client only when a configured proxy sent them; otherwise anyone
	// could pick the address the sign-in limits count.
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		panic("api: TrustedProxies were validated in New: " + err.Error())
	}
	r.Use(RequestID(), securityHeaders, s.metrics.middleware(), AccessLog(s.log), Recover(s.log), limitBodies)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promHandler(s.cfg.Registry)))
	r.StaticFS("/static", http.FS(web.Static()))
	r.GET("/", s.home)
	r.GET("/api/openapi.yaml", s.openapi)
	if s.cfg.DevMode {
		r.GET("/dev/mail", s.devMailPage)
		r.GET("/dev/mail.json", s.devMailJSON)
		r.POST("/dev/mail/courier", s.devMailCourier)
	}

	g := routeGroups{root: r, v1: r.Group("/api/v1"), pages: r.Group("", s.requireBrowserSession),
		admin: r.Group("/admin/api/v1", s.requireAdmin), adminPages: r.Group("/admin", s.requireAdminCookie)}
	g.member = g.v1.Group("", s.requireAPISession)
	g.org = g.member.Group("/orgs/:org")
	for _, capability := range []func(routeGroups){s.signInRoutes, s.teamRoutes, s.catalogRoutes, s.credentialRoutes,
		s.subscriptionRoutes, s.impactRoutes, s.usageRoutes, s.partnerRoutes, s.productionRoutes, s.adminRoutes, s.adminCatalogRoutes} {
		capability(g)
	}

	r.NoRoute(s.notFound)
	r.NoMethod(func(c *gin.Context) {
		writeProblem(c, problem.New(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
			c.Request.Method+" is not supported on "+c.Request.URL.Path+"; see /api/openapi.yaml for the methods each path accepts."))
	})
	return r
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// CheckResult is one dependency's state in /readyz.
type CheckResult struct {
	Status    string  `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

// Readiness is the /readyz body.
type Readiness struct {
	Status string                 `json:"status"`
	Checks map[string]CheckResult `json:"checks"`
}

func (s *Server) readiness(ctx context.Context) Readiness {
	type named struct {
		name string
		res  CheckResult
	}
	results := make(chan named, len(s.cfg.Checks))
	for _, chk := range s.cfg.Checks {
		go func() {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			start := time.Now()
			err := chk.Fn(ctx)
			res := CheckResult{Status: "up", LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				// The check's error text names only the dependency's state, never a credential.
				res.Status, res.Error = "down", err.Error()
			}
			results <- named{chk.Name, res}
		}()
	}
	out := Readiness{Status: "ready", Checks: map[string]CheckResult{}}
	for range s.cfg.Checks {
		n := <-results
		out.Checks[n.name] = n.res
		if n.res.Status != "up" {
			out.Status = "unavailable"
		}
	}
	return out
}

func (s *Server) readyz(c *gin.Context) {
	r := s.readiness(c.Request.Context())
	status := http.StatusOK
	if r.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(status, r)
}

func (s *Server) adminSystem(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"readiness": s.readiness(c.Request.Context()), "dev_mode": s.cfg.DevMode})
}

// page is the data every template gets.
type page struct {
	Title    string
	DevMode  bool
	SignedIn bool
	Admin    bool
}

// page returns the data common to every template.
func (s *Server) page(title string) page {
	return page{Title: title, DevMode: s.cfg.DevMode}
}

func (s *Server) home(c *gin.Context) {
	s.render(c, http.StatusOK, "home.html", s.page("Welcome"))
}

func (s *Server) render(c *gin.Context, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.fail(c, errors.New("unknown template "+name))
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := t.ExecuteTemplate(c.Writer, "layout", data); err != nil {
		s.log.Error("render template", "template", name, "error", err, "request_id", c.GetString(requestIDKey))
	}
}

func (s *Server) notFound(c *gin.Context) {
	if wantsHTML(c.Request) {
		s.render(c, http.StatusNotFound, "notfound.html", s.page("Not found"))
		return
	}
	writeProblem(c, problem.New(http.StatusNotFound, "not-found", "Not found",
		"There is no resource at "+c.Request.URL.Path+"; the API is described at /api/openapi.yaml."))
}
