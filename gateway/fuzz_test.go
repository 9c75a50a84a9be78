package gateway_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"

	"github.com/onramp-dev/onramp/gateway"
)

// FuzzKeyFrom: credential header parsing never panics and only accepts a plausible key.
func FuzzKeyFrom(f *testing.F) {
	for _, seed := range [][2]string{
		{"Bearer onr_test_abc", ""}, {"", "onr_live_xyz"}, {"Basic dXNlcjpwYXNz", ""}, {"bearer   spaced  ", ""},
		{"Bearer", ""}, {"", " "}, {"Bearer a\x00b", ""}, {"", strings.Repeat("k", 5000)}, {"Bearer onr_test_é", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, authorization, apiKey string) {
		key, sent, ok := gateway.KeyFrom(authorization, apiKey)
		if ok && (!sent || key == "" || len(key) > 4096 || strings.ContainsAny(key, " \t\r\n\x00")) {
			t.Fatalf("KeyFrom(%q, %q) accepted %q", authorization, apiKey, key)
		}
		if !ok && key != "" {
			t.Fatalf("refused but returned %q", key)
		}
		if authorization == "" && apiKey == "" && sent {
			t.Fatal("nothing sent, but sent = true")
		}
	})
}

// FuzzForwarding: whatever path and header a partner sends, the production gateway either
// refuses it before the upstream or forwards exactly the operation it matched — no dot segment,
// backslash or encoded slash in the upstream path, no credential, and the gateway's own
// identity headers only, with its values.
func FuzzForwarding(f *testing.F) {
	for _, seed := range [][3]string{
		{"pay_abc", "X-Trace", "1"}, {"%2e%2e", "X-Onramp-Org", "org_victim"}, {"..%2fadmin", "X_Onramp_Org", "x"},
		{"a%5cb", "Connection", "X-Onramp-Org"}, {"pay_%61", "X-HTTP-Method-Override", "DELETE"}, {"pay_1/refunds", "x-onramp-credential", "c"},
		{"%2E", "Upgrade", "websocket"}, {"pay_1;x=..", "Authorization", "Bearer other"},
		{"pay_abc", "Connection", "X-Onramp-Org"}, {"pay_abc", "X_Onramp_Org", "org_victim"}, {"pay_abc", "X.Onramp.Org", "org_victim"},
		{"..;", "X-Original-URL", "/admin"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	h := MustHarness(f)
	key := h.MustOrg(f, "org_1", []string{onramp.Sandbox, onramp.Production}, 1<<40, onramp.Production)
	cred, _ := h.creds.Lookup(f.Context(), key)
	f.Fuzz(func(t *testing.T, tail, name, value string) {
		raw := "GET /payments/v2/payments/" + tail + " HTTP/1.1\r\nHost: gw\r\nX-Api-Key: " + key + "\r\n" + name + ": " + value + "\r\n\r\n"
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // the server would refuse it before the gateway sees it
		}
		req.RemoteAddr = "192.0.2.1:1"
		rec := httptest.NewRecorder()
		h.production.ServeHTTP(rec, req)
		var up *http.Request
		select {
		case up = <-h.upstreamSaw:
		default:
		}
		if rec.Code != http.StatusOK {
			if up != nil {
				t.Fatalf("answered %d but the upstream got %s", rec.Code, up.URL)
			}
			return
		}
		if up == nil {
			t.Fatalf("answered 200 without the upstream")
		}
		for _, seg := range strings.Split(up.URL.EscapedPath(), "/") {
			d, err := url.PathUnescape(seg)
			if err != nil || d == "." || d == ".." || strings.ContainsAny(d, `\/`) {
				t.Fatalf("the upstream got path %q", up.URL.EscapedPath())
			}
		}
		if up.Header.Get("X-Api-Key") != "" || up.Header.Get("Authorization") != "" {
			t.Fatalf("a credential reached the upstream: %v", up.Header)
		}
		ids := map[string][]string{}
		for n, vs := range up.Header {
			if ln := strings.ReplaceAll(strings.ToLower(n), "_", "-"); strings.HasPrefix(ln, "x-onramp-") {
				ids[ln] = append(ids[ln], vs...)
			}
		}
		if len(ids) != 3 || len(ids["x-onramp-org"]) != 1 || ids["x-onramp-org"][0] != "org_1" || len(ids["x-onramp-credential"]) != 1 || ids["x-onramp-credential"][0] != cred.ID {
			t.Fatalf("identity headers at the upstream: %v", ids)
		}
	})
}
