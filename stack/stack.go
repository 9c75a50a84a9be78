// Package stack composes Onramp's roles (portal, gateway, worker) from a Config. cmd/onramp turns
// flags and environment into a Config; end-to-end tests start the same stack on :0 ports. In dev
// mode it first starts the embedded infrastructure (devenv) unless external addresses are given.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/devenv"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/impact"
	"github.com/onramp-dev/onramp/kratos"
	"github.com/onramp-dev/onramp/lifecycles"
	"github.com/onramp-dev/onramp/mail"
	"github.com/onramp-dev/onramp/mongo"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/sla"
	"github.com/onramp-dev/onramp/subscriptions"
)

// Roles says which parts run in this process.
type Roles struct {
	Portal, Gateway, Worker bool
}

// Config is everything a stack needs. Addresses are host:port ("127.0.0.1:0" picks a free port).
type Config struct {
	Roles  Roles
	Dev    bool   // embedded defaults, dev mailbox, generated admin token
	Data   string // data directory (dev: SQLite files, secrets, logs)
	BinDir string // where devstack and kratos binaries are (dev only)

	PortalAddr, SandboxAddr, ProductionAddr string
	// GatewayOpsAddr is the gateway's operations listener (/metrics, /healthz), apart from the
	// partner-facing ones so partners never see the provider's traffic; empty: none.
	GatewayOpsAddr string
	PortalURL      string // public portal URL; derived from PortalAddr when empty

	MongoURI          string
	TemporalAddress   string
	TemporalNamespace string
	KratosPublicURL   string
	KratosAdminURL    string
	AdminToken        string
	SMTPURL           string
	// CredentialKeys seal API keys for reveal: "<key id>:<base64 32 bytes>[,…]", first one current
	// (dev: generated into the data directory's secrets.json).
	CredentialKeys string
	// TokenSigningKey signs OAuth access tokens ("<key id>:<base64 32-byte seed>"; dev: generated);
	// TokenTTL is their lifetime (0: 10 minutes).
	TokenSigningKey string
	TokenTTL        time.Duration
	// QuotaFlush is how often gateway quota counters are written to MongoDB (default 1s).
	QuotaFlush time.Duration
	// QuotaExchangeAddr is where the gateway takes the other nodes' quota totals (UDP host:port,
	// an address they reach; gateway.Exchange); empty: through MongoDB only (dev: DevHost:0).
	QuotaExchangeAddr string
	// GatewayStoreTimeout bounds each of the gateway's own store operations (default 2s).
	GatewayStoreTimeout time.Duration
	// UsageRetention is how long the call history keeps a call (0: 720h); the worker purges
	// older calls every PurgeEvery (0: hourly).
	UsageRetention, PurgeEvery time.Duration
	// Calendar decides production reviews' SLA due times (zero: sla.Default()); ReviewersEmail
	// receives reviewer reminders and escalations.
	Calendar       sla.Calendar
	ReviewersEmail string

	// Partner invitation timings; zero takes the defaults (reminder after 3 days, expiry after 14).
	InvitationReminder, InvitationExpiry time.Duration
	// SignInPerClient limits sign-in attempts per client address per 15 minutes (0: the default).
	SignInPerClient int
	// TrustedProxies are the proxies (CIDRs) whose X-Forwarded-For the portal believes; none by
	// default.
	TrustedProxies []string
	// Partner SSO outside dev: the Kratos config file the portal writes providers to (a second
	// `kratos -c`) and the token of the portal's hooks (registration gate, sign-in completion).
	KratosProvidersFile, KratosHookToken string

	// PolicyDir, when set, holds the Rego policies (reloaded when its files change) instead of the
	// embedded ones; DecisionLogRate is the fraction of policy decisions logged for audit.
	PolicyDir       string
	DecisionLogRate float64
	// CatalogDir, when set, holds catalog files loaded at start (plans, products, specs); in dev
	// mode the embedded demo catalog is loaded when it is empty.
	CatalogDir string
	// Public gateway URLs that downloaded specs point at, when the gateway runs elsewhere.
	SandboxPublicURL, ProductionPublicURL string

	// Dev-only ports of the embedded infrastructure (0 picks a free one; UI -1 disables it).
	DevHost                           string
	TemporalPort, TemporalUIPort      int
	MongoPort                         int
	KratosPublicPort, KratosAdminPort int

	Logger   *slog.Logger
	Progress io.Writer // human progress lines; may be nil
}

// Stack is a running Onramp.
type Stack struct {
	PortalURL, SandboxURL, ProductionURL string
	GatewayOpsURL                        string // the gateway's /metrics and /healthz
	GatewayNode                          string // the gateway node's id (its usage documents' key)
	TemporalUIURL                        string
	ExampleUpstreamURL                   string // dev: the demo products' production upstream
	MongoURI, TemporalAddress            string
	KratosPublicURL, KratosAdminURL      string
	AdminTokenPath                       string

	Mongo    *mongo.DB // the portal's and worker's client (dev: one pooled connection)
	Temporal client.Client
	Kratos   *kratos.Client

	gatewayDB *mongo.DB // the data plane's own client
	gateways  []*gateway.Gateway
	catalog   *catalog.Catalog // follows the change feed until Stop

	cfg      Config
	servers  []*http.Server
	worker   sdkworker.Worker
	infra    *devenv.Infra
	kratosP  *devenv.Kratos
	secrets  devenv.Secrets // dev mode only
	cancel   context.CancelFunc
	recorder *gateway.Recorder
	quota    *gateway.Quota
	exchange *gateway.Exchange
	acts     *activities.Activities
	errc     chan error
	stopping atomic.Bool
	stopped  chan struct{}
}

// Start brings the configured roles up and returns once every listener is serving and every
// dependency answered. On failure it stops whatever it had started.
func Start(ctx context.Context, cfg Config) (st *Stack, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.TemporalNamespace == "" {
		cfg.TemporalNamespace = "default"
	}
	s := &Stack{cfg: cfg, errc: make(chan error, 8), stopped: make(chan struct{})}
	var bg context.Context
	bg, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			_ = s.Stop(context.Background())
		}
	}()
	// Listeners first: the portal URL must be known before Kratos is configured.
	ls, err := s.listen()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			ls.close()
		}
	}()
	if err := s.startDependencies(ctx); err != nil {
		return nil, err
	}
	d, err := s.shared(ctx, bg)
	if err != nil {
		return nil, err
	}
	if s.cfg.Roles.Worker {
		if err := s.startWorkerRole(bg, d); err != nil {
			return nil, err
		}
	}
	if s.cfg.Roles.Portal {
		if err := s.startPortal(ctx, d, ls.portal); err != nil {
			return nil, err
		}
	}
	if s.cfg.Roles.Gateway {
		gd := gatewayDeps{reg: d.reg, alerts: d.lifecycles, journeys: d.onboarding, policy: d.policy, keys: d.keys}
		if err := s.startGateway(ctx, gd, ls.sandbox, ls.production, ls.ops); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// listeners are the stack's bound listeners (nil for a role it does not run).
type listeners struct {
	portal, sandbox, production, ops net.Listener
}

func (ls listeners) close() {
	for _, l := range []net.Listener{ls.portal, ls.sandbox, ls.production, ls.ops} {
		if l != nil {
			l.Close()
		}
	}
}

// listen binds the listeners of the roles this stack runs and records their URLs.
func (s *Stack) listen() (ls listeners, err error) {
	cfg := s.cfg
	bind := func(addr string, url *string) (net.Listener, error) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			ls.close()
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		*url = "http://" + l.Addr().String()
		return l, nil
	}
	if cfg.Roles.Portal {
		if ls.portal, err = bind(cfg.PortalAddr, &s.PortalURL); err != nil {
			return ls, err
		}
	}
	if cfg.PortalURL != "" {
		s.PortalURL = cfg.PortalURL
	}
	if cfg.Roles.Gateway {
		if ls.sandbox, err = bind(cfg.SandboxAddr, &s.SandboxURL); err != nil {
			return ls, err
		}
		if ls.production, err = bind(cfg.ProductionAddr, &s.ProductionURL); err != nil {
			return ls, err
		}
		if cfg.GatewayOpsAddr != "" {
			if ls.ops, err = bind(cfg.GatewayOpsAddr, &s.GatewayOpsURL); err != nil {
				return ls, err
			}
		}
	}
	return ls, nil
}

// deps are the stores, services and clients more than one role uses, built once per process.
type deps struct {
	reg        *prometheus.Registry
	mailer     onramp.Mailer
	devBox     *mongo.Mailbox // dev: the mailbox /dev/mail shows
	catalog    *mongo.Catalog
	creds      *mongo.Credentials
	usage      *mongo.Usage
	onboarding *mongo.Onboarding
	orgs       *mongo.Organizations
	keys       *credentials.Keyring
	keyring    *credentials.Service
	policy     *policies.Engine
	lifecycles *lifecycles.Temporal
	cat        *catalog.Catalog       // portal and worker
	subs       *subscriptions.Service // portal and worker
	impacts    *impact.Service        // portal (dashboards) and worker (alarms)
	subStore   *mongo.Subscriptions
}

// shared builds what the roles share. One policy engine serves every role here: the same
// decisions, one watcher.
func (s *Stack) shared(ctx, bg context.Context) (d deps, err error) {
	cfg := &s.cfg
	d.reg = prometheus.NewRegistry()
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.Dev {
		d.devBox = mongo.NewMailbox(s.Mongo)
		d.mailer = d.devBox
	} else if cfg.SMTPURL != "" {
		if d.mailer, err = mail.NewSMTP(cfg.SMTPURL); err != nil {
			return d, err
		}
	}
	d.catalog, d.creds, d.usage, d.onboarding = mongo.NewCatalog(s.Mongo), mongo.NewCredentials(s.Mongo), mongo.NewUsage(s.Mongo), mongo.NewOnboarding(s.Mongo)
	if cfg.Calendar.Location == nil {
		cfg.Calendar = sla.Default()
	}
	if cfg.Dev && cfg.CredentialKeys == "" {
		cfg.CredentialKeys = s.secrets.CredentialKeys
	}
	if d.keys, err = credentials.ParseKeyring(cfg.CredentialKeys); err != nil {
		return d, err
	}
	d.orgs = mongo.NewOrganizations(s.Mongo, d.keys)
	if d.keyring, err = credentials.New(credentials.Config{Store: d.creds, Assignments: d.catalog, Keys: d.keys, PortalURL: s.portalURLOrDefault()}); err != nil {
		return d, err
	}
	if d.policy, err = s.policies(ctx, bg); err != nil {
		return d, err
	}
	if d.lifecycles, err = lifecycles.New(s.Temporal, lifecycles.Config{PortalURL: s.portalURLOrDefault(),
		ReminderAfter: cfg.InvitationReminder, ExpireAfter: cfg.InvitationExpiry}); err != nil {
		return d, err
	}
	// The portal publishes and shows the catalog; the worker announces what was published.
	d.subStore = mongo.NewSubscriptions(s.Mongo)
	if cfg.Roles.Portal || cfg.Roles.Worker {
		if d.cat, err = s.newCatalog(d.catalog, d.policy, d.lifecycles, d.lifecycles); err != nil {
			return d, err
		}
		s.catalog = d.cat
		if d.subs, err = subscriptions.New(subscriptions.Config{Catalog: d.cat, Versions: d.cat.Versions(), Policy: d.policy, Organizations: d.orgs,
			Members: d.orgs, Team: d.orgs, Subscriptions: d.subStore, Tokens: d.subStore, PortalURL: s.portalURLOrDefault()}); err != nil {
			return d, err
		}
		if d.impacts, err = impact.New(impact.Config{Catalog: d.cat, Versions: d.cat.Versions(), Assignments: d.catalog, Usage: d.usage, Credentials: d.creds,
			Organizations: d.orgs, Team: d.orgs, Subscriptions: d.subStore, Policy: d.policy, Notifications: d.onboarding, PortalURL: s.portalURLOrDefault()}); err != nil {
			return d, err
		}
	}
	return d, nil
}

// policies loads the Rego policies: embedded, or from PolicyDir, watched for changes until the stack stops.
func (s *Stack) policies(ctx, bg context.Context) (*policies.Engine, error) {
	log := s.cfg.Logger.With("role", "policy")
	var e *policies.Engine
	var err error
	if s.cfg.PolicyDir == "" {
		e, err = policies.New(ctx, policies.Embedded())
	} else if e, err = policies.NewFrom(ctx, os.DirFS(s.cfg.PolicyDir), s.cfg.PolicyDir); err == nil {
		go e.Watch(bg, s.cfg.PolicyDir, time.Second, log)
	}
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	e.LogDecisions(log, s.cfg.DecisionLogRate)
	return e, nil
}

// newCatalog builds the catalog: its publications announced through announcements, its
// brownout schedules run by brownouts.
func (s *Stack) newCatalog(store *mongo.Catalog, policy onramp.Policy, announcements onramp.Announcements, brownouts onramp.BrownoutSchedules) (*catalog.Catalog, error) {
	sandbox, production := s.cfg.SandboxPublicURL, s.cfg.ProductionPublicURL
	if sandbox == "" {
		sandbox = or(s.SandboxURL, "http://localhost:4001")
	}
	if production == "" {
		production = or(s.ProductionURL, "http://localhost:4002")
	}
	return catalog.New(catalog.Config{Store: store, Assignments: store, Policy: policy, Announcements: announcements, Brownouts: brownouts,
		Changes: mongo.NewChanges(s.Mongo), Logger: s.cfg.Logger.With("component", "catalog"), SandboxURL: sandbox, ProductionURL: production})
}

// loadCatalog loads catalog files into c: CatalogDir, or the demo catalog in dev mode.
func (s *Stack) loadCatalog(ctx context.Context, c *catalog.Catalog) error {
	var files fs.FS
	var err error
	switch {
	case s.cfg.CatalogDir != "":
		files = os.DirFS(s.cfg.CatalogDir)
	case s.cfg.Dev:
		if files, err = fs.Sub(deploy.Catalog, "catalog"); err != nil {
			return err
		}
	default:
		return nil
	}
	r, err := c.LoadFiles(ctx, files)
	if err != nil {
		return err
	}
	s.cfg.Logger.Info("catalog files loaded", "products", r.Products, "plans", r.Plans, "published", r.Published, "unchanged", r.Unchanged)
	return nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

func (s *Stack) portalURLOrDefault() string {
	if s.PortalURL != "" {
		return s.PortalURL
	}
	return "http://localhost:4000"
}

// Listener limits: a slow or idle client cannot hold a connection for long, nor send endless
// headers. Only the portal bounds the time to answer (gateway answers stream from upstreams).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = time.Minute
	idleTimeout       = 2 * time.Minute
	portalWriteTime   = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

func (s *Stack) serve(l net.Listener, h http.Handler, name string) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, IdleTimeout: idleTimeout,
		MaxHeaderBytes: maxHeaderBytes, ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn)}
	if name == "portal" {
		srv.WriteTimeout = portalWriteTime
	}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errc <- fmt.Errorf("%s: %w", name, err)
		}
	}()
}

// watch reports a child process that ends while the stack is running.
func (s *Stack) watch(done <-chan struct{}, msg string) {
	go func() {
		select {
		case <-done:
			if !s.stopping.Load() {
				s.errc <- errors.New(msg)
			}
		case <-s.stopped:
		}
	}()
}

// Err delivers the first fatal error of a running stack (a listener failing, a child exiting).
func (s *Stack) Err() <-chan error { return s.errc }

// Stop shuts down in reverse order of start: listeners drain, the worker finishes its tasks,
// clients close, then Kratos and the embedded infrastructure stop and flush their files.
func (s *Stack) Stop(ctx context.Context) error {
	if !s.stopping.CompareAndSwap(false, true) {
		return nil
	}
	defer close(s.stopped)
	if s.cancel != nil {
		s.cancel()
	}
	var errs []error
	for _, srv := range s.servers {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		errs = append(errs, srv.Shutdown(sctx))
		cancel()
	}
	if s.catalog != nil {
		s.catalog.Close()
	}
	for _, g := range s.gateways {
		g.Close()
	}
	if s.recorder != nil {
		s.recorder.Stop()
	}
	if s.quota != nil {
		s.quota.Stop()
	}
	if s.exchange != nil {
		errs = append(errs, s.exchange.Close())
	}
	s.StopWorker()
	if s.Temporal != nil {
		s.Temporal.Close()
	}
	if s.Mongo != nil {
		errs = append(errs, s.Mongo.Close(ctx))
	}
	if s.gatewayDB != nil {
		errs = append(errs, s.gatewayDB.Close(ctx))
	}
	if s.kratosP != nil {
		errs = append(errs, s.kratosP.Stop())
	}
	if s.infra != nil {
		errs = append(errs, s.infra.Stop())
	}
	return errors.Join(errs...)
}

// levelFilter drops records below min, whatever the wrapped handler would accept.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(a), f.min}
}

func (f levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(n), f.min}
}
