package policies_test

import (
	"testing"

	"github.com/onramp-dev/onramp/policies"
)

// BenchmarkDecideGateway is one gateway decision, the policy work on every uncached call.
// Target: ≤ 25 µs/op and ≤ 200 allocs/op (docs/benchmarks.md).
func BenchmarkDecideGateway(b *testing.B) {
	e := MustEngine(b)
	input := map[string]any{
		"environment": "production", "portal_url": "http://portal.test", "product": "payments",
		"credential": map[string]any{"org_id": "org_1", "environment": "production", "scopes": map[string]any{"payments:read": true, "payments:write": true}},
		"assignment": map[string]any{"plan": "standard", "scopes": map[string]any{"payments:read": true, "payments:write": true}, "environments": map[string]any{"sandbox": true, "production": true}},
		"operation":  map[string]any{"id": "createPayment", "scope": "payments:write"},
	}
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.Decide(b.Context(), policies.Gateway, input)
		if err != nil || !d.Allow {
			b.Fatalf("%+v %v", d, err)
		}
	}
}

// BenchmarkDecideGatewayRefused is a refusal, which works out its reason: a read-only key
// calling a write operation its plan grants.
func BenchmarkDecideGatewayRefused(b *testing.B) {
	e := MustEngine(b)
	input := map[string]any{
		"environment": "production", "portal_url": "http://portal.test", "product": "payments",
		"credential": map[string]any{"org_id": "org_1", "environment": "production", "scopes": map[string]any{"payments:read": true}},
		"assignment": map[string]any{"plan": "standard", "scopes": map[string]any{"payments:read": true, "payments:write": true}, "environments": map[string]any{"sandbox": true, "production": true}},
		"operation":  map[string]any{"id": "createPayment", "scope": "payments:write"},
	}
	want := "credential lacks scope payments:write (it has payments:read); your plan grants it: create a key with payments:write at http://portal.test/credentials"
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.Decide(b.Context(), policies.Gateway, input)
		if err != nil || d.Allow || len(d.Reasons) != 1 || d.Reasons[0] != want {
			b.Fatalf("%+v %v", d, err)
		}
	}
}
