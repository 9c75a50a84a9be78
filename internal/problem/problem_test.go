package problem_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

func TestFromError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantDetail string
	}{
		{"invalid", onramp.Errorf(onramp.EINVALID, "name is required"), 400, "invalid-request", "name is required"},
		{"not found", onramp.Errorf(onramp.ENOTFOUND, "no such product"), 404, "not-found", "no such product"},
		{"rate limited", onramp.Errorf(onramp.ERATELIMITED, "wait"), 429, "rate-limited", "wait"},
		{"wrapped", errors.Join(errors.New("ctx"), onramp.Errorf(onramp.ECONFLICT, "already approved")), 409, "conflict", "already approved"},
		{"internal hides text", errors.New("dial tcp 10.0.0.1: secret-host"), 500, "internal", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem.FromError(tt.err)
			if p.Status != tt.wantStatus {
				t.Errorf("Status = %d, want %d", p.Status, tt.wantStatus)
			}
			if got, want := p.Type, problem.TypeBase+tt.wantType; got != want {
				t.Errorf("Type = %q, want %q", got, want)
			}
			if tt.wantDetail != "" && p.Detail != tt.wantDetail {
				t.Errorf("Detail = %q, want %q", p.Detail, tt.wantDetail)
			}
			if strings.Contains(p.Detail, "secret-host") {
				t.Errorf("Detail leaks the internal error: %q", p.Detail)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	problem.Write(rec, problem.New(http.StatusUnauthorized, "missing-credential", "Missing credential", "send a key"))
	if got := rec.Header().Get("Content-Type"); got != problem.ContentType {
		t.Errorf("Content-Type = %q, want %q", got, problem.ContentType)
	}
	if rec.Code != 401 {
		t.Errorf("status = %d, want 401", rec.Code)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := body[k]; !ok {
			t.Errorf("body lacks %q: %s", k, rec.Body)
		}
	}
}
