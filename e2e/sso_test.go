package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/workflows"
)

// MustOpenIDProvider runs a real OpenID Provider on loopback for the test (mockoidc: discovery,
// authorize, token, userinfo and JWKS endpoints, signing real ID tokens).
func MustOpenIDProvider(tb testing.TB) *mockoidc.MockOIDC {
	tb.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// MustInviteSSOPartner invites an organisation whose addresses in domain sign in through idp.
func MustInviteSSOPartner(tb testing.TB, st *stack.Stack, idp *mockoidc.MockOIDC, name, contact, domain string, allowSignup bool) onramp.Organization {
	tb.Helper()
	var org onramp.Organization
	MustDo(tb, "POST", st.PortalURL+"/admin/api/v1/partners", map[string]any{
		"name": name, "contact_email": contact, "tier": "premium",
		"sso": map[string]any{"issuer": idp.Issuer(), "client_id": idp.ClientID, "client_secret": idp.ClientSecret,
			"domains": []string{domain}, "allow_domain_signup": allowSignup},
	}, http.StatusCreated, &org, "Authorization", "Bearer "+MustAdminToken(tb, st))
	return org
}

func TestE2EIdentitySSOSignIn(t *testing.T) {
	st := MustSharedStack(t)
	idp := MustOpenIDProvider(t)
	n := time.Now().UnixNano()
	domain := fmt.Sprintf("ssocorp%d.example", n)
	contact := "cto@" + domain

	org := MustInviteSSOPartner(t, st, idp, "SSO Corp", contact, domain, false)
	if org.SSO == nil || org.SSO.ClientSecret != "" || org.SSO.ClientID != idp.ClientID {
		t.Fatalf("created organisation SSO = %+v: want it shown without the client secret", org.SSO)
	}
	MustWaitForMail(t, st.PortalURL, contact, func(m mailMessage) bool { return strings.Contains(m.Subject, "invited") }, 10*time.Second)
	// The client secret stays out of Temporal's history, which the Web UI shows to operators.
	it := st.Temporal.GetWorkflowHistory(t.Context(), workflows.PartnerInvitationID(org.ID), "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ev.String(), idp.ClientSecret) {
			t.Fatalf("the SSO client secret is in the invitation's workflow history (event %s)", ev.GetEventType())
		}
	}

	// The contact types their work address and is sent to their company's identity provider; the
	// first SSO sign-in creates their account and lands them on the dashboard as owner.
	idp.QueueUser(&mockoidc.MockUser{Subject: "sub-cto", Email: contact, EmailVerified: true})
	ctx := MustBrowser(t)
	MustEnterEmail(t, ctx, st.PortalURL, contact, "#whoami")
	maybeScreenshot(t, ctx, "sso-dashboard")
	if who := MustRun(t, ctx, chromedp.Text(chromedp.CSS("#whoami"))); who != contact {
		t.Errorf("signed in as %q, want %q", who, contact)
	}
	if card := MustRun(t, ctx, chromedp.Text(chromedp.CSS(".org"))); !strings.Contains(card, "SSO Corp") || !strings.Contains(card, "owner") {
		t.Errorf("dashboard card = %q, want SSO Corp as owner", card)
	}
	var got onramp.Organization
	deadline := time.Now().Add(10 * time.Second)
	for got.Status != onramp.OrgActive && time.Now().Before(deadline) {
		MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners/"+org.ID, nil, http.StatusOK, &got, "Authorization", "Bearer "+MustAdminToken(t, st))
		time.Sleep(100 * time.Millisecond)
	}
	if got.Status != onramp.OrgActive {
		t.Errorf("after the first SSO sign-in the organisation is %q, want active", got.Status)
	}

	// Someone from the same domain who was not invited is refused, with a clear message.
	idp.QueueUser(&mockoidc.MockUser{Subject: "sub-stranger", Email: "stranger@" + domain, EmailVerified: true})
	ctx2 := MustBrowser(t)
	MustEnterEmail(t, ctx2, st.PortalURL, "stranger@"+domain, ".error")
	maybeScreenshot(t, ctx2, "sso-refused")
	if msg := MustRun(t, ctx2, chromedp.Text(chromedp.CSS(".error"))); !strings.Contains(msg, "not invited") {
		t.Errorf("refusal = %q, want it to say the address is not invited", msg)
	}

	// SSO addresses cannot use e-mail codes through the API: the answer says where to sign in.
	var p problem.Problem
	MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login", map[string]string{"email": contact}, http.StatusConflict, &p)
	if !strings.Contains(p.Detail, "single sign-on") {
		t.Errorf("API answer for an SSO address = %q", p.Detail)
	}
}

func TestE2EIdentitySSODomainSignupWhenAllowed(t *testing.T) {
	st := MustSharedStack(t)
	idp := MustOpenIDProvider(t)
	domain := fmt.Sprintf("openco%d.example", time.Now().UnixNano())
	MustInviteSSOPartner(t, st, idp, "Open Co", "lead@"+domain, domain, true)

	colleague := "engineer@" + domain
	idp.QueueUser(&mockoidc.MockUser{Subject: "sub-eng", Email: colleague, EmailVerified: true})
	ctx := MustBrowser(t)
	MustEnterEmail(t, ctx, st.PortalURL, colleague, "#whoami")
	if card := MustRun(t, ctx, chromedp.Text(chromedp.CSS(".org"))); !strings.Contains(card, "Open Co") || !strings.Contains(card, "developer") {
		t.Errorf("dashboard card = %q, want Open Co as developer", card)
	}
}

func TestE2EIdentitySSOConfigValidated(t *testing.T) {
	st := MustSharedStack(t)
	var p problem.Problem
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/partners", map[string]any{
		"name": "Bad SSO", "contact_email": "a@bad.example", "tier": "standard",
		"sso": map[string]any{"issuer": "not a url", "client_id": "x", "client_secret": "y", "domains": []string{"bad.example"}},
	}, http.StatusBadRequest, &p, "Authorization", "Bearer "+MustAdminToken(t, st))
	if !strings.Contains(p.Detail, "sso.issuer") {
		t.Errorf("detail = %q, want it to name sso.issuer", p.Detail)
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/partners", map[string]any{
		"name": "Bad SSO", "contact_email": "a@bad.example", "tier": "standard",
		"sso": map[string]any{"issuer": "https://idp.bad.example", "client_id": "x", "client_secret": "y", "domains": []string{"not a domain"}},
	}, http.StatusBadRequest, &p, "Authorization", "Bearer "+MustAdminToken(t, st))
	if !strings.Contains(p.Detail, "sso.domains") {
		t.Errorf("detail = %q, want it to name sso.domains", p.Detail)
	}
}

func TestE2EIdentityBrowserAdminInvitesWithSSO(t *testing.T) {
	st := MustSharedStack(t)
	idp := MustOpenIDProvider(t)
	domain := fmt.Sprintf("formsso%d.example", time.Now().UnixNano())
	ctx := MustBrowser(t)
	err := chromedp.Do(ctx,
		AdminSignIn(t, st),
		chromedp.SendKeys(chromedp.CSS(`#invite-form input[name="name"]`), "Form SSO Co"),
		chromedp.SendKeys(chromedp.CSS(`#invite-form input[name="contact_email"]`), "it@"+domain),
		chromedp.Click(chromedp.CSS(`details.sso summary`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="sso_issuer"]`), idp.Issuer()),
		chromedp.SendKeys(chromedp.CSS(`input[name="sso_client_id"]`), idp.ClientID),
		chromedp.SendKeys(chromedp.CSS(`input[name="sso_client_secret"]`), idp.ClientSecret),
		chromedp.SendKeys(chromedp.CSS(`input[name="sso_domains"]`), domain),
		chromedp.Click(chromedp.CSS(`#invite-form > button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatalf("inviting with SSO from the form: %v", err)
	}
	var list struct {
		Partners []onramp.Organization `json:"partners"`
	}
	MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners", nil, http.StatusOK, &list, "Authorization", "Bearer "+MustAdminToken(t, st))
	for _, o := range list.Partners {
		if o.ContactEmail == "it@"+domain {
			if o.SSO == nil || o.SSO.Issuer != idp.Issuer() || len(o.SSO.Domains) != 1 || o.SSO.ClientSecret != "" {
				t.Errorf("SSO = %+v, want the issuer and domain, and no secret in the API", o.SSO)
			}
			return
		}
	}
	t.Fatal("the partner invited from the form is not listed")
}
