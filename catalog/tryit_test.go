package catalog_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/policies"
)

// Try-it's rules, against a recording gateway on loopback: who may try, with which key, what is
// sent, and that the prediction is the gateway's own policy decision.

type tryItHarness struct {
	tryIt *catalog.TryIt
	keys  *credentials.Service
	org   onramp.Organization
	saw   chan *http.Request
}

func mustTryIt(t *testing.T) *tryItHarness {
	t.Helper()
	h := &tryItHarness{saw: make(chan *http.Request, 10)}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.saw <- r.Clone(context.Background())
		w.Header().Set("Set-Cookie", "gw=1")
		w.Header().Set("Location", "https://elsewhere.example/")
		w.WriteHeader(http.StatusFound) // try-it must show this, not follow it
	}))
	t.Cleanup(gw.Close)
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store := catalogtest.NewMemory()
	cat, err := catalog.New(catalog.Config{Announcements: &catalogtest.Announcements{}, Store: store, Assignments: store, Policy: engine, SandboxURL: gw.URL, ProductionURL: gw.URL + "/prod"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	h.org = MustOrg(t, cat, "org_try", "standard")
	as, _ := store.AssignmentsOf(t.Context(), h.org.ID)
	for _, a := range as { // production access granted, as an approval does
		a.Environments = []string{onramp.Sandbox, onramp.Production}
		if err := store.SaveAssignment(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	kr, _ := credentials.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32)))
	if h.keys, err = credentials.New(credentials.Config{Store: credentialstest.NewMemory(), Assignments: store, Keys: kr, PortalURL: "http://portal.test"}); err != nil {
		t.Fatal(err)
	}
	if h.tryIt, err = catalog.NewTryIt(catalog.TryItConfig{Catalog: cat, Keys: h.keys, Policy: engine, PortalURL: "http://portal.test"}); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *tryItHarness) as(role string) onramp.Actor {
	return onramp.Actor{Email: role + "@try.example", Memberships: []onramp.Membership{{Organization: h.org, Role: role}}}
}

func (h *tryItHarness) key(t *testing.T, env string, scopes ...string) (onramp.Credential, string) {
	t.Helper()
	c, k, err := h.keys.Issue(t.Context(), credentials.Request{OrgID: h.org.ID, Environment: env, Label: env, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func (h *tryItHarness) nothingSent(t *testing.T) {
	t.Helper()
	select {
	case r := <-h.saw:
		t.Errorf("a refused try-it reached the gateway: %s %s", r.Method, r.URL)
	default:
	}
}

func TestTryItSendsTheChosenKeyAsThePartnersCodeWould(t *testing.T) {
	h := mustTryIt(t)
	cred, key := h.key(t, onramp.Sandbox, "payments:read")
	res, err := h.tryIt.Send(t.Context(), h.as(onramp.RoleDeveloper), h.org.ID, "payments", catalog.TryItRequest{
		CredentialID: cred.ID, Version: "v2", Operation: "getPayment", PathParams: map[string]string{"paymentId": "pay/../1"},
		Query:   map[string]string{"expand": "refunds", "empty": ""},
		Headers: map[string]string{"Authorization": "Bearer stolen", "X-API-Key": "onr_test_other", "Host": "evil.example", "X-Trace": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	r := <-h.saw
	if r.Header.Get("X-Api-Key") != key || r.Header.Get("Authorization") != "" || r.Host == "evil.example" || r.Header.Get("X-Trace") != "t1" {
		t.Errorf("the gateway got key %v, Authorization %q, host %q, X-Trace %q: want only the chosen key and the partner's own header",
			r.Header.Get("X-Api-Key") == key, r.Header.Get("Authorization"), r.Host, r.Header.Get("X-Trace"))
	}
	if r.URL.EscapedPath() != "/payments/v2/payments/pay%2F..%2F1" || r.URL.RawQuery != "expand=refunds" {
		t.Errorf("the gateway got %s?%s, want the parameter escaped into one segment and the empty query left out", r.URL.EscapedPath(), r.URL.RawQuery)
	}
	if res.Response.Status != http.StatusFound || res.Response.Headers["Set-Cookie"] != "" || res.Response.Headers["Location"] == "" {
		t.Errorf("answer %d with headers %v: want the gateway's 302 as given, without its cookie", res.Response.Status, res.Response.Headers)
	}
	if !res.Prediction.Allowed || res.Snippets["curl"] == "" || bytes.Contains([]byte(res.Snippets["curl"]), []byte(key)) {
		t.Errorf("prediction %+v, snippets hold the key: %v; want allowed and the key read from ONRAMP_API_KEY", res.Prediction, bytes.Contains([]byte(res.Snippets["curl"]), []byte(key)))
	}
}

func TestTryItPredictsTheGatewaysRefusalAndStillSends(t *testing.T) {
	h := mustTryIt(t)
	cred, _ := h.key(t, onramp.Sandbox, "payments:read")
	res, err := h.tryIt.Send(t.Context(), h.as(onramp.RoleDeveloper), h.org.ID, "payments", catalog.TryItRequest{
		CredentialID: cred.ID, Version: "v2", Operation: "createPayment", Body: `{"amount":1}`})
	if err != nil {
		t.Fatal(err)
	}
	<-h.saw
	if res.Prediction.Allowed || len(res.Prediction.Reasons) == 0 {
		t.Errorf("a read-only key on a write: prediction %+v, want the gateway's 403 reasons", res.Prediction)
	}
}

func TestTryItRefusals(t *testing.T) {
	h := mustTryIt(t)
	sandbox, _ := h.key(t, onramp.Sandbox)
	prod, _ := h.key(t, onramp.Production)
	other := onramp.Organization{ID: "org_other"}
	for name, c := range map[string]struct {
		actor onramp.Actor
		org   string
		in    catalog.TryItRequest
		want  string
	}{
		"a viewer may not try":                  {h.as(onramp.RoleViewer), h.org.ID, catalog.TryItRequest{CredentialID: sandbox.ID, Operation: "listPayments"}, onramp.EFORBIDDEN},
		"a developer may not use production":    {h.as(onramp.RoleDeveloper), h.org.ID, catalog.TryItRequest{CredentialID: prod.ID, Operation: "listPayments"}, onramp.EFORBIDDEN},
		"an unknown operation":                  {h.as(onramp.RoleOwner), h.org.ID, catalog.TryItRequest{CredentialID: sandbox.ID, Operation: "dropTables"}, onramp.ENOTFOUND},
		"another organisation's key":            {h.as(onramp.RoleOwner), h.org.ID, catalog.TryItRequest{CredentialID: "cred_of_someone_else", Operation: "listPayments"}, onramp.ENOTFOUND},
		"through an organisation one is not in": {onramp.Actor{Memberships: []onramp.Membership{{Organization: other, Role: onramp.RoleOwner}}}, h.org.ID, catalog.TryItRequest{CredentialID: sandbox.ID, Operation: "listPayments"}, onramp.ENOTFOUND},
		"no credential named":                   {h.as(onramp.RoleOwner), h.org.ID, catalog.TryItRequest{Operation: "listPayments"}, onramp.EINVALID},
		"a product not assigned":                {h.as(onramp.RoleOwner), h.org.ID, catalog.TryItRequest{CredentialID: sandbox.ID, Operation: "getInsights"}, onramp.ENOTFOUND},
	} {
		product := "payments"
		if name == "a product not assigned" {
			product = "insights"
		}
		if _, err := h.tryIt.Send(t.Context(), c.actor, c.org, product, c.in); onramp.ErrorCode(err) != c.want {
			t.Errorf("%s: %v, want %s", name, err, c.want)
		}
	}
	h.nothingSent(t)
}

func TestTryItOffersTheKeysTheMemberMayUse(t *testing.T) {
	h := mustTryIt(t)
	sandbox, _ := h.key(t, onramp.Sandbox)
	prod, _ := h.key(t, onramp.Production)
	revoked, _ := h.key(t, onramp.Sandbox)
	if _, err := h.keys.Revoke(t.Context(), h.org.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	ids := func(role string) map[string]bool {
		cs, err := h.tryIt.Credentials(t.Context(), h.as(role), h.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, c := range cs {
			out[c.ID] = true
		}
		return out
	}
	if got := ids(onramp.RoleOwner); len(got) != 2 || !got[sandbox.ID] || !got[prod.ID] {
		t.Errorf("owner is offered %v, want the two active keys", got)
	}
	if got := ids(onramp.RoleDeveloper); len(got) != 1 || !got[sandbox.ID] {
		t.Errorf("developer is offered %v, want the sandbox key only", got)
	}
	if got := ids(onramp.RoleViewer); len(got) != 0 {
		t.Errorf("viewer is offered %v, want none (viewers do not try)", got)
	}
}
