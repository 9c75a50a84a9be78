package api_test

import (
	"encoding/base64"
	"io/fs"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/deploy"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/api"
	"github.com/onramp-dev/onramp/api/apitest"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/kratos"
	"github.com/onramp-dev/onramp/mail"
	"github.com/onramp-dev/onramp/policies"
)

const (
	adminToken   = "admin-token-0123456789-0123456789-abcdef"
	courierToken = "courier-token-0123456789-0123456789-abc"
	base         = "http://localhost:4000"
)

type harness struct {
	srv      *api.Server
	contract *apitest.Contract
	box      *mail.Memory  // MustHarness's dev mailbox
	logs     *bytes.Buffer // what MustHarness's portal logged
}

// MustHarness builds a portal with an in-memory mailbox and the given readiness checks.
func MustHarness(tb testing.TB, dev bool, checks ...api.Check) *harness {
	tb.Helper()
	box, logs := mail.NewMemory(), &bytes.Buffer{}
	cfg := testConfig(tb, &fakes{})
	cfg.Logger, cfg.Checks, cfg.DevMode = slog.New(slog.NewTextHandler(logs, nil)), checks, dev
	if dev {
		cfg.Mailbox, cfg.CourierToken = box, courierToken
	}
	h := MustHarnessOn(tb, cfg)
	h.box, h.logs = box, logs
	return h
}

// MustHarnessOn is a harness for the portal of cfg, for tests that configure it themselves.
func MustHarnessOn(tb testing.TB, cfg api.Config) *harness {
	tb.Helper()
	return &harness{srv: mustServer(tb, cfg), contract: apitest.MustContract(tb)}
}

// do serves one request and checks it and its answer against api/openapi.yaml (apitest.Check),
// so the document and the server cannot drift apart.
func (h *harness) do(tb testing.TB, method, path string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	ex, rec := h.serve(method, path, body, header)
	h.contract.Check(tb, ex)
	return rec
}

// doInvalid serves a request that breaks api/openapi.yaml on purpose (a missing credential, a
// malformed body, an attack) and checks only the answer against the document.
func (h *harness) doInvalid(tb testing.TB, method, path string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	ex, rec := h.serve(method, path, body, header)
	h.contract.CheckInvalid(tb, ex)
	return rec
}

func (h *harness) serve(method, path string, body io.Reader, header []string) (apitest.Exchange, *httptest.ResponseRecorder) {
	var raw []byte
	if body != nil {
		raw, _ = io.ReadAll(body)
	}
	req := httptest.NewRequest(method, base+path, bytes.NewReader(raw))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	sent := req.Header.Clone()
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return apitest.Exchange{Method: method, URL: base + path, Header: sent, Body: raw,
		Status: rec.Code, RHeader: rec.Header(), Response: rec.Body.Bytes()}, rec
}

func mustProblem(tb testing.TB, rec *httptest.ResponseRecorder, status int, slug string) problem.Problem {
	tb.Helper()
	if rec.Code != status {
		tb.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
		tb.Fatalf("Content-Type = %q, want %q", ct, problem.ContentType)
	}
	var p problem.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		tb.Fatal(err)
	}
	if p.Type != problem.TypeBase+slug || p.Detail == "" || p.RequestID == "" {
		tb.Errorf("problem = %+v, want type %s with detail and request id", p, slug)
	}
	return p
}

func upCheck(name string) api.Check {
	return api.Check{Name: name, Fn: func(context.Context) error { return nil }}
}

func TestHealthz(t *testing.T) {
	h := MustHarness(t, false)
	if rec := h.do(t, "GET", "/healthz", nil); rec.Code != 200 {
		t.Fatalf("status = %d", rec.Code)
	}
}

func TestReadyz(t *testing.T) {
	t.Run("AllUp", func(t *testing.T) {
		h := MustHarness(t, false, upCheck("mongodb"), upCheck("temporal"), upCheck("kratos"))
		rec := h.do(t, "GET", "/readyz", nil)
		var r api.Readiness
		_ = json.Unmarshal(rec.Body.Bytes(), &r)
		if rec.Code != 200 || r.Status != "ready" || len(r.Checks) != 3 {
			t.Fatalf("got %d %+v, want 200 ready with three checks", rec.Code, r)
		}
	})
	t.Run("OneDown", func(t *testing.T) {
		down := api.Check{Name: "kratos", Fn: func(context.Context) error { return errors.New("connection refused") }}
		h := MustHarness(t, false, upCheck("mongodb"), down)
		rec := h.do(t, "GET", "/readyz", nil)
		var r api.Readiness
		_ = json.Unmarshal(rec.Body.Bytes(), &r)
		if rec.Code != 503 || r.Status != "unavailable" || r.Checks["kratos"].Status != "down" || r.Checks["mongodb"].Status != "up" {
			t.Fatalf("got %d %+v, want 503 with kratos down and mongodb up", rec.Code, r)
		}
		if !strings.Contains(r.Checks["kratos"].Error, "connection refused") {
			t.Errorf("kratos error = %q, want the cause", r.Checks["kratos"].Error)
		}
	})
}

func TestAdminAPIRequiresToken(t *testing.T) {
	h := MustHarness(t, true, upCheck("mongodb"))
	for _, c := range []struct {
		auth     string
		noBearer bool // breaks the document's bearer scheme, not just the token's value
	}{{"", true}, {"Bearer nope", false}, {"Basic " + adminToken, true}, {"Bearer " + adminToken + "x", false}} {
		send := h.do
		if c.noBearer {
			send = h.doInvalid
		}
		rec := send(t, "GET", "/admin/api/v1/system", nil, "Authorization", c.auth)
		mustProblem(t, rec, 401, "admin-token-required")
		if rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("auth %q: no WWW-Authenticate header", c.auth)
		}
	}
	rec := h.do(t, "GET", "/admin/api/v1/system", nil, "Authorization", "Bearer "+adminToken)
	if rec.Code != 200 {
		t.Fatalf("with the token: %d %s", rec.Code, rec.Body)
	}
}

func TestNotFound(t *testing.T) {
	h := MustHarness(t, false)
	mustProblem(t, h.do(t, "GET", "/api/v1/nothing-here", nil, "Accept", "application/json"), 404, "not-found")
	rec := h.do(t, "GET", "/nothing-here", nil, "Accept", "text/html,application/xhtml+xml")
	if rec.Code != 404 || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), "Page not found") {
		t.Errorf("browser 404 = %d %s, want an HTML page", rec.Code, rec.Header().Get("Content-Type"))
	}
	mustProblem(t, h.do(t, "DELETE", "/healthz", nil), 405, "method-not-allowed")
}

func TestDevMailbox(t *testing.T) {
	h := MustHarness(t, true)
	courier := `{"recipient":"dev@partner.example","template_type":"login_code_valid","subject":"Your code",
		"body":"Use 123456","template_data":{"login_code":"123456","identity":{"id":"x"}}}`

	mustProblem(t, h.doInvalid(t, "POST", "/dev/mail/courier", strings.NewReader(courier), "Content-Type", "application/json"), 401, "courier-token-required")
	mustProblem(t, h.doInvalid(t, "POST", "/dev/mail/courier", strings.NewReader(`{"recipient":`), "Content-Type", "application/json",
		"Authorization", "Bearer "+courierToken), 400, "invalid-request")
	if rec := h.do(t, "POST", "/dev/mail/courier", strings.NewReader(courier), "Content-Type", "application/json",
		"Authorization", "Bearer "+courierToken); rec.Code != 204 {
		t.Fatalf("courier delivery = %d %s", rec.Code, rec.Body)
	}

	rec := h.do(t, "GET", "/dev/mail.json?to=dev@partner.example", nil)
	var body struct {
		Messages []struct {
			TemplateData map[string]string `json:"template_data"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if len(body.Messages) != 1 || body.Messages[0].TemplateData["login_code"] != "123456" {
		t.Fatalf("mailbox = %s, want the code", rec.Body)
	}
	if _, leaked := body.Messages[0].TemplateData["identity"]; leaked {
		t.Error("non-string template data was kept")
	}
	if rec := h.do(t, "GET", "/dev/mail?to=dev@partner.example", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "123456") {
		t.Errorf("HTML mailbox = %d, want the code shown", rec.Code)
	}
	mustProblem(t, h.doInvalid(t, "GET", "/dev/mail.json?limit=zero", nil), 400, "invalid-request")
	if got := h.do(t, "GET", "/dev/mail.json?to=someone-else@x.example", nil).Body.String(); strings.Contains(got, "123456") {
		t.Error("filter by recipient returned another recipient's mail")
	}
	if strings.Contains(h.logs.String(), "dev@partner.example") {
		t.Error("the access log contains a query string value")
	}
}

func TestDevRoutesAbsentInProduction(t *testing.T) {
	h := MustHarness(t, false)
	for _, p := range []string{"/dev/mail", "/dev/mail.json"} {
		if rec := h.do(t, "GET", p, nil); rec.Code != 404 {
			t.Errorf("%s = %d in production mode, want 404", p, rec.Code)
		}
	}
	if rec := h.do(t, "GET", "/", nil); strings.Contains(rec.Body.String(), "/dev/mail") {
		t.Error("the production home page links to the dev mailbox")
	}
}

func TestRequestIDAndMetrics(t *testing.T) {
	h := MustHarness(t, false)
	if got := h.do(t, "GET", "/healthz", nil, "X-Request-Id", "lb-trace-12345678").Header().Get("X-Request-Id"); got != "lb-trace-12345678" {
		t.Errorf("well-formed incoming id not kept: %q", got)
	}
	if got := h.do(t, "GET", "/healthz", nil, "X-Request-Id", "bad id\nwith newline").Header().Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("malformed incoming id not replaced: %q", got)
	}
	rec := h.do(t, "GET", "/metrics", nil)
	if !strings.Contains(rec.Body.String(), `onramp_http_requests_total{code="200",method="GET",route="/healthz",server="portal"} 2`) {
		t.Errorf("metrics lack the healthz counter:\n%s", rec.Body)
	}
}

func TestNewRefusesWeakConfig(t *testing.T) {
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	for name, cfg := range map[string]api.Config{
		"short admin token": {Logger: log, Registry: reg, AdminToken: "short"},
		"dev without box":   {Logger: log, Registry: reg, AdminToken: adminToken, DevMode: true, CourierToken: courierToken},
		"no logger":         {Registry: reg, AdminToken: adminToken},
	} {
		if _, err := api.New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}

// signedOut is an identity provider with nobody signed in: these tests cover operations endpoints;
// sign-in runs against real Kratos in e2e.
type signedOut struct{}

var errSignedOut = onramp.Errorf(onramp.EUNAUTHORIZED, "sign in first")

func (signedOut) SessionFromCookie(context.Context, string) (onramp.Session, error) {
	return onramp.Session{}, errSignedOut
}
func (signedOut) Whoami(context.Context, string) (onramp.Session, error) {
	return onramp.Session{}, errSignedOut
}
func (signedOut) GetLoginFlow(context.Context, string, string) (kratos.LoginFlow, error) {
	return kratos.LoginFlow{}, onramp.Errorf(onramp.ENOTFOUND, "no flow")
}
func (signedOut) LogoutURL(context.Context, string) (string, error) { return "", errSignedOut }
func (signedOut) GetRegistrationFlow(context.Context, string, string) (kratos.LoginFlow, error) {
	return kratos.LoginFlow{}, onramp.Errorf(onramp.ENOTFOUND, "no flow")
}

func (signedOut) StartCodeLogin(context.Context, string) (string, error) {
	return "flow-1", nil
}
func (signedOut) CompleteCodeLogin(context.Context, string, string, string) (string, error) {
	return "", errSignedOut
}
func (signedOut) RevokeSession(context.Context, string) error           { return nil }
func (signedOut) FlowErrorCode(context.Context, string) (string, error) { return "", nil }

func TestPartnerAPIShapes(t *testing.T) {
	h := MustHarness(t, false)
	if rec := h.do(t, "POST", "/api/v1/auth/login", strings.NewReader(`{"email":"dev@partner.example"}`), "Content-Type", "application/json"); rec.Code != 202 {
		t.Errorf("start login = %d %s", rec.Code, rec.Body)
	}
	mustProblem(t, h.do(t, "POST", "/api/v1/auth/login", strings.NewReader(`{"email":"Dev <dev@partner.example>"}`), "Content-Type", "application/json"), 400, "invalid-request")
	mustProblem(t, h.do(t, "POST", "/api/v1/auth/login/flow-1", strings.NewReader(`{"email":"dev@partner.example","code":"1"}`), "Content-Type", "application/json"), 401, "unauthorized")
	mustProblem(t, h.doInvalid(t, "GET", "/api/v1/me", nil), 401, "sign-in-required")
	mustProblem(t, h.do(t, "GET", "/api/v1/me", nil, "X-Session-Token", "ory_st_x"), 401, "unauthorized")
	if rec := h.do(t, "GET", "/admin/api/v1/partners", nil, "Authorization", "Bearer "+adminToken); rec.Code != 200 {
		t.Errorf("list partners = %d %s", rec.Code, rec.Body)
	}
	mustProblem(t, h.do(t, "GET", "/admin/api/v1/partners/org_x", nil, "Authorization", "Bearer "+adminToken), 404, "not-found")
	mustProblem(t, h.doInvalid(t, "POST", "/admin/api/v1/partners", strings.NewReader(`{"name":"A","contact_email":"x@y.example","tier":"standard"}`),
		"Content-Type", "application/json", "Authorization", "Bearer "+adminToken), 400, "invalid-request")
}

func TestSignInPagesRedirect(t *testing.T) {
	h := MustHarness(t, false)
	rec := h.do(t, "GET", "/login?email=dev@partner.example", nil, "Accept", "text/html")
	if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/.ory/self-service/login/browser?return_to=") {
		t.Errorf("/login = %d → %q, want a redirect that starts a Kratos browser flow", rec.Code, rec.Header().Get("Location"))
	}
	if !strings.Contains(rec.Header().Get("Set-Cookie"), "onramp_login_hint=") {
		t.Error("the invited address is not remembered across the redirect")
	}
	if rec := h.do(t, "GET", "/dashboard", nil, "Accept", "text/html"); rec.Code != 303 || rec.Header().Get("Location") != "/login" {
		t.Errorf("/dashboard signed out = %d → %q, want /login", rec.Code, rec.Header().Get("Location"))
	}
	if rec := h.do(t, "GET", "/admin/partners", nil, "Accept", "text/html"); rec.Code != 303 || rec.Header().Get("Location") != "/admin/login" {
		t.Errorf("/admin/partners without the admin cookie = %d → %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestInvitationThatCannotStartLeavesNothingBehind(t *testing.T) {
	f := &fakes{}
	cfg := testConfig(t, f)
	f.life.failInvite = true
	h := MustHarnessOn(t, cfg)
	rec := h.do(t, "POST", "/admin/api/v1/partners", strings.NewReader(`{"name":"Acme","contact_email":"a@acme.example","tier":"standard"}`),
		"Authorization", "Bearer "+adminToken, "Content-Type", "application/json")
	if rec.Code != 500 {
		t.Fatalf("status = %d, want 500 when the invitation cannot start", rec.Code)
	}
	if left, _ := f.orgs.ListOrganizations(t.Context(), onramp.OrgQuery{}); len(left.Items) != 0 {
		t.Fatalf("organisations left behind: %+v", left.Items)
	}
	if len(f.life.failed) != 1 {
		t.Fatalf("invitations tried: %v, want one", f.life.failed)
	}
	if left, _ := f.catalog.AssignmentsOf(t.Context(), f.life.failed[0]); len(left) != 0 {
		t.Fatalf("assignments left behind: %+v", left)
	}
}

// MustCredentials is a credential service on in-memory stores with a fresh key.
func MustCredentials(tb testing.TB, assignments onramp.AssignmentStore) *credentials.Service {
	tb.Helper()
	keys, err := credentials.ParseKeyring("test:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := credentials.New(credentials.Config{Store: credentialstest.NewMemory(), Assignments: assignments, Keys: keys, PortalURL: base})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// MustCatalog is a catalog on store with the demo catalog files loaded and the real policies.
func MustCatalog(tb testing.TB, store *catalogtest.Memory) *catalog.Catalog {
	tb.Helper()
	c, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: MustPolicy(tb), Announcements: &catalogtest.Announcements{}, SandboxURL: "http://127.0.0.1:2", ProductionURL: "http://127.0.0.1:3"})
	if err != nil {
		tb.Fatal(err)
	}
	files, err := fs.Sub(deploy.Catalog, "catalog")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.LoadFiles(context.Background(), files); err != nil {
		tb.Fatal(err)
	}
	return c
}

// MustPolicy is the real embedded policy bundle.
func MustPolicy(tb testing.TB) *policies.Engine {
	tb.Helper()
	e, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// noIdentities knows nobody.
type noIdentities struct{}

func (noIdentities) EnsureIdentity(context.Context, string) (string, error) { return "", errNoStore }
func (noIdentities) FindIdentity(context.Context, string) (onramp.Identity, error) {
	return onramp.Identity{}, errNoStore
}

func TestTeamAPINeedsSession(t *testing.T) {
	h := MustHarness(t, false)
	for _, path := range []string{"/api/v1/orgs/org_x/members", "/api/v1/orgs/org_x/invitations", "/api/v1/orgs/org_x/audit"} {
		mustProblem(t, h.doInvalid(t, "GET", path, nil), 401, "sign-in-required")
	}
}

func TestRegistrationGate(t *testing.T) {
	cfg := testConfig(t, &fakes{})
	cfg.HookToken = "hook-token-0123456789-0123456789-x"
	h := MustHarnessOn(t, cfg)
	post := func(auth string) *httptest.ResponseRecorder {
		return h.do(t, "POST", "/hooks/kratos/registration", strings.NewReader(`{"method":"code","traits":{"email":"who@nowhere.example"}}`),
			"Content-Type", "application/json", "Authorization", auth)
	}
	if rec := post("Bearer wrong"); rec.Code != 401 {
		t.Errorf("wrong hook token: %d, want 401", rec.Code)
	}
	rec := post("Bearer hook-token-0123456789-0123456789-x")
	var body struct {
		Messages []struct {
			InstancePtr string `json:"instance_ptr"`
			Messages    []struct {
				Text string `json:"text"`
			} `json:"messages"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 403 || len(body.Messages) != 1 || body.Messages[0].InstancePtr != "#/traits/email" || !strings.Contains(body.Messages[0].Messages[0].Text, "not invited") {
		t.Errorf("uninvited registration = %d %s, want 403 in Kratos's web hook message format", rec.Code, rec.Body)
	}
}

// noOnboarding stands in for the review, rotation and quota-review workflows, which run against
// the real stack in e2e.
type noOnboarding struct{}

func (noOnboarding) StartReview(context.Context, onramp.ProductionRequest) error { return errNoStore }
func (noOnboarding) Review(context.Context, string, string, onramp.ReviewDecision) error {
	return errNoStore
}
func (noOnboarding) StartRotation(context.Context, onramp.Rotation) error { return errNoStore }
func (noOnboarding) RotationWorkflowID(string) string                     { return "" }
func (noOnboarding) Rotate(context.Context, onramp.Rotation, string, onramp.RotationAction) error {
	return errNoStore
}
func (noOnboarding) StartQuotaReview(context.Context, onramp.QuotaRequest) error { return errNoStore }
func (noOnboarding) DecideQuota(context.Context, onramp.QuotaRequest, string, onramp.QuotaDecision) error {
	return errNoStore
}

// A client cannot pick the address the sign-in limits count by sending X-Forwarded-For: only a
// configured proxy's header is believed.
func TestSignInLimitsIgnoreForgedForwardedFor(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted []string
		want    []int // statuses of four attempts from 192.0.2.1, each claiming another address
	}{
		{"no trusted proxy", nil, []int{202, 202, 202, 429}},
		{"the peer is a trusted proxy", []string{"192.0.2.0/24"}, []int{202, 202, 202, 202}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t, &fakes{})
			cfg.SignInPerClient, cfg.TrustedProxies = 3, c.trusted
			h := MustHarnessOn(t, cfg)
			var got []int
			for i := range 4 {
				// httptest's requests come from 192.0.2.1.
				rec := h.do(t, "POST", "/api/v1/auth/login", strings.NewReader(fmt.Sprintf(`{"email":"person%d@x.example"}`, i)),
					"Content-Type", "application/json", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
				got = append(got, rec.Code)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("statuses = %v, want %v", got, c.want)
			}
		})
	}
}
