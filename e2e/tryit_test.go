package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

type tryItAnswer struct {
	Prediction struct {
		Allowed bool   `json:"allowed"`
		Message string `json:"message"`
	} `json:"prediction"`
	Method   string `json:"method"`
	URL      string `json:"url"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"response"`
	Snippets map[string]string `json:"snippets"`
}

func mustTryIt(tb testing.TB, portal string, org onramp.Organization, token string, req map[string]any) tryItAnswer {
	tb.Helper()
	var a tryItAnswer
	MustDo(tb, "POST", portal+"/api/v1/orgs/"+org.ID+"/catalog/payments/tryit", req, http.StatusOK, &a, "X-Session-Token", token)
	return a
}

// withoutRequestID drops the per-request id from a problem body, so two calls compare.
func withoutRequestID(tb testing.TB, body string) problem.Problem {
	tb.Helper()
	var p problem.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		tb.Fatalf("not a problem: %s", body)
	}
	p.RequestID = ""
	return p
}

// Try-it answers exactly what the partner's own call answers: a sandbox GET's 200 with a
// schema-valid body (the curl snippet, run here, gets the same bytes), and a read-only key's
// write refused with the real 403 after the policy predicted it.
func TestE2ETryItMatchesTheGateway(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Try It Co", "standard")
	cred, key := MustFirstSandboxKey(t, st, org, token)

	a := mustTryIt(t, st.PortalURL, org, token, map[string]any{"credential_id": cred.ID, "operation": "getPayment",
		"path_params": map[string]string{"paymentId": "pay_abc123"}})
	if !a.Prediction.Allowed || a.Response.Status != 200 || a.URL != st.SandboxURL+"/payments/v2/payments/pay_abc123" {
		t.Fatalf("try-it GET = %+v", a)
	}
	if strings.Contains(a.Response.Body+a.URL+strings.Join(mapValues(a.Snippets), ""), key) {
		t.Fatal("the key leaks into the try-it answer")
	}
	doc, _ := MustFetch(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments/versions/v2/openapi.json", token, http.StatusOK)
	header := http.Header{}
	for k, v := range a.Response.Headers {
		header.Set(k, v)
	}
	mustMatchSchema(t, doc, "GET", "/payments/pay_abc123", a.Response.Status, header, []byte(a.Response.Body))

	// The curl snippet, run with the key in ONRAMP_API_KEY, reproduces the response.
	cmd := exec.Command("sh", "-c", a.Snippets["curl"])
	cmd.Env = append(os.Environ(), "ONRAMP_API_KEY="+key)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running the curl snippet: %v\n%s\n%s", err, a.Snippets["curl"], out)
	}
	if string(out) != a.Response.Body {
		t.Errorf("curl got\n%s\ntry-it showed\n%s", out, a.Response.Body)
	}

	// A read-only key: the prediction warns, the gateway's real 403 is shown, the same as a direct call.
	var ro struct {
		Credential credentialBody `json:"credential"`
		Key        string         `json:"key"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": "sandbox", "label": "read-only", "scopes": []string{"payments:read"}},
		http.StatusCreated, &ro, "X-Session-Token", token)
	body := `{"amount":2500,"currency":"EUR","description":"Order 1042"}`
	a = mustTryIt(t, st.PortalURL, org, token, map[string]any{"credential_id": ro.Credential.ID, "operation": "createPayment",
		"headers": map[string]string{"Idempotency-Key": "order-1042-x"}, "body": body})
	if a.Prediction.Allowed || !strings.Contains(a.Prediction.Message, "payments:write") || !strings.Contains(a.Prediction.Message, "403") {
		t.Errorf("prediction = %+v, want a warning naming payments:write and the 403", a.Prediction)
	}
	status, _, direct := gatewayCall(t, "POST", st.SandboxURL+"/payments/v2/payments", ro.Key, body, "Idempotency-Key", "order-1042-x")
	if a.Response.Status != 403 || status != 403 || !reflect.DeepEqual(withoutRequestID(t, a.Response.Body), withoutRequestID(t, string(direct))) {
		t.Errorf("try-it %d %s\ndirect %d %s\nwant the same 403", a.Response.Status, a.Response.Body, status, direct)
	}
	for _, lang := range []string{"go", "javascript", "python"} {
		if !strings.Contains(a.Snippets[lang], "ONRAMP_API_KEY") || !strings.Contains(a.Snippets[lang], "Idempotency-Key") {
			t.Errorf("%s snippet lacks the key variable or the header:\n%s", lang, a.Snippets[lang])
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// A developer may not use production keys: the picker leaves them out and the API refuses them;
// in the browser, try-it shows the real 200 and the real 403.
func TestE2ETryItBrowserAndRoles(t *testing.T) {
	st := MustSharedStack(t)
	org, owner := MustPartnerSession(t, st, "Try Roles", "standard")
	MustFirstSandboxKey(t, st, org, owner)
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/payments",
		map[string]any{"plan": "standard", "scopes": []string{"payments:read", "payments:write"}, "environments": []string{"sandbox", "production"}, "quota": map[string]any{"limit": 1000, "period": "month"}},
		http.StatusOK, nil, "Authorization", "Bearer "+MustAdminToken(t, st))
	var live, ro struct {
		Credential credentialBody `json:"credential"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": "production", "label": "live"}, http.StatusCreated, &live, "X-Session-Token", owner)
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": "sandbox", "label": "read-only", "scopes": []string{"payments:read"}}, http.StatusCreated, &ro, "X-Session-Token", owner)
	dev := fmt.Sprintf("dev+%d@tryroles.example", time.Now().UnixNano())
	MustInviteMember(t, st, org.ID, owner, dev, onramp.RoleDeveloper)
	devToken := MustAPISignIn(t, st, dev)
	var p problem.Problem
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/payments/tryit", map[string]any{"credential_id": live.Credential.ID, "operation": "listPayments"},
		http.StatusForbidden, &p, "X-Session-Token", devToken)

	ctx := MustBrowser(t)
	MustBrowserSignIn(t, st, ctx, dev)
	op := `details[data-operation="%s"]`
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/catalog/payments?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(op, "listPayments"))),
	)
	if err != nil {
		t.Fatal(err)
	}
	options := MustRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('details[data-operation="listPayments"] select[name="credential"] option')].map(o => o.textContent)`))
	for _, o := range options {
		if strings.Contains(o, "production") {
			t.Errorf("the developer's picker offers a production key: %v", options)
		}
	}
	if len(options) != 2 {
		t.Errorf("picker = %v, want the two sandbox keys", options)
	}
	send := func(operation, credID string) (string, string) {
		sel := fmt.Sprintf(op, operation)
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(sel+" summary")),
			chromedp.SetValue(chromedp.CSS(sel+` select[name="credential"]`), credID),
			chromedp.Click(chromedp.CSS(sel+` form.tryit button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(sel+` .tryit-result .status`)),
		)
		if err != nil {
			t.Fatalf("trying %s: %v", operation, err)
		}
		waitFor(t, 10*time.Second, "the try-it answer", func() bool {
			s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel+` .tryit-result .status`)))
			return err == nil && s != ""
		})
		status := MustRun(t, ctx, chromedp.Text(chromedp.CSS(sel+` .tryit-result .status`)))
		prediction := MustRun(t, ctx, chromedp.Text(chromedp.CSS(sel+` .tryit-result .prediction`)))
		return status, prediction
	}
	var sandbox struct {
		Credentials []credentialBody `json:"credentials"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", http.StatusOK, &sandbox, "X-Session-Token", owner)
	full := ""
	for _, c := range sandbox.Credentials {
		if c.Environment == onramp.Sandbox && len(c.Scopes) > 1 {
			full = c.ID
		}
	}
	if status, _ := send("listPayments", full); status != "200" {
		t.Errorf("try-it GET in the browser = %s, want 200", status)
	}
	status, prediction := send("createPayment", ro.Credential.ID)
	if status != "403" || !strings.Contains(prediction, "payments:write") {
		t.Errorf("try-it POST with the read-only key = %s (%q), want 403 predicted", status, prediction)
	}
	maybeScreenshot(t, ctx, "tryit")
}

// oauthToken asks a gateway's token endpoint with HTTP Basic client authentication.
func oauthToken(tb testing.TB, gatewayURL, clientID, secret, scope string) (int, map[string]any) {
	tb.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, _ := http.NewRequest("POST", gatewayURL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// OAuth 2.0 client credentials: tokens for granted scopes work through both gateways and verify
// with the published JWKS; a scope not granted is invalid_scope, a wrong secret invalid_client, an
// expired token a 401 problem; try-it uses the client exactly as partner code would.
func TestE2ETryItOAuthClientCredentials(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "OAuth Co", "standard")
	MustFirstSandboxKey(t, st, org, token)
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/payments",
		map[string]any{"plan": "standard", "scopes": []string{"payments:read", "payments:write"}, "environments": []string{"sandbox", "production"}, "quota": map[string]any{"limit": 1000, "period": "month"}},
		http.StatusOK, nil, "Authorization", "Bearer "+MustAdminToken(t, st))
	type client struct {
		Credential struct {
			ID       string `json:"id"`
			ClientID string `json:"client_id"`
			Type     string `json:"type"`
		} `json:"credential"`
		Key string `json:"key"`
	}
	clients := map[string]client{}
	for _, env := range []string{onramp.Sandbox, onramp.Production} {
		var c client
		MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": env, "type": "oauth_client", "label": env + " client"},
			http.StatusCreated, &c, "X-Session-Token", token)
		if c.Credential.Type != onramp.TypeOAuthClient || !strings.HasPrefix(c.Credential.ClientID, onramp.ClientIDPrefix) {
			t.Fatalf("client = %+v", c.Credential)
		}
		clients[env] = c
	}
	gateways := map[string]string{onramp.Sandbox: st.SandboxURL, onramp.Production: st.ProductionURL}
	var jwks jose.JSONWebKeySet
	MustGetJSON(t, st.SandboxURL+"/.well-known/jwks.json", http.StatusOK, &jwks)
	for env, c := range clients {
		status, tok := oauthToken(t, gateways[env], c.Credential.ClientID, c.Key, "payments:read")
		access, _ := tok["access_token"].(string)
		if status != 200 || access == "" || tok["token_type"] != "Bearer" || tok["scope"] != "payments:read" {
			t.Fatalf("%s token = %d %v", env, status, tok)
		}
		parsed, err := jwt.ParseSigned(access, []jose.SignatureAlgorithm{jose.EdDSA})
		var claims map[string]any
		if err == nil {
			err = parsed.Claims(jwks.Keys[0].Key, &claims)
		}
		if err != nil || claims["sub"] != c.Credential.ID || claims["env"] != env {
			t.Errorf("%s token does not verify with the JWKS: %v %v", env, err, claims)
		}
		if s, _, body := gatewayCall(t, "GET", gateways[env]+"/payments/v2/payments", "", "", "Authorization", "Bearer "+access); s != 200 {
			t.Errorf("%s GET with the token = %d %s", env, s, body)
		}
		s, h, body := gatewayCall(t, "POST", gateways[env]+"/payments/v2/payments", "", `{"amount":1,"currency":"EUR","description":"x"}`,
			"Authorization", "Bearer "+access, "Idempotency-Key", "order-0002")
		if p := mustGatewayProblem(t, s, h, body, 403, "access-denied"); !strings.Contains(p.Detail, "payments:write") {
			t.Errorf("%s: a read-only token writing: %q", env, p.Detail)
		}
	}
	c := clients[onramp.Sandbox]
	if status, out := oauthToken(t, st.SandboxURL, c.Credential.ClientID, c.Key, "payments:refund"); status != 400 || out["error"] != "invalid_scope" {
		t.Errorf("a scope not granted = %d %v, want invalid_scope", status, out)
	}
	if status, out := oauthToken(t, st.SandboxURL, c.Credential.ClientID, c.Key+"x", ""); status != 401 || out["error"] != "invalid_client" {
		t.Errorf("a wrong secret = %d %v, want invalid_client", status, out)
	}
	if status, out := oauthToken(t, st.ProductionURL, c.Credential.ClientID, c.Key, ""); status != 401 || out["error"] != "invalid_client" {
		t.Errorf("a sandbox client at the production gateway = %d %v, want invalid_client", status, out)
	}
	s, h, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", c.Key, "")
	mustGatewayProblem(t, s, h, body, 401, "invalid-credential")

	// Tokens are short-lived (3 s in these tests): an expired one is a 401 problem.
	_, tok := oauthToken(t, st.SandboxURL, c.Credential.ClientID, c.Key, "")
	time.Sleep(3500 * time.Millisecond)
	s, h, body = gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", "", "", "Authorization", "Bearer "+tok["access_token"].(string))
	mustGatewayProblem(t, s, h, body, 401, "expired-token")

	// Try-it offers the client too and gets its token exactly as partner code would.
	a := mustTryIt(t, st.PortalURL, org, token, map[string]any{"credential_id": c.Credential.ID, "operation": "listPayments"})
	if a.Response.Status != 200 || strings.Contains(a.Response.Body, c.Key) {
		t.Errorf("try-it with the OAuth client = %d %s", a.Response.Status, a.Response.Body)
	}
}
