package policies_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/onramp-dev/onramp/policies"
)

// TestRego runs every Rego test beside the policies, so a broken policy fails `go test ./...`.
func TestRego(t *testing.T) {
	modules, err := policies.ReadModules(policies.Embedded(), true)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tester.NewRunner().SetModules(modules).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		n++
		if r.Fail || r.Error != nil || r.Skip {
			t.Errorf("%s.%s: fail=%v skip=%v error=%v", r.Package, r.Name, r.Fail, r.Skip, r.Error)
		}
	}
	if n == 0 {
		t.Fatal("no Rego tests ran")
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

func TestLoadKeepsRunningPoliciesOnError(t *testing.T) {
	e := MustEngine(t)
	for name, fsys := range map[string]fstest.MapFS{
		"syntax error":     {"members/members.rego": {Data: []byte("package members\n\ndecision := {")}},
		"missing decision": {"members/members.rego": {Data: []byte("package members\n\nallow := true\n")}},
		"unsafe rule":      {"members/members.rego": {Data: []byte("package members\n\ndecision := {\"allow\": x}\n")}},
	} {
		if err := e.Load(t.Context(), fsys); err == nil {
			t.Errorf("%s: Load succeeded, want an error", name)
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
	undefined := fstest.MapFS{"members/members.rego": {Data: []byte("package members\n\ndecision := {\"allow\": true} if input.role == \"owner\"\n")}}
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
