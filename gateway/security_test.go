package gateway_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/policies"
)

// Attacks on the gateway's trust boundary, each performed through ServeHTTP against a real
// upstream on loopback, asserting the refusal and what reached the upstream.

// mustNothingUpstream fails when any request reached the harness's upstream.
func (h *harness) mustNothingUpstream(tb testing.TB) {
	tb.Helper()
	select {
	case r := <-h.upstreamSaw:
		tb.Fatalf("a refused request reached the upstream: %s %s", r.Method, r.URL)
	default:
	}
}

// mustUpstream returns the request the upstream received.
func (h *harness) mustUpstream(tb testing.TB) *http.Request {
	tb.Helper()
	select {
	case r := <-h.upstreamSaw:
		return r
	case <-time.After(5 * time.Second):
		tb.Fatal("the upstream received nothing")
		return nil
	}
}

// identityHeaders lists the upstream request's headers that read as the gateway's own
// (X-Onramp-*, underscores or dots as dashes, any case), with their values.
func identityHeaders(h http.Header) map[string][]string {
	out := map[string][]string{}
	for name, vs := range h {
		if n := strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(name)); strings.HasPrefix(n, "x-onramp-") {
			out[n] = append(out[n], vs...)
		}
	}
	return out
}

func mustOwnIdentity(tb testing.TB, r *http.Request, orgID, credID string) {
	tb.Helper()
	got := identityHeaders(r.Header)
	want := map[string][]string{"x-onramp-org": {orgID}, "x-onramp-credential": {credID}, "x-onramp-product": {"payments/v2"}}
	if len(got) != len(want) {
		tb.Fatalf("identity headers at the upstream = %v, want exactly %v", got, want)
	}
	for k, v := range want {
		if len(got[k]) != 1 || got[k][0] != v[0] {
			tb.Fatalf("upstream %s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestPartnersCannotStripOrForgeIdentityHeaders(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	cred, _ := h.creds.Lookup(t.Context(), key)
	for name, attack := range map[string][]string{
		"hop-by-hop removal": {"Connection", "X-Onramp-Org, X-Onramp-Credential, X-Onramp-Product"},
		"forged header":      {"X-Onramp-Org", "org_victim"},
		"underscore twin":    {"X_Onramp_Org", "org_victim"},
		"dot twin":           {"X.Onramp.Org", "org_victim"},
		"lower-case twin":    {"x-onramp-credential", "cred_victim"},
		"method override":    {"X-HTTP-Method-Override", "DELETE"},
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/payments/v2/payments?limit=3", nil)
			req.Header.Set("X-API-Key", key)
			req.Header[attack[0]] = []string{attack[1]} // as sent, not canonicalised
			rec := httptest.NewRecorder()
			h.production.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			r := h.mustUpstream(t)
			mustOwnIdentity(t, r, "org_1", cred.ID)
			if r.Method != "GET" || r.Header.Get("X-Http-Method-Override") != "" || r.Header.Get("X-Api-Key") != "" {
				t.Errorf("upstream got %s with %v", r.Method, r.Header)
			}
		})
	}
}

func TestUpstreamResponseHeadersAreAllowListed(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range map[string]string{"Server": "internal-upstream/9.9", "X-Powered-By": "php/5", "Set-Cookie": "admin=1",
			"X-Onramp-Org": "org_leaked", "X-Request-Id": "upstream-chosen-id", "RateLimit-Remaining": "999999",
			"Etag": `"v1"`, "Cache-Control": "no-store", "Content-Type": "application/json"} {
			w.Header().Set(k, v)
		}
		_, _ = w.Write([]byte(`{"payments":[]}`))
	}))
	defer up.Close()
	h.mustUseUpstream(t, up.URL)
	rec := call(t, h.production, "GET", "/payments/v2/payments", key, "", "X-Request-Id", "partner-request-0001")
	got := rec.Header()
	if rec.Code != 200 || got.Get("Etag") != `"v1"` || got.Get("Cache-Control") != "no-store" || got.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d headers %v: want 200 with the allowed headers kept", rec.Code, got)
	}
	for _, dropped := range []string{"Server", "X-Powered-By", "Set-Cookie"} {
		if v := got.Values(dropped); len(v) != 0 {
			t.Errorf("%s = %v reached the partner", dropped, v)
		}
	}
	if v := got.Values("X-Onramp-Org"); len(v) != 0 {
		t.Errorf("X-Onramp-Org = %v reached the partner", v)
	}
	if v := got.Values("X-Request-Id"); len(v) != 1 || v[0] != "partner-request-0001" {
		t.Errorf("X-Request-Id = %v, want only the gateway's", v)
	}
	if v := got.Values("RateLimit-Remaining"); len(v) != 1 || v[0] != "99" {
		t.Errorf("RateLimit-Remaining = %v, want only the gateway's 99", v)
	}
}

// mustUseUpstream points the payments product's production upstream at url.
func (h *harness) mustUseUpstream(tb testing.TB, url string) {
	tb.Helper()
	p, _ := h.catalog.FindProduct(context.Background(), "payments")
	p.Upstreams = map[string]string{onramp.Production: url}
	if err := h.catalog.SaveProduct(context.Background(), p); err != nil {
		tb.Fatal(err)
	}
}

func TestRoutingAndClientAddressHeadersAreTheGatewaysOwn(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	forged := []string{"X-Original-URL", "/admin", "X-Rewrite-URL", "/admin", "X-Forwarded-Prefix", "/admin",
		"X-Real-IP", "10.0.0.1", "True-Client-IP", "10.0.0.1", "X-Client-IP", "10.0.0.1", "Forwarded", "for=10.0.0.1",
		"X-Forwarded-For", "10.0.0.1", "X-Forwarded-Host", "internal.example"}
	if rec := call(t, h.production, "GET", "/payments/v2/payments", key, "", forged...); rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	r := h.mustUpstream(t)
	for i := 0; i < len(forged); i += 2 {
		if v := r.Header.Values(forged[i]); slices.Contains(v, forged[i+1]) {
			t.Errorf("upstream got the partner's %s: %v", forged[i], v)
		}
	}
	// httptest.NewRequest comes from 192.0.2.1; that is who the upstream is told called.
	if v := r.Header.Values("X-Forwarded-For"); len(v) != 1 || v[0] != "192.0.2.1" {
		t.Errorf("X-Forwarded-For = %v, want the gateway's [192.0.2.1]", v)
	}
	if v := r.Header.Get("X-Forwarded-Host"); v != "example.com" {
		t.Errorf("X-Forwarded-Host = %q, want the host the partner called, example.com", v)
	}
}

func TestTrailersCrossInNeitherDirection(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	cred, _ := h.creds.Lookup(t.Context(), key)
	saw := make(chan *http.Request, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // request trailers arrive after the body
		saw <- r.Clone(context.Background())
		w.Header().Set("Trailer", "X-Onramp-Org")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"pay_1"}`))
		w.Header().Set("X-Onramp-Org", "org_leaked")
		w.Header().Set(http.TrailerPrefix+"X-Internal-Trace", "db=primary-3")
	}))
	defer up.Close()
	h.mustUseUpstream(t, up.URL)
	gw := httptest.NewServer(h.production)
	defer gw.Close()
	req, _ := http.NewRequest("POST", gw.URL+"/payments/v2/payments", io.MultiReader(strings.NewReader(`{"amount":1,"currency":"EUR","description":"t"}`)))
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Idempotency-Key", "trailers-1")
	req.Header.Set("Content-Type", "application/json")
	req.Trailer = http.Header{"X-Onramp-Org": {"org_victim"}}
	resp, err := gw.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body) // the response's trailers arrive after the body
	resp.Body.Close()
	if resp.StatusCode != 201 && resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	r := <-saw
	if len(r.Trailer) != 0 {
		t.Errorf("upstream got the partner's trailers %v", r.Trailer)
	}
	if len(resp.Trailer) != 0 || resp.Header.Get("X-Onramp-Org") != "" || resp.Header.Get("Trailer") != "" {
		t.Errorf("partner got upstream trailers %v (header %v)", resp.Trailer, resp.Header)
	}
	mustOwnIdentity(t, r, "org_1", cred.ID)
}

func TestEarlyHintsAreScrubbedAndKeepTheGatewaysHeaders(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.Header().Set("X-Internal-Host", "db-primary-3")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("X-Internal-Host")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"payments":[]}`))
	}))
	defer up.Close()
	h.mustUseUpstream(t, up.URL)
	gw := httptest.NewServer(h.production)
	defer gw.Close()
	var hints []textproto.MIMEHeader
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
		hints = append(hints, header)
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", gw.URL+"/payments/v2/payments", nil)
	req.Header.Set("X-API-Key", key)
	req.Header.Set("X-Request-Id", "partner-request-0002")
	resp, err := gw.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(hints) != 1 || hints[0].Get("Link") != "</style.css>; rel=preload" {
		t.Fatalf("early hints = %v, want one with the upstream's Link", hints)
	}
	if v := hints[0].Get("X-Internal-Host"); v != "" {
		t.Errorf("an early hint leaked X-Internal-Host = %q", v)
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "partner-request-0002" || resp.Header.Get("RateLimit-Remaining") != "99" {
		t.Errorf("final response %d lost the gateway's headers: %v", resp.StatusCode, resp.Header)
	}
}

func TestProtocolUpgradesAreRefused(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	for _, hdr := range [][]string{{"Connection", "Upgrade", "Upgrade", "websocket"}, {"Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}} {
		p := mustProblem(t, call(t, h.production, "GET", "/payments/v2/payments", key, "", hdr...), 400, "upgrade-not-supported")
		if !strings.Contains(p.Detail, "Upgrade") {
			t.Errorf("detail %q does not say what to drop", p.Detail)
		}
	}
	h.mustNothingUpstream(t)
}

func TestPathsThatEscapeTheOperationAreRefused(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	for _, path := range []string{
		"/payments/v2/payments/%2e%2e", "/payments/v2/payments/%2E%2E/refunds", "/payments/v2/payments/..%2f..%2fadmin",
		"/payments/v2/payments/a%5cb", "/payments/v2/payments/a%2Fb", "/payments/v2/payments/.", "/payments/v2/payments/a%00b",
		"/payments/v2/payments/..;/refunds", "/payments/v2/payments/%2e%2e;jsessionid=1", "/payments/v2/payments/.;x",
	} {
		req := &http.Request{Method: "GET", URL: mustParseURL(t, path), Header: http.Header{"X-Api-Key": {key}}, RemoteAddr: "192.0.2.1:1234"}
		rec := httptest.NewRecorder()
		h.production.ServeHTTP(rec, req.WithContext(t.Context()))
		mustProblem(t, rec, 400, "invalid-path")
	}
	h.mustNothingUpstream(t)
	// An ordinary escaped parameter goes through, with its escaping kept.
	req := &http.Request{Method: "GET", URL: mustParseURL(t, "/payments/v2/payments/pay_%61bc"), Header: http.Header{"X-Api-Key": {key}}, RemoteAddr: "192.0.2.1:1234"}
	rec := httptest.NewRecorder()
	h.production.ServeHTTP(rec, req.WithContext(t.Context()))
	if rec.Code != 200 {
		t.Fatalf("escaped parameter: %d %s", rec.Code, rec.Body)
	}
	if r := h.mustUpstream(t); r.URL.EscapedPath() != "/payments/pay_%61bc" {
		t.Errorf("upstream path = %q, want /payments/pay_%%61bc", r.URL.EscapedPath())
	}
}

func mustParseURL(tb testing.TB, raw string) *url.URL {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		u = &url.URL{Path: raw, RawPath: raw} // what a raw request line carries
	}
	return u
}

// withheld adds a rule to policies/catalog withholding payments from org_w.
var withheld = fstest.MapFS{"catalog/withheld.rego": {Data: []byte("package catalog\n\nimport rego.v1\n\nwithheld contains \"payments\" if input.organization.id == \"org_w\"\n")}}

func TestWithheldProductsAreRefusedLikeTheCatalogHidesThem(t *testing.T) {
	h := MustHarness(t)
	victim := h.MustOrg(t, "org_w", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	other := h.MustOrg(t, "org_2", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	if rec := call(t, h.production, "GET", "/payments/v2/payments", victim, ""); rec.Code != 200 {
		t.Fatalf("before the rule: %d %s", rec.Code, rec.Body)
	}
	h.mustUpstream(t)
	fsys := fstest.MapFS{}
	for name, f := range withheld {
		fsys[name] = f
	}
	if err := copyInto(fsys, policies.Embedded()); err != nil {
		t.Fatal(err)
	}
	if err := h.engine.Load(t.Context(), fsys); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // the harness's cache TTL is 50ms
	p := mustProblem(t, call(t, h.production, "GET", "/payments/v2/payments", victim, ""), 404, "no-such-product")
	h.mustNothingUpstream(t)
	unassigned := mustProblem(t, call(t, h.production, "GET", "/insights/v1/insights/categories", victim, ""), 404, "no-such-product")
	if strings.Replace(p.Detail, "payments", "insights", 1) != unassigned.Detail {
		t.Errorf("withheld %q and unassigned %q answers differ beyond the product", p.Detail, unassigned.Detail)
	}
	if _, err := h.cat.Product(t.Context(), onramp.Organization{ID: "org_w", Tier: "standard", Status: onramp.OrgActive}, "payments", ""); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("the catalog shows the withheld product: %v", err)
	}
	if rec := call(t, h.production, "GET", "/payments/v2/payments", other, ""); rec.Code != 200 {
		t.Errorf("another organisation is refused too: %d %s", rec.Code, rec.Body)
	}
}

// copyInto adds every file of src to dst.
func copyInto(dst fstest.MapFS, src fs.FS) error {
	return fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, name)
		dst[name] = &fstest.MapFile{Data: b}
		return err
	})
}

// countingCredentials counts the lookups that reach the credential store.
type countingCredentials struct {
	gateway.Credentials
	lookups atomic.Int64
}

func (c *countingCredentials) Lookup(ctx context.Context, key string) (onramp.Credential, error) {
	c.lookups.Add(1)
	return c.Credentials.Lookup(ctx, key)
}

func TestUnknownKeysCostBoundedLookups(t *testing.T) {
	var counting *countingCredentials
	h := MustHarness(t, func(c *gateway.Config) {
		if counting == nil {
			counting = &countingCredentials{Credentials: c.Credentials}
		}
		c.Credentials = counting
	})
	known := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 1000, onramp.Sandbox)
	from := func(addr, key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/payments/v2/payments", nil)
		req.RemoteAddr, req.Header = addr+":4242", http.Header{"X-Api-Key": {key}}
		rec := httptest.NewRecorder()
		h.sandbox.ServeHTTP(rec, req)
		return rec
	}
	if rec := from("203.0.113.7", known); rec.Code != 200 {
		t.Fatalf("known key: %d", rec.Code)
	}
	before := counting.lookups.Load()
	for _, malformed := range []string{"onr_test_short", "onr_test_" + strings.Repeat("A", 52), "sk_live_" + strings.Repeat("a", 52), "onr_test_" + strings.Repeat("a", 53)} {
		mustProblem(t, from("203.0.113.7", malformed), 401, "invalid-credential")
	}
	if n := counting.lookups.Load() - before; n != 0 {
		t.Fatalf("malformed keys cost %d lookups, want 0", n)
	}
	guess := func(i int) string {
		return onramp.SandboxKeyPrefix + strings.Repeat("a", 48) + string(rune('a'+i/26%26)) + string(rune('a'+i%26)) + "22"
	}
	for i := range 30 {
		mustProblem(t, from("203.0.113.7", guess(i)), 401, "invalid-credential")
	}
	mustProblem(t, from("203.0.113.7", guess(30)), 429, "too-many-unknown-credentials")
	mustProblem(t, from("203.0.113.7", guess(31)), 429, "too-many-unknown-credentials")
	if n := counting.lookups.Load() - before; n != 30 {
		t.Errorf("unknown keys cost %d lookups, want exactly the budget of 30", n)
	}
	if rec := from("203.0.113.7", known); rec.Code != 200 {
		t.Errorf("a known, cached key from the same address = %d, want 200", rec.Code)
	}
	mustProblem(t, from("198.51.100.9", guess(32)), 401, "invalid-credential") // other addresses keep their budget

	// IPv6: one client holds a whole /64, so a fresh address per guess shares one budget.
	for i := range 30 {
		mustProblem(t, from(fmt.Sprintf("[2001:db8:1:2::%x]", i+1), guess(40+i)), 401, "invalid-credential")
	}
	mustProblem(t, from("[2001:db8:1:2:ffff::1]", guess(70)), 429, "too-many-unknown-credentials")
	mustProblem(t, from("[2001:db8:1:3::1]", guess(71)), 401, "invalid-credential")
}

func TestAccessTokensOnlyForTheirOAuthClient(t *testing.T) {
	seed := bytes.Repeat([]byte{9}, 32)
	tokens, err := gateway.NewTokens("t1", ed25519.NewKeyFromSeed(seed), time.Minute, "onramp", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := MustHarness(t, func(c *gateway.Config) { c.Tokens = tokens })
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	apiKey, _ := h.creds.Lookup(t.Context(), key)
	client, secret, err := h.creds.Issue(t.Context(), credentials.Request{OrgID: "org_1", Environment: onramp.Sandbox, Type: onramp.TypeOAuthClient})
	if err != nil {
		t.Fatal(err)
	}
	forge := func(subject, clientID string) string {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: ed25519.NewKeyFromSeed(seed), KeyID: "t1"}}, nil)
		now := time.Now()
		tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": "onramp", "sub": subject, "aud": []string{"onramp-sandbox"}, "iat": now.Unix(),
			"exp": now.Add(time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "org": "org_1", "env": "sandbox", "scope": "payments:read", "client_id": clientID}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for name, tok := range map[string]string{
		"an API key's id as subject":    forge(apiKey.ID, ""),
		"another client id":             forge(client.ID, "onr_client_someoneelse"),
		"an API key with its client id": forge(apiKey.ID, client.ClientID),
	} {
		t.Run(name, func(t *testing.T) {
			mustProblem(t, call(t, h.sandbox, "GET", "/payments/v2/payments", "", "", "Authorization", "Bearer "+tok), 401, "invalid-token")
		})
	}
	// The real exchange still works.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client.ClientID}, "client_secret": {secret}}
	tr := httptest.NewRecorder()
	treq := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.sandbox.ServeHTTP(tr, treq)
	if tr.Code != 200 || !strings.Contains(tr.Body.String(), "access_token") {
		t.Fatalf("token exchange = %d %s", tr.Code, tr.Body)
	}
}

func TestUsageEventIDsAreTheGatewaysOwn(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	for range 2 {
		if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, "", "X-Request-Id", "chosen-by-partner-1"); rec.Header().Get("X-Request-Id") != "chosen-by-partner-1" {
			t.Fatalf("the response does not echo the caller's id: %v", rec.Header())
		}
	}
	h.recorder.Stop()
	events, _ := h.usage.Calls(t.Context(), "org_1", onramp.CallFilter{Limit: 10})
	if len(events) != 2 || events[0].ID == events[1].ID {
		t.Fatalf("events = %+v, want both calls with distinct ids", events)
	}
	for _, e := range events {
		if e.ID == "chosen-by-partner-1" || e.RequestID != "chosen-by-partner-1" {
			t.Errorf("event id %q request id %q: want the gateway's id and the caller's kept apart", e.ID, e.RequestID)
		}
	}
}
