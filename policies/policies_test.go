package policies_test

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onramp-dev/onramp/policies"
)

// TestRego runs every Rego test beside the policies, so a broken policy fails `go test ./...`.
func TestRego(t *testing.T) {
	n, err := policies.RunTests(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Fatalf("%d Rego tests passed; want every one of them (30+)", n)
	}
	t.Logf("%d Rego tests", n)
}

func MustEngine(tb testing.TB) *policies.Engine {
	tb.Helper()
	e, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func TestDecideMembers(t *testing.T) {
	e := MustEngine(t)
	tests := []struct {
		role, action, env string
		want              bool
	}{
		{"owner", "member.role.change", "", true},
		{"developer", "credential.create", "sandbox", true},
		{"developer", "credential.reveal", "production", false},
		{"viewer", "catalog.view", "", true},
		{"nobody", "catalog.view", "", false},
	}
	for _, tt := range tests {
		d, err := e.Decide(t.Context(), policies.Members, map[string]any{"role": tt.role, "action": tt.action, "environment": tt.env})
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != tt.want {
			t.Errorf("%s %s %s: allow = %v, want %v (reasons %v)", tt.role, tt.action, tt.env, d.Allow, tt.want, d.Reasons)
		}
		if !d.Allow && len(d.Reasons) == 0 {
			t.Errorf("%s %s: denied without a reason", tt.role, tt.action)
		}
	}
}

// MustEmbeddedWith copies the embedded policies into a MapFS with files replaced ("" deletes).
func MustEmbeddedWith(tb testing.TB, files map[string]string) fstest.MapFS {
	tb.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(policies.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		out[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	for p, src := range files {
		if src == "" {
			delete(out, p)
			continue
		}
		out[p] = &fstest.MapFile{Data: []byte(src)}
	}
	return out
}

func TestLoadKeepsRunningPoliciesOnError(t *testing.T) {
	e := MustEngine(t)
	before := e.Status()
	for _, tt := range []struct {
		name, wantInError string
		files             map[string]string
	}{
		{"syntax error", "members/members.rego:3", map[string]string{"members/members.rego": "package members\n\ndecision := {"}},
		{"missing decision", "data.catalog.decision", map[string]string{"catalog/catalog.rego": "package catalog\n\nallow := true\n", "catalog/catalog_test.rego": ""}},
		{"unsafe rule", "members.rego", map[string]string{"members/members.rego": "package members\n\ndecision := {\"allow\": x}\n"}},
		{"failing test", "catalog_test.test_always_denied", map[string]string{"catalog/extra_test.rego": "package catalog_test\n\nimport rego.v1\n\ntest_always_denied if false\n"}},
	} {
		name := tt.name
		err := e.Load(t.Context(), MustEmbeddedWith(t, tt.files))
		if err == nil {
			t.Errorf("%s: Load succeeded, want an error", name)
			continue
		}
		st := e.Status()
		if st.Version != before.Version || st.LastError != err.Error() || st.LastErrorAt == nil || st.LastErrorVersion == before.Version {
			t.Errorf("%s: status = %+v, want the old version running and the refusal recorded", name, st)
		}
		if !strings.Contains(st.LastError, tt.wantInError) {
			t.Errorf("%s: error %q does not name %q", name, st.LastError, tt.wantInError)
		}
	}
	d, err := e.Decide(t.Context(), policies.Members, map[string]any{"role": "owner", "action": "member.invite"})
	if err != nil || !d.Allow {
		t.Fatalf("after failed loads: %+v %v, want the original policy still answering", d, err)
	}
}

func TestUndefinedDecisionIsAnError(t *testing.T) {
	e := MustEngine(t)
	// A policy whose decision is undefined for some input must fail, never allow.
	undefined := MustEmbeddedWith(t, map[string]string{"members/members.rego": "package members\n\ndecision := {\"allow\": true} if input.role == \"owner\"\n",
		"members/members_test.rego": "", "members/matrix_test.rego": ""})
	if err := e.Load(t.Context(), undefined); err != nil {
		t.Fatal(err)
	}
	if d, err := e.Decide(t.Context(), policies.Members, map[string]any{"role": "viewer"}); err == nil {
		t.Fatalf("undefined result returned %+v without error", d)
	}
	if _, err := e.Decide(t.Context(), "nonexistent", nil); err == nil {
		t.Fatal("unknown decision returned no error")
	}
}

func TestDecideStopsWhenContextEnds(t *testing.T) {
	e := MustEngine(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if d, err := e.Decide(ctx, policies.Members, map[string]any{"role": "owner", "action": "catalog.view"}); err == nil {
		t.Fatalf("cancelled context decided %+v without error", d)
	}
}

func TestDecideCatalogOperations(t *testing.T) {
	e := MustEngine(t)
	d, err := e.Decide(t.Context(), policies.Catalog, map[string]any{
		"organization": map[string]any{"id": "org_1", "tier": "standard", "status": "active"},
		"assignments":  map[string]any{"payments": map[string]any{"plan": "standard", "scopes": []string{"payments:read"}, "environments": []string{"sandbox"}}},
		"product": map[string]any{"slug": "payments", "operations": map[string]any{
			"list":   map[string]any{"method": "GET", "path": "/payments", "scope": "payments:read"},
			"create": map[string]any{"method": "POST", "path": "/payments", "scope": "payments:write"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Allow || !d.Operations["list"].Allow || d.Operations["create"].Allow || len(d.Operations["create"].Reasons) != 1 {
		t.Fatalf("decision = %+v, want payments visible, list allowed, create denied with a reason", d)
	}
}

func TestWatchReloadsChangedFiles(t *testing.T) {
	dir := t.TempDir()
	for p, f := range MustEmbeddedWith(t, nil) {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, err := policies.NewFrom(t.Context(), os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	go e.Watch(t.Context(), dir, 20*time.Millisecond, slog.New(slog.DiscardHandler))
	input := map[string]any{"organization": map[string]any{"id": "org_w"}, "assignments": map[string]any{"payments": map[string]any{"plan": "standard", "scopes": []string{"payments:read"}}},
		"product": map[string]any{"slug": "payments", "operations": map[string]any{}}}
	wait := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; status %+v", what, e.Status())
			}
		}
	}
	v0 := e.Status().Version
	withhold := "package catalog\n\nimport rego.v1\n\nwithheld contains \"payments\" if input.organization.id == \"org_w\"\n"
	if err := os.WriteFile(filepath.Join(dir, "catalog", "withhold.rego"), []byte(withhold), 0o644); err != nil {
		t.Fatal(err)
	}
	wait("the new rule to take effect", func() bool {
		d, err := e.Decide(t.Context(), policies.Catalog, input)
		return err == nil && !d.Allow
	})
	if e.Status().Version == v0 {
		t.Error("version did not change")
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog", "withhold.rego"), []byte("package catalog\n\nwithheld contains"), 0o644); err != nil {
		t.Fatal(err)
	}
	wait("the broken file to be refused", func() bool { return e.Status().LastError != "" })
	if d, err := e.Decide(t.Context(), policies.Catalog, input); err != nil || d.Allow {
		t.Fatalf("after a refused change: %+v %v; want the previous policy still withholding", d, err)
	}
}

func TestLogDecisionsSamples(t *testing.T) {
	e := MustEngine(t)
	var buf strings.Builder
	input := map[string]any{"role": "owner", "action": "member.invite"}
	e.LogDecisions(slog.New(slog.NewTextHandler(&buf, nil)), 0)
	if _, err := e.Decide(t.Context(), policies.Members, input); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("rate 0 logged: %s", buf.String())
	}
	e.LogDecisions(slog.New(slog.NewTextHandler(&buf, nil)), 1)
	for range 3 {
		if _, err := e.Decide(t.Context(), policies.Members, input); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "policy decision"); n != 3 || !strings.Contains(buf.String(), "member.invite") {
		t.Fatalf("rate 1 logged %d decisions: %s", n, buf.String())
	}
}
