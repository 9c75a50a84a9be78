package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/workflows"
)

type teamMember struct {
	IdentityID string `json:"identity_id"`
	Email      string `json:"email"`
	Role       string `json:"role"`
}

func mustMembers(tb testing.TB, st *stack.Stack, orgID, token string) map[string]teamMember {
	tb.Helper()
	var body struct {
		Members []teamMember `json:"members"`
	}
	MustDo(tb, "GET", st.PortalURL+"/api/v1/orgs/"+orgID+"/members", nil, http.StatusOK, &body, "X-Session-Token", token)
	out := map[string]teamMember{}
	for _, m := range body.Members {
		out[m.Email] = m
	}
	return out
}

// MustInviteMember has token's holder invite email into orgID with role, and returns the invitation.
func MustInviteMember(tb testing.TB, st *stack.Stack, orgID, token, email, role string) onramp.MemberInvitation {
	tb.Helper()
	var inv onramp.MemberInvitation
	seen := mailIDs(tb, st.PortalURL, email)
	MustDo(tb, "POST", st.PortalURL+"/api/v1/orgs/"+orgID+"/invitations", map[string]string{"email": email, "role": role},
		http.StatusCreated, &inv, "X-Session-Token", token)
	// This invitation's own e-mail, not an earlier one's: the workflow has prepared the invitee's
	// identity by then (a sign-in racing its re-activation, the likely cause of a flake, got no code).
	MustWaitForMail(tb, st.PortalURL, email, func(m mailMessage) bool { return strings.Contains(m.Subject, "invited you") && !seen[m.ID] }, 10*time.Second)
	return inv
}

func TestE2EIdentityTeamLifecycle(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Team Co")
	owner := MustAPISignIn(t, st, org.ContactEmail)
	base := st.PortalURL + "/api/v1/orgs/" + org.ID
	n := time.Now().UnixNano()
	devEmail, viewerEmail := fmt.Sprintf("dev+%d@teamco.example", n), fmt.Sprintf("viewer+%d@teamco.example", n)

	// The owner invites a developer; a second invitation for the same person is refused.
	inv := MustInviteMember(t, st, org.ID, owner, devEmail, onramp.RoleDeveloper)
	var p problem.Problem
	MustDo(t, "POST", base+"/invitations", map[string]string{"email": devEmail, "role": "viewer"}, http.StatusConflict, &p, "X-Session-Token", owner)
	MustDoInvalid(t, "POST", base+"/invitations", map[string]string{"email": "x@teamco.example", "role": "owner"}, http.StatusBadRequest, &p, "X-Session-Token", owner)

	// The developer signs in and is a member; the invitation workflow completes as accepted.
	dev := MustAPISignIn(t, st, devEmail)
	if got := mustMembers(t, st, org.ID, dev)[devEmail]; got.Role != onramp.RoleDeveloper {
		t.Fatalf("developer membership = %+v", got)
	}
	var state workflows.InvitationState
	if err := st.Temporal.GetWorkflow(t.Context(), workflows.MemberInvitationID(inv.ID), "").Get(t.Context(), &state); err != nil || state.Status != onramp.InvitationAccepted {
		t.Fatalf("member invitation result = %+v, %v; want accepted", state, err)
	}
	MustReplayLiveHistory(t, st.Temporal, workflows.MemberInvitationID(inv.ID), "member_invitation_accepted.json")

	// A viewer may not invite, and a developer may not read the audit log: 403 with the reason.
	MustInviteMember(t, st, org.ID, owner, viewerEmail, onramp.RoleViewer)
	viewer := MustAPISignIn(t, st, viewerEmail)
	MustDo(t, "POST", base+"/invitations", map[string]string{"email": "y@teamco.example", "role": "viewer"}, http.StatusForbidden, &p, "X-Session-Token", viewer)
	if !strings.Contains(p.Detail, "viewer may not member.invite") {
		t.Errorf("viewer invite refusal = %q", p.Detail)
	}
	MustDo(t, "GET", base+"/audit", nil, http.StatusForbidden, &p, "X-Session-Token", dev)
	// Someone outside the organisation cannot even see it exists.
	outsider := MustInvitePartner(t, st, "Other Co")
	outsiderToken := MustAPISignIn(t, st, outsider.ContactEmail)
	MustDo(t, "GET", base+"/members", nil, http.StatusNotFound, &p, "X-Session-Token", outsiderToken)

	// The developer created a sandbox key for the organisation before leaving.
	var created struct {
		Key string `json:"key"`
	}
	MustDo(t, "POST", base+"/credentials", map[string]any{"environment": "sandbox", "label": "dev's key"}, http.StatusCreated, &created, "X-Session-Token", dev)

	// The owner removes the developer: their session is rejected at once.
	members := mustMembers(t, st, org.ID, owner)
	MustDo(t, "DELETE", base+"/members/"+members[devEmail].IdentityID, nil, http.StatusNoContent, nil, "X-Session-Token", owner)
	MustDo(t, "GET", st.PortalURL+"/api/v1/me", nil, http.StatusUnauthorized, &p, "X-Session-Token", dev)
	if _, still := mustMembers(t, st, org.ID, owner)[devEmail]; still {
		t.Error("the removed developer is still listed")
	}
	// Credentials belong to the organisation: the key the developer created keeps working.
	if status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/accounts/v1/accounts", created.Key, ""); status != http.StatusOK {
		t.Errorf("the organisation's key created by a removed member answers %d %s, want 200", status, body)
	}
	// Their sign-in is disabled too (they belong nowhere else): a fresh code does not let them in.
	codesBefore := mailIDs(t, st.PortalURL, devEmail)
	var started map[string]string
	MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login", map[string]string{"email": devEmail}, http.StatusAccepted, &started)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		var box struct {
			Messages []mailMessage `json:"messages"`
		}
		MustGetJSON(t, st.PortalURL+"/dev/mail.json?to="+strings.ReplaceAll(devEmail, "+", "%2B"), http.StatusOK, &box)
		if len(box.Messages) > 0 && !codesBefore[box.Messages[0].ID] && box.Messages[0].TemplateData["login_code"] != "" {
			MustDo(t, "POST", st.PortalURL+"/api/v1/auth/login/"+started["flow_id"], map[string]string{"email": devEmail, "code": box.Messages[0].TemplateData["login_code"]},
				http.StatusUnauthorized, &p)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The organisation and everyone else are unaffected.
	var stored onramp.Organization
	MustDo(t, "GET", st.PortalURL+"/admin/api/v1/partners/"+org.ID, nil, http.StatusOK, &stored, "Authorization", "Bearer "+MustAdminToken(t, st))
	if stored.Status != onramp.OrgActive || stored.FirstSignInAt == nil {
		t.Errorf("organisation after a removal = %+v, want still active", stored)
	}
	if got := mustMembers(t, st, org.ID, viewer)[viewerEmail]; got.Role != onramp.RoleViewer {
		t.Errorf("the viewer's access after the removal = %+v", got)
	}

	// The last owner can neither leave nor be demoted; ownership moves by transfer.
	ownerID := members[org.ContactEmail].IdentityID
	MustDo(t, "DELETE", base+"/members/"+ownerID, nil, http.StatusConflict, &p, "X-Session-Token", owner)
	MustDo(t, "PATCH", base+"/members/"+ownerID, map[string]string{"role": "admin"}, http.StatusConflict, &p, "X-Session-Token", owner)
	MustDo(t, "POST", base+"/transfer-ownership", map[string]string{"identity_id": members[viewerEmail].IdentityID}, http.StatusNoContent, nil, "X-Session-Token", owner)
	after := mustMembers(t, st, org.ID, owner)
	if after[viewerEmail].Role != onramp.RoleOwner || after[org.ContactEmail].Role != onramp.RoleAdmin {
		t.Errorf("after transfer: %+v", after)
	}
	// The former owner, now admin, may not remove the new owner.
	MustDo(t, "DELETE", base+"/members/"+members[viewerEmail].IdentityID, nil, http.StatusForbidden, &p, "X-Session-Token", owner)

	// Every change is in the audit log.
	var audit struct {
		Events []onramp.AuditEvent `json:"events"`
	}
	MustDo(t, "GET", base+"/audit", nil, http.StatusOK, &audit, "X-Session-Token", owner)
	seen := map[string]bool{}
	for _, e := range audit.Events {
		seen[e.Action+" "+e.Target] = true
	}
	for _, want := range []string{"member.invited " + devEmail, "member.joined " + devEmail, "member.removed " + devEmail,
		"member.invited " + viewerEmail, "ownership.transferred " + viewerEmail} {
		if !seen[want] {
			t.Errorf("audit log lacks %q (has %v)", want, seen)
		}
	}
}

func TestE2EIdentityConsultantInTwoOrganisations(t *testing.T) {
	st := MustSharedStack(t)
	a, b := MustInvitePartner(t, st, "Alpha Co"), MustInvitePartner(t, st, "Beta Co")
	ta, tb := MustAPISignIn(t, st, a.ContactEmail), MustAPISignIn(t, st, b.ContactEmail)
	consultant := fmt.Sprintf("consultant+%d@agency.example", time.Now().UnixNano())
	MustInviteMember(t, st, a.ID, ta, consultant, onramp.RoleDeveloper)
	MustInviteMember(t, st, b.ID, tb, consultant, onramp.RoleAdmin)
	token := MustAPISignIn(t, st, consultant)
	var me struct {
		Memberships []struct {
			Organization onramp.Organization `json:"organization"`
			Role         string              `json:"role"`
		} `json:"memberships"`
	}
	MustDo(t, "GET", st.PortalURL+"/api/v1/me", nil, http.StatusOK, &me, "X-Session-Token", token)
	roles := map[string]string{}
	for _, m := range me.Memberships {
		roles[m.Organization.ID] = m.Role
	}
	if roles[a.ID] != onramp.RoleDeveloper || roles[b.ID] != onramp.RoleAdmin {
		t.Fatalf("memberships = %v, want developer in %s and admin in %s", roles, a.ID, b.ID)
	}

	// Removed from one organisation, the consultant's access to the other stays (after signing in
	// again: removal ends all their sessions at once).
	id := mustMembers(t, st, a.ID, ta)[consultant].IdentityID
	MustDo(t, "DELETE", st.PortalURL+"/api/v1/orgs/"+a.ID+"/members/"+id, nil, http.StatusNoContent, nil, "X-Session-Token", ta)
	token = MustAPISignIn(t, st, consultant)
	MustDo(t, "GET", st.PortalURL+"/api/v1/orgs/"+b.ID+"/members", nil, http.StatusOK, nil, "X-Session-Token", token)
	MustDo(t, "GET", st.PortalURL+"/api/v1/orgs/"+a.ID+"/members", nil, http.StatusNotFound, nil, "X-Session-Token", token)
}
