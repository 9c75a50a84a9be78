package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// clusterID is fixed: the server replaces a missing or non-UUID id at every start, which would
// make a persisted database look like another cluster's.
const (
	clusterID   = "5f0bba52-6b8c-4c1e-9d36-0a3f7d0e9a11"
	clusterName = "active"
)

type temporalConfig struct {
	host      string
	port      int
	uiPort    int // negative: no UI
	dbFile    string
	namespace string
	logger    *slog.Logger
	logLevel  *slog.LevelVar
}

type temporalServer struct {
	server   temporal.Server
	ui       *uiserver.Server
	logLevel *slog.LevelVar
}

// startTemporal starts a single-host Temporal server on a SQLite file (schema created when the file
// is new) and, unless disabled, the Web UI with write actions so admins can signal workflows.
func startTemporal(c temporalConfig) (*temporalServer, error) {
	sqlConf, err := sqliteConfig(c.dbFile, c.namespace)
	if err != nil {
		return nil, err
	}
	frontend := net.JoinHostPort(c.host, strconv.Itoa(c.port))
	services := map[string]config.Service{}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, name := range []primitives.ServiceName{primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		svc := config.Service{RPC: config.RPC{BindOnIP: c.host}}
		if name == primitives.FrontendService {
			svc.RPC.GRPCPort = c.port
			if svc.RPC.HTTPPort, err = portOrFree(c.host, 0); err != nil {
				return nil, err
			}
		} else if svc.RPC.GRPCPort, err = portOrFree(c.host, 0); err != nil {
			return nil, err
		}
		services[string(name)] = svc
		hosts[name] = static.SingleLocalHost(net.JoinHostPort(c.host, strconv.Itoa(svc.RPC.GRPCPort)))
	}

	var conf config.Config
	conf.Global.Membership.BroadcastAddress = c.host
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             frontend,
			HTTPAddress:            net.JoinHostPort(c.host, strconv.Itoa(services[string(primitives.FrontendService)].RPC.HTTPPort)),
			ClusterID:              clusterID,
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = services
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend

	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	}
	server, err := temporal.NewServer(
		temporal.WithConfig(&conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(slogAdapter{log: c.logger.With("component", "temporal"), level: c.logLevel}),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("configure Temporal server: %w", err)
	}
	s := &temporalServer{server: server, logLevel: c.logLevel}
	if c.uiPort >= 0 {
		s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                c.host,
			Port:                c.uiPort,
			TemporalGRPCAddress: frontend,
			EnableUI:            true,
			DefaultNamespace:    c.namespace,
			CORS:                uiconfig.CORS{CookieInsecure: true},
			HideLogs:            true,
			DisableNewsFetch:    true,
		}))
		go func() {
			if err := s.ui.Start(); err != nil {
				c.logger.Error("Temporal Web UI stopped", "error", err)
			}
		}()
	}
	if err := server.Start(); err != nil {
		if s.ui != nil {
			s.ui.Stop()
		}
		return nil, fmt.Errorf("start Temporal server: %w", err)
	}
	return s, nil
}

// Stop silences the server first: its shutdown logs a burst of expected warnings.
func (s *temporalServer) Stop() {
	s.logLevel.Set(slog.LevelError + 4)
	if s.ui != nil {
		s.ui.Stop()
	}
	_ = s.server.Stop()
}

func sqliteConfig(dbFile, namespace string) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: dbFile,
		// WAL makes a file database about three times faster (shared/PLATFORM.md).
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal"},
	}
	if _, err := os.Stat(dbFile); os.IsNotExist(err) {
		if err := os.MkdirAll(filepath.Dir(dbFile), 0o700); err != nil {
			return nil, err
		}
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("create Temporal schema: %w", err)
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, namespace, false, nil)
	if err != nil {
		return nil, err
	}
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("create namespace %q: %w", namespace, err)
	}
	return conf, nil
}

// slogAdapter lets the Temporal server log through slog with a level that can be raised at
// shutdown.
type slogAdapter struct {
	log   *slog.Logger
	level *slog.LevelVar
}

func (s slogAdapter) Debug(msg string, tags ...tag.Tag)  { s.emit(slog.LevelDebug, msg, tags) }
func (s slogAdapter) Info(msg string, tags ...tag.Tag)   { s.emit(slog.LevelInfo, msg, tags) }
func (s slogAdapter) Warn(msg string, tags ...tag.Tag)   { s.emit(slog.LevelWarn, msg, tags) }
func (s slogAdapter) Error(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s slogAdapter) DPanic(msg string, tags ...tag.Tag) { s.emit(slog.LevelError, msg, tags) }
func (s slogAdapter) Panic(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s slogAdapter) Fatal(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }

func (s slogAdapter) emit(level slog.Level, msg string, tags []tag.Tag) {
	if level < s.level.Level() {
		return
	}
	attrs := make([]slog.Attr, len(tags))
	for i, t := range tags {
		attrs[i] = slog.Any(t.Key(), t.Value())
	}
	s.log.LogAttrs(context.Background(), level, msg, attrs...)
}
