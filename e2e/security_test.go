package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/stack"
)

// TestE2ESecurity…: each performs an attack a hostile partner can mount through the public
// surfaces (the portal, its /.ory proxy, the gateways, partners' own identity providers) and
// asserts the refusal and that nothing changed. Each fails on the code before the fix.

// me is GET /api/v1/me.
type me struct {
	IdentityID  string              `json:"identity_id"`
	Email       string              `json:"email"`
	Memberships []onramp.Membership `json:"memberships"`
}

func mustMe(tb testing.TB, st *stack.Stack, token string) me {
	tb.Helper()
	var m me
	MustGetJSON(tb, st.PortalURL+"/api/v1/me", http.StatusOK, &m, "X-Session-Token", token)
	return m
}

func orgIDs(ms []onramp.Membership) string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.Organization.ID+":"+m.Role)
	}
	return strings.Join(ids, ",")
}

// send makes one request with a JSON body (or none) and returns the status and body.
func send(tb testing.TB, method, url string, body any, header ...string) (int, []byte) {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// mustPartnerMembers lists an organisation's members through the admin API.
func mustPartnerMembers(tb testing.TB, st *stack.Stack, orgID string) []onramp.Member {
	tb.Helper()
	var body struct {
		Members []onramp.Member `json:"members"`
	}
	MustGetJSON(tb, st.PortalURL+"/admin/api/v1/partners/"+orgID+"/members", http.StatusOK, &body, "Authorization", "Bearer "+MustAdminToken(tb, st))
	return body.Members
}

// kratosIdentities counts Kratos identities whose sign-in identifier is email (its admin API).
func kratosIdentities(tb testing.TB, st *stack.Stack, email string) int {
	tb.Helper()
	resp, err := http.Get(st.KratosAdminURL + "/admin/identities?credentials_identifier=" + url.QueryEscape(email))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var ids []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&ids); err != nil {
		tb.Fatal(err)
	}
	return len(ids)
}

// Reproduced before the fix: the owner of one organisation changed their own e-mail trait
// through the portal's /.ory proxy to another organisation's SSO contact address and became that
// organisation's owner at the next request.
func TestE2ESecurityChangingOwnEmailCannotTakeOverAnotherOrganisation(t *testing.T) {
	st := MustSharedStack(t)
	attacker, token := MustPartnerSession(t, st, "Takeover Co", "standard")
	idp := MustOpenIDProvider(t)
	domain := fmt.Sprintf("victim%d.example", time.Now().UnixNano())
	victimContact := "cto@" + domain
	victim := MustInviteSSOPartner(t, st, idp, "Victim Corp", victimContact, domain, false)
	MustWaitForMail(t, st.PortalURL, victimContact, func(m mailMessage) bool { return strings.Contains(m.Subject, "invited") }, 10*time.Second)
	before := mustMe(t, st, token)
	if orgIDs(before.Memberships) != attacker.ID+":owner" {
		t.Fatalf("before the attack: %s", orgIDs(before.Memberships))
	}

	// Through the portal: no self-service route but sign-in's is reachable.
	for _, path := range []string{"/self-service/settings/api", "/self-service/settings/browser", "/self-service/registration/api",
		"/self-service/registration/browser", "/self-service/recovery/api", "/self-service/verification/api", "/sessions/whoami"} {
		if status, body := send(t, "GET", st.PortalURL+"/.ory"+path, nil, "X-Session-Token", token); status != http.StatusNotFound {
			t.Errorf("GET /.ory%s = %d, want 404: %s", path, status, body)
		}
	}
	attack := map[string]any{"method": "profile", "traits": map[string]any{"email": victimContact}}
	if status, body := send(t, "POST", st.PortalURL+"/.ory/self-service/settings?flow=anything", attack, "X-Session-Token", token); status != http.StatusNotFound {
		t.Errorf("POST /.ory/self-service/settings = %d, want 404: %s", status, body)
	}
	// Against Kratos itself (a deployment that exposed it): the profile method is off.
	var flow struct {
		ID string `json:"id"`
	}
	MustGetJSON(t, st.KratosPublicURL+"/self-service/settings/api", http.StatusOK, &flow, "X-Session-Token", token)
	if status, body := send(t, "POST", st.KratosPublicURL+"/self-service/settings?flow="+flow.ID, attack, "X-Session-Token", token); status == http.StatusOK {
		t.Errorf("Kratos accepted a change of the e-mail trait: %s", body)
	}

	// Nothing changed, before or after a new sign-in (where memberships are granted).
	for _, tok := range []string{token, MustAPISignIn(t, st, attacker.ContactEmail)} {
		after := mustMe(t, st, tok)
		if after.Email != attacker.ContactEmail || orgIDs(after.Memberships) != attacker.ID+":owner" {
			t.Errorf("after the attack: %s with %s, want only %s as owner", after.Email, orgIDs(after.Memberships), attacker.ID)
		}
	}
	if ms := mustPartnerMembers(t, st, victim.ID); len(ms) != 0 {
		t.Errorf("the victim organisation has members %+v", ms)
	}
}

// mustStartSSOWith starts the browser sign-in through one partner's identity provider directly,
// as an attacker can (the sign-in page routes an address to its own domain's provider).
func mustStartSSOWith(tb testing.TB, ctx context.Context, st *stack.Stack, providerID, waitFor string) string {
	tb.Helper()
	script := `(() => { const f = document.querySelector("#email-form"); const g = document.createElement("form");
		g.method = "post"; g.action = f.action;
		for (const [k, v] of [["csrf_token", f.csrf_token.value], ["method", "oidc"], ["provider", ` + jsString(providerID) + `]]) {
			const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; g.appendChild(i); }
		document.body.appendChild(g); g.submit(); return true; })()`
	err := chromedp.Do(ctx, chromedp.Navigate(st.PortalURL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email-form")))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](script))
	}
	// Wait for either outcome, so a sign-in that should have been refused fails at once, saying so.
	if err == nil {
		err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".error, #whoami")))
	}
	if err == nil {
		if got := MustRun(tb, ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(waitFor)+`) !== null`)); !got {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.body.innerText.slice(0, 300)`))
			tb.Fatalf("SSO with %s: got the other outcome than %s; page: %s", providerID, waitFor, page)
		}
	}
	if err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.body.innerText.slice(0, 300)`))
		tb.Fatalf("SSO with %s (waiting for %s): %v; page: %s", providerID, waitFor, err, page)
	}
	return MustRun(tb, ctx, chromedp.Text(chromedp.CSS(waitFor)))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// From the code before the fix: the OIDC claims mapper copied any e-mail an identity provider
// asserted, and domain sign-up went by the address, so organisation A's IdP could make someone
// of B's domain join B.
func TestE2ESecurityAPartnersIdPCannotVouchForAnotherTenantsAddresses(t *testing.T) {
	st := MustSharedStack(t)
	idpA, idpB := MustOpenIDProvider(t), MustOpenIDProvider(t)
	n := time.Now().UnixNano()
	domA, domB := fmt.Sprintf("tenant-a%d.example", n), fmt.Sprintf("tenant-b%d.example", n)
	orgA := MustInviteSSOPartner(t, st, idpA, "Tenant A", "it@"+domA, domA, true)
	orgB := MustInviteSSOPartner(t, st, idpB, "Tenant B", "it@"+domB, domB, true)
	for _, c := range []struct {
		name string
		user *mockoidc.MockUser
		want string
	}{
		{"another tenant's address", &mockoidc.MockUser{Subject: "evil-1", Email: "someone@" + domB, EmailVerified: true}, "outside your company's domains"},
		{"an unverified address of its own domain", &mockoidc.MockUser{Subject: "evil-2", Email: "new@" + domA, EmailVerified: false}, "did not confirm"},
	} {
		t.Run(c.name, func(t *testing.T) {
			idpA.QueueUser(c.user)
			msg := mustStartSSOWith(t, MustBrowser(t), st, orgA.ID, ".error")
			if !strings.Contains(msg, c.want) {
				t.Errorf("refusal = %q, want it to say %q", msg, c.want)
			}
			if n := kratosIdentities(t, st, c.user.Email); n != 0 {
				t.Errorf("%d identities exist for %s", n, c.user.Email)
			}
			for _, org := range []onramp.Organization{orgA, orgB} {
				for _, m := range mustPartnerMembers(t, st, org.ID) {
					if m.Email == c.user.Email {
						t.Errorf("%s joined %s", m.Email, org.Name)
					}
				}
			}
		})
	}
	// The partner's own verified address still signs in and joins (domain sign-up allowed).
	idpA.QueueUser(&mockoidc.MockUser{Subject: "dev-a", Email: "dev@" + domA, EmailVerified: true})
	mustStartSSOWith(t, MustBrowser(t), st, orgA.ID, "#whoami")
}

// Reproduced before the fix: GET /api/v1/me showed every member, viewers included, the SSO client
// secret of their organisation's identity provider.
func TestE2ESecuritySSOClientSecretsStaySecret(t *testing.T) {
	st := MustSharedStack(t)
	idp := MustOpenIDProvider(t)
	n := time.Now().UnixNano()
	// The contact signs in with a code (their address is outside the SSO domains): a member of an
	// organisation with SSO, reading the API.
	org := MustInviteSSOPartner(t, st, idp, "Secret Keeper", fmt.Sprintf("owner%d@plain.example", n), fmt.Sprintf("keeper%d.example", n), false)
	MustWaitForMail(t, st.PortalURL, org.ContactEmail, func(m mailMessage) bool { return strings.Contains(m.Subject, "invited") }, 10*time.Second)
	token := MustAPISignIn(t, st, org.ContactEmail)
	status, raw := send(t, "GET", st.PortalURL+"/api/v1/me", nil, "X-Session-Token", token)
	if status != 200 || !strings.Contains(string(raw), org.ID) {
		t.Fatalf("GET /api/v1/me = %d %s", status, raw)
	}
	if strings.Contains(string(raw), idp.ClientSecret) || strings.Contains(string(raw), "client_secret") {
		t.Errorf("/api/v1/me shows the SSO client secret: %s", raw)
	}
	var doc bson.M
	if err := st.Mongo.Collection("organizations").FindOne(t.Context(), bson.M{"_id": org.ID}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	dump, _ := bson.MarshalExtJSON(doc, false, false)
	if strings.Contains(string(dump), idp.ClientSecret) {
		t.Errorf("the SSO client secret is stored in plaintext: %s", dump)
	}
}

// From the code before the fix: the contact invitation of an SSO organisation outlived the
// partner invitation, and a partner invitation could not be withdrawn.
func TestE2ESecurityWithdrawnInvitationCannotBeAccepted(t *testing.T) {
	st := MustSharedStack(t)
	idp := MustOpenIDProvider(t)
	domain := fmt.Sprintf("withdrawn%d.example", time.Now().UnixNano())
	contact := "cto@" + domain
	org := MustInviteSSOPartner(t, st, idp, "Withdrawn Co", contact, domain, false)
	MustWaitForMail(t, st.PortalURL, contact, func(m mailMessage) bool { return strings.Contains(m.Subject, "invited") }, 10*time.Second)
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/cancel", nil, http.StatusAccepted, nil, "Authorization", "Bearer "+MustAdminToken(t, st))
	var got onramp.Organization
	waitFor(t, 10*time.Second, "the withdrawn organisation to expire", func() bool {
		MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners/"+org.ID, nil, http.StatusOK, &got, "Authorization", "Bearer "+MustAdminToken(t, st))
		return got.Status == onramp.OrgExpired
	})
	var p problem.Problem
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/cancel", nil, http.StatusConflict, &p, "Authorization", "Bearer "+MustAdminToken(t, st))

	// The contact's own identity provider vouches for them, but there is nothing to accept.
	idp.QueueUser(&mockoidc.MockUser{Subject: "sub-cto", Email: contact, EmailVerified: true})
	ctx := MustBrowser(t)
	MustEnterEmail(t, ctx, st.PortalURL, contact, ".error")
	if msg := MustRun(t, ctx, chromedp.Text(chromedp.CSS(".error"))); !strings.Contains(msg, "not invited") {
		t.Errorf("refusal = %q, want not invited", msg)
	}
	if ms := mustPartnerMembers(t, st, org.ID); len(ms) != 0 {
		t.Errorf("members after a withdrawn invitation: %+v", ms)
	}
	MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners/"+org.ID, nil, http.StatusOK, &got, "Authorization", "Bearer "+MustAdminToken(t, st))
	if got.Status != onramp.OrgExpired {
		t.Errorf("status = %s, want expired", got.Status)
	}
}

// echoUpstream is an API on loopback behind the production gateway: it records what reaches it
// and answers with the headers an internal service leaks (server banners, cookies, its own ids).
type echoUpstream struct {
	*httptest.Server
	saw chan *http.Request
}

const echoSpec = `openapi: 3.0.3
info: {title: Echo, version: "1"}
paths:
  /items:
    get:
      operationId: listItems
      responses:
        "200": {description: Items, content: {application/json: {schema: {type: object}}}}
        "302": {description: Elsewhere}
  /items/{id}:
    get:
      operationId: getItem
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: One item, content: {application/json: {schema: {type: object}}}}
`

// mustEchoProduct publishes a product whose production upstream is a fresh echoUpstream, and
// gives org a production key for it.
func mustEchoProduct(tb testing.TB, st *stack.Stack, org onramp.Organization, token string) (string, *echoUpstream, string) {
	tb.Helper()
	up := &echoUpstream{saw: make(chan *http.Request, 100)}
	up.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.saw <- r.Clone(context.Background())
		h := w.Header()
		h.Set("Server", "internal-upstream/9.9")
		h.Set("X-Powered-By", "internal-framework")
		h.Set("Set-Cookie", "internal_session=1")
		h.Set("X-Onramp-Org", "org_from_upstream")
		h.Set("Content-Type", "application/json")
		if r.URL.Query().Get("go") != "" {
			h.Set("Location", r.URL.Query().Get("go"))
			w.WriteHeader(http.StatusFound)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	tb.Cleanup(up.Close)
	admin := []string{"Authorization", "Bearer " + MustAdminToken(tb, st)}
	slug := "echo-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	MustDo(tb, "PUT", st.PortalURL+"/admin/api/v1/products/"+slug, map[string]any{"name": "Echo", "summary": "Echoes", "upstreams": map[string]string{onramp.Production: up.URL}}, http.StatusOK, nil, admin...)
	MustDo(tb, "POST", st.PortalURL+"/admin/api/v1/products/"+slug+"/versions", map[string]any{"version": "v1", "spec": echoSpec}, http.StatusCreated, nil, admin...)
	MustDo(tb, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/"+slug,
		map[string]any{"plan": "standard", "scopes": []string{slug + ":read"}, "environments": []string{onramp.Sandbox, onramp.Production}, "quota": map[string]any{"limit": 1000, "period": "day"}},
		http.StatusOK, nil, admin...)
	var created struct {
		Key string `json:"key"`
	}
	waitFor(tb, 5*time.Second, "a production key for "+slug, func() bool {
		status, raw := send(tb, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": onramp.Production, "label": "echo"}, "X-Session-Token", token)
		return status == http.StatusCreated && json.Unmarshal(raw, &created) == nil && created.Key != ""
	})
	return slug, up, created.Key
}

// upstreamGot returns what reached the upstream within a second, or nil.
func (u *echoUpstream) got() *http.Request {
	select {
	case r := <-u.saw:
		return r
	case <-time.After(time.Second):
		return nil
	}
}

// rawCall sends a request line and headers as written (no client-side cleaning) and reads the answer.
func rawCall(tb testing.TB, base, requestLine string, headers ...string) (*http.Response, []byte) {
	tb.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	b.WriteString(requestLine + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: close\r\n")
	for i := 0; i+1 < len(headers); i += 2 {
		b.WriteString(headers[i] + ": " + headers[i+1] + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// Reproduced before the fix: `Connection: X-Onramp-Org` removed the gateway's identity headers on
// the way to the upstream, `X_Onramp_Org` reached it beside them, upstream headers reached the
// partner, and protocol upgrades and encoded dot segments were forwarded.
func TestE2ESecurityGatewayForwardsOnlyWhatItDecided(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Header Games", "standard")
	slug, up, key := mustEchoProduct(t, st, org, token)
	base := "/" + slug + "/v1"

	resp, body := rawCall(t, st.ProductionURL, "GET "+base+"/items", "X-API-Key", key,
		"Connection", "X-Onramp-Org, X-Onramp-Credential, X-Onramp-Product", "X_Onramp_Org", "org_victim", "X-Onramp-Credential", "cred_victim", "X-HTTP-Method-Override", "DELETE")
	if resp.StatusCode != 200 {
		t.Fatalf("call = %d %s", resp.StatusCode, body)
	}
	r := up.got()
	if r == nil {
		t.Fatal("the call did not reach the upstream")
	}
	ids := map[string][]string{}
	for name, vs := range r.Header {
		if n := strings.ReplaceAll(strings.ToLower(name), "_", "-"); strings.HasPrefix(n, "x-onramp-") {
			ids[n] = append(ids[n], vs...)
		}
	}
	if len(ids) != 3 || strings.Join(ids["x-onramp-org"], ",") != org.ID || len(ids["x-onramp-credential"]) != 1 || ids["x-onramp-credential"][0] == "cred_victim" {
		t.Errorf("identity headers at the upstream = %v, want exactly the gateway's three for %s", ids, org.ID)
	}
	if r.Method != "GET" || r.Header.Get("X-Http-Method-Override") != "" || r.Header.Get("X-Api-Key") != "" {
		t.Errorf("the upstream got %s with %v", r.Method, r.Header)
	}
	for _, leaked := range []string{"Server", "X-Powered-By", "Set-Cookie", "X-Onramp-Org"} {
		if v := resp.Header.Values(leaked); len(v) != 0 {
			t.Errorf("the partner got %s: %v", leaked, v)
		}
	}

	for name, c := range map[string][]string{
		"websocket upgrade": {"GET " + base + "/items", "Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
		"h2c upgrade":       {"GET " + base + "/items", "Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"},
		"encoded dots":      {"GET " + base + "/items/%2e%2e"},
		"encoded traversal": {"GET " + base + "/items/..%2f..%2fadmin"},
		"backslash":         {"GET " + base + "/items/a%5c..%5cadmin"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := rawCall(t, st.ProductionURL, c[0], append([]string{"X-API-Key", key}, c[1:]...)...)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != problem.ContentType {
				t.Errorf("= %d %s %s, want a 400 problem", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if r := up.got(); r != nil {
				t.Errorf("the upstream got %s %s", r.Method, r.URL.RequestURI())
			}
		})
	}
}

// Reproduced before the fix: try-it followed the upstream's redirect, and the production key
// travelled to wherever it pointed.
func TestE2ESecurityTryItNeverFollowsRedirects(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Redirected Co", "standard")
	slug, up, _ := mustEchoProduct(t, st, org, token)
	elsewhere := make(chan http.Header, 4)
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere <- r.Header.Clone() }))
	defer trap.Close()
	var creds struct {
		Credentials []credentialBody `json:"credentials"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", http.StatusOK, &creds, "X-Session-Token", token)
	prod := ""
	for _, c := range creds.Credentials {
		if c.Environment == onramp.Production {
			prod = c.ID
		}
	}
	if prod == "" {
		t.Fatal("no production key")
	}
	var res struct {
		Response struct {
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
		} `json:"response"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/"+slug+"/tryit",
		map[string]any{"credential_id": prod, "operation": "listItems", "query": map[string]string{"go": trap.URL + "/collect"}}, http.StatusOK, &res, "X-Session-Token", token)
	if up.got() == nil {
		t.Fatal("try-it did not reach the upstream")
	}
	if res.Response.Status != http.StatusFound {
		t.Errorf("try-it answered %d, want the gateway's 302 as it was", res.Response.Status)
	}
	select {
	case h := <-elsewhere:
		t.Errorf("try-it followed the redirect, sending %v", h)
	case <-time.After(500 * time.Millisecond):
	}
}

// Reproduced before the fix: any X-Forwarded-For was believed (so the per-address limit could be
// dodged), JSON bodies skipped the per-address code limit, and request bodies were unbounded.
func TestE2ESecurityFrontDoorLimits(t *testing.T) {
	st := MustSharedStack(t)
	email := fmt.Sprintf("flood%d@limits.example", time.Now().UnixNano())
	// The per-address code limit counts JSON posts to the sign-in form like form posts.
	var flow struct {
		ID string `json:"id"`
		UI struct {
			Nodes []struct {
				Attributes struct {
					Name  string `json:"name"`
					Value any    `json:"value"`
				} `json:"attributes"`
			} `json:"nodes"`
		} `json:"ui"`
	}
	MustGetJSON(t, st.KratosPublicURL+"/self-service/login/api", http.StatusOK, &flow)
	statuses := []int{}
	for i := range 7 {
		status, _ := send(t, "POST", st.PortalURL+"/.ory/self-service/login?flow="+flow.ID,
			map[string]any{"method": "code", "identifier": email}, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		statuses = append(statuses, status)
	}
	if statuses[6] != http.StatusTooManyRequests || statuses[0] == http.StatusTooManyRequests {
		t.Errorf("statuses of 7 JSON code requests for one address = %v, want the limit of 5 to refuse the last", statuses)
	}

	// A 20 MB body is refused before it is read whole, with a problem saying the limit.
	big := bytes.Repeat([]byte("a"), 20<<20)
	req, _ := http.NewRequest("POST", st.PortalURL+"/api/v1/auth/login", bytes.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var p problem.Problem
	if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(raw, &p) != nil || !strings.Contains(p.Detail, "KiB") {
		t.Errorf("20 MB body = %d %s, want 413 problem+json naming the limit", resp.StatusCode, raw)
	}
	t.Logf("the 20 MB body was refused in %s", time.Since(start))

	// Every page carries the browser protections; a crafted ?notice= puts no text on it.
	status, page, h := fetchPage(t, st.PortalURL+"/admin/partners?notice=Your+account+is+locked.+Call+%2B1-555-0100&error=Call+%2B1-555-0100", "onramp_admin="+MustAdminToken(t, st))
	if status != http.StatusOK || !strings.Contains(string(page), "invite-form") {
		t.Fatalf("admin partners page = %d", status)
	}
	if strings.Contains(string(page), "555-0100") {
		t.Errorf("a text from the URL appears on the page")
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
		t.Errorf("security headers = CSP %q nosniff %q referrer %q", csp, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
	}
	if strings.Contains(string(page), "<script>") || strings.Contains(string(page), " style=\"") {
		t.Error("the page has inline code the policy would block")
	}
}

// fetchPage GETs a page with a cookie header, not following redirects.
func fetchPage(tb testing.TB, url, cookie string) (int, []byte, http.Header) {
	tb.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/html")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header
}
