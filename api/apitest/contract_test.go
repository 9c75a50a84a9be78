package apitest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp/api/apitest"
)

// recorder is a testing.TB that keeps what the check reports instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func TestCheck(t *testing.T) {
	c := apitest.MustContract(t)
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	body := []byte(`{"type":"https://onramp.dev/problems/x","title":"X","status":401}`)
	admin := http.Header{"Authorization": {"Bearer some-admin-token"}}
	for _, tc := range []struct {
		name    string
		invalid bool
		ex      apitest.Exchange
		want    string // in the report; "" for none
	}{
		{"documented and matching", false, apitest.Exchange{Method: "GET", URL: "http://127.0.0.1:9/healthz", Status: 200,
			RHeader: http.Header{"Content-Type": {"application/json"}}, Response: []byte(`{"status":"ok"}`)}, ""},
		{"served but undocumented", false, apitest.Exchange{Method: "GET", URL: "http://x/api/v1/secret", Status: 200}, "does not describe it"},
		{"undocumented and not served", false, apitest.Exchange{Method: "GET", URL: "http://x/api/v1/secret", Status: 404}, ""},
		{"method not served", false, apitest.Exchange{Method: "DELETE", URL: "http://x/healthz", Status: 405}, ""},
		{"an HTML page", false, apitest.Exchange{Method: "GET", URL: "http://x/team", Status: 200}, ""},
		{"missing credential", false, apitest.Exchange{Method: "GET", URL: "http://x/admin/api/v1/plans", Status: 401, RHeader: problem, Response: body}, "security requirements failed"},
		{"missing credential, on purpose", true, apitest.Exchange{Method: "GET", URL: "http://x/admin/api/v1/plans", Status: 401, RHeader: problem, Response: body}, ""},
		{"marked invalid but valid", true, apitest.Exchange{Method: "GET", URL: "http://x/admin/api/v1/plans", Header: admin, Status: 401, RHeader: problem, Response: body}, "but it matches the document"},
		{"marked invalid outside the document", true, apitest.Exchange{Method: "GET", URL: "http://x/team", Status: 200}, "does not cover"},
		{"malformed body", false, apitest.Exchange{Method: "PUT", URL: "http://x/admin/api/v1/partners/org_1/credential-policy", Header: http.Header{
			"Authorization": {"Bearer t"}, "Content-Type": {"application/json"}}, Body: []byte(`{"max_credential_age":`), Status: 400, RHeader: problem, Response: body}, "request does not match"},
		{"undocumented status", false, apitest.Exchange{Method: "GET", URL: "http://x/admin/api/v1/plans", Header: admin, Status: 418}, "status is not supported"},
		{"response off its schema", false, apitest.Exchange{Method: "GET", URL: "http://x/healthz", Status: 200,
			RHeader: http.Header{"Content-Type": {"application/json"}}, Response: []byte(`{"status":"fine"}`)}, "does not match api/openapi.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			if tc.invalid {
				c.CheckInvalid(r, tc.ex)
			} else {
				c.Check(r, tc.ex)
			}
			got := strings.Join(r.errs, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("report = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDocumented(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/v1/me": true, "/admin/api/v1/plans": true, "/hooks/kratos/registration": true, "/healthz": true, "/dev/mail.json": true,
		"/dev/mail/courier": true, "/admin/partners": false, "/team": false, "/dev/mail": false, "/usage/data.json": false, "/.ory/sessions/whoami": false,
		"/apiary": false, "/": false,
	} {
		if got := apitest.Documented(path); got != want {
			t.Errorf("Documented(%q) = %v, want %v", path, got, want)
		}
	}
}
