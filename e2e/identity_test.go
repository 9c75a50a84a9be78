package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/workflows"
)

// MustAdminToken reads the dev admin token of st.
func MustAdminToken(tb testing.TB, st *stack.Stack) string {
	tb.Helper()
	b, err := os.ReadFile(st.AdminTokenPath)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// MustDo sends a JSON request and decodes a JSON answer into out (when not nil), checking status;
// the request and the answer must match api/openapi.yaml.
func MustDo(tb testing.TB, method, url string, body any, wantStatus int, out any, header ...string) http.Header {
	tb.Helper()
	return mustDo(tb, CheckAgainstSpec, method, url, body, wantStatus, out, header...)
}

// MustDoInvalid is MustDo for a request that breaks api/openapi.yaml on purpose (a missing
// credential, a field the document rules out); only the answer is held to the document.
func MustDoInvalid(tb testing.TB, method, url string, body any, wantStatus int, out any, header ...string) http.Header {
	tb.Helper()
	return mustDo(tb, CheckInvalidAgainstSpec, method, url, body, wantStatus, out, header...)
}

func mustDo(tb testing.TB, check func(testing.TB, *http.Request, []byte, int, http.Header, []byte), method, url string, body any, wantStatus int, out any, header ...string) http.Header {
	tb.Helper()
	var sent []byte
	if body != nil {
		sent, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(sent))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	check(tb, req, sent, resp.StatusCode, resp.Header, raw)
	if resp.StatusCode != wantStatus {
		tb.Fatalf("%s %s = %d, want %d; body %s", method, url, resp.StatusCode, wantStatus, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("%s %s: decoding %s: %v", method, url, raw, err)
		}
	}
	return resp.Header
}

// MustInvitePartner invites a fresh organisation on the standard plan through the admin API.
func MustInvitePartner(tb testing.TB, st *stack.Stack, name string) onramp.Organization {
	tb.Helper()
	return MustInvitePartnerOn(tb, st, name, "standard")
}

// MustInvitePartnerOn invites a fresh organisation on plan through the admin API and returns it.
func MustInvitePartnerOn(tb testing.TB, st *stack.Stack, name, plan string) onramp.Organization {
	tb.Helper()
	email := fmt.Sprintf("contact+%d@%s.example", time.Now().UnixNano(), strings.ToLower(strings.ReplaceAll(name, " ", "")))
	var org onramp.Organization
	MustDo(tb, "POST", st.PortalURL+"/admin/api/v1/partners", map[string]string{"name": name, "contact_email": email, "tier": plan},
		http.StatusCreated, &org, "Authorization", "Bearer "+MustAdminToken(tb, st))
	if org.ID == "" || org.Status != onramp.OrgInvited || org.ContactEmail != email {
		tb.Fatalf("invited organisation = %+v", org)
	}
	// Like the person, wait for the invitation: the workflow has created the identity by then.
	MustWaitForMail(tb, st.PortalURL, email, func(m mailMessage) bool { return strings.Contains(m.Subject, "invited") }, 10*time.Second)
	return org
}

// MustAPISignIn signs email in through /api/v1 with the code from the dev mailbox.
func MustAPISignIn(tb testing.TB, st *stack.Stack, email string) string {
	tb.Helper()
	seen := mailIDs(tb, st.PortalURL, email)
	var started struct {
		FlowID string `json:"flow_id"`
	}
	MustDo(tb, "POST", st.PortalURL+"/api/v1/auth/login", map[string]string{"email": email}, http.StatusAccepted, &started)
	code := MustWaitForMail(tb, st.PortalURL, email, func(m mailMessage) bool { return m.TemplateData["login_code"] != "" && !seen[m.ID] }, 15*time.Second).TemplateData["login_code"]
	var sess struct {
		SessionToken string `json:"session_token"`
		ExpiresAt    string `json:"expires_at"`
	}
	MustDo(tb, "POST", st.PortalURL+"/api/v1/auth/login/"+started.FlowID, map[string]string{"email": email, "code": code}, http.StatusOK, &sess)
	if sess.SessionToken == "" || sess.ExpiresAt == "" {
		tb.Fatalf("session = %+v", sess)
	}
	return sess.SessionToken
}

func TestE2EIdentityPartnerInvitationToFirstSignIn(t *testing.T) {
	st := MustSharedStack(t)
	admin := "Bearer " + MustAdminToken(t, st)
	org := MustInvitePartner(t, st, "Acme Payments")

	// The invitation e-mail links to the sign-in page with the address filled in.
	invite := MustWaitForMail(t, st.PortalURL, org.ContactEmail, func(m mailMessage) bool { return strings.Contains(m.Subject, "invited") }, 10*time.Second)
	var full struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	MustGetJSON(t, st.PortalURL+"/dev/mail.json?to="+strings.ReplaceAll(org.ContactEmail, "+", "%2B"), http.StatusOK, &full)
	if !strings.Contains(full.Messages[len(full.Messages)-1].Text, st.PortalURL+"/login?email=") {
		t.Errorf("invitation %q lacks the sign-in link", invite.Subject)
	}

	token := MustAPISignIn(t, st, org.ContactEmail)
	var me struct {
		Email       string `json:"email"`
		Memberships []struct {
			Organization onramp.Organization `json:"organization"`
			Role         string              `json:"role"`
		} `json:"memberships"`
	}
	MustDo(t, "GET", st.PortalURL+"/api/v1/me", nil, http.StatusOK, &me, "X-Session-Token", token)
	if me.Email != org.ContactEmail || len(me.Memberships) != 1 || me.Memberships[0].Role != onramp.RoleOwner || me.Memberships[0].Organization.ID != org.ID {
		t.Fatalf("me = %+v, want the contact as owner of %s", me, org.ID)
	}

	// The first sign-in completes the invitation workflow and activates the organisation.
	deadline := time.Now().Add(15 * time.Second)
	var got onramp.Organization
	for {
		MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners/"+org.ID, nil, http.StatusOK, &got, "Authorization", admin)
		if got.Status == onramp.OrgActive || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got.Status != onramp.OrgActive || got.FirstSignInAt == nil {
		t.Fatalf("organisation after first sign-in = %+v, want active with first_sign_in_at", got)
	}
	run := st.Temporal.GetWorkflow(t.Context(), workflows.PartnerInvitationID(org.ID), "")
	var state workflows.InvitationState
	if err := run.Get(t.Context(), &state); err != nil || state.Status != onramp.OrgActive || state.SandboxCredential == "" {
		t.Fatalf("workflow result = %+v, %v; want active with the first sandbox credential issued", state, err)
	}
	// partner_invitation_signed_in.json, recorded before the sandbox step, keeps replaying too.
	MustReplayLiveHistory(t, st.Temporal, workflows.PartnerInvitationID(org.ID), "partner_invitation_first_sandbox_key.json")

	// An active organisation cannot be re-invited; the contact's API session ends on sign-out.
	var p problem.Problem
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/resend", nil, http.StatusConflict, &p, "Authorization", admin)
	MustDo(t, "POST", st.PortalURL+"/api/v1/auth/logout", nil, http.StatusNoContent, nil, "Authorization", "Bearer "+token)
	MustDo(t, "GET", st.PortalURL+"/api/v1/me", nil, http.StatusUnauthorized, &p, "X-Session-Token", token)
}

func TestE2EIdentityAPISignInNeverRevealsWhoIsInvited(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Known Co")
	answer := func(email string) (int, string) {
		var body map[string]string
		MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login", map[string]string{"email": email}, http.StatusAccepted, &body)
		flow := body["flow_id"]
		return len(flow), strings.NewReplacer(email, "EMAIL", flow, "FLOW").Replace(body["detail"])
	}
	knownLen, known := answer(org.ContactEmail)
	unknownLen, unknown := answer(fmt.Sprintf("stranger+%d@nowhere.example", time.Now().UnixNano()))
	if known != unknown || knownLen != unknownLen {
		t.Errorf("answers differ:\nknown   %q\nunknown %q", known, unknown)
	}

	// A wrong code is refused with the same words, whoever asks.
	var started map[string]string
	MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login", map[string]string{"email": org.ContactEmail}, http.StatusAccepted, &started)
	var p problem.Problem
	MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login/"+started["flow_id"], map[string]string{"email": org.ContactEmail, "code": "000001"}, http.StatusUnauthorized, &p)
	if !strings.Contains(p.Detail, "wrong or has expired") {
		t.Errorf("wrong code detail = %q", p.Detail)
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login", map[string]string{"email": "not an address"}, http.StatusBadRequest, &p)
}

func TestE2EIdentitySignInIsRateLimited(t *testing.T) {
	st := MustSharedStack(t)
	email := fmt.Sprintf("flood+%d@nowhere.example", time.Now().UnixNano())
	var p problem.Problem
	for i := 0; i < 5; i++ {
		MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login", map[string]string{"email": email}, http.StatusAccepted, nil)
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login", map[string]string{"email": email}, http.StatusTooManyRequests, &p)
	if p.Type != problem.TypeBase+"rate-limited" || !strings.Contains(p.Detail, "try again in") {
		t.Errorf("problem = %+v, want rate-limited saying when to retry", p)
	}
}

func TestE2EIdentityAdminPartnerAPIValidates(t *testing.T) {
	st := MustSharedStack(t)
	admin := "Bearer " + MustAdminToken(t, st)
	var p problem.Problem
	MustDoInvalid(t, "POST", st.PortalURL+"/admin/api/v1/partners", map[string]string{"name": "X", "contact_email": "a@b.example", "tier": "standard"},
		http.StatusBadRequest, &p, "Authorization", admin)
	if !strings.Contains(p.Detail, "name") {
		t.Errorf("detail = %q, want it to name the field", p.Detail)
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/partners", map[string]string{"name": "Good Name", "contact_email": "a@b.example", "tier": "gold"},
		http.StatusBadRequest, &p, "Authorization", admin)
	if !strings.Contains(p.Detail, "standard") {
		t.Errorf("detail = %q, want it to list the tiers", p.Detail)
	}
	MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners/org_nope", nil, http.StatusNotFound, &p, "Authorization", admin)
	org := MustInvitePartner(t, st, "Members Co")
	var members struct {
		Members []onramp.Member `json:"members"`
	}
	MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/members", nil, http.StatusOK, &members, "Authorization", admin)
	if len(members.Members) != 1 || members.Members[0].Role != onramp.RoleOwner || members.Members[0].Email != org.ContactEmail {
		t.Errorf("members = %+v, want the contact as owner", members.Members)
	}
	MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners/org_nope/members", nil, http.StatusNotFound, &p, "Authorization", admin)
	var list struct {
		Partners []onramp.Organization `json:"partners"`
	}
	MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners", nil, http.StatusOK, &list, "Authorization", admin)
}

// mailIDs is the set of messages already in email's mailbox, so a test waits for a new one.
func mailIDs(tb testing.TB, portalURL, email string) map[string]bool {
	tb.Helper()
	var body struct {
		Messages []mailMessage `json:"messages"`
	}
	MustGetJSON(tb, portalURL+"/dev/mail.json?to="+strings.ReplaceAll(email, "+", "%2B"), http.StatusOK, &body)
	ids := map[string]bool{}
	for _, m := range body.Messages {
		ids[m.ID] = true
	}
	return ids
}
