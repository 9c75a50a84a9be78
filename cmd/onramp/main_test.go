package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestHelpDocumentsEverySetting(t *testing.T) {
	var out bytes.Buffer
	if code := Main([]string{"help"}, env(nil), &out, &out); code != 0 {
		t.Fatalf("help exit = %d", code)
	}
	for _, s := range settings {
		if !strings.Contains(out.String(), s.env) {
			t.Errorf("help lacks %s", s.env)
		}
		if !s.secret && !strings.Contains(out.String(), "--"+s.flag) {
			t.Errorf("help lacks --%s", s.flag)
		}
	}
	for _, c := range allCmds {
		if !strings.Contains(out.String(), "  "+c+" ") {
			t.Errorf("help lacks command %s", c)
		}
	}
}

func TestParsePrecedence(t *testing.T) {
	v, err := parse(cmdGateway, []string{"--sandbox-addr", ":9001"}, env(map[string]string{
		"GATEWAY_SANDBOX_ADDR": ":8001", "GATEWAY_PRODUCTION_ADDR": ":8002", "MONGODB_URI": "mongodb://db/x",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v["sandbox-addr"], ":9001"; got != want {
		t.Errorf("flag over env: got %q, want %q", got, want)
	}
	if got, want := v["production-addr"], ":8002"; got != want {
		t.Errorf("env over default: got %q, want %q", got, want)
	}
	if got, want := v["temporal-namespace"], "default"; got != want {
		t.Errorf("default: got %q, want %q", got, want)
	}
	if got, want := v["mongodb-uri"], "mongodb://db/x"; got != want {
		t.Errorf("secret from env: got %q, want %q", got, want)
	}
}

func TestParseRefusesSecretsAsFlagsAndUnknownFlags(t *testing.T) {
	for _, args := range [][]string{{"--admin-token", "x"}, {"--mongodb-uri", "mongodb://u:p@h"}, {"--no-such-flag"}, {"stray"}} {
		if _, err := parse(cmdPortal, args, env(nil), &bytes.Buffer{}); err == nil {
			t.Errorf("parse(%v) succeeded, want an error", args)
		}
	}
	if _, err := parse(cmdWorker, []string{"--portal-addr", ":1"}, env(nil), &bytes.Buffer{}); err == nil {
		t.Error("the worker accepted a portal-only flag")
	}
}

func TestMainExitCodes(t *testing.T) {
	var out bytes.Buffer
	if code := Main(nil, env(nil), &out, &out); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
	if code := Main([]string{"frobnicate"}, env(nil), &out, &out); code != 2 || !strings.Contains(out.String(), "unknown command") {
		t.Errorf("unknown command: exit %d, output %q", code, out.String())
	}
	out.Reset()
	if code := Main([]string{"dev", "--temporal-port", "seven"}, env(nil), &out, &out); code != 2 || !strings.Contains(out.String(), "not a number") {
		t.Errorf("bad port: exit %d, output %q", code, out.String())
	}
	out.Reset()
	if code := Main([]string{"dev", "--invitation-expiry", "1h", "--invitation-reminder", "2h"}, env(nil), &out, &out); code != 2 || !strings.Contains(out.String(), "longer than the reminder") {
		t.Errorf("expiry before reminder: exit %d, output %q", code, out.String())
	}
	out.Reset()
	// A production role without its dependencies says what is missing instead of starting.
	if code := Main([]string{"worker"}, env(nil), &out, &out); code != 1 || !strings.Contains(out.String(), "MONGODB_URI") {
		t.Errorf("worker without config: exit %d, output %q", code, out.String())
	}
}

func TestBooleanSettingsAreSwitches(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"default", nil, nil, "false"},
		{"bare flag", []string{"--fresh"}, nil, "true"},
		{"bare flag before another flag", []string{"--fresh", "--data", "elsewhere"}, nil, "true"},
		{"flag false", []string{"--fresh=false"}, nil, "false"},
		{"flag 1", []string{"--fresh=1"}, nil, "true"},
		{"env true", nil, map[string]string{"ONRAMP_FRESH": "true"}, "true"},
		{"env 1", nil, map[string]string{"ONRAMP_FRESH": "1"}, "true"},
		{"env TRUE", nil, map[string]string{"ONRAMP_FRESH": "TRUE"}, "true"},
		{"env false", nil, map[string]string{"ONRAMP_FRESH": "false"}, "false"},
		{"env 0", nil, map[string]string{"ONRAMP_FRESH": "0"}, "false"},
		{"flag over env", []string{"--fresh=false"}, map[string]string{"ONRAMP_FRESH": "1"}, "false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := parse(cmdDev, tc.args, env(tc.env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if got := v["fresh"]; got != tc.want {
				t.Errorf("fresh = %q, want %q", got, tc.want)
			}
			if got, want := v.bool("fresh"), tc.want == "true"; got != want {
				t.Errorf("bool(fresh) = %v, want %v", got, want)
			}
			if slices.Contains(tc.args, "--data") && v["data"] != "elsewhere" {
				t.Errorf("data = %q after a bare --fresh, want %q", v["data"], "elsewhere")
			}
		})
	}
}

func TestBooleanSettingsRefuseGarbage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"ONRAMP_FRESH": "yes"}, `ONRAMP_FRESH="yes" is not a boolean`},
		{nil, map[string]string{"ONRAMP_FRESH": "ture"}, `ONRAMP_FRESH="ture" is not a boolean`},
		{[]string{"--fresh=maybe"}, nil, `invalid boolean value "maybe" for -fresh`},
		// A switch takes no separate value, so a following word is a stray argument.
		{[]string{"--fresh", "false"}, nil, `unexpected argument "false"`},
	} {
		_, err := parse(cmdDev, tc.args, env(tc.env), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse(%v, env %v) = %v, want an error containing %q", tc.args, tc.env, err, tc.want)
		}
	}
}

// A setting defaulting to true or false is a switch; declared otherwise, `--name` would swallow
// the next argument as its value (the bug that broke `make dev-fresh`).
func TestBooleanSettingsAreDeclaredSo(t *testing.T) {
	for _, s := range settings {
		for cmd, d := range s.def {
			if looksBool := d == "true" || d == "false"; looksBool != s.boolean {
				t.Errorf("--%s: default %q for %s, boolean: %v", s.flag, d, cmd, s.boolean)
			}
		}
	}
}

func TestCheckValidatesAndStartsNothing(t *testing.T) {
	data := t.TempDir()
	keep := filepath.Join(data, "keep")
	if err := os.WriteFile(keep, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// --bin names a directory that does not exist: a dev start would try to build into it.
	args := []string{"dev", "--check", "--fresh", "--data", data, "--bin", filepath.Join(data, "no-bin"), "--portal-addr", "127.0.0.1:5000"}
	if code := Main(args, env(map[string]string{"MONGODB_URI": "mongodb://db/x"}), &out, &out); code != 0 {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
	for _, want := range []string{"nothing was started", "--fresh=true", "--data=" + data, "--portal-addr=127.0.0.1:5000", "MONGODB_URI set", "ADMIN_TOKEN unset"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "mongodb://db/x") {
		t.Error("--check printed a secret")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("--check --fresh deleted the data directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "no-bin")); !os.IsNotExist(err) {
		t.Errorf("--check created the bin directory: %v", err)
	}

	for _, args := range [][]string{{"dev", "--check", "--token-ttl", "soon"}, {"worker", "--check", "--sla-hours", "17-9"}, {"build-deps", "--check", "stray"}} {
		out.Reset()
		if code := Main(args, env(nil), &out, &out); code != 2 {
			t.Errorf("%v: exit %d, want 2; output %q", args, code, out.String())
		}
	}
}

func TestHelpRefusesUnknownCommands(t *testing.T) {
	var out bytes.Buffer
	if code := Main([]string{"help", "dev"}, env(nil), &out, &out); code != 0 || !strings.Contains(out.String(), "--fresh") {
		t.Errorf("help dev: exit %d, output %q", code, out.String())
	}
	out.Reset()
	if code := Main([]string{"help", "deploy"}, env(nil), &out, &out); code != 2 || !strings.Contains(out.String(), `unknown command "deploy"`) {
		t.Errorf("help deploy: exit %d, output %q", code, out.String())
	}
}

func TestSeedChecksItsSettings(t *testing.T) {
	var out bytes.Buffer
	args := []string{"seed", "--check", "--products", "500", "--versions", "5", "--operations", "50", "--orgs", "10000", "--keys-per-org", "10", "--calls", "1000000"}
	if code := Main(args, env(map[string]string{"MONGODB_URI": "mongodb://db/x"}), &out, &out); code != 0 {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
	for _, want := range []string{"nothing was started", "--products=500", "--orgs=10000", "--calls=1000000", "MONGODB_URI set"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"seed"}, nil, "MONGODB_URI"},
		{[]string{"seed", "--check", "--orgs", "many"}, map[string]string{"MONGODB_URI": "mongodb://db/x"}, "not a number"},
		{[]string{"seed", "--check", "--products", "0", "--orgs", "5"}, map[string]string{"MONGODB_URI": "mongodb://db/x"}, "need products"},
		{[]string{"seed", "--check", "--calls", "-1"}, map[string]string{"MONGODB_URI": "mongodb://db/x"}, "negative"},
	} {
		out.Reset()
		if code := Main(tc.args, env(tc.env), &out, &out); code != 2 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: exit %d, output %q; want 2 and %q", tc.args, code, out.String(), tc.want)
		}
	}
}
