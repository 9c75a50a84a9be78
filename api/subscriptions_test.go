package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/subscriptions"
	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
)

// Atom feeds are documented as application/atom+xml; the validator reads them as text.
func init() {
	openapi3filter.RegisterBodyDecoder("application/atom+xml", openapi3filter.PlainBodyDecoder)
}

// sessions is an identity provider where each session token (and cookie "s=<token>") is a person.
type sessions struct {
	signedOut
	people map[string]onramp.Session
}

func (s sessions) Whoami(_ context.Context, token string) (onramp.Session, error) {
	if p, ok := s.people[token]; ok {
		return p, nil
	}
	return onramp.Session{}, errSignedOut
}

func (s sessions) SessionFromCookie(ctx context.Context, cookie string) (onramp.Session, error) {
	return s.Whoami(ctx, strings.TrimPrefix(cookie, "s="))
}

// subsHarness is a portal on fakes with two organisations: org_a (standard: accounts and
// payments) with ana (owner) and bo (developer), org_b (premium: also insights) with carl.
type subsHarness struct {
	*harness
	f *fakes
}

func mustSubsHarness(t *testing.T) *subsHarness {
	t.Helper()
	f := &fakes{}
	cfg := testConfig(t, f)
	h := MustHarness(t, false)
	people := map[string]onramp.Session{}
	ctx := t.Context()
	for _, o := range []struct{ id, plan string }{{"org_a", "standard"}, {"org_b", "premium"}} {
		if err := f.orgs.CreateOrganization(ctx, onramp.Organization{ID: o.id, Name: "Org " + o.id, Tier: o.plan, Status: onramp.OrgActive, ContactEmail: "c@" + o.id + ".example", InvitedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Catalog.ApplyPlan(ctx, o.id, o.plan); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct{ org, id, role string }{{"org_a", "ana", onramp.RoleOwner}, {"org_a", "bo", onramp.RoleDeveloper}, {"org_b", "carl", onramp.RoleOwner}} {
		email := m.id + "@" + m.org + ".example"
		if err := f.orgs.SaveMember(ctx, onramp.Member{OrgID: m.org, IdentityID: m.id, Email: email, Role: m.role, JoinedAt: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		people["st_"+m.id] = onramp.Session{IdentityID: m.id, Email: email}
	}
	cfg.Identity = sessions{people: people}
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	h.srv = mustServer(t, cfg)
	return &subsHarness{harness: h, f: f}
}

func (h *subsHarness) as(t *testing.T, who, method, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r *strings.Reader
	if body != "" {
		r = strings.NewReader(body)
		header = append(header, "Content-Type", "application/json")
	}
	if who != "" {
		header = append(header, "X-Session-Token", "st_"+who)
	}
	if r == nil {
		return h.do(t, method, path, nil, header...)
	}
	return h.do(t, method, path, r, header...)
}

// asInvalid is as for a request that breaks api/openapi.yaml on purpose (an attack, a typo).
func (h *subsHarness) asInvalid(t *testing.T, who, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	var header []string
	if who != "" {
		header = append(header, "X-Session-Token", "st_"+who)
	}
	if body == "" {
		return h.doInvalid(t, method, path, nil, header...)
	}
	return h.doInvalid(t, method, path, strings.NewReader(body), append(header, "Content-Type", "application/json")...)
}

func decodeStatus[T any](t *testing.T, rec *httptest.ResponseRecorder, status int) T {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSubscriptionsAPI(t *testing.T) {
	h := mustSubsHarness(t)
	s := decodeStatus[subscriptions.Settings](t, h.as(t, "ana", "GET", "/api/v1/orgs/org_a/subscriptions", ""), 200)
	if s.Default != onramp.SubscribeNone || len(s.Products) != 2 || s.FeedToken != nil {
		t.Fatalf("fresh settings %+v", s)
	}
	s = decodeStatus[subscriptions.Settings](t, h.as(t, "ana", "PUT", "/api/v1/orgs/org_a/subscriptions", `{"default":"breaking"}`), 200)
	if s.Default != onramp.SubscribeBreaking {
		t.Errorf("after PUT default: %+v", s)
	}
	ps := decodeStatus[subscriptions.ProductSetting](t, h.as(t, "ana", "PUT", "/api/v1/orgs/org_a/subscriptions/payments", `{"level":"all"}`), 200)
	if ps.Level != onramp.SubscribeAll || ps.Effective != onramp.SubscribeAll || ps.Product != "payments" {
		t.Errorf("after PUT payments: %+v", ps)
	}
	if rec := h.as(t, "ana", "DELETE", "/api/v1/orgs/org_a/subscriptions/payments", ""); rec.Code != 204 {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	s = decodeStatus[subscriptions.Settings](t, h.as(t, "ana", "GET", "/api/v1/orgs/org_a/subscriptions", ""), 200)
	if s.Products[1].Product != "payments" || s.Products[1].Level != "" || s.Products[1].Effective != onramp.SubscribeBreaking {
		t.Errorf("after DELETE payments: %+v", s.Products)
	}
	mustProblem(t, h.asInvalid(t, "ana", "PUT", "/api/v1/orgs/org_a/subscriptions", `{"default":"sometimes"}`), 400, "invalid-request")
	mustProblem(t, h.asInvalid(t, "ana", "PUT", "/api/v1/orgs/org_a/subscriptions/payments", `{"level":`), 400, "invalid-request")
	mustProblem(t, h.asInvalid(t, "", "GET", "/api/v1/orgs/org_a/subscriptions", ""), 401, "sign-in-required")
}

// Attack: a member of org_a tries to set a colleague's and another organisation's member's
// subscriptions, by every id the API could be fed. Each is refused and nothing changes.
func TestSubscriptionsOfOthersCannotBeSet(t *testing.T) {
	h := mustSubsHarness(t)
	h.as(t, "bo", "PUT", "/api/v1/orgs/org_a/subscriptions", `{"default":"none"}`)
	h.as(t, "carl", "PUT", "/api/v1/orgs/org_b/subscriptions/insights", `{"level":"breaking"}`)
	snapshot := func() string {
		var b strings.Builder
		for _, who := range []struct{ id, org string }{{"bo", "org_a"}, {"carl", "org_b"}} {
			b.WriteString(h.as(t, who.id, "GET", "/api/v1/orgs/"+who.org+"/subscriptions", "").Body.String())
		}
		return b.String()
	}
	before := snapshot()
	for _, body := range []string{`{"default":"all","member_id":"org_a:bo"}`, `{"default":"all","identity_id":"bo"}`, `{"default":"all","org_id":"org_b"}`} {
		mustProblem(t, h.asInvalid(t, "ana", "PUT", "/api/v1/orgs/org_a/subscriptions", body), 400, "invalid-request")
	}
	mustProblem(t, h.asInvalid(t, "ana", "PUT", "/api/v1/orgs/org_a/subscriptions/payments", `{"level":"all","member_id":"org_a:bo"}`), 400, "invalid-request")
	theirs := h.as(t, "ana", "PUT", "/api/v1/orgs/org_b/subscriptions", `{"default":"all"}`)
	madeUp := h.as(t, "ana", "PUT", "/api/v1/orgs/org_zz/subscriptions", `{"default":"all"}`)
	p1, p2 := mustProblem(t, theirs, 404, "not-found"), mustProblem(t, madeUp, 404, "not-found")
	if strings.ReplaceAll(p1.Detail, "org_b", "X") != strings.ReplaceAll(p2.Detail, "org_zz", "X") {
		t.Errorf("another organisation %q, a made-up one %q", p1.Detail, p2.Detail)
	}
	mustProblem(t, h.as(t, "ana", "PUT", "/api/v1/orgs/org_b/subscriptions/insights", `{"level":"none"}`), 404, "not-found")
	mustProblem(t, h.as(t, "ana", "DELETE", "/api/v1/orgs/org_b/subscriptions/insights", ""), 404, "not-found")
	mustProblem(t, h.as(t, "ana", "POST", "/api/v1/orgs/org_b/feed-token", ""), 404, "not-found")
	for _, path := range []string{"/api/v1/orgs/org_a/members/bo/subscriptions", "/api/v1/orgs/org_a/subscriptions/payments/bo"} {
		if rec := h.as(t, "ana", "PUT", path, `{"level":"all"}`); rec.Code < 400 {
			t.Errorf("PUT %s = %d", path, rec.Code)
		}
	}
	// A product org_a does not see answers as one that does not exist.
	hidden := mustProblem(t, h.as(t, "ana", "PUT", "/api/v1/orgs/org_a/subscriptions/insights", `{"level":"all"}`), 404, "not-found")
	ghost := mustProblem(t, h.as(t, "ana", "PUT", "/api/v1/orgs/org_a/subscriptions/ghost", `{"level":"all"}`), 404, "not-found")
	if strings.ReplaceAll(hidden.Detail, "insights", "X") != strings.ReplaceAll(ghost.Detail, "ghost", "X") {
		t.Errorf("hidden %q, unknown %q", hidden.Detail, ghost.Detail)
	}
	if after := snapshot(); after != before {
		t.Errorf("others' subscriptions changed:\nbefore %s\nafter  %s", before, after)
	}
}

func mustFeedToken(t *testing.T, h *subsHarness, who, org string) subscriptions.IssuedToken {
	t.Helper()
	rec := h.as(t, who, "POST", "/api/v1/orgs/"+org+"/feed-token", "")
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("the token's answer may be cached: %q", rec.Header().Get("Cache-Control"))
	}
	return decodeStatus[subscriptions.IssuedToken](t, rec, 201)
}

func feedPath(u string) string {
	p, _ := url.Parse(u)
	return p.RequestURI()
}

// The feed serves Atom to its token and refuses, with one answer naming nothing, every token
// that is not this organisation's current one — the token is never a session or an API key, and
// never reaches the logs or an answer.
func TestFeedsAPI(t *testing.T) {
	h := mustSubsHarness(t)
	first := mustFeedToken(t, h, "ana", "org_a")
	rec := h.do(t, "GET", feedPath(first.Products["payments"]), nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != subscriptions.AtomContentType || rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("payments feed: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	feed := subscriptionstest.CheckAtom(t, rec.Body.Bytes())
	if len(feed.Entries) != 2 || !strings.HasSuffix(feed.Entries[0].ID, "/payments/versions/v2") {
		t.Errorf("entries %+v", feed.Entries)
	}
	etag := rec.Header().Get("ETag")
	if again := h.do(t, "GET", feedPath(first.Products["payments"]), nil, "If-None-Match", etag); again.Code != 304 || again.Body.Len() != 0 {
		t.Errorf("If-None-Match with the ETag: %d, want 304 without a body", again.Code)
	}
	if all := h.do(t, "GET", feedPath(first.Feed), nil); all.Code != 200 || len(subscriptionstest.CheckAtom(t, all.Body.Bytes()).Entries) != 3 {
		t.Errorf("feed of every product: %d", all.Code)
	}

	second := mustFeedToken(t, h, "ana", "org_a")
	if s := decodeStatus[subscriptions.Settings](t, h.as(t, "ana", "GET", "/api/v1/orgs/org_a/subscriptions", ""), 200); s.FeedToken == nil || !s.FeedToken.CreatedAt.Equal(second.CreatedAt) {
		t.Errorf("settings show token %+v, want the one issued at %s", s.FeedToken, second.CreatedAt)
	}
	carl := mustFeedToken(t, h, "carl", "org_b")
	refused := mustProblem(t, h.do(t, "GET", feedPath(first.Products["payments"]), nil), 401, "unauthorized")
	if h.do(t, "GET", feedPath(second.Products["payments"]), nil).Code != 200 {
		t.Fatal("the new token does not read the feed")
	}
	for name, path := range map[string]string{
		"another organisation's token on org_a's feed": "/feeds/org_a/products/payments.atom?token=" + carl.Token,
		"org_a's token on org_b's feed":                "/feeds/org_b/products/insights.atom?token=" + second.Token,
		"no token":                                     "/feeds/org_a/catalog.atom",
		"a made-up organisation":                       "/feeds/org_zz/catalog.atom?token=" + second.Token,
		"a bad token on a product nobody has":          "/feeds/org_a/products/ghost.atom?token=onr_feed_x",
	} {
		send := h.do
		if name == "no token" {
			send = h.doInvalid // the document requires one
		}
		p := mustProblem(t, send(t, "GET", path, nil), 401, "unauthorized")
		if p.Detail != refused.Detail {
			t.Errorf("%s: %q, want the rotated token's answer %q", name, p.Detail, refused.Detail)
		}
		for _, leak := range []string{"Org org_b", "Insights", "carl", second.Token, carl.Token} {
			if strings.Contains(p.Detail+p.Instance, leak) {
				t.Errorf("%s: the answer names %q", name, leak)
			}
		}
	}
	// A product org_a does not see has no feed, exactly as one that does not exist.
	hidden := mustProblem(t, h.do(t, "GET", "/feeds/org_a/products/insights.atom?token="+second.Token, nil), 404, "not-found")
	ghost := mustProblem(t, h.do(t, "GET", "/feeds/org_a/products/ghost.atom?token="+second.Token, nil), 404, "not-found")
	if strings.ReplaceAll(hidden.Detail, "insights", "X") != strings.ReplaceAll(ghost.Detail, "ghost", "X") {
		t.Errorf("hidden %q, unknown %q", hidden.Detail, ghost.Detail)
	}
	mustProblem(t, h.do(t, "GET", "/feeds/org_a/products/payments?token="+second.Token, nil), 404, "not-found")

	// The feed token is nothing else: not a session, not an API key.
	mustProblem(t, h.do(t, "GET", "/api/v1/me", nil, "X-Session-Token", second.Token), 401, "unauthorized")
	mustProblem(t, h.do(t, "GET", "/api/v1/orgs/org_a/subscriptions", nil, "X-Session-Token", second.Token), 401, "unauthorized")
	mustProblem(t, h.do(t, "GET", "/api/v1/orgs/org_a/catalog/payments/versions/v2/openapi.json", nil, "X-API-Key", second.Token), 401, "invalid-credential")
	if rec := h.do(t, "GET", "/catalog", nil, "Cookie", "s="+second.Token, "Accept", "text/html"); rec.Code != 303 {
		t.Errorf("the token as a browser session: %d", rec.Code)
	}
	// Revoked: gone at once.
	if rec := h.as(t, "ana", "DELETE", "/api/v1/orgs/org_a/feed-token", ""); rec.Code != 204 {
		t.Fatalf("revoke: %d", rec.Code)
	}
	mustProblem(t, h.do(t, "GET", feedPath(second.Feed), nil), 401, "unauthorized")
	for _, tok := range []string{first.Token, second.Token, carl.Token} {
		if strings.Contains(h.logs.String(), tok) {
			t.Fatalf("a feed token reached the log:\n%s", h.logs)
		}
	}
	stored, _ := h.f.subs.FeedTokenOf(t.Context(), "org_b:carl")
	if stored.Hash != onramp.FeedTokenHash(carl.Token) {
		t.Errorf("stored %+v", stored)
	}
}

// The pages: the subscriptions page lists the products with their levels and issues the feed
// URLs once; the product page's form sets the product's level.
func TestSubscriptionPages(t *testing.T) {
	h := mustSubsHarness(t)
	cookie := []string{"Cookie", "s=st_bo", "Accept", "text/html"}
	rec := h.do(t, "GET", "/subscriptions?org=org_a", nil, cookie...)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `data-product="payments"`) || !strings.Contains(rec.Body.String(), "Get feed URLs") {
		t.Fatalf("subscriptions page: %d %s", rec.Code, rec.Body)
	}
	form := func(path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "s=st_bo")
		req.Header.Set("Origin", base)
		out := httptest.NewRecorder()
		h.srv.ServeHTTP(out, req)
		return out
	}
	if rec := form("/subscriptions", "org=org_a&level=breaking"); rec.Code != 303 {
		t.Fatalf("save default: %d %s", rec.Code, rec.Body)
	}
	if rec := form("/catalog/payments/subscription", "org=org_a&level=all"); rec.Code != 303 || !strings.HasSuffix(rec.Header().Get("Location"), "#subscription") {
		t.Fatalf("save on the product page: %d %v", rec.Code, rec.Header())
	}
	s := decodeStatus[subscriptions.Settings](t, h.as(t, "bo", "GET", "/api/v1/orgs/org_a/subscriptions", ""), 200)
	if levels := s.Default + " " + s.Products[0].Effective + " " + s.Products[1].Effective; levels != "breaking breaking all" {
		t.Errorf("after the forms: %s", levels)
	}
	issued := form("/subscriptions/feed-token", "org=org_a")
	if issued.Code != 201 || issued.Header().Get("Cache-Control") != "no-store" || !strings.Contains(issued.Body.String(), "/feeds/org_a/catalog.atom?token=onr_feed_") {
		t.Fatalf("rotating on the page: %d %v", issued.Code, issued.Header())
	}
	if rec := h.do(t, "GET", "/subscriptions?org=org_a", nil, cookie...); strings.Contains(rec.Body.String(), "onr_feed_") {
		t.Error("the token is shown again on a later visit")
	}
	if rec := form("/subscriptions", "org=org_b&level=all"); rec.Code != 404 {
		t.Errorf("another organisation's page form: %d", rec.Code)
	}
	if rec := form("/catalog/insights/subscription", "org=org_a&level=all"); rec.Code != 404 {
		t.Errorf("a hidden product's form: %d", rec.Code)
	}
	page := h.do(t, "GET", "/catalog/payments?org=org_a", nil, cookie...)
	if page.Code != 200 || !strings.Contains(page.Body.String(), `id="product-subscription-form"`) || !strings.Contains(page.Body.String(), "/feeds/org_a/products/payments.atom") {
		t.Errorf("product page: %d", page.Code)
	}
}
