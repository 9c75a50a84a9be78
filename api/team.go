package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/policies"
)

// Team management, shared by /api/v1/orgs/{org}/… and the /team page. Every action is decided by
// policies/members from the actor's role (and the target's), and written to the audit log.

// authorize returns the actor's membership of orgID when policies/members allows action.
// ENOTFOUND when the actor is not a member (an organisation you are not in does not exist for
// you), EFORBIDDEN with the policy's reasons otherwise.
func (s *Server) authorize(ctx context.Context, p Principal, orgID, action string, extra map[string]any) (Membership, error) {
	var m Membership
	found := false
	for _, x := range p.Memberships {
		if x.Organization.ID == orgID {
			m, found = x, true
		}
	}
	if !found {
		return m, notYourOrg(orgID)
	}
	input := map[string]any{"role": m.Role, "action": action}
	for k, v := range extra {
		input[k] = v
	}
	d, err := s.cfg.Policy.Decide(ctx, policies.Members, input)
	if err != nil {
		return m, err
	}
	if !d.Allow {
		return m, onramp.Errorf(onramp.EFORBIDDEN, "%s", strings.Join(d.Reasons, "; "))
	}
	return m, nil
}

// notYourOrg is how an organisation the caller is not in answers: as one that does not exist.
func notYourOrg(orgID string) error {
	return onramp.Errorf(onramp.ENOTFOUND, "no organisation %q among yours", orgID)
}

func (s *Server) audit(ctx context.Context, orgID, actor, action, target, detail string) {
	e := onramp.AuditEvent{OrgID: orgID, Actor: actor, Action: action, Target: target, Detail: detail, At: s.cfg.Now()}
	if err := s.cfg.Team.AppendAudit(ctx, e); err != nil {
		s.log.Error("audit", "organization", orgID, "action", action, "error", err)
	}
}

func newInvitationID() string { return onramp.NewID("inv") }

// inviteMember records a pending invitation and starts its workflow; ECONFLICT when the person is
// already a member or already invited.
func (s *Server) inviteMember(ctx context.Context, p Principal, orgID, email, role string) (onramp.MemberInvitation, error) {
	m, err := s.authorize(ctx, p, orgID, "member.invite", nil)
	if err != nil {
		return onramp.MemberInvitation{}, err
	}
	inv := onramp.MemberInvitation{ID: newInvitationID(), OrgID: orgID, Email: email, Role: role, InvitedBy: p.Session.Email,
		Status: onramp.InvitationPending, CreatedAt: s.cfg.Now()}
	if err := inv.Validate(); err != nil {
		return inv, err
	}
	members, err := s.cfg.Team.MembersOf(ctx, orgID)
	if err != nil {
		return inv, err
	}
	for _, x := range members {
		if x.Email == inv.Email {
			return inv, onramp.Errorf(onramp.ECONFLICT, "%s is already a member (%s)", inv.Email, x.Role)
		}
	}
	pending, err := s.cfg.Team.PendingInvitationsFor(ctx, inv.Email)
	if err != nil {
		return inv, err
	}
	for _, x := range pending {
		if x.OrgID == orgID {
			return inv, onramp.Errorf(onramp.ECONFLICT, "%s is already invited; re-send that invitation instead", inv.Email)
		}
	}
	if inv.IdentityID, err = s.cfg.TeamService.Invitee(ctx, inv.Email); err != nil {
		return inv, err
	}
	if err := s.cfg.Team.SaveInvitation(ctx, inv); err != nil {
		return inv, err
	}
	if err := s.cfg.MemberInvitations.InviteMember(ctx, inv, m.Organization.Name); err != nil {
		_ = s.cfg.Team.SetInvitationStatus(context.WithoutCancel(ctx), inv.ID, onramp.InvitationCancelled)
		return inv, err
	}
	s.audit(ctx, orgID, p.Session.Email, "member.invited", inv.Email, "role "+role)
	return inv, nil
}

// invitationOf returns an invitation of orgID; ENOTFOUND for another organisation's.
func (s *Server) invitationOf(ctx context.Context, orgID, id string) (onramp.MemberInvitation, error) {
	inv, err := s.cfg.Team.FindInvitation(ctx, id)
	return onramp.Owned(inv, err, func(i onramp.MemberInvitation) string { return i.OrgID }, orgID, "invitation", id)
}

func (s *Server) cancelInvitation(ctx context.Context, p Principal, orgID, id string) error {
	if _, err := s.authorize(ctx, p, orgID, "member.invite", nil); err != nil {
		return err
	}
	inv, err := s.invitationOf(ctx, orgID, id)
	if err != nil {
		return err
	}
	if err := s.cfg.MemberInvitations.CancelMemberInvitation(ctx, inv); err != nil {
		return err
	}
	if err := s.cfg.Team.SetInvitationStatus(ctx, id, onramp.InvitationCancelled); err != nil {
		return err
	}
	s.audit(ctx, orgID, p.Session.Email, "invitation.cancelled", inv.Email, "")
	return nil
}

func (s *Server) resendMemberInvitation(ctx context.Context, p Principal, orgID, id string) error {
	if _, err := s.authorize(ctx, p, orgID, "member.invite", nil); err != nil {
		return err
	}
	inv, err := s.invitationOf(ctx, orgID, id)
	if err != nil {
		return err
	}
	if err := s.cfg.MemberInvitations.ResendMemberInvitation(ctx, inv); err != nil {
		return err
	}
	s.audit(ctx, orgID, p.Session.Email, "invitation.resent", inv.Email, "")
	return nil
}

// memberOf finds the member of orgID with identityID; ENOTFOUND otherwise.
func (s *Server) memberOf(ctx context.Context, orgID, identityID string) (onramp.Member, []onramp.Member, error) {
	all, err := s.cfg.Team.MembersOf(ctx, orgID)
	if err != nil {
		return onramp.Member{}, nil, err
	}
	for _, m := range all {
		if m.IdentityID == identityID {
			return m, all, nil
		}
	}
	return onramp.Member{}, all, onramp.Errorf(onramp.ENOTFOUND, "no member %q in your organisation", identityID)
}

func owners(all []onramp.Member) int {
	n := 0
	for _, m := range all {
		if m.Role == onramp.RoleOwner {
			n++
		}
	}
	return n
}

func (s *Server) changeRole(ctx context.Context, p Principal, orgID, identityID, role string) error {
	if !p.memberOf(orgID) {
		return notYourOrg(orgID) // before anything of the organisation is read
	}
	target, all, err := s.memberOf(ctx, orgID, identityID)
	if err != nil {
		return err
	}
	if _, err := s.authorize(ctx, p, orgID, "member.role.change", map[string]any{"target_role": target.Role, "new_role": role}); err != nil {
		return err
	}
	if role != onramp.RoleAdmin && role != onramp.RoleDeveloper && role != onramp.RoleViewer {
		return onramp.Errorf(onramp.EINVALID, "role %q is unknown; use admin, developer or viewer", role)
	}
	if target.Role == onramp.RoleOwner && owners(all) == 1 {
		return onramp.Errorf(onramp.ECONFLICT, "%s is the only owner; transfer ownership first", target.Email)
	}
	if err := s.cfg.Team.SetMemberRole(ctx, target.ID, role); err != nil {
		return err
	}
	s.audit(ctx, orgID, p.Session.Email, "member.role.changed", target.Email, target.Role+" → "+role)
	return nil
}

// removeMember ends a membership at once: the person's sessions are revoked (and their sign-in
// disabled when they belong nowhere else), and invitations they sent that are still pending are
// cancelled. The organisation's credentials are not touched.
func (s *Server) removeMember(ctx context.Context, p Principal, orgID, identityID string) error {
	if !p.memberOf(orgID) {
		return notYourOrg(orgID) // before anything of the organisation is read
	}
	target, all, err := s.memberOf(ctx, orgID, identityID)
	if err != nil {
		return err
	}
	if _, err := s.authorize(ctx, p, orgID, "member.remove", map[string]any{"target_role": target.Role}); err != nil {
		return err
	}
	if target.Role == onramp.RoleOwner && owners(all) == 1 {
		return onramp.Errorf(onramp.ECONFLICT, "%s is the only owner; transfer ownership before removing them", target.Email)
	}
	// Every effect comes before the delete, so a removal that fails half-way can simply be retried.
	rest, err := s.cfg.Members.MembershipsOf(ctx, target.IdentityID)
	if err != nil {
		return err
	}
	if err := s.cfg.Sessions.RevokeSessions(ctx, target.IdentityID); err != nil {
		return err
	}
	if len(rest) <= 1 { // this organisation is their only one
		if err := s.cfg.Sessions.SetIdentityActive(ctx, target.IdentityID, false); err != nil {
			return err
		}
	}
	invs, err := s.cfg.Team.Invitations(ctx, orgID)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if inv.Status == onramp.InvitationPending && inv.InvitedBy == target.Email {
			if err := s.cfg.MemberInvitations.CancelMemberInvitation(ctx, inv); err != nil && onramp.ErrorCode(err) != onramp.ECONFLICT {
				return err
			}
			if err := s.cfg.Team.SetInvitationStatus(ctx, inv.ID, onramp.InvitationCancelled); err != nil && onramp.ErrorCode(err) != onramp.ECONFLICT {
				return err
			}
		}
	}
	if err := s.cfg.Team.DeleteMember(ctx, target.ID); err != nil {
		return err
	}
	s.audit(ctx, orgID, p.Session.Email, "member.removed", target.Email, "was "+target.Role)
	return nil
}

// transferOwnership makes another member owner and the current owner an admin.
func (s *Server) transferOwnership(ctx context.Context, p Principal, orgID, identityID string) error {
	if _, err := s.authorize(ctx, p, orgID, "ownership.transfer", nil); err != nil {
		return err
	}
	if identityID == p.Session.IdentityID {
		return onramp.Errorf(onramp.EINVALID, "you already own this organisation; choose another member")
	}
	target, _, err := s.memberOf(ctx, orgID, identityID)
	if err != nil {
		return err
	}
	if err := s.cfg.Team.SetMemberRole(ctx, target.ID, onramp.RoleOwner); err != nil {
		return err
	}
	if err := s.cfg.Team.SetMemberRole(ctx, onramp.MemberID(orgID, p.Session.IdentityID), onramp.RoleAdmin); err != nil {
		return err
	}
	s.audit(ctx, orgID, p.Session.Email, "ownership.transferred", target.Email, "previous owner is now admin")
	return nil
}

// /api/v1/orgs/{org}/… handlers.

func (s *Server) apiMembers(c *gin.Context) {
	if _, err := s.authorize(c.Request.Context(), principal(c), c.Param("org"), "team.view", nil); err != nil {
		s.fail(c, err)
		return
	}
	ms, err := s.cfg.Team.MembersOf(c.Request.Context(), c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"members": ms})
}

func (s *Server) apiInvitations(c *gin.Context) {
	if _, err := s.authorize(c.Request.Context(), principal(c), c.Param("org"), "team.view", nil); err != nil {
		s.fail(c, err)
		return
	}
	invs, err := s.cfg.Team.Invitations(c.Request.Context(), c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"invitations": invs})
}

func (s *Server) apiInviteMember(c *gin.Context) {
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"email": "…", "role": "developer"}: %v`, err))
		return
	}
	inv, err := s.inviteMember(c.Request.Context(), principal(c), c.Param("org"), in.Email, in.Role)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, inv)
}

func (s *Server) apiCancelInvitation(c *gin.Context) {
	s.noContent(c, s.cancelInvitation(c.Request.Context(), principal(c), c.Param("org"), c.Param("id")))
}

func (s *Server) apiResendMemberInvitation(c *gin.Context) {
	s.noContent(c, s.resendMemberInvitation(c.Request.Context(), principal(c), c.Param("org"), c.Param("id")))
}

func (s *Server) apiChangeRole(c *gin.Context) {
	var in struct {
		Role string `json:"role"`
	}
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"role": "developer"}: %v`, err))
		return
	}
	s.noContent(c, s.changeRole(c.Request.Context(), principal(c), c.Param("org"), c.Param("identity"), in.Role))
}

func (s *Server) apiRemoveMember(c *gin.Context) {
	s.noContent(c, s.removeMember(c.Request.Context(), principal(c), c.Param("org"), c.Param("identity")))
}

func (s *Server) apiTransferOwnership(c *gin.Context) {
	var in struct {
		IdentityID string `json:"identity_id"`
	}
	if err := c.ShouldBindJSON(&in); err != nil || in.IdentityID == "" {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"identity_id": "…"} of the member who becomes owner`))
		return
	}
	s.noContent(c, s.transferOwnership(c.Request.Context(), principal(c), c.Param("org"), in.IdentityID))
}

func (s *Server) apiAudit(c *gin.Context) {
	if _, err := s.authorize(c.Request.Context(), principal(c), c.Param("org"), "audit.view", nil); err != nil {
		s.fail(c, err)
		return
	}
	events, err := s.cfg.Team.Audit(c.Request.Context(), c.Param("org"), 200)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"events": events})
}

func (s *Server) noContent(c *gin.Context, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
