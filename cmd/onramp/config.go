package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// setting is one configuration value: a flag, the environment variable it falls back to (none
// when env is empty), and the commands it applies to. Secrets are environment-only so they never
// show up in `ps`.
type setting struct {
	flag, env string
	def       map[string]string // default per command; "*" for all
	help      string
	cmds      []string
	secret    bool
	boolean   bool // a switch: `--fresh` alone means true; its variable takes true/false/1/0
}

var (
	cmdDev       = "dev"
	cmdPortal    = "portal"
	cmdGateway   = "gateway"
	cmdWorker    = "worker"
	cmdBuildDeps = "build-deps"
	cmdSeed      = "seed"
	allCmds      = []string{cmdDev, cmdPortal, cmdGateway, cmdWorker}
	portalCmds   = []string{cmdDev, cmdPortal}
	gwCmds       = []string{cmdDev, cmdGateway}
)

var settings = []setting{
	{flag: "check", def: all("false"), boolean: true, cmds: []string{cmdDev, cmdPortal, cmdGateway, cmdWorker, cmdBuildDeps, cmdSeed}, help: "parse and validate the flags and environment, print the resulting settings and exit; builds, deletes, connects to and starts nothing"},
	{flag: "data", env: "ONRAMP_DATA", def: all(".onramp"), cmds: []string{cmdDev, cmdSeed}, help: "data directory: SQLite files, generated secrets, logs, admin-token (seed: where the dev credential keys are, when CREDENTIAL_KEYS is unset)"},
	{flag: "bin", env: "ONRAMP_BIN", def: all("bin"), cmds: []string{cmdDev, cmdBuildDeps}, help: "directory for the devstack and kratos binaries (built there when missing or outdated)"},
	{flag: "fresh", env: "ONRAMP_FRESH", def: all("false"), boolean: true, cmds: []string{cmdDev}, help: "delete the data directory before starting (start from nothing)"},
	{flag: "portal-addr", env: "PORTAL_ADDR", def: map[string]string{cmdDev: "127.0.0.1:4000", "*": ":4000"}, cmds: portalCmds, help: "portal listen address (UI, /api/v1, /admin/api/v1)"},
	{flag: "portal-url", env: "PORTAL_URL", def: all(""), cmds: allCmds, help: "public URL of the portal, used in links and e-mails (default: from portal-addr)"},
	{flag: "sandbox-addr", env: "GATEWAY_SANDBOX_ADDR", def: map[string]string{cmdDev: "127.0.0.1:4001", "*": ":4001"}, cmds: gwCmds, help: "sandbox gateway listen address"},
	{flag: "production-addr", env: "GATEWAY_PRODUCTION_ADDR", def: map[string]string{cmdDev: "127.0.0.1:4002", "*": ":4002"}, cmds: gwCmds, help: "production gateway listen address"},
	{flag: "gateway-ops-addr", env: "GATEWAY_OPS_ADDR", def: map[string]string{cmdDev: "127.0.0.1:4003", "*": ":4003"}, cmds: gwCmds, help: "gateway operations listen address: /metrics (Prometheus) and /healthz, kept off the partner-facing listeners (empty: none)"},
	{flag: "mongodb-uri", env: "MONGODB_URI", def: all(""), cmds: append(slices.Clone(allCmds), cmdSeed), secret: true, help: "MongoDB connection string (dev: embedded FerretDB when empty; seed: required, e.g. the MongoDB line `onramp dev` prints)"},
	{flag: "temporal-address", env: "TEMPORAL_ADDRESS", def: all(""), cmds: allCmds, help: "Temporal frontend host:port (dev: embedded server when empty)"},
	{flag: "temporal-namespace", env: "TEMPORAL_NAMESPACE", def: all("default"), cmds: allCmds, help: "Temporal namespace"},
	{flag: "kratos-public-url", env: "KRATOS_PUBLIC_URL", def: all(""), cmds: allCmds, help: "Kratos public API URL (dev: child process when empty)"},
	{flag: "kratos-admin-url", env: "KRATOS_ADMIN_URL", def: all(""), cmds: allCmds, help: "Kratos admin API URL (dev: child process when empty)"},
	{flag: "admin-token", env: "ADMIN_TOKEN", def: all(""), cmds: portalCmds, secret: true, help: "bearer token for /admin/api/v1, at least 32 random characters (dev: generated into <data>/admin-token)"},
	{flag: "invitation-reminder", env: "INVITATION_REMINDER_AFTER", def: all("72h"), cmds: portalCmds, help: "when an unanswered invitation is reminded (Go duration)"},
	{flag: "invitation-expiry", env: "INVITATION_EXPIRE_AFTER", def: all("336h"), cmds: portalCmds, help: "when an unanswered invitation expires (Go duration; 336h = 14 days)"},
	{flag: "trusted-proxies", env: "TRUSTED_PROXIES", def: all(""), cmds: portalCmds, help: "comma-separated CIDRs of proxies whose X-Forwarded-For names the client (e.g. your load balancer's 10.0.0.0/8); empty: none"},
	{flag: "kratos-providers-file", env: "KRATOS_PROVIDERS_FILE", def: all(""), cmds: []string{cmdPortal}, help: "Kratos config file the portal writes partner SSO providers to (given to Kratos as a second -c)"},
	{flag: "kratos-hook-token", env: "KRATOS_HOOK_TOKEN", def: all(""), cmds: []string{cmdPortal}, secret: true, help: "token Kratos's registration gate web hook sends (dev: generated)"},
	{flag: "smtp-url", env: "SMTP_URL", def: all(""), cmds: []string{cmdWorker, cmdPortal}, secret: true, help: "smtp://user:password@host:587?from=no-reply@example.com (dev: the dev mailbox)"},
	{flag: "credential-keys", env: "CREDENTIAL_KEYS", def: all(""), cmds: append(slices.Clone(allCmds), cmdSeed), secret: true, help: "AES-256-GCM keys that seal API keys for reveal: <key id>:<base64 32 bytes>[,…], the first seals (dev: generated)"},
	{flag: "sla-timezone", env: "SLA_TIMEZONE", def: all("UTC"), cmds: []string{cmdDev, cmdWorker}, help: "time zone of the production review business calendar (IANA name)"},
	{flag: "sla-hours", env: "SLA_HOURS", def: all("09:00-17:00"), cmds: []string{cmdDev, cmdWorker}, help: "business hours; a review is due at their close"},
	{flag: "sla-cutoff", env: "SLA_CUTOFF", def: all("15:00"), cmds: []string{cmdDev, cmdWorker}, help: "requests after it are due at the close of the next business day"},
	{flag: "sla-workdays", env: "SLA_WORKDAYS", def: all("Mon-Fri"), cmds: []string{cmdDev, cmdWorker}, help: "working days, e.g. Mon-Fri or Mon,Tue,Thu"},
	{flag: "sla-holidays", env: "SLA_HOLIDAYS", def: all(""), cmds: []string{cmdDev, cmdWorker}, help: "holidays, e.g. 2026-12-25,2026-12-26"},
	{flag: "usage-retention", env: "USAGE_RETENTION", def: all("720h"), cmds: []string{cmdDev, cmdWorker}, help: "how long the call history keeps each call (Go duration; 720h = 30 days); older calls are purged hourly"},
	{flag: "reviewers-email", env: "REVIEWERS_EMAIL", def: all(""), cmds: []string{cmdDev, cmdWorker}, help: "where production, rotation and quota review notices, reminders and SLA escalations are e-mailed"},
	{flag: "token-signing-key", env: "TOKEN_SIGNING_KEY", def: all(""), cmds: gwCmds, secret: true, help: "Ed25519 seed signing OAuth access tokens: <key id>:<base64 32 bytes>, the same on every gateway (dev: generated)"},
	{flag: "quota-exchange-addr", env: "QUOTA_EXCHANGE_ADDR", def: map[string]string{cmdDev: "127.0.0.1:0", "*": ""}, cmds: gwCmds, help: "UDP host:port where this gateway takes the other gateway nodes' quota totals, an address they reach (signed with TOKEN_SIGNING_KEY; port 0: any free one); empty: totals go through MongoDB only, and quotas over several nodes admit a little more past their end"},
	{flag: "token-ttl", env: "TOKEN_TTL", def: all("10m"), cmds: gwCmds, help: "lifetime of OAuth access tokens"},
	{flag: "policy-dir", env: "POLICY_DIR", def: all(""), cmds: portalCmds, help: "directory of Rego policies (a copy of policies/), reloaded within a second of a change; empty: the embedded policies"},
	{flag: "decision-log-rate", env: "POLICY_DECISION_LOG_RATE", def: all("0"), cmds: portalCmds, help: "fraction of policy decisions logged for audit, 0 to 1"},
	{flag: "catalog-dir", env: "CATALOG_DIR", def: all(""), cmds: portalCmds, help: "catalog files loaded at start: plans.yaml, products/<slug>/product.yaml and specs (dev: the demo catalog when empty)"},
	{flag: "sandbox-url", env: "GATEWAY_SANDBOX_URL", def: all(""), cmds: portalCmds, help: "public URL of the sandbox gateway, written into downloaded specs (default: the local listener)"},
	{flag: "production-url", env: "GATEWAY_PRODUCTION_URL", def: all(""), cmds: portalCmds, help: "public URL of the production gateway, written into downloaded specs (default: the local listener)"},
	{flag: "temporal-port", env: "DEV_TEMPORAL_PORT", def: all("7233"), cmds: []string{cmdDev}, help: "embedded Temporal gRPC port"},
	{flag: "temporal-ui-port", env: "DEV_TEMPORAL_UI_PORT", def: all("8233"), cmds: []string{cmdDev}, help: "embedded Temporal Web UI port (-1 disables the UI)"},
	{flag: "mongo-port", env: "DEV_MONGO_PORT", def: all("27017"), cmds: []string{cmdDev}, help: "embedded MongoDB (FerretDB) port"},
	{flag: "kratos-public-port", env: "DEV_KRATOS_PUBLIC_PORT", def: all("4433"), cmds: []string{cmdDev}, help: "Kratos public API port"},
	{flag: "kratos-admin-port", env: "DEV_KRATOS_ADMIN_PORT", def: all("4434"), cmds: []string{cmdDev}, help: "Kratos admin API port"},
	{flag: "products", env: "SEED_PRODUCTS", def: all("20"), cmds: []string{cmdSeed}, help: "products to publish (a plan of 5 for every 5)"},
	{flag: "versions", env: "SEED_VERSIONS", def: all("3"), cmds: []string{cmdSeed}, help: "versions of each product, published in order (each one's changelog has breaking and non-breaking changes)"},
	{flag: "operations", env: "SEED_OPERATIONS", def: all("20"), cmds: []string{cmdSeed}, help: "operations of each product's first version"},
	{flag: "orgs", env: "SEED_ORGS", def: all("100"), cmds: []string{cmdSeed}, help: "partner organisations to invite (on the seeded plans; 60 % signed in)"},
	{flag: "keys-per-org", env: "SEED_KEYS_PER_ORG", def: all("3"), cmds: []string{cmdSeed}, help: "sandbox keys of each signed-in partner"},
	{flag: "calls", env: "SEED_CALLS", def: all("10000"), cmds: []string{cmdSeed}, help: "calls to record over the last 7 days, a few partners making most of them"},
	{flag: "log-level", env: "LOG_LEVEL", def: all("info"), cmds: allCmds, help: "debug, info, warn or error"},
	{flag: "log-format", env: "LOG_FORMAT", def: map[string]string{cmdDev: "text", "*": "json"}, cmds: allCmds, help: "text or json"},
}

func all(v string) map[string]string { return map[string]string{"*": v} }

func (s setting) defaultFor(cmd string) string {
	if v, ok := s.def[cmd]; ok {
		return v
	}
	return s.def["*"]
}

// values holds parsed settings by flag name.
type values map[string]string

func (v values) int(name string) (int, error) {
	n, err := strconv.Atoi(v[name])
	if err != nil {
		return 0, fmt.Errorf("--%s: %q is not a number", name, v[name])
	}
	return n, nil
}

// bool reads a boolean setting, which parse has already checked and normalised.
func (v values) bool(name string) bool {
	b, _ := strconv.ParseBool(v[name])
	return b
}

// boolFlag lets a boolean setting be given as a bare switch (`--fresh`), as flag.Bool would,
// while its value stays a string in values like every other setting's.
type boolFlag struct{ p *string }

func (b boolFlag) IsBoolFlag() bool { return true }

func (b boolFlag) String() string {
	if b.p == nil {
		return ""
	}
	return *b.p
}

func (b boolFlag) Set(s string) error {
	v, err := parseBool(s)
	if err != nil {
		return err
	}
	*b.p = v
	return nil
}

// parseBool accepts what strconv.ParseBool does (true/false/1/0, t/f, TRUE/FALSE…) and returns
// "true" or "false".
func parseBool(s string) (string, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return "", errors.New("use true or false (or 1 or 0)")
	}
	return strconv.FormatBool(b), nil
}

// parse reads flags for cmd; each flag defaults to its environment variable, then its default.
// Secret settings are read from the environment only.
func parse(cmd string, args []string, getenv func(string) string, stderr io.Writer) (values, error) {
	fs := flag.NewFlagSet("onramp "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := values{}
	ptrs := map[string]*string{}
	for _, s := range settings {
		if !slices.Contains(s.cmds, cmd) {
			continue
		}
		def := s.defaultFor(cmd)
		if e := getenv(s.env); s.env != "" && e != "" {
			def = e
			if s.boolean {
				var err error
				if def, err = parseBool(e); err != nil {
					return nil, fmt.Errorf("%s=%q is not a boolean: %v", s.env, e, err)
				}
			}
		}
		if s.secret {
			out[s.flag] = def
			continue
		}
		p := new(string)
		*p = def
		if s.boolean {
			fs.Var(boolFlag{p}, s.flag, s.help)
		} else {
			fs.StringVar(p, s.flag, def, s.help)
		}
		ptrs[s.flag] = p
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%v (see `onramp help %s`)", err, cmd)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see `onramp help %s`)", fs.Arg(0), cmd)
	}
	for k, p := range ptrs {
		out[k] = *p
	}
	return out, nil
}

var commandHelp = map[string]string{
	cmdDev:       "run everything on this machine: portal, gateway and worker in one process, with the embedded Temporal server + Web UI, MongoDB (FerretDB) and Kratos as child processes",
	cmdPortal:    "run the portal (UI, partner API, admin API) against external MongoDB, Temporal and Kratos",
	cmdGateway:   "run the sandbox and production gateway listeners against external MongoDB, Temporal and Kratos",
	cmdWorker:    "run the Temporal worker (workflows and activities) against external MongoDB, Temporal and Kratos",
	cmdBuildDeps: "build bin/devstack and bin/kratos when missing or outdated (`dev` does this first)",
	cmdSeed:      "build a large dataset in the configured MongoDB through the portal's services: products and versions, partners with keys, calls (for benchmarks and demos)",
}

func usage(w io.Writer, only string) {
	fmt.Fprintln(w, "Onramp — self-service developer portal and API gateway for partner onboarding.")
	fmt.Fprintln(w, "\nUsage: onramp <command> [flags]\n\nCommands:")
	for _, c := range append(slices.Clone(allCmds), cmdBuildDeps, cmdSeed) {
		if only == "" || only == c {
			fmt.Fprintf(w, "  %-8s %s\n", c, commandHelp[c])
		}
	}
	fmt.Fprintln(w, "  help     show this help; `onramp help <command>` for one command")
	fmt.Fprintln(w, "\nSettings (flag, environment variable, default, commands). A flag overrides its variable;")
	fmt.Fprintln(w, "settings marked (env only) are secrets and are read from the environment only.")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range settings {
		if only != "" && !slices.Contains(s.cmds, only) {
			continue
		}
		name := "--" + s.flag
		if s.secret {
			name = "(env only)"
		}
		defs := []string{}
		for _, c := range s.cmds {
			if d := s.defaultFor(c); d != "" && !slices.Contains(defs, d) {
				defs = append(defs, d)
			}
		}
		def := strings.Join(defs, " | ")
		if def == "" {
			def = "-"
		}
		env := s.env
		if env == "" {
			env = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", name, env, def, strings.Join(s.cmds, ","))
		fmt.Fprintf(tw, "  \t  %s\t\t\n", s.help)
	}
	tw.Flush()
}

// printSettings is what --check shows: every setting of cmd as it was resolved, secrets only as
// set or unset.
func printSettings(w io.Writer, cmd string, v values) {
	fmt.Fprintf(w, "onramp %s: flags and environment are valid; nothing was started (--check)\n", cmd)
	for _, s := range settings {
		switch {
		case !slices.Contains(s.cmds, cmd) || s.flag == "check":
		case s.secret && v[s.flag] != "":
			fmt.Fprintf(w, "  %s set\n", s.env)
		case s.secret:
			fmt.Fprintf(w, "  %s unset\n", s.env)
		default:
			fmt.Fprintf(w, "  --%s=%s\n", s.flag, v[s.flag])
		}
	}
}
