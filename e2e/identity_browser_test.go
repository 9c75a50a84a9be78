package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onramp-dev/onramp/stack"
)

// A partner contact follows the invitation link, asks for a code, types it and lands on the
// dashboard of their organisation — all through Kratos's browser flow behind the portal.
func TestE2EIdentityBrowserSignInWithEmailCode(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Browser Bank")
	ctx := MustBrowser(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/login?email="+strings.ReplaceAll(org.ContactEmail, "+", "%2B")),
		chromedp.WaitVisible(chromedp.CSS("#email-form")),
	)
	if err != nil {
		t.Fatalf("opening the invitation link: %v", err)
	}
	maybeScreenshot(t, ctx, "signin-email")
	prefilled := MustRun(t, ctx, chromedp.Evaluate[string](`document.querySelector("#identifier").value`))
	if prefilled != org.ContactEmail {
		t.Errorf("e-mail field = %q, want the invited address %q filled in", prefilled, org.ContactEmail)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#email-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#code-form")),
	); err != nil {
		t.Fatalf("requesting a code: %v", err)
	}
	maybeScreenshot(t, ctx, "signin-code")
	code := MustWaitForMail(t, st.PortalURL, org.ContactEmail, func(m mailMessage) bool { return m.TemplateData["login_code"] != "" }, 15*time.Second).TemplateData["login_code"]
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`#code-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#whoami")),
	); err != nil {
		t.Fatalf("submitting the code: %v", err)
	}
	maybeScreenshot(t, ctx, "dashboard")
	url := MustRun(t, ctx, chromedp.Evaluate[string](`location.pathname`))
	who := MustRun(t, ctx, chromedp.Text(chromedp.CSS("#whoami")))
	orgCard := MustRun(t, ctx, chromedp.Text(chromedp.CSS(".org h2")))
	if url != "/dashboard" || who != org.ContactEmail || orgCard != org.Name {
		t.Errorf("landed on %s as %q seeing %q; want /dashboard as %s seeing %s", url, who, orgCard, org.ContactEmail, org.Name)
	}

	// Signing out ends the Kratos session: the dashboard sends the browser back to sign in.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#email-form")),
		chromedp.Navigate(st.PortalURL+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS("#email-form")),
	); err != nil {
		t.Fatalf("signing out: %v", err)
	}
}

// In the browser too, an address nobody invited gets exactly the page an invited one gets.
func TestE2EIdentityBrowserUnknownEmailLooksTheSame(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Known Browser Co")
	page := func(email string) string {
		ctx := MustBrowser(t)
		MustEnterEmail(t, ctx, st.PortalURL, email, "#code-form")
		text := MustRun(t, ctx, chromedp.Text(chromedp.CSS("main")))
		return strings.ReplaceAll(text, email, "EMAIL")
	}
	known := page(org.ContactEmail)
	unknown := page(fmt.Sprintf("stranger+%d@nowhere.example", time.Now().UnixNano()))
	if known != unknown {
		t.Errorf("pages differ:\nknown:   %q\nunknown: %q", known, unknown)
	}
}

// The provider's admin signs in with the admin token, invites a partner from the form, sees it
// listed as invited, and gets a clear error (and nothing stored) for bad input.
func TestE2EIdentityBrowserAdminInvitesPartner(t *testing.T) {
	st := MustSharedStack(t)
	ctx := MustBrowser(t)
	email := fmt.Sprintf("cto+%d@formco.example", time.Now().UnixNano())
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token"),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS(".error")),
		chromedp.SendKeys(chromedp.CSS("#token"), MustAdminToken(t, st)),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#invite-form")),
		// Too short a name: refused, with the reason, and the form keeps what was typed.
		chromedp.SendKeys(chromedp.CSS(`#invite-form input[name="name"]`), "F"),
		chromedp.SendKeys(chromedp.CSS(`#invite-form input[name="contact_email"]`), email),
	)
	if err != nil {
		t.Fatalf("admin sign-in: %v", err)
	}
	// Skip the browser's own check so the server's validation answers.
	MustRun(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#invite-form input[name="name"]').removeAttribute("minlength"), true`))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#invite-form button`)), chromedp.WaitVisible(chromedp.CSS(".error"))); err != nil {
		t.Fatalf("a refused invitation: %v", err)
	}
	if msg := MustRun(t, ctx, chromedp.Text(chromedp.CSS(".error"))); !strings.Contains(msg, "name") {
		t.Errorf("error = %q, want it to name the field", msg)
	}
	if kept := MustRun(t, ctx, chromedp.Evaluate[string](`document.querySelector('#invite-form input[name="contact_email"]').value`)); kept != email {
		t.Errorf("the form lost the e-mail typed: %q", kept)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#invite-form input[name="name"]`), "Form Co"),
		chromedp.Click(chromedp.CSS(`#invite-form button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatalf("inviting: %v", err)
	}
	maybeScreenshot(t, ctx, "admin-partners")
	row := MustRun(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("tbody tr")].map(r => r.innerText).find(t => t.includes("`+email+`")) || ""`))
	if !strings.Contains(row, "Form Co") || !strings.Contains(row, "invited") {
		t.Fatalf("partner row = %q, want Form Co listed as invited", row)
	}
	MustWaitForMail(t, st.PortalURL, email, func(m mailMessage) bool { return strings.Contains(m.Subject, "Form Co") }, 10*time.Second)

	// The partner's page shows where its onboarding stands.
	orgID := MustRun(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("tbody tr")].find(r => r.innerText.includes("`+email+`")).dataset.org`))
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr[data-org="`+orgID+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`section[aria-label="Onboarding"]`)),
	)
	if err != nil {
		t.Fatalf("opening the partner page: %v", err)
	}
	maybeScreenshot(t, ctx, "admin-partner")
	if got := MustRun(t, ctx, chromedp.Text(chromedp.CSS(".timeline"))); !strings.Contains(got, "Waiting for the first sign-in") {
		t.Errorf("timeline = %q", got)
	}
	if got := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`table[aria-label="Members"]`))); !strings.Contains(got, email) || !strings.Contains(got, "owner") {
		t.Errorf("members = %q, want the contact as owner", got)
	}

	// Re-send from the partner page: a second invitation e-mail arrives.
	seen := mailIDs(t, st.PortalURL, email)
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action$="/resend"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatalf("re-sending: %v", err)
	}
	MustWaitForMail(t, st.PortalURL, email, func(m mailMessage) bool { return !seen[m.ID] && strings.Contains(m.Subject, "Form Co") }, 10*time.Second)
}

// MustEnterEmail opens the sign-in page, submits email and waits until waitFor is visible (the
// code form, the dashboard after SSO, or an error).
func MustEnterEmail(tb testing.TB, ctx context.Context, portalURL, email, waitFor string) {
	tb.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(portalURL+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email-form")),
		chromedp.SendKeys(chromedp.CSS("#identifier"), email),
		chromedp.Click(chromedp.CSS(`#email-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(waitFor)),
	)
	if err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.body.innerText.slice(0, 300)`))
		tb.Fatalf("signing in as %s (waiting for %s): %v; page: %s", email, waitFor, err, page)
	}
}

// MustBrowserSignIn signs email in through the browser flow and waits for the dashboard.
func MustBrowserSignIn(tb testing.TB, st *stack.Stack, ctx context.Context, email string) {
	tb.Helper()
	seen := mailIDs(tb, st.PortalURL, email)
	MustEnterEmail(tb, ctx, st.PortalURL, email, "#code-form")
	code := MustWaitForMail(tb, st.PortalURL, email, func(m mailMessage) bool { return m.TemplateData["login_code"] != "" && !seen[m.ID] }, 15*time.Second).TemplateData["login_code"]
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`#code-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#whoami")),
	); err != nil {
		tb.Fatalf("submitting the code: %v", err)
	}
}

// The owner invites a colleague from the team page, then switches organisation (a consultant
// belongs to two) and sees the other team.
func TestE2EIdentityBrowserTeamPage(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Page Co")
	other := MustInvitePartner(t, st, "Second Co")
	otherToken := MustAPISignIn(t, st, other.ContactEmail)
	MustInviteMember(t, st, other.ID, otherToken, org.ContactEmail, "developer") // the Page Co owner consults for Second Co

	ctx := MustBrowser(t)
	MustBrowserSignIn(t, st, ctx, org.ContactEmail)
	colleague := fmt.Sprintf("colleague+%d@pageco.example", time.Now().UnixNano())
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/team?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS("#member-invite-form")),
		chromedp.SendKeys(chromedp.CSS(`#member-invite-form input[name="email"]`), colleague),
		chromedp.Click(chromedp.CSS(`#member-invite-form button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatalf("inviting from the team page: %v", err)
	}
	maybeScreenshot(t, ctx, "team")
	pending := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`li[data-invitation]`)))
	if !strings.Contains(pending, colleague) || !strings.Contains(pending, "developer") {
		t.Errorf("pending invitations = %q, want %s as developer", pending, colleague)
	}
	if audit := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`table[aria-label="Audit log"]`))); !strings.Contains(audit, "member.invited") {
		t.Errorf("audit log on the page = %q", audit)
	}

	// The organisation switcher lists both; switching shows the other team, where this person is
	// a developer and has no invite form.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#org"), other.ID),
		chromedp.Click(chromedp.CSS(`.switcher button`)),
	)
	if err == nil {
		err = waitForPage(ctx, func(search string) bool { return strings.Contains(search, other.ID) })
	}
	if err != nil {
		t.Fatalf("switching organisation: %v", err)
	}
	title := MustRun(t, ctx, chromedp.Text(chromedp.CSS("h1")))
	forms := MustRun(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#member-invite-form").length`))
	if !strings.Contains(title, "Second Co") || forms != 0 {
		t.Errorf("after switching: title %q, invite forms %d; want Second Co without an invite form", title, forms)
	}
}

// waitForPage waits until the current page's query string satisfies ok and the page has loaded;
// evaluation errors while the browser navigates are expected and retried.
func waitForPage(ctx context.Context, ok func(search string) bool) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		search, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" ? location.search : ""`))
		if err == nil && ok(search) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("page did not arrive (last query %q, error %v)", search, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
