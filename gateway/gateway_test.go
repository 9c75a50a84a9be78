package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/internal/problem"
)

func MustNew(tb testing.TB, env string) *gateway.Gateway {
	tb.Helper()
	g, err := gateway.New(gateway.Config{Environment: env, PortalURL: "http://portal.test"})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestHealthz(t *testing.T) {
	for _, env := range []string{gateway.Sandbox, gateway.Production} {
		rec := httptest.NewRecorder()
		MustNew(t, env).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), env) {
			t.Errorf("%s /healthz = %d %s, want 200 naming the environment", env, rec.Code, rec.Body)
		}
	}
}

func TestUnauthenticatedRequestsGetProblem(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		value    string
		wantType string
	}{
		{"no credential", "", "", "missing-credential"},
		{"unknown bearer", "Authorization", "Bearer onr_test_secretvalue123", "invalid-credential"},
		{"unknown api key", "X-API-Key", "onr_test_secretvalue123", "invalid-credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bodies := map[string]string{}
			for _, env := range []string{gateway.Sandbox, gateway.Production} {
				req := httptest.NewRequest(http.MethodGet, "/payments/v1/payments", nil)
				req.Header.Set("X-Request-Id", "fixed-request-id")
				if tt.header != "" {
					req.Header.Set(tt.header, tt.value)
				}
				rec := httptest.NewRecorder()
				MustNew(t, env).ServeHTTP(rec, req)
				if rec.Code != 401 {
					t.Errorf("%s status = %d, want 401", env, rec.Code)
				}
				if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
					t.Errorf("%s Content-Type = %q", env, ct)
				}
				if strings.Contains(rec.Body.String(), "secretvalue") {
					t.Errorf("%s error body echoes the credential: %s", env, rec.Body)
				}
				var p problem.Problem
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
					t.Fatal(err)
				}
				if p.Type != problem.TypeBase+tt.wantType || p.Detail == "" {
					t.Errorf("%s problem = %+v, want type %s with a detail", env, p, tt.wantType)
				}
				// Sandbox and production differ only in the environment named in the detail.
				bodies[env] = strings.ReplaceAll(rec.Body.String(), env, "ENV")
			}
			if bodies[gateway.Sandbox] != bodies[gateway.Production] {
				t.Errorf("sandbox and production bodies differ:\n%s\n%s", bodies[gateway.Sandbox], bodies[gateway.Production])
			}
		})
	}
}
