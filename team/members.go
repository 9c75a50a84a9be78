package team

import (
	"context"

	"github.com/onramp-dev/onramp"
)

// View is an organisation's team as a member sees it: who belongs, who is invited, what they may
// do about it, and (for those who may read it) the audit log — a page of each.
type View struct {
	Membership  onramp.Membership
	Members     onramp.Page[onramp.Member]
	Invitations onramp.Page[onramp.MemberInvitation] // the pending ones
	Audit       onramp.Page[onramp.AuditEvent]       // empty unless the member may read it
	CanManage   bool                                 // invite, cancel, change roles, remove
	CanTransfer bool
}

// Pages says which page of each of the team's lists to show.
type Pages struct {
	Members, Invitations, Audit onramp.PageRequest
}

// Team returns the organisation's team for a. ENOTFOUND when a is not a member, EINVALID for a
// bad page.
func (s *Service) Team(ctx context.Context, a onramp.Actor, orgID string, p Pages) (View, error) {
	m, err := s.authorize(ctx, a, orgID, onramp.ActionTeamView, onramp.Target{})
	if err != nil {
		return View{}, err
	}
	for _, r := range []*onramp.PageRequest{&p.Members, &p.Invitations, &p.Audit} {
		if err := r.Validate(); err != nil {
			return View{}, err
		}
	}
	v := View{Membership: m, CanManage: s.may(ctx, a, orgID, onramp.ActionMemberInvite), CanTransfer: s.may(ctx, a, orgID, onramp.ActionOwnershipTransfer),
		Audit: onramp.Page[onramp.AuditEvent]{Items: []onramp.AuditEvent{}}}
	if v.Members, err = s.cfg.Team.MemberPage(ctx, orgID, p.Members); err != nil {
		return v, err
	}
	if v.Invitations, err = s.cfg.Team.InvitationPage(ctx, orgID, onramp.InvitationPending, p.Invitations); err != nil {
		return v, err
	}
	if s.may(ctx, a, orgID, onramp.ActionAuditView) {
		v.Audit, err = s.cfg.Team.Audit(ctx, orgID, p.Audit)
	}
	return v, err
}

// Members returns a page of the organisation's members, longest-standing first; ENOTFOUND when a
// is not one of them, EINVALID for a bad page.
func (s *Service) Members(ctx context.Context, a onramp.Actor, orgID string, page onramp.PageRequest) (onramp.Page[onramp.Member], error) {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionTeamView, onramp.Target{}); err != nil {
		return onramp.Page[onramp.Member]{}, err
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Member]{}, err
	}
	return s.cfg.Team.MemberPage(ctx, orgID, page)
}

// Invitations returns a page of every invitation of the organisation, newest first.
func (s *Service) Invitations(ctx context.Context, a onramp.Actor, orgID string, page onramp.PageRequest) (onramp.Page[onramp.MemberInvitation], error) {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionTeamView, onramp.Target{}); err != nil {
		return onramp.Page[onramp.MemberInvitation]{}, err
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.MemberInvitation]{}, err
	}
	return s.cfg.Team.InvitationPage(ctx, orgID, "", page)
}

// Audit returns a page of the organisation's audit log, newest first; EFORBIDDEN for roles that
// may not read it.
func (s *Service) Audit(ctx context.Context, a onramp.Actor, orgID string, page onramp.PageRequest) (onramp.Page[onramp.AuditEvent], error) {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionAuditView, onramp.Target{}); err != nil {
		return onramp.Page[onramp.AuditEvent]{}, err
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.AuditEvent]{}, err
	}
	return s.cfg.Team.Audit(ctx, orgID, page)
}

// Invite records a pending invitation bound to the invitee's identity and starts its workflow.
// EINVALID for a bad address or role; ECONFLICT when the person is already a member or invited.
func (s *Service) Invite(ctx context.Context, a onramp.Actor, orgID, email, role string) (onramp.MemberInvitation, error) {
	m, err := s.authorize(ctx, a, orgID, onramp.ActionMemberInvite, onramp.Target{})
	if err != nil {
		return onramp.MemberInvitation{}, err
	}
	inv := onramp.MemberInvitation{ID: onramp.NewID("inv"), OrgID: orgID, Email: email, Role: role, InvitedBy: a.Email,
		Status: onramp.InvitationPending, CreatedAt: s.cfg.Now()}
	if err := inv.Validate(); err != nil {
		return inv, err
	}
	if err := s.notYetIn(ctx, orgID, inv.Email); err != nil {
		return inv, err
	}
	if inv.IdentityID, err = s.Invitee(ctx, inv.Email); err != nil {
		return inv, err
	}
	if err := s.cfg.Team.SaveInvitation(ctx, inv); err != nil {
		return inv, err
	}
	if err := s.cfg.MemberInvitations.InviteMember(ctx, inv, m.Organization.Name); err != nil {
		_ = s.cfg.Team.SetInvitationStatus(context.WithoutCancel(ctx), inv.ID, onramp.InvitationCancelled)
		return inv, err
	}
	s.audit.Record(ctx, orgID, a.Email, "member.invited", inv.Email, "role "+role)
	return inv, nil
}

// notYetIn returns ECONFLICT when email is already a member of orgID or invited to it.
func (s *Service) notYetIn(ctx context.Context, orgID, email string) error {
	members, err := s.cfg.Team.MembersOf(ctx, orgID)
	if err != nil {
		return err
	}
	for _, x := range members {
		if x.Email == email {
			return onramp.Errorf(onramp.ECONFLICT, "%s is already a member (%s)", email, x.Role)
		}
	}
	pending, err := s.cfg.Team.PendingInvitationsFor(ctx, email)
	if err != nil {
		return err
	}
	for _, x := range pending {
		if x.OrgID == orgID {
			return onramp.Errorf(onramp.ECONFLICT, "%s is already invited; re-send that invitation instead", email)
		}
	}
	return nil
}

// invitationOf returns one of the organisation's invitations (ENOTFOUND for another's).
func (s *Service) invitationOf(ctx context.Context, orgID, id string) (onramp.MemberInvitation, error) {
	inv, err := s.cfg.Team.FindInvitation(ctx, id)
	return onramp.Owned(inv, err, func(i onramp.MemberInvitation) string { return i.OrgID }, orgID, "invitation", id)
}

// CancelInvitation withdraws a pending invitation; ECONFLICT when it has ended.
func (s *Service) CancelInvitation(ctx context.Context, a onramp.Actor, orgID, id string) error {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionMemberInvite, onramp.Target{}); err != nil {
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
	s.audit.Record(ctx, orgID, a.Email, "invitation.cancelled", inv.Email, "")
	return nil
}

// ResendInvitation e-mails a pending invitation again; ECONFLICT when it has ended.
func (s *Service) ResendInvitation(ctx context.Context, a onramp.Actor, orgID, id string) error {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionMemberInvite, onramp.Target{}); err != nil {
		return err
	}
	inv, err := s.invitationOf(ctx, orgID, id)
	if err != nil {
		return err
	}
	if err := s.cfg.MemberInvitations.ResendMemberInvitation(ctx, inv); err != nil {
		return err
	}
	s.audit.Record(ctx, orgID, a.Email, "invitation.resent", inv.Email, "")
	return nil
}

// member finds the member of orgID with identityID, with everyone else; ENOTFOUND otherwise.
func (s *Service) member(ctx context.Context, orgID, identityID string) (onramp.Member, []onramp.Member, error) {
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

// assignableRoles are the roles a member can be given (owner moves by transfer).
var assignableRoles = map[string]bool{onramp.RoleAdmin: true, onramp.RoleDeveloper: true, onramp.RoleViewer: true}

// ChangeRole gives a member another role. EINVALID for an unknown role, EFORBIDDEN when a's role
// may not, ECONFLICT for the only owner (the store keeps one under concurrent changes too).
func (s *Service) ChangeRole(ctx context.Context, a onramp.Actor, orgID, identityID, role string) error {
	if _, ok := a.In(orgID); !ok {
		return onramp.NotYourOrganization(orgID) // before anything of the organisation is read
	}
	target, all, err := s.member(ctx, orgID, identityID)
	if err != nil {
		return err
	}
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionRoleChange, onramp.Target{Role: target.Role, NewRole: role}); err != nil {
		return err
	}
	if !assignableRoles[role] {
		return onramp.Errorf(onramp.EINVALID, "role %q is unknown; use admin, developer or viewer", role)
	}
	if target.Role == onramp.RoleOwner && owners(all) == 1 {
		return onramp.Errorf(onramp.ECONFLICT, "%s is the only owner; transfer ownership first", target.Email)
	}
	if err := s.cfg.Team.SetMemberRole(ctx, target.ID, role); err != nil {
		return err
	}
	s.audit.Record(ctx, orgID, a.Email, "member.role.changed", target.Email, target.Role+" → "+role)
	return nil
}

// Remove ends a membership at once: the person's sessions are revoked (and their sign-in
// disabled when they belong nowhere else), and invitations they sent that are still pending are
// cancelled. The organisation's credentials are not touched. ECONFLICT for the only owner.
func (s *Service) Remove(ctx context.Context, a onramp.Actor, orgID, identityID string) error {
	if _, ok := a.In(orgID); !ok {
		return onramp.NotYourOrganization(orgID)
	}
	target, all, err := s.member(ctx, orgID, identityID)
	if err != nil {
		return err
	}
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionMemberRemove, onramp.Target{Role: target.Role}); err != nil {
		return err
	}
	if target.Role == onramp.RoleOwner && owners(all) == 1 {
		return onramp.Errorf(onramp.ECONFLICT, "%s is the only owner; transfer ownership before removing them", target.Email)
	}
	// Every effect comes before the delete, so a removal that fails half-way can simply be retried.
	if err := s.endAccess(ctx, target); err != nil {
		return err
	}
	if err := s.cancelInvitationsBy(ctx, orgID, target.Email); err != nil {
		return err
	}
	if err := s.cfg.Team.DeleteMember(ctx, target.ID); err != nil {
		return err
	}
	s.audit.Record(ctx, orgID, a.Email, "member.removed", target.Email, "was "+target.Role)
	return nil
}

// endAccess revokes the member's sessions, and disables their sign-in when this organisation
// is their only one.
func (s *Service) endAccess(ctx context.Context, m onramp.Member) error {
	rest, err := s.cfg.Members.MembershipsOf(ctx, m.IdentityID)
	if err != nil {
		return err
	}
	if err := s.cfg.Sessions.RevokeSessions(ctx, m.IdentityID); err != nil {
		return err
	}
	if len(rest) <= 1 {
		return s.cfg.Sessions.SetIdentityActive(ctx, m.IdentityID, false)
	}
	return nil
}

// cancelInvitationsBy cancels the organisation's pending invitations that email sent.
func (s *Service) cancelInvitationsBy(ctx context.Context, orgID, email string) error {
	invs, err := s.cfg.Team.Invitations(ctx, orgID)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if inv.Status != onramp.InvitationPending || inv.InvitedBy != email {
			continue
		}
		if err := s.cfg.MemberInvitations.CancelMemberInvitation(ctx, inv); err != nil && onramp.ErrorCode(err) != onramp.ECONFLICT {
			return err
		}
		if err := s.cfg.Team.SetInvitationStatus(ctx, inv.ID, onramp.InvitationCancelled); err != nil && onramp.ErrorCode(err) != onramp.ECONFLICT {
			return err
		}
	}
	return nil
}

// TransferOwnership makes another member owner and a (the owner) an admin. EINVALID when a names
// themself.
func (s *Service) TransferOwnership(ctx context.Context, a onramp.Actor, orgID, identityID string) error {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionOwnershipTransfer, onramp.Target{}); err != nil {
		return err
	}
	if identityID == a.IdentityID {
		return onramp.Errorf(onramp.EINVALID, "you already own this organisation; choose another member")
	}
	target, _, err := s.member(ctx, orgID, identityID)
	if err != nil {
		return err
	}
	if err := s.cfg.Team.SetMemberRole(ctx, target.ID, onramp.RoleOwner); err != nil {
		return err
	}
	if err := s.cfg.Team.SetMemberRole(ctx, onramp.MemberID(orgID, a.IdentityID), onramp.RoleAdmin); err != nil {
		return err
	}
	s.audit.Record(ctx, orgID, a.Email, "ownership.transferred", target.Email, "previous owner is now admin")
	return nil
}
