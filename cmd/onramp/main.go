// Command onramp runs Onramp: `onramp dev` runs everything on one machine with embedded
// defaults; `onramp portal|gateway|worker` run one role against external services.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/onramp-dev/onramp/devenv"
	"github.com/onramp-dev/onramp/sla"
	"github.com/onramp-dev/onramp/stack"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Main runs one command and returns the process exit code.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr, "")
		return 2
	}
	cmd := args[0]
	switch cmd {
	case "help", "-h", "--help":
		only := ""
		if len(args) > 1 {
			only = args[1]
		}
		if _, ok := commandHelp[only]; only != "" && !ok {
			fmt.Fprintf(stderr, "onramp: unknown command %q\n\n", only)
			usage(stderr, "")
			return 2
		}
		usage(stdout, only)
		return 0
	case cmdDev, cmdPortal, cmdGateway, cmdWorker, cmdBuildDeps, cmdSeed:
	default:
		fmt.Fprintf(stderr, "onramp: unknown command %q\n\n", cmd)
		usage(stderr, "")
		return 2
	}
	v, err := parse(cmd, args[1:], getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "onramp:", err)
		return 2
	}
	if cmd == cmdSeed {
		return seedMain(v, stdout, stderr)
	}
	if v.bool("check") {
		if cmd != cmdBuildDeps {
			if _, err := stackConfig(cmd, v, stdout, stderr); err != nil {
				fmt.Fprintln(stderr, "onramp:", err)
				return 2
			}
		}
		printSettings(stdout, cmd, v)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd == cmdBuildDeps {
		return exitCode(stderr, devenv.EnsureBinaries(ctx, ".", v["bin"], stdout))
	}
	cfg, err := stackConfig(cmd, v, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "onramp:", err)
		return 2
	}
	if cmd == cmdDev {
		if err := devenv.EnsureBinaries(ctx, ".", cfg.BinDir, stdout); err != nil {
			return exitCode(stderr, err)
		}
		if v.bool("fresh") {
			if err := os.RemoveAll(cfg.Data); err != nil {
				return exitCode(stderr, fmt.Errorf("--fresh: %v", err))
			}
			fmt.Fprintf(stdout, "Starting fresh: removed %s\n", cfg.Data)
		}
	}
	return exitCode(stderr, run(ctx, cmd, cfg, stdout))
}

func exitCode(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintln(stderr, "onramp:", err)
		return 1
	}
	return 0
}

func stackConfig(cmd string, v values, stdout, stderr io.Writer) (stack.Config, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(v["log-level"])); err != nil {
		return stack.Config{}, fmt.Errorf("--log-level: %v", err)
	}
	var handler slog.Handler
	switch v["log-format"] {
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return stack.Config{}, fmt.Errorf("--log-format must be text or json, got %q", v["log-format"])
	}
	cfg := stack.Config{
		Dev:                 cmd == cmdDev,
		Roles:               stack.Roles{Portal: cmd == cmdDev || cmd == cmdPortal, Gateway: cmd == cmdDev || cmd == cmdGateway, Worker: cmd == cmdDev || cmd == cmdWorker},
		Data:                v["data"],
		BinDir:              v["bin"],
		PortalAddr:          v["portal-addr"],
		PortalURL:           v["portal-url"],
		SandboxAddr:         v["sandbox-addr"],
		ProductionAddr:      v["production-addr"],
		GatewayOpsAddr:      v["gateway-ops-addr"],
		MongoURI:            v["mongodb-uri"],
		TemporalAddress:     v["temporal-address"],
		TemporalNamespace:   v["temporal-namespace"],
		KratosPublicURL:     v["kratos-public-url"],
		KratosAdminURL:      v["kratos-admin-url"],
		AdminToken:          v["admin-token"],
		SMTPURL:             v["smtp-url"],
		CredentialKeys:      v["credential-keys"],
		KratosProvidersFile: v["kratos-providers-file"],
		KratosHookToken:     v["kratos-hook-token"],
		DevHost:             "127.0.0.1",
		Logger:              slog.New(handler),
		Progress:            stdout,
	}
	if cfg.Roles.Gateway {
		var err error
		cfg.TokenSigningKey = v["token-signing-key"]
		cfg.QuotaExchangeAddr = v["quota-exchange-addr"]
		if cfg.TokenTTL, err = time.ParseDuration(v["token-ttl"]); err != nil || cfg.TokenTTL <= 0 {
			return cfg, fmt.Errorf("--token-ttl %q must be a positive duration such as 10m", v["token-ttl"])
		}
	}
	if cfg.Roles.Worker {
		var err error
		if cfg.Calendar, err = sla.Parse(v["sla-timezone"], v["sla-hours"], v["sla-cutoff"], v["sla-workdays"], v["sla-holidays"]); err != nil {
			return cfg, err
		}
		cfg.ReviewersEmail = v["reviewers-email"]
		if cfg.UsageRetention, err = time.ParseDuration(v["usage-retention"]); err != nil || cfg.UsageRetention < time.Hour {
			return cfg, fmt.Errorf("--usage-retention %q must be a duration of at least 1h, such as 720h", v["usage-retention"])
		}
	}
	if cfg.Roles.Portal {
		var err error
		cfg.PolicyDir, cfg.CatalogDir = v["policy-dir"], v["catalog-dir"]
		cfg.SandboxPublicURL, cfg.ProductionPublicURL = v["sandbox-url"], v["production-url"]
		for _, p := range strings.Split(v["trusted-proxies"], ",") {
			if p = strings.TrimSpace(p); p != "" {
				cfg.TrustedProxies = append(cfg.TrustedProxies, p)
			}
		}
		if cfg.DecisionLogRate, err = strconv.ParseFloat(v["decision-log-rate"], 64); err != nil || cfg.DecisionLogRate < 0 || cfg.DecisionLogRate > 1 {
			return cfg, fmt.Errorf("--decision-log-rate %q must be a number from 0 to 1", v["decision-log-rate"])
		}
		if cfg.InvitationReminder, err = time.ParseDuration(v["invitation-reminder"]); err != nil || cfg.InvitationReminder <= 0 {
			return cfg, fmt.Errorf("--invitation-reminder %q must be a positive duration such as 72h", v["invitation-reminder"])
		}
		if cfg.InvitationExpiry, err = time.ParseDuration(v["invitation-expiry"]); err != nil || cfg.InvitationExpiry <= cfg.InvitationReminder {
			return cfg, fmt.Errorf("--invitation-expiry %q must be a duration longer than the reminder delay", v["invitation-expiry"])
		}
	}
	if cfg.Dev {
		for name, dst := range map[string]*int{"temporal-port": &cfg.TemporalPort, "temporal-ui-port": &cfg.TemporalUIPort,
			"mongo-port": &cfg.MongoPort, "kratos-public-port": &cfg.KratosPublicPort, "kratos-admin-port": &cfg.KratosAdminPort} {
			n, err := v.int(name)
			if err != nil {
				return cfg, err
			}
			*dst = n
		}
	}
	return cfg, nil
}

func run(ctx context.Context, cmd string, cfg stack.Config, stdout io.Writer) error {
	started := time.Now()
	st, err := stack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	printSummary(stdout, cmd, st, time.Since(started))
	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "\nStopping Onramp…")
	case err = <-st.Err():
		fmt.Fprintln(stdout, "\nOnramp is stopping because of an error:", err)
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if serr := st.Stop(stopCtx); serr != nil {
		fmt.Fprintln(stdout, "while stopping:", serr)
	}
	fmt.Fprintln(stdout, "Stopped.")
	return err
}

func printSummary(w io.Writer, cmd string, st *stack.Stack, took time.Duration) {
	fmt.Fprintf(w, "\nOnramp %s is ready in %.1fs\n", cmd, took.Seconds())
	tw := tabwriter.NewWriter(w, 2, 4, 1, ' ', 0)
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", name, value)
		}
	}
	row("Portal", st.PortalURL)
	row("Gateway (sandbox)", st.SandboxURL)
	row("Gateway (production)", st.ProductionURL)
	if st.GatewayOpsURL != "" {
		row("Gateway metrics", st.GatewayOpsURL+"/metrics")
	}
	row("Temporal Web UI", st.TemporalUIURL)
	if cmd == cmdDev && st.PortalURL != "" {
		row("Dev mailbox", strings.TrimRight(st.PortalURL, "/")+"/dev/mail")
		row("Temporal gRPC", st.TemporalAddress)
		row("MongoDB", st.MongoURI)
		row("Kratos public / admin", st.KratosPublicURL+" / "+st.KratosAdminURL)
	}
	if st.AdminTokenPath != "" {
		row("Admin token", "written to "+st.AdminTokenPath)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}
