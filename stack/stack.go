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
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/api"
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
	"github.com/onramp-dev/onramp/partners"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/production"
	"github.com/onramp-dev/onramp/sla"
	"github.com/onramp-dev/onramp/subscriptions"
	"github.com/onramp-dev/onramp/team"
	"github.com/onramp-dev/onramp/worker"
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

	cfg      Config
	servers  []*http.Server
	worker   sdkworker.Worker
	infra    *devenv.Infra
	kratosP  *devenv.Kratos
	secrets  devenv.Secrets // dev mode only
	cancel   context.CancelFunc
	recorder *gateway.Recorder
	quota    *gateway.Quota
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

	// Bind listeners first: the portal URL must be known before Kratos is configured.
	listen := func(addr string) (net.Listener, string, error) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, "", fmt.Errorf("listen on %s: %w", addr, err)
		}
		return l, "http://" + l.Addr().String(), nil
	}
	var portalL, sandboxL, prodL, opsL net.Listener
	if cfg.Roles.Portal {
		if portalL, s.PortalURL, err = listen(cfg.PortalAddr); err != nil {
			return nil, err
		}
	}
	if cfg.PortalURL != "" {
		s.PortalURL = cfg.PortalURL
	}
	if cfg.Roles.Gateway {
		if sandboxL, s.SandboxURL, err = listen(cfg.SandboxAddr); err != nil {
			return nil, err
		}
		if prodL, s.ProductionURL, err = listen(cfg.ProductionAddr); err != nil {
			return nil, err
		}
		if cfg.GatewayOpsAddr != "" {
			if opsL, s.GatewayOpsURL, err = listen(cfg.GatewayOpsAddr); err != nil {
				return nil, err
			}
		}
	}
	for _, l := range []net.Listener{portalL, sandboxL, prodL, opsL} {
		if l != nil {
			defer func() {
				if err != nil {
					l.Close()
				}
			}()
		}
	}

	if err := s.startDependencies(ctx); err != nil {
		return nil, err
	}
	cfg = s.cfg // startDependencies fills in addresses and the dev admin token

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var devBox *mongo.Mailbox
	var mailer onramp.Mailer
	if cfg.Dev {
		devBox = mongo.NewMailbox(s.Mongo)
		mailer = devBox
	} else if cfg.SMTPURL != "" {
		if mailer, err = mail.NewSMTP(cfg.SMTPURL); err != nil {
			return nil, err
		}
	}

	catalogStore := mongo.NewCatalog(s.Mongo)
	credStore := mongo.NewCredentials(s.Mongo)
	usage := mongo.NewUsage(s.Mongo)
	onboarding := mongo.NewOnboarding(s.Mongo)
	if cfg.Calendar.Location == nil {
		cfg.Calendar = sla.Default()
	}
	if cfg.Dev && cfg.CredentialKeys == "" {
		cfg.CredentialKeys = s.secrets.CredentialKeys
	}
	keys, err := credentials.ParseKeyring(cfg.CredentialKeys)
	if err != nil {
		return nil, err
	}
	orgs := mongo.NewOrganizations(s.Mongo, keys)
	creds, err := credentials.New(credentials.Config{Store: credStore, Assignments: catalogStore, Keys: keys, PortalURL: s.portalURLOrDefault()})
	if err != nil {
		return nil, err
	}
	// One policy engine for every role here: the same decisions, one watcher.
	var policy *policies.Engine
	if cfg.Roles.Portal || cfg.Roles.Gateway || cfg.Roles.Worker {
		if policy, err = s.policies(ctx, bg); err != nil {
			return nil, err
		}
	}
	lc, err := lifecycles.New(s.Temporal, lifecycles.Config{PortalURL: s.portalURLOrDefault(),
		ReminderAfter: cfg.InvitationReminder, ExpireAfter: cfg.InvitationExpiry})
	if err != nil {
		return nil, err
	}
	// The portal publishes and shows the catalog; the worker announces what was published.
	var cat *catalog.Catalog
	var subs *subscriptions.Service
	var impacts *impact.Service
	subStore := mongo.NewSubscriptions(s.Mongo)
	if cfg.Roles.Portal || cfg.Roles.Worker {
		if cat, err = s.newCatalog(catalogStore, policy, lc, lc); err != nil {
			return nil, err
		}
		if subs, err = subscriptions.New(subscriptions.Config{Catalog: cat, Versions: catalogStore, Policy: policy, Organizations: orgs, Members: orgs,
			Team: orgs, Subscriptions: subStore, Tokens: subStore, PortalURL: s.portalURLOrDefault()}); err != nil {
			return nil, err
		}
		if impacts, err = impact.New(impact.Config{Catalog: cat, Versions: catalogStore, Assignments: catalogStore, Usage: usage, Credentials: credStore,
			Organizations: orgs, Team: orgs, Subscriptions: subStore, Policy: policy, PortalURL: s.portalURLOrDefault()}); err != nil {
			return nil, err
		}
	}
	if cfg.Roles.Worker {
		if mailer == nil {
			return nil, errors.New("the worker sends e-mail: set SMTP_URL")
		}
		s.acts, err = activities.New(activities.Activities{Mailer: mailer, Organizations: orgs, Members: orgs, Identities: s.Kratos, Team: orgs,
			Sessions: s.Kratos, Credentials: creds, Requests: onboarding, Onboarding: onboarding, Plans: catalogStore, Assignments: catalogStore,
			Calendar: cfg.Calendar, ReviewersEmail: cfg.ReviewersEmail, CredentialStore: credStore, Rotations: credStore, Policy: policy,
			QuotaRequests: onboarding, Brownouts: catalogStore, Notices: mongo.NewNotices(s.Mongo), Announcer: subs, Deliveries: subStore, Impacts: impacts})
		if err != nil {
			return nil, err
		}
		if err := s.StartWorker(); err != nil {
			return nil, err
		}
		go s.retainUsage(bg, usage)
	}

	if cfg.Roles.Portal {
		if err := s.loadCatalog(ctx, cat); err != nil {
			return nil, err
		}
		invitations := lc
		teamSvc, err := team.New(team.Config{Policy: policy, Identities: s.Kratos, Sessions: s.Kratos, Organizations: orgs, Members: orgs, Team: orgs,
			Invitations: invitations, MemberInvitations: invitations, Logger: cfg.Logger.With("role", "portal")})
		if err != nil {
			return nil, err
		}
		partnerSvc, err := partners.New(partners.Config{Organizations: orgs, Team: orgs, Invitations: invitations, Plans: cat,
			SSOProviders: s.ssoProviders(), Onboarding: onboarding, Logger: cfg.Logger.With("role", "portal")})
		if err != nil {
			return nil, err
		}
		productionSvc, err := production.New(production.Config{Policy: policy, Requests: onboarding, Reviews: invitations, Plans: cat,
			Organizations: orgs, Onboarding: onboarding})
		if err != nil {
			return nil, err
		}
		credentialSvc, err := credentials.NewManager(credentials.ManagerConfig{Keys: creds, Policy: policy, Plans: cat, Audit: orgs,
			Rotations: invitations, RotationStore: credStore, Usage: usage, Logger: cfg.Logger.With("role", "portal")})
		if err != nil {
			return nil, err
		}
		tryIt, err := catalog.NewTryIt(catalog.TryItConfig{Catalog: cat, Keys: creds, Policy: policy, PortalURL: s.portalURLOrDefault()})
		if err != nil {
			return nil, err
		}
		apiCfg := api.Config{
			Logger:          cfg.Logger.With("role", "portal"),
			Checks:          s.checks(),
			AdminToken:      cfg.AdminToken,
			DevMode:         cfg.Dev,
			Registry:        reg,
			PortalURL:       s.portalURLOrDefault(),
			KratosPublicURL: cfg.KratosPublicURL,
			Identity:        s.Kratos,
			Organizations:   orgs,
			Team:            orgs,
			TeamService:     teamSvc,
			Partners:        partnerSvc,
			Production:      productionSvc,
			Policy:          policy,
			Policies:        policy,
			Catalog:         cat,
			Credentials:     credentialSvc,
			Subscriptions:   subs,
			Impact:          impacts,
			Keys:            creds,
			TryIt:           tryIt,
			Usage:           usage,
			Onboarding:      onboarding,
			QuotaRequests:   onboarding,
			QuotaReviews:    lc,
			SignInPerClient: cfg.SignInPerClient,
			TrustedProxies:  cfg.TrustedProxies,
			HookToken:       cfg.KratosHookToken,
		}
		if cfg.Dev {
			apiCfg.HookToken = s.secrets.HookToken
		}
		// Kratos forgets providers it was not started with: install every partner's again.
		if err := partnerSvc.SyncSSO(ctx); err != nil {
			return nil, err
		}
		if cfg.Dev {
			apiCfg.Mailbox, apiCfg.CourierToken = devBox, s.secrets.CourierToken
		}
		portal, err := api.New(apiCfg)
		if err != nil {
			return nil, err
		}
		s.serve(portalL, portal, "portal")
	}
	if cfg.Roles.Gateway {
		if err := s.startGateway(ctx, gatewayDeps{reg: reg, alerts: lc, journeys: onboarding, policy: policy, keys: keys}, sandboxL, prodL, opsL); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// startDependencies starts the embedded infrastructure in dev mode (unless given addresses) and
// connects to MongoDB, Temporal and Kratos.
func (s *Stack) startDependencies(ctx context.Context) error {
	cfg := &s.cfg
	if cfg.Dev {
		// Child processes run in directories of their own: a relative data directory (the default
		// .onramp) would mean another place to them.
		abs, err := filepath.Abs(cfg.Data)
		if err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		cfg.Data = abs
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		secrets, err := devenv.LoadSecrets(cfg.Data)
		if err != nil {
			return err
		}
		s.secrets = secrets
		if cfg.AdminToken == "" {
			cfg.AdminToken = secrets.AdminToken
			s.AdminTokenPath = filepath.Join(cfg.Data, "admin-token")
		}
		if cfg.MongoURI == "" || cfg.TemporalAddress == "" {
			bin, err := devenv.FindBinary(cfg.BinDir, "devstack")
			if err != nil {
				return err
			}
			fmt.Fprintln(cfg.Progress, "Starting Temporal server, Temporal Web UI and MongoDB (FerretDB)…")
			s.infra, err = devenv.StartInfra(ctx, devenv.InfraOptions{
				Binary: bin, DataDir: cfg.Data, Host: cfg.DevHost,
				TemporalPort: cfg.TemporalPort, UIPort: cfg.TemporalUIPort, MongoPort: cfg.MongoPort,
			})
			if err != nil {
				return err
			}
			if cfg.MongoURI == "" {
				cfg.MongoURI = s.infra.MongoURI
			}
			if cfg.TemporalAddress == "" {
				cfg.TemporalAddress = s.infra.TemporalAddress
			}
			s.TemporalUIURL = s.infra.TemporalUIURL
			s.watch(s.infra.Done(), "the embedded Temporal/MongoDB process (devstack) exited; see "+filepath.Join(cfg.Data, "devstack.log"))
		}
		if cfg.KratosPublicURL == "" || cfg.KratosAdminURL == "" {
			bin, err := devenv.FindBinary(cfg.BinDir, "kratos")
			if err != nil {
				return err
			}
			fmt.Fprintln(cfg.Progress, "Starting Kratos (identity)…")
			s.kratosP, err = devenv.StartKratos(ctx, devenv.KratosOptions{
				Binary: bin, DataDir: cfg.Data, Host: cfg.DevHost,
				PublicPort: cfg.KratosPublicPort, AdminPort: cfg.KratosAdminPort,
				PortalURL: s.portalURLOrDefault(), Secrets: secrets,
			})
			if err != nil {
				return err
			}
			cfg.KratosPublicURL, cfg.KratosAdminURL = s.kratosP.PublicURL, s.kratosP.AdminURL
			s.watch(s.kratosP.Done(), "Kratos exited; see "+filepath.Join(cfg.Data, "kratos", "kratos.log"))
		}
	}
	missing := []string{}
	for name, v := range map[string]string{"MONGODB_URI": cfg.MongoURI, "TEMPORAL_ADDRESS": cfg.TemporalAddress,
		"KRATOS_PUBLIC_URL": cfg.KratosPublicURL, "KRATOS_ADMIN_URL": cfg.KratosAdminURL} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing configuration: %v (see `onramp help`)", missing)
	}
	if cfg.Roles.Portal && len(cfg.AdminToken) < 32 {
		return errors.New("ADMIN_TOKEN must be set to a random value of at least 32 characters for the portal")
	}
	if cfg.Roles.Portal && !cfg.Dev && len(cfg.KratosHookToken) < 32 {
		return errors.New("KRATOS_HOOK_TOKEN must be set to a random value of at least 32 characters (the same in Kratos's hook config): sign-in completion and the registration gate authenticate Kratos with it")
	}
	if err := checkSecrets(*cfg); err != nil {
		return err
	}
	s.MongoURI, s.TemporalAddress = cfg.MongoURI, cfg.TemporalAddress
	s.KratosPublicURL, s.KratosAdminURL = cfg.KratosPublicURL, cfg.KratosAdminURL

	var err error
	if s.Mongo, err = mongo.Open(ctx, cfg.MongoURI); err != nil {
		return err
	}
	if err := s.Mongo.EnsureIndexes(ctx); err != nil {
		return err
	}
	// The SDK logs at warn and above only: its info lines are per-poll noise in development.
	tlog := slog.New(levelFilter{cfg.Logger.Handler(), slog.LevelWarn}).With("component", "temporal-sdk")
	if s.Temporal, err = client.DialContext(ctx, client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Logger: sdklog.NewStructuredLogger(tlog),
	}); err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	if s.Kratos, err = kratos.New(cfg.KratosPublicURL, cfg.KratosAdminURL, nil); err != nil {
		return err
	}
	return nil
}

// retainUsage keeps the call history to UsageRetention: it asks MongoDB for a TTL index once
// (FerretDB refuses it) and purges older calls at start and every PurgeEvery in any case, until
// ctx ends.
func (s *Stack) retainUsage(ctx context.Context, usage *mongo.Usage) {
	retention, every := s.cfg.UsageRetention, s.cfg.PurgeEvery
	if retention <= 0 {
		retention = 720 * time.Hour
	}
	if every <= 0 {
		every = time.Hour
	}
	log := s.cfg.Logger.With("role", "worker")
	for {
		n, err := usage.PurgeUsage(ctx, time.Now().Add(-retention))
		if err != nil && ctx.Err() == nil {
			log.Error("purge usage events", "error", err)
		} else if n > 0 {
			log.Info("purged usage events", "deleted", n, "older_than", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// StartWorker starts the Temporal worker (again, after StopWorker).
func (s *Stack) StartWorker() error {
	if s.acts == nil {
		return errors.New("this stack runs no worker role")
	}
	w, err := worker.New(s.Temporal, s.acts)
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start Temporal worker: %w", err)
	}
	s.worker = w
	return nil
}

// StopWorker stops the Temporal worker; workflows wait, durably, until one runs again.
func (s *Stack) StopWorker() {
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
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
	return catalog.New(catalog.Config{Store: store, Assignments: store, Policy: policy, Announcements: announcements, Brownouts: brownouts, SandboxURL: sandbox, ProductionURL: production})
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

// ssoProviders is where partner identity providers are installed: the dev Kratos's own config,
// or the providers file shared with a production Kratos.
func (s *Stack) ssoProviders() onramp.SSOProviders {
	switch {
	case s.kratosP != nil:
		return s.kratosP
	case s.cfg.KratosProvidersFile != "":
		return kratos.ProvidersFile{Path: s.cfg.KratosProvidersFile, Mapper: deploy.OIDCMapper, PublicURL: s.cfg.KratosPublicURL}
	}
	return noSSO{}
}

// noSSO refuses partner SSO when no providers file is configured.
type noSSO struct{}

func (noSSO) SyncProviders(_ context.Context, orgs []onramp.Organization) error {
	for _, o := range orgs {
		if o.SSO != nil {
			return onramp.Errorf(onramp.EINVALID, "partner SSO is not set up on this portal: set KRATOS_PROVIDERS_FILE (see README)")
		}
	}
	return nil
}

func (s *Stack) checks() []api.Check {
	return []api.Check{
		{Name: "mongodb", Fn: s.Mongo.Ping},
		{Name: "temporal", Fn: func(ctx context.Context) error {
			_, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
		{Name: "kratos", Fn: s.Kratos.Ready},
	}
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

// PauseInfra freezes the embedded Temporal and MongoDB (FerretDB) process until ResumeInfra: the
// store and Temporal both stop answering, as in an outage. It fails when they are not embedded.
func (s *Stack) PauseInfra() error {
	if s.infra == nil {
		return errors.New("no embedded infrastructure to pause")
	}
	return s.infra.Pause()
}

// ResumeInfra lets the embedded infrastructure run again.
func (s *Stack) ResumeInfra() error {
	if s.infra == nil {
		return errors.New("no embedded infrastructure to resume")
	}
	return s.infra.Resume()
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
	for _, g := range s.gateways {
		g.Close()
	}
	if s.recorder != nil {
		s.recorder.Stop()
	}
	if s.quota != nil {
		s.quota.Stop()
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
