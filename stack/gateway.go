package stack

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/mongo"
)

// gatewayDeps are what the gateway shares with the other roles of the process.
type gatewayDeps struct {
	reg      *prometheus.Registry
	alerts   onramp.QuotaAlerts
	journeys gateway.Journeys // on the shared client
	policy   onramp.Policy
	keys     *credentials.Keyring
}

// gatewayPoolSize is the data plane's own connection pool: its reads never wait for a connection
// the portal or worker holds (the dev URI allows one). FerretDB loses concurrent updates of one
// document across connections, so through this client the gateway writes only the documents
// keyed by its own node id, each from one flusher.
const gatewayPoolSize = 8

// startGateway starts the data plane: its own MongoDB client, one usage pipeline and quota for
// the node, both listeners and the operations listener. Its only write through the shared
// client is an organisation's first successful call (the onboarding funnel), once per
// organisation and node, off the request path: that document is the portal's too.
func (s *Stack) startGateway(ctx context.Context, d gatewayDeps, sandboxL, prodL, opsL net.Listener) error {
	cfg := s.cfg
	log := cfg.Logger.With("role", "gateway")
	timeout := cfg.GatewayStoreTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	var err error
	if s.gatewayDB, err = mongo.OpenWith(ctx, cfg.MongoURI, mongo.Options{AppName: "onramp-gateway", MaxPoolSize: gatewayPoolSize, Timeout: timeout}); err != nil {
		return err
	}
	usage, catalogStore := mongo.NewUsage(s.gatewayDB), mongo.NewCatalog(s.gatewayDB)
	creds, err := credentials.New(credentials.Config{Store: mongo.NewCredentials(s.gatewayDB), Assignments: catalogStore, Keys: d.keys, PortalURL: s.portalURLOrDefault()})
	if err != nil {
		return err
	}
	s.GatewayNode = gateway.NewNodeID()
	metrics := gateway.NewMetrics(d.reg)
	tokens, err := s.tokens()
	if err != nil {
		return err
	}
	exchangeAddr := cfg.QuotaExchangeAddr
	if exchangeAddr == "" && cfg.Dev {
		exchangeAddr = net.JoinHostPort(cmp.Or(cfg.DevHost, "127.0.0.1"), "0") // every dev node runs on this machine
	}
	if exchangeAddr != "" {
		if s.exchange, err = gateway.NewExchange(gateway.ExchangeConfig{Addr: exchangeAddr, Key: gateway.ExchangeKey(s.cfg.TokenSigningKey), Metrics: metrics, Logger: log}); err != nil {
			return fmt.Errorf("quota exchange on %s: %w", exchangeAddr, err)
		}
		exchangeAddr = s.exchange.Addr()
	}
	s.recorder = gateway.NewRecorder(gateway.RecorderConfig{Store: usage, Node: s.GatewayNode, Exchange: exchangeAddr, Logger: log, Metrics: metrics, Retention: cfg.UsageRetention})
	s.quota = gateway.NewQuota(gateway.QuotaConfig{Store: usage, Node: s.GatewayNode, Alerts: d.alerts, Logger: log, Interval: cfg.QuotaFlush, Metrics: metrics, Exchange: s.exchange})
	upstream := ""
	if cfg.Dev {
		// The demo products' production upstreams are examples (.example): one local server answers for them.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		upstream = "http://" + l.Addr().String()
		s.ExampleUpstreamURL = upstream
		s.serve(l, gateway.ExampleUpstream(catalogStore), "example-upstream")
	}
	time.Sleep(gateway.NodeListedWithin) // the recorder wrote the heartbeat: serve once the other nodes list this one
	for _, g := range []struct {
		env string
		l   net.Listener
	}{{gateway.Sandbox, sandboxL}, {gateway.Production, prodL}} {
		h, err := gateway.New(gateway.Config{Environment: g.env, PortalURL: s.portalURLOrDefault(), Credentials: creds, Organizations: mongo.NewOrganizations(s.gatewayDB, d.keys),
			Catalog: catalogStore, Assignments: catalogStore, Policy: d.policy, Recorder: s.recorder, Quota: s.quota, ExampleUpstream: upstream,
			Journeys: d.journeys, Tokens: tokens, Changes: mongo.NewChanges(s.gatewayDB), Metrics: metrics, Logger: log})
		if err != nil {
			return err
		}
		s.gateways = append(s.gateways, h)
		s.serve(g.l, h, "gateway-"+g.env)
	}
	if opsL != nil {
		ops := http.NewServeMux()
		ops.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))
		ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"ok","node":"` + s.GatewayNode + `"}` + "\n"))
		})
		s.serve(opsL, ops, "gateway-ops")
	}
	return nil
}

// tokens is the OAuth token issuer every gateway node shares (TOKEN_SIGNING_KEY).
func (s *Stack) tokens() (*gateway.Tokens, error) {
	if s.cfg.Dev && s.cfg.TokenSigningKey == "" {
		s.cfg.TokenSigningKey = s.secrets.TokenSigningKey
	}
	kid, signingKey, err := gateway.ParseTokenKey(s.cfg.TokenSigningKey)
	if err != nil {
		return nil, err
	}
	ttl := s.cfg.TokenTTL
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	return gateway.NewTokens(kid, signingKey, ttl, "onramp", nil)
}
