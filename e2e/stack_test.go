// Package e2e holds Onramp's end-to-end tests. They start the real stack themselves (devstack and
// Kratos as child processes, the roles in-process, every port free-picked on loopback) and drive
// it only through HTTP, the SDKs of its dependencies, and a headless browser.
//
// The binaries come from `make build-deps` (bin/devstack, bin/kratos); `make test` builds them.
// Run one area alone with: go test -run '^TestE2EFoundation' ./e2e
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/stack"
)

var shared struct {
	once  sync.Once
	stack *stack.Stack
	err   error
	dir   string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stack != nil {
		if err := shared.stack.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the shared stack:", err)
		}
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// MustSharedStack returns the stack shared by every test of this run, starting it on first use.
func MustSharedStack(tb testing.TB) *stack.Stack {
	tb.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "onramp-e2e-")
		if shared.err != nil {
			return
		}
		cfg := DevConfig(tb, shared.dir)
		// Policies from a directory, as a security team runs them, so tests can edit them live.
		cfg.PolicyDir = filepath.Join(shared.dir, "policies")
		if shared.err = os.CopyFS(cfg.PolicyDir, policies.Embedded()); shared.err != nil {
			return
		}
		shared.stack, shared.err = startStack(context.Background(), cfg)
	})
	if shared.err != nil {
		tb.Fatalf("starting the stack: %v", shared.err)
	}
	return shared.stack
}

// DevConfig is `onramp dev` on free loopback ports with its data in dir.
func DevConfig(tb testing.TB, dir string) stack.Config {
	tb.Helper()
	level := slog.LevelWarn
	if os.Getenv("ONRAMP_TEST_VERBOSE") != "" {
		level = slog.LevelDebug
	}
	return stack.Config{
		Roles:          stack.Roles{Portal: true, Gateway: true, Worker: true},
		Dev:            true,
		Data:           dir,
		BinDir:         filepath.Join(repoRoot(tb), "bin"),
		PortalAddr:     "127.0.0.1:0",
		SandboxAddr:    "127.0.0.1:0",
		ProductionAddr: "127.0.0.1:0",
		GatewayOpsAddr: "127.0.0.1:0",
		DevHost:        "127.0.0.1",
		// Every test signs in from 127.0.0.1; the per-address limit has its own unit test.
		SignInPerClient: 100000,
		// Short-lived OAuth tokens, so a test can watch one expire.
		TokenTTL: 3 * time.Second,
		// Every embedded port free-picked; the Web UI on too, since admins signal through it.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
}

func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// MustGetJSON GETs url with optional headers (name, value pairs), checks the status and decodes
// the body into out.
func MustGetJSON(tb testing.TB, url string, wantStatus int, out any, header ...string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	CheckAgainstSpec(tb, req, nil, resp.StatusCode, resp.Header, raw)
	if resp.StatusCode != wantStatus {
		tb.Fatalf("GET %s = %d, want %d", url, resp.StatusCode, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("GET %s: decoding body: %v", url, err)
		}
	}
}

// mailMessage is one entry of /dev/mail.json.
type mailMessage struct {
	ID           string            `json:"id"`
	To           string            `json:"to"`
	Subject      string            `json:"subject"`
	TemplateType string            `json:"template_type"`
	TemplateData map[string]string `json:"template_data"`
}

// MustWaitForMail polls the dev mailbox until a message to `to` matches, or fails after limit.
func MustWaitForMail(tb testing.TB, portalURL, to string, match func(mailMessage) bool, limit time.Duration) mailMessage {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		var body struct {
			Messages []mailMessage `json:"messages"`
		}
		MustGetJSON(tb, portalURL+"/dev/mail.json?to="+strings.ReplaceAll(to, "+", "%2B"), http.StatusOK, &body)
		for _, m := range body.Messages {
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no matching message to %s within %s (mailbox has %d)", to, limit, len(body.Messages))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
