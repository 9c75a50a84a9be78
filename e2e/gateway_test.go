package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/specs"
	"github.com/onramp-dev/onramp/stack"
)

type credentialBody struct {
	ID          string   `json:"id"`
	Environment string   `json:"environment"`
	Status      string   `json:"status"`
	Scopes      []string `json:"scopes"`
	Masked      string   `json:"masked"`
}

// MustFirstSandboxKey waits for the sandbox credential the first sign-in issues and reveals it.
func MustFirstSandboxKey(tb testing.TB, st *stack.Stack, org onramp.Organization, token string) (credentialBody, string) {
	tb.Helper()
	var list struct {
		Credentials []credentialBody `json:"credentials"`
	}
	waitFor(tb, 10*time.Second, "the first sandbox credential", func() bool {
		MustGetJSON(tb, st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", http.StatusOK, &list, "X-Session-Token", token)
		return len(list.Credentials) > 0
	})
	c := list.Credentials[0]
	if c.Environment != onramp.Sandbox || c.Status != onramp.CredentialActive || !strings.HasPrefix(c.Masked, onramp.SandboxKeyPrefix) {
		tb.Fatalf("first credential = %+v, want an active sandbox key", c)
	}
	var revealed struct{ Key string }
	MustDo(tb, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+c.ID+"/reveal", nil, http.StatusOK, &revealed, "X-Session-Token", token)
	return c, revealed.Key
}

// gatewayCall sends one request through a gateway with an API key.
func gatewayCall(tb testing.TB, method, url, key, body string, header ...string) (int, http.Header, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

func mustGatewayProblem(tb testing.TB, status int, header http.Header, body []byte, wantStatus int, slug string) problem.Problem {
	tb.Helper()
	var p problem.Problem
	if status != wantStatus || header.Get("Content-Type") != problem.ContentType || json.Unmarshal(body, &p) != nil || p.Type != problem.TypeBase+slug {
		tb.Fatalf("got %d %s %s, want %d problem %s", status, header.Get("Content-Type"), body, wantStatus, slug)
	}
	return p
}

// The partner's journey through the gateways: the sandbox key is there at the first sign-in, a
// sandbox GET answers schema-true data, a read-only key is refused a write with the missing scope
// named, an invalid body gets the same 400 in sandbox and production, production keys wait for
// production access, and a revoked key is refused within a second. Every call is in the history.
func TestE2EGatewaySandboxJourney(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Gateway Journey", "standard")
	_, key := MustFirstSandboxKey(t, st, org, token)

	// A GET through the sandbox answers 200 with a body valid against the downloaded document.
	doc, _ := MustFetch(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments/versions/v2/openapi.json", token, http.StatusOK)
	status, header, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments?limit=3", key, "")
	if status != 200 || header.Get("X-Request-Id") == "" || header.Get("RateLimit-Limit") != "10000" {
		t.Fatalf("sandbox GET = %d %v %s", status, header, body)
	}
	mustMatchSchema(t, doc, "GET", "/payments?limit=3", status, header, body)

	// A read-only key may not write: 403 naming the scope it lacks.
	var created struct {
		Credential credentialBody `json:"credential"`
		Key        string         `json:"key"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": "sandbox", "label": "read-only", "scopes": []string{"payments:read"}},
		http.StatusCreated, &created, "X-Session-Token", token)
	status, header, body = gatewayCall(t, "POST", st.SandboxURL+"/payments/v2/payments", created.Key, `{"amount":100,"currency":"EUR","description":"x"}`, "Idempotency-Key", "order-1042-a")
	if p := mustGatewayProblem(t, status, header, body, 403, "access-denied"); !strings.Contains(p.Detail, "lacks scope payments:write") {
		t.Errorf("403 detail = %q, want the missing scope named", p.Detail)
	}

	// Production keys do not exist before production access.
	var refused problem.Problem
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": "production"}, http.StatusForbidden, &refused, "X-Session-Token", token)
	if !strings.Contains(refused.Detail, "production access") {
		t.Errorf("production key refusal = %q", refused.Detail)
	}
	status, header, body = gatewayCall(t, "GET", st.ProductionURL+"/payments/v2/payments", key, "")
	mustGatewayProblem(t, status, header, body, 401, "wrong-environment")

	// Production access granted (as an approval will): the same invalid body gets the same 400.
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/payments",
		map[string]any{"plan": "standard", "scopes": []string{"payments:read", "payments:write"}, "environments": []string{"sandbox", "production"}, "quota": map[string]any{"limit": 1000, "period": "month"}},
		http.StatusOK, nil, "Authorization", "Bearer "+MustAdminToken(t, st))
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": "production", "label": "live"}, http.StatusCreated, &created, "X-Session-Token", token)
	live := created.Key
	if !strings.HasPrefix(live, onramp.ProductionKeyPrefix) {
		t.Fatalf("production key %q lacks its prefix", live[:9])
	}
	invalid := `{"amount":"ten","currency":"EUR","description":"x"}`
	var problems []problem.Problem
	for _, c := range []struct{ url, key string }{{st.SandboxURL, key}, {st.ProductionURL, live}} {
		status, header, body = gatewayCall(t, "POST", c.url+"/payments/v2/payments", c.key, invalid)
		waitFor(t, 3*time.Second, "the new assignment to reach the gateway cache", func() bool {
			if status == 403 {
				status, header, body = gatewayCall(t, "POST", c.url+"/payments/v2/payments", c.key, invalid)
			}
			return status != 403
		})
		problems = append(problems, mustGatewayProblem(t, status, header, body, 400, "invalid-request"))
	}
	a, _ := json.Marshal(problems[0].Errors)
	b, _ := json.Marshal(problems[1].Errors)
	if problems[0].Detail != problems[1].Detail || string(a) != string(b) || len(problems[0].Errors) == 0 {
		t.Errorf("400 differs between sandbox and production:\n%s %s\n%s %s", problems[0].Detail, a, problems[1].Detail, b)
	}
	status, header, body = gatewayCall(t, "GET", st.ProductionURL+"/payments/v2/payments", live, "")
	if status != 200 || header.Get("X-Example-Upstream") != "onramp-dev" {
		t.Fatalf("production GET = %d %v %s, want the example upstream's 200", status, header, body)
	}
	mustMatchSchema(t, doc, "GET", "/payments", status, header, body)

	// Revoked: refused by the gateway within a second.
	var revoked credentialBody
	MustDo(t, "DELETE", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+created.Credential.ID, nil, http.StatusOK, &revoked, "X-Session-Token", token)
	at := time.Now()
	for {
		status, header, body = gatewayCall(t, "GET", st.ProductionURL+"/payments/v2/payments", live, "")
		if status == 401 {
			break
		}
		if time.Since(at) > time.Second {
			t.Fatalf("the revoked key still answers %d after %s", status, time.Since(at))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustGatewayProblem(t, status, header, body, 401, "revoked-credential")
	t.Logf("revocation took effect after %s", time.Since(at).Round(time.Millisecond))

	// Every authenticated call is in the organisation's history, without keys.
	var calls struct {
		Calls []struct {
			ID          string `json:"id"`
			Status      int    `json:"status"`
			Environment string `json:"environment"`
			Operation   string `json:"operation"`
		} `json:"calls"`
	}
	// The history is near-real-time (each gateway node flushes its log every second, errors and
	// successes apart): wait until every call shows, within a bound.
	statuses := map[int]int{}
	complete := func() bool {
		return statuses[200] >= 2 && statuses[403] >= 1 && statuses[400] >= 2 && statuses[401] >= 1
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/calls", http.StatusOK, &calls, "X-Session-Token", token)
		statuses = map[int]int{}
		for _, c := range calls.Calls {
			statuses[c.Status]++
		}
		if complete() || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !complete() {
		t.Errorf("recorded statuses after 5 s = %v, want the 200s, the 403, both 400s and the revoked 401", statuses)
	}
}

// mustMatchSchema validates a gateway response against the operation in the downloaded document.
func mustMatchSchema(tb testing.TB, docJSON []byte, method, path string, status int, header http.Header, body []byte) {
	tb.Helper()
	doc, err := specs.Load(docJSON)
	if err != nil {
		tb.Fatal(err)
	}
	doc.Servers = openapi3.Servers{}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		tb.Fatal(err)
	}
	req, _ := http.NewRequest(method, "http://gateway"+path, nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		tb.Fatalf("%s %s is not in the document: %v", method, path, err)
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status, Header: header, Body: io.NopCloser(bytes.NewReader(body))})
	if err != nil {
		tb.Errorf("%s %s: the body does not match the schema: %v\n%s", method, path, err, body)
	}
}

// A partner's CI fetches the current spec with the organisation's API key; another organisation's
// id, or a revoked key, gets nothing.
func TestE2EGatewaySpecDownloadWithKey(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "CI Fetcher", "standard")
	other := MustInvitePartner(t, st, "Not Theirs")
	cred, key := MustFirstSandboxKey(t, st, org, token)
	url := st.PortalURL + "/api/v1/orgs/" + org.ID + "/catalog/payments/versions/latest/openapi.yaml"
	status, header, body := gatewayCall(t, "GET", url, key, "")
	if status != 200 || header.Get("X-Onramp-Version") != "v2" || !bytes.Contains(body, []byte("openapi: 3.0.3")) {
		t.Fatalf("CI download = %d %v %.200s", status, header, body)
	}
	status, _, _ = gatewayCall(t, "GET", st.PortalURL+"/api/v1/orgs/"+other.ID+"/catalog/payments/versions/latest/openapi.yaml", key, "")
	if status != 404 {
		t.Errorf("another organisation's download with this key = %d, want 404", status)
	}
	MustDo(t, "DELETE", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+cred.ID, nil, http.StatusOK, nil, "X-Session-Token", token)
	status, header, body = gatewayCall(t, "GET", url, key, "")
	mustGatewayProblem(t, status, header, body, 401, "invalid-credential")
	if bytes.Contains(body, []byte(key)) {
		t.Error("the key is echoed in the refusal")
	}
}

// The dashboard shows the sandbox key right after the first sign-in; the credentials page
// reveals it.
func TestE2EGatewayBrowserDashboardShowsSandboxKey(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Dashboard Key")
	ctx := MustBrowser(t)
	MustBrowserSignIn(t, st, ctx, org.ContactEmail)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`article[data-org="`+org.ID+`"] li[data-credential]`))); err != nil {
		t.Fatalf("the dashboard shows no key: %v", err)
	}
	maybeScreenshot(t, ctx, "dashboard-key")
	if li := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`article[data-org="`+org.ID+`"] li[data-credential]`))); !strings.Contains(li, "sandbox") || !strings.Contains(li, onramp.SandboxKeyPrefix) {
		t.Errorf("dashboard key = %q", li)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/credentials?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS(`table[aria-label="Credentials"] form[action*="/reveal"] button`)),
		chromedp.Click(chromedp.CSS(`table[aria-label="Credentials"] form[action*="/reveal"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#revealed-key")),
	)
	if err != nil {
		t.Fatalf("revealing: %v", err)
	}
	key := MustRun(t, ctx, chromedp.Text(chromedp.CSS("#revealed-key")))
	if status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/accounts/v1/accounts", key, ""); status != 200 {
		t.Errorf("the revealed key answers %d %s", status, body)
	}
	token := MustAPISignIn(t, st, org.ContactEmail)
	var audit struct {
		Events []struct{ Action string } `json:"events"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/audit", http.StatusOK, &audit, "X-Session-Token", token)
	found := false
	for _, e := range audit.Events {
		found = found || e.Action == "credential.revealed"
	}
	if !found {
		t.Errorf("the reveal is not in the audit log: %+v", audit.Events)
	}
}
