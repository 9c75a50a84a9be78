package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/onramp-dev/onramp/devenv"
	"github.com/onramp-dev/onramp/kratos"
	"github.com/onramp-dev/onramp/mongo"
)

// The dependencies: in dev mode the embedded infrastructure (devenv: Temporal and FerretDB in
// bin/devstack, Kratos in bin/kratos) unless addresses are given; then the connections to
// MongoDB, Temporal and Kratos every role uses.

// startDependencies starts the embedded infrastructure in dev mode (unless given addresses) and
// connects to MongoDB, Temporal and Kratos.
func (s *Stack) startDependencies(ctx context.Context) error {
	cfg := &s.cfg
	if cfg.Dev {
		if err := s.startEmbedded(ctx); err != nil {
			return err
		}
	}
	return s.connect(ctx)
}

// startEmbedded starts, in dev mode, what is not given an address: Temporal and FerretDB
// (bin/devstack) and Kratos (bin/kratos), with their data and the dev secrets under Data.
func (s *Stack) startEmbedded(ctx context.Context) error {
	cfg := &s.cfg
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
	return nil
}

// connect checks the configuration and connects to MongoDB, Temporal and Kratos.
func (s *Stack) connect(ctx context.Context) error {
	cfg := &s.cfg
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
	// Lists and counters written before this version (or by none) are built once from the data.
	if err := s.Mongo.EnsureReadModels(ctx); err != nil {
		return fmt.Errorf("build the lists: %w", err)
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
