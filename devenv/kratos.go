package devenv

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/kratos"
)

// KratosOptions configures the Kratos child process.
type KratosOptions struct {
	Binary     string
	DataDir    string // Kratos gets DataDir/kratos
	Host       string
	PublicPort int // 0 picks a free one
	AdminPort  int
	PortalURL  string // where Kratos sends browsers and, in dev, e-mail (PortalURL/dev/mail/courier)
	Secrets    Secrets
}

// Kratos is a running Kratos server.
type Kratos struct {
	PublicURL string
	AdminURL  string
	proc      *process
	dir       string
	opts      KratosOptions
	mu        sync.Mutex
}

// StartKratos renders deploy/kratos into DataDir/kratos with this run's ports, secrets and paths,
// applies migrations on its SQLite file, starts `kratos serve` and waits until it is ready.
func StartKratos(ctx context.Context, o KratosOptions) (*Kratos, error) {
	dir := filepath.Join(o.DataDir, "kratos")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var err error
	for _, port := range []*int{&o.PublicPort, &o.AdminPort} {
		if *port == 0 {
			if *port, err = freePort(o.Host); err != nil {
				return nil, err
			}
		}
	}
	cfgPath, err := renderKratosConfig(dir, o, nil)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "kratos.log")

	migrate := exec.CommandContext(ctx, o.Binary, "migrate", "sql", "-e", "--yes", "-c", cfgPath)
	migrate.Dir = dir
	if out, err := migrate.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("kratos migrate: %v\n%s", err, lastLines(string(out), 20))
	}

	cmd, logFile, err := newCommand(o.Binary, []string{"serve", "-c", cfgPath, "--dev", "--watch-courier", "--sqa-opt-out"}, dir, logPath)
	if err != nil {
		return nil, err
	}
	// --dev keeps cookies usable over plain http on localhost; never pass it in production.
	p, err := startProcess("kratos", cmd, logFile, logPath)
	if err != nil {
		return nil, err
	}
	k := &Kratos{
		PublicURL: "http://" + net.JoinHostPort(o.Host, strconv.Itoa(o.PublicPort)),
		AdminURL:  "http://" + net.JoinHostPort(o.Host, strconv.Itoa(o.AdminPort)),
		proc:      p,
		dir:       dir,
		opts:      o,
	}
	if err := waitHTTP(ctx, p, k.AdminURL+"/admin/health/ready", time.Minute); err != nil {
		_ = p.stop(5 * time.Second)
		return nil, err
	}
	return k, nil
}

// Stop ends Kratos.
func (k *Kratos) Stop() error { return k.proc.stop(15 * time.Second) }

// Done is closed when the Kratos process has ended.
func (k *Kratos) Done() <-chan struct{} { return k.proc.done }

// SyncProviders installs one generic OIDC provider per organisation with SSO, and waits until
// Kratos has hot-reloaded its configuration and offers them.
func (k *Kratos) SyncProviders(ctx context.Context, orgs []onramp.Organization) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	providers, ids := kratos.ProviderEntries(orgs, deploy.OIDCMapper)
	if _, err := renderKratosConfig(k.dir, k.opts, providers); err != nil {
		return err
	}
	return kratos.WaitForProviders(ctx, k.PublicURL, ids)
}

func (k *Kratos) abs() string {
	a, _ := filepath.Abs(k.dir)
	return a
}

func renderKratosConfig(dir string, o KratosOptions, providers []map[string]any) (string, error) {
	for _, name := range []string{"identity.schema.json", "courier-body.jsonnet", "gate-body.jsonnet", "signed-in-body.jsonnet"} {
		b, err := fs.ReadFile(deploy.Kratos, "kratos/"+name)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return "", err
		}
	}
	raw, err := fs.ReadFile(deploy.Kratos, "kratos/kratos.yml")
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return "", fmt.Errorf("deploy/kratos/kratos.yml: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	portal := strings.TrimRight(o.PortalURL, "/")
	admin := "http://" + net.JoinHostPort(o.Host, strconv.Itoa(o.AdminPort)) + "/"
	set := map[string]any{
		"dsn":                                    "sqlite://" + filepath.Join(abs, "kratos.sqlite") + "?_fk=true&mode=rwc",
		"serve.public.base_url":                  portal + "/.ory/", // browsers use the portal's same-origin proxy
		"serve.public.host":                      o.Host,
		"serve.public.port":                      o.PublicPort,
		"serve.admin.base_url":                   admin,
		"serve.admin.host":                       o.Host,
		"serve.admin.port":                       o.AdminPort,
		"selfservice.default_browser_return_url": portal + "/",
		"selfservice.allowed_return_urls":        []string{portal + "/"},
		"selfservice.flows.error.ui_url":         portal + "/error",
		"selfservice.flows.settings.ui_url":      portal + "/account",
		"selfservice.flows.logout.after.default_browser_return_url": portal + "/login",
		"selfservice.flows.login.ui_url":                            portal + "/login",
		"selfservice.flows.registration.ui_url":                     portal + "/login/refused",
		"secrets.cookie":                                            []string{o.Secrets.KratosCookie},
		"secrets.cipher":                                            []string{o.Secrets.KratosCipher},
		"identity.schemas":                                          []map[string]string{{"id": "partner", "url": "file://" + filepath.Join(abs, "identity.schema.json")}},
		"courier.http.request_config.url":                           portal + "/dev/mail/courier",
		"courier.http.request_config.body":                          "file://" + filepath.Join(abs, "courier-body.jsonnet"),
		"courier.http.request_config.auth.config.value":             "Bearer " + o.Secrets.CourierToken,
		"selfservice.flows.registration.after":                      registrationHooks(portal, abs, o.Secrets.HookToken),
		"selfservice.flows.login.after":                             map[string]any{"hooks": []any{signedInHook(portal, abs, o.Secrets.HookToken)}},
		"selfservice.methods.oidc.config.providers":                 orEmpty(providers),
	}
	for path, v := range set {
		if err := setPath(cfg, path, v); err != nil {
			return "", err
		}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	cfgPath := filepath.Join(dir, "kratos.yml")
	header := "# Rendered by `onramp dev` from deploy/kratos/kratos.yml at every start; edit that file instead.\n"
	// Written whole and renamed into place, so Kratos's file watcher never reads half a file.
	tmp := cfgPath + ".tmp"
	if err := os.WriteFile(tmp, append([]byte(header), out...), 0o600); err != nil {
		return "", err
	}
	return cfgPath, os.Rename(tmp, cfgPath)
}

// registrationHooks are the registration "after" hooks: the portal's gate (before the identity is
// stored), its sign-in completion (after), then a session.
func registrationHooks(portal, dir, token string) map[string]any {
	gate := portalHook(portal+"/hooks/kratos/registration", "file://"+filepath.Join(dir, "gate-body.jsonnet"), token)
	gate["config"].(map[string]any)["response"] = map[string]any{"parse": true}
	hooks := map[string]any{"hooks": []any{gate, signedInHook(portal, dir, token), map[string]any{"hook": "session"}}}
	return map[string]any{"code": hooks, "oidc": hooks}
}

// signedInHook is the portal's sign-in completion: memberships are granted there, once per sign-in.
func signedInHook(portal, dir, token string) map[string]any {
	return portalHook(portal+"/hooks/kratos/signed-in", "file://"+filepath.Join(dir, "signed-in-body.jsonnet"), token)
}

func portalHook(url, body, token string) map[string]any {
	return map[string]any{"hook": "web_hook", "config": map[string]any{
		"url": url, "method": "POST", "body": body,
		"auth": map[string]any{"type": "api_key", "config": map[string]any{"name": "Authorization", "value": "Bearer " + token, "in": "header"}},
	}}
}

func orEmpty(p []map[string]any) []map[string]any {
	if p == nil {
		return []map[string]any{}
	}
	return p
}

// setPath sets a dotted key in a YAML map, refusing to invent structure the template lacks so a
// renamed key in kratos.yml fails loudly instead of being silently ignored.
func setPath(m map[string]any, path string, v any) error {
	keys := strings.Split(path, ".")
	cur := m
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return fmt.Errorf("deploy/kratos/kratos.yml has no %q (while setting %s)", k, path)
		}
		cur = next
	}
	if _, ok := cur[keys[len(keys)-1]]; !ok {
		return fmt.Errorf("deploy/kratos/kratos.yml has no %s", path)
	}
	cur[keys[len(keys)-1]] = v
	return nil
}

func waitHTTP(ctx context.Context, p *process, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if ok, err := p.exited(); ok {
			return p.failure(err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s within %s\n%s", p.name, url, limit, tail(p.logPath, 20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
