package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/specs"
)

// harness is both gateways on in-memory stores with the demo catalog and the real policies.
type harness struct {
	sandbox, production *gateway.Gateway
	creds               *credentials.Service
	engine              *policies.Engine // the gateways' and the catalog's policies; tests may load others live
	cat                 *catalog.Catalog
	catalog             *catalogtest.Memory
	usage               *credentialstest.Memory
	recorder            *gateway.Recorder
	quota               *gateway.Quota
	options             []func(*gateway.Config)
	upstream            *httptest.Server
	upstreamSaw         chan *http.Request
	clock               *clock
	alerts              *alertLog
}

// clock is the gateways' injected time: the real one until a test sets it.
type clock struct {
	mu  sync.Mutex
	set time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set.IsZero() {
		return time.Now()
	}
	return c.set
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set = t
}

// alertLog is a QuotaAlerts that records each raise.
type alertLog struct {
	mu     sync.Mutex
	raised []onramp.QuotaAlert
}

func (l *alertLog) RaiseQuotaAlert(_ context.Context, a onramp.QuotaAlert) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.raised = append(l.raised, a)
	return nil
}

func (l *alertLog) keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, a := range l.raised {
		out = append(out, a.Key())
	}
	return out
}

// activeOrgs says every organisation exists, active on the standard plan.
type activeOrgs struct{}

func (activeOrgs) FindOrganization(_ context.Context, id string) (onramp.Organization, error) {
	return onramp.Organization{ID: id, Name: id, Tier: "standard", Status: onramp.OrgActive}, nil
}

// MustHarness builds the harness; each option adjusts both gateways' configuration.
func MustHarness(tb testing.TB, options ...func(*gateway.Config)) *harness {
	tb.Helper()
	ctx := context.Background()
	engine, err := policies.New(ctx, policies.Embedded())
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{engine: engine, catalog: catalogtest.NewMemory(), usage: credentialstest.NewMemory(), upstreamSaw: make(chan *http.Request, 100), clock: &clock{}, alerts: &alertLog{}}
	cat, err := catalog.New(catalog.Config{Store: h.catalog, Assignments: h.catalog, Policy: engine, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://sandbox", ProductionURL: "http://production"})
	if err != nil {
		tb.Fatal(err)
	}
	files, _ := fs.Sub(deploy.Catalog, "catalog")
	if _, err := cat.LoadFiles(ctx, files); err != nil {
		tb.Fatal(err)
	}
	h.cat = cat
	keys, _ := credentials.ParseKeyring("t:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)))
	if h.creds, err = credentials.New(credentials.Config{Store: h.usage, Assignments: h.catalog, Keys: keys, PortalURL: "http://portal.test"}); err != nil {
		tb.Fatal(err)
	}
	h.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.upstreamSaw <- r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"payments":[]}`))
	}))
	tb.Cleanup(h.upstream.Close)
	h.options = options
	h.recorder, h.quota = h.mustNode(tb, h.usage)
	h.sandbox, h.production = h.mustGateway(tb, onramp.Sandbox, h.recorder, h.quota), h.mustGateway(tb, onramp.Production, h.recorder, h.quota)
	return h
}

// mustNode starts one gateway node's usage pipeline and quota on store.
func (h *harness) mustNode(tb testing.TB, store onramp.GatewayUsageStore) (*gateway.Recorder, *gateway.Quota) {
	tb.Helper()
	log, node := slog.New(slog.DiscardHandler), gateway.NewNodeID()
	r := gateway.NewRecorder(gateway.RecorderConfig{Store: store, Node: node, Logger: log, Interval: 20 * time.Millisecond})
	q := gateway.NewQuota(gateway.QuotaConfig{Store: store, Node: node, Alerts: h.alerts, Logger: log, Interval: 20 * time.Millisecond, Now: h.clock.Now})
	tb.Cleanup(func() { r.Stop(); q.Stop() })
	return r, q
}

// mustGateway is one listener of a node, configured by the harness's options.
func (h *harness) mustGateway(tb testing.TB, env string, r *gateway.Recorder, q *gateway.Quota) *gateway.Gateway {
	tb.Helper()
	cfg := gateway.Config{Environment: env, PortalURL: "http://portal.test", Credentials: h.creds, Organizations: activeOrgs{}, Catalog: h.catalog,
		Assignments: h.catalog, Policy: h.engine, Recorder: r, Quota: q, ExampleUpstream: h.upstream.URL, Logger: slog.New(slog.DiscardHandler),
		RefreshEvery: 20 * time.Millisecond, Now: h.clock.Now}
	for _, o := range h.options {
		o(&cfg)
	}
	g, err := gateway.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(g.Close)
	return g
}

// MustOrg assigns the standard plan's payments to orgID (environments and quota as given) and
// returns a key of env with scopes (empty: all granted).
func (h *harness) MustOrg(tb testing.TB, orgID string, envs []string, limit int64, env string, scopes ...string) string {
	tb.Helper()
	a := onramp.Assignment{OrgID: orgID, Product: "payments", Plan: "standard", Grant: onramp.Grant{
		Scopes: []string{"payments:read", "payments:write"}, Environments: envs, Quota: onramp.Quota{Limit: limit, Period: "day"}}}
	if err := h.catalog.SaveAssignment(tb.Context(), a); err != nil {
		tb.Fatal(err)
	}
	_, key, err := h.creds.Issue(tb.Context(), credentials.Request{OrgID: orgID, Environment: env, Scopes: scopes})
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

func call(tb testing.TB, g http.Handler, method, path, key, body string, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	return rec
}

func mustProblem(tb testing.TB, rec *httptest.ResponseRecorder, status int, slug string) problem.Problem {
	tb.Helper()
	var p problem.Problem
	if rec.Code != status || rec.Header().Get("Content-Type") != problem.ContentType {
		tb.Fatalf("status %d (%s), want %d problem+json: %s", rec.Code, rec.Header().Get("Content-Type"), status, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Type != problem.TypeBase+slug || p.Detail == "" || p.RequestID == "" {
		tb.Fatalf("problem = %+v (%v), want type %s with a detail and request id", p, err, slug)
	}
	return p
}

func TestSandboxAnswersSchemaValidDataDeterministically(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	v, _ := h.catalog.FindVersion(t.Context(), "payments", "v2")
	doc, _ := specs.Load([]byte(v.Spec))
	doc.Servers = nil
	router, _ := gorillamux.NewRouter(doc)
	for _, path := range []string{"/payments?limit=5", "/payments/pay_abc123"} {
		rec := call(t, h.sandbox, "GET", "/payments/v2"+path, key, "")
		if rec.Code != 200 || rec.Header().Get("X-Onramp-Sandbox") != "synthetic" || rec.Header().Get("RateLimit-Limit") != "100" {
			t.Fatalf("GET %s = %d %v %s", path, rec.Code, rec.Header(), rec.Body)
		}
		req := httptest.NewRequest("GET", path, nil)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		err = openapi3filter.ValidateResponse(t.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes()))})
		if err != nil {
			t.Errorf("GET %s: the sandbox body does not match the schema: %v\n%s", path, err, rec.Body)
		}
		if again := call(t, h.sandbox, "GET", "/payments/v2"+path, key, ""); again.Body.String() != rec.Body.String() {
			t.Errorf("GET %s is not deterministic:\n%s\n%s", path, rec.Body, again.Body)
		}
	}
	created := call(t, h.sandbox, "POST", "/payments/v2/payments", key, `{"amount":100,"currency":"EUR","description":"x"}`, "Idempotency-Key", "abcdefgh-1")
	if created.Code != 201 {
		t.Errorf("POST = %d %s, want the spec's 201", created.Code, created.Body)
	}
}

func TestErrorsAreTheSameInBothEnvironments(t *testing.T) {
	h := MustHarness(t)
	both := []string{onramp.Sandbox, onramp.Production}
	sk := h.MustOrg(t, "org_1", both, 100, onramp.Sandbox)
	pk := h.MustOrg(t, "org_1", both, 100, onramp.Production)
	body := `{"amount":"ten","currency":"euro"}`
	var got []problem.Problem
	for _, c := range []struct {
		g   http.Handler
		key string
	}{{h.sandbox, sk}, {h.production, pk}} {
		p := mustProblem(t, call(t, c.g, "POST", "/payments/v2/payments", c.key, body), 400, "invalid-request")
		got = append(got, p)
	}
	locs := map[string]bool{}
	for _, e := range got[0].Errors {
		locs[e.Location] = true
	}
	if !locs["header.Idempotency-Key"] || !locs["body.amount"] {
		t.Errorf("errors = %+v, want the missing header and the wrong amount located", got[0].Errors)
	}
	a, _ := json.Marshal(got[0].Errors)
	b, _ := json.Marshal(got[1].Errors)
	if got[0].Detail != got[1].Detail || string(a) != string(b) {
		t.Errorf("sandbox and production differ:\n%s %s\n%s %s", got[0].Detail, a, got[1].Detail, b)
	}
	select {
	case r := <-h.upstreamSaw:
		t.Errorf("an invalid request reached the upstream: %s", r.URL)
	default:
	}
}

func TestAuthenticationProblems(t *testing.T) {
	h := MustHarness(t)
	sk := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	for _, tt := range []struct {
		name, key, slug string
		g               http.Handler
		status          int
	}{
		{"missing", "", "missing-credential", h.sandbox, 401},
		{"unknown", "onr_test_nope", "invalid-credential", h.sandbox, 401},
		{"sandbox key on production", sk, "wrong-environment", h.production, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := call(t, tt.g, "GET", "/payments/v2/payments", tt.key, "")
			p := mustProblem(t, rec, tt.status, tt.slug)
			if tt.key != "" && strings.Contains(rec.Body.String(), tt.key) {
				t.Errorf("the key is echoed: %s", rec.Body)
			}
			if !strings.Contains(p.Detail, "http://portal.test/credentials") {
				t.Errorf("detail %q does not say where to get keys", p.Detail)
			}
		})
	}
}

// Without a change feed the refresher reloads what is cached every RefreshEvery (20 ms here).
func TestRevocationTakesEffectWithinTheRefreshInterval(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""); rec.Code != 200 {
		t.Fatalf("before revoking: %d", rec.Code)
	}
	cred, _ := h.creds.Lookup(t.Context(), key)
	if _, err := h.creds.Revoke(t.Context(), "org_1", cred.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	mustProblem(t, call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""), 401, "revoked-credential")
}

func TestAuthorization(t *testing.T) {
	h := MustHarness(t)
	readOnly := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox, "payments:read")
	p := mustProblem(t, call(t, h.sandbox, "POST", "/payments/v2/payments", readOnly, `{"amount":1,"currency":"EUR","description":"x"}`, "Idempotency-Key", "abcdefgh"), 403, "access-denied")
	if !strings.Contains(p.Detail, "lacks scope payments:write") {
		t.Errorf("detail = %q, want the missing scope named", p.Detail)
	}
	full := h.MustOrg(t, "org_2", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	p = mustProblem(t, call(t, h.sandbox, "POST", "/payments/v2/payments/pay_1/refunds", full, `{"amount":1}`), 403, "access-denied")
	if !strings.Contains(p.Detail, "payments:refund") || !strings.Contains(p.Detail, "standard plan") {
		t.Errorf("detail = %q, want the scope and the plan", p.Detail)
	}
	mustProblem(t, call(t, h.sandbox, "GET", "/insights/v1/insights/categories", full, ""), 404, "no-such-product")
	mustProblem(t, call(t, h.sandbox, "GET", "/payments/v2/nowhere", full, ""), 404, "no-such-operation")
	mustProblem(t, call(t, h.sandbox, "GET", "/payments/v9/payments", full, ""), 404, "no-such-product")
	mustProblem(t, call(t, h.sandbox, "DELETE", "/payments/v2/payments", full, ""), 405, "method-not-allowed")
	if rec := call(t, h.sandbox, "GET", "/payments/latest/payments", full, ""); rec.Code != 200 {
		t.Errorf("latest alias = %d %s", rec.Code, rec.Body)
	}
}

func TestQuotaExhaustion(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 2, onramp.Sandbox)
	for i, want := range []string{"1", "0"} {
		rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, "")
		if rec.Code != 200 || rec.Header().Get("RateLimit-Remaining") != want {
			t.Fatalf("call %d = %d remaining %q, want 200 with %s", i+1, rec.Code, rec.Header().Get("RateLimit-Remaining"), want)
		}
	}
	rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, "")
	p := mustProblem(t, rec, 429, "quota-exhausted")
	if rec.Header().Get("Retry-After") == "" || !strings.Contains(p.Detail, "resets at") {
		t.Errorf("429 without reset: %v %q", rec.Header(), p.Detail)
	}
}

func TestProductionForwardsWithoutTheKey(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	rec := call(t, h.production, "GET", "/payments/v2/payments?limit=3", "", "", "Authorization", "Bearer "+key)
	if rec.Code != 200 || rec.Body.String() != `{"payments":[]}` {
		t.Fatalf("production = %d %s", rec.Code, rec.Body)
	}
	r := <-h.upstreamSaw
	if r.URL.Path != "/payments" || r.URL.RawQuery != "limit=3" || r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "" || r.Header.Get("X-Onramp-Org") != "org_1" {
		t.Errorf("upstream saw %s?%s with headers %v", r.URL.Path, r.URL.RawQuery, r.Header)
	}
}

func TestUsageIsRecorded(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	call(t, h.sandbox, "GET", "/payments/v2/payments", key, "")
	call(t, h.sandbox, "GET", "/payments/v2/nowhere", key, "")
	call(t, h.sandbox, "GET", "/payments/v2/payments", "", "") // anonymous: nobody's usage
	h.recorder.Stop()
	events, _ := h.usage.Calls(t.Context(), "org_1", onramp.CallFilter{Limit: 10})
	if len(events) != 2 {
		t.Fatalf("events = %+v, want 2", events)
	}
	statuses := map[int]bool{}
	for _, e := range events {
		statuses[e.Status] = true
		if e.Product != "payments" || e.Environment != onramp.Sandbox || e.CredentialID == "" {
			t.Errorf("event = %+v", e)
		}
	}
	if !statuses[200] || !statuses[404] {
		t.Errorf("statuses = %v, want 200 and 404", statuses)
	}
	cred, _ := h.creds.Lookup(t.Context(), key)
	last, err := h.usage.LastUsed(t.Context(), "org_1")
	if err != nil || last[cred.ID].IsZero() || time.Since(last[cred.ID]) > time.Minute {
		t.Errorf("last use = %v, %v; want the credential used just now", last, err)
	}
}

func TestHealthz(t *testing.T) {
	h := MustHarness(t)
	for env, g := range map[string]http.Handler{onramp.Sandbox: h.sandbox, onramp.Production: h.production} {
		rec := call(t, g, "GET", "/healthz", "", "")
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), env) {
			t.Errorf("%s /healthz = %d %s, want 200 naming the environment", env, rec.Code, rec.Body)
		}
	}
}

func TestARealUpstreamIsNotReplacedByTheExample(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox, onramp.Production}, 100, onramp.Production)
	real := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"payments":[],"from":"real"}`))
	}))
	defer real.Close()
	p, _ := h.catalog.FindProduct(t.Context(), "payments")
	p.Upstreams = map[string]string{onramp.Production: real.URL}
	if err := h.catalog.SaveProduct(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if rec := call(t, h.production, "GET", "/payments/v2/payments", key, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"from":"real"`) {
		t.Errorf("production = %d %s, want the product's own upstream", rec.Code, rec.Body)
	}
}

// A bodiless request's validation is remembered per method, path and query: the same query gets
// the same answer, another query its own.
func TestValidationOfQueriesIsRememberedExactly(t *testing.T) {
	h := MustHarness(t)
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	for range 2 {
		p := mustProblem(t, call(t, h.sandbox, "GET", "/payments/v2/payments?limit=500", key, ""), 400, "invalid-request")
		if len(p.Errors) != 1 || p.Errors[0].Location != "query.limit" {
			t.Fatalf("errors = %+v, want query.limit", p.Errors)
		}
	}
	for _, q := range []string{"limit=5", "limit=100", ""} {
		if rec := call(t, h.sandbox, "GET", "/payments/v2/payments?"+q, key, ""); rec.Code != 200 {
			t.Errorf("?%s = %d %s, want 200", q, rec.Code, rec.Body)
		}
	}
	mustProblem(t, call(t, h.sandbox, "GET", "/payments/v2/payments?limit=0", key, ""), 400, "invalid-request")
}

// gatedOrgs answers like a store whose read of an organisation is slow: it waits for release,
// then fails as a store does when the read's context has ended.
type gatedOrgs struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedOrgs) FindOrganization(ctx context.Context, id string) (onramp.Organization, error) {
	g.once.Do(func() { close(g.started) })
	<-g.release
	if err := ctx.Err(); err != nil {
		return onramp.Organization{}, onramp.Errorf(onramp.EINTERNAL, "find organization: %v", err)
	}
	return activeOrgs{}.FindOrganization(ctx, id)
}

// Concurrent calls that miss the same cached record share one store read: the first caller
// disconnecting while it runs does not fail the others' calls.
func TestSharedLoadOutlivesTheFirstCaller(t *testing.T) {
	orgs := &gatedOrgs{started: make(chan struct{}), release: make(chan struct{})}
	h := MustHarness(t, func(c *gateway.Config) { c.Organizations = orgs })
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	ctx, hangUp := context.WithCancel(context.Background())
	first := httptest.NewRequest("GET", "/payments/v2/payments", nil).WithContext(ctx)
	first.Header.Set("X-API-Key", key)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.sandbox.ServeHTTP(httptest.NewRecorder(), first)
	}()
	<-orgs.started
	second := make(chan *httptest.ResponseRecorder)
	go func() { second <- call(t, h.sandbox, "GET", "/payments/v2/payments", key, "") }()
	time.Sleep(50 * time.Millisecond) // the second call waits on the first's read
	hangUp()
	close(orgs.release)
	<-done
	if rec := <-second; rec.Code != http.StatusOK {
		t.Fatalf("the second call = %d %s, want 200: the first caller's hang-up failed the read they shared", rec.Code, rec.Body)
	}
}
