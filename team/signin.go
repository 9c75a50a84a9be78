package team

import (
	"context"

	"github.com/onramp-dev/onramp"
)

// CompleteSignIn grants what this sign-in entitles the person to, and records first sign-ins:
//   - each pending, unexpired invitation addressed to them that is bound to their identity (or,
//     for an address of a partner's SSO domain, that the partner's identity provider vouches for);
//   - a developer membership of each organisation whose identity provider they signed in with,
//     when it lets its domains join;
//   - the first sign-in of each membership, which for an owner completes the partner invitation.
//
// It runs from Kratos's after-login and after-registration hooks. ENOTFOUND for an unknown identity.
func (s *Service) CompleteSignIn(ctx context.Context, identityID string) error {
	id, err := s.cfg.Identities.FindIdentity(ctx, identityID)
	if err != nil {
		return err
	}
	if err := s.acceptInvitations(ctx, id); err != nil {
		return err
	}
	if err := s.joinByProvider(ctx, id); err != nil {
		return err
	}
	return s.markFirstSignIns(ctx, id)
}

// acceptInvitations turns the invitations made for this identity into memberships.
func (s *Service) acceptInvitations(ctx context.Context, id onramp.Identity) error {
	pending, err := s.cfg.Team.PendingInvitationsFor(ctx, id.Email)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	for _, inv := range pending {
		if !inv.ExpiresAt.IsZero() && !now.Before(inv.ExpiresAt) {
			continue // its workflow marks it expired; re-inviting makes a new one
		}
		ok, err := s.invitedIdentity(ctx, inv, id)
		if err != nil {
			return err
		}
		if !ok {
			s.log.Warn("invitation not accepted: made for another identity", "invitation", inv.ID, "organization", inv.OrgID, "identity", id.ID)
			continue
		}
		if err := s.accept(ctx, inv, id); err != nil {
			return err
		}
	}
	return nil
}

// invitedIdentity reports whether inv was made for id. An invitation records the identity created
// for its address; where none could be (an address of a partner's SSO domain, whose account its
// first SSO sign-in creates), only that partner's identity provider can vouch for the address.
// Invitations from before identities were recorded went to addresses whose identity existed from
// the invitation on, and sign-in addresses cannot be changed (Kratos's profile method is off).
func (s *Service) invitedIdentity(ctx context.Context, inv onramp.MemberInvitation, id onramp.Identity) (bool, error) {
	if inv.IdentityID != "" {
		return inv.IdentityID == id.ID, nil
	}
	sso, found, err := s.cfg.Organizations.SSOOrganization(ctx, onramp.EmailDomain(inv.Email))
	if err != nil || !found {
		return inv.Email == id.Email, err
	}
	return id.SignsInThrough(sso.ID), nil
}

func (s *Service) accept(ctx context.Context, inv onramp.MemberInvitation, id onramp.Identity) error {
	m := onramp.Member{OrgID: inv.OrgID, IdentityID: id.ID, Email: inv.Email, Role: inv.Role, JoinedAt: s.cfg.Now()}
	if err := s.cfg.Members.SaveMember(ctx, m); err != nil {
		return err
	}
	if err := s.cfg.Team.SetInvitationStatus(ctx, inv.ID, onramp.InvitationAccepted); err != nil && onramp.ErrorCode(err) != onramp.ECONFLICT {
		return err
	}
	if err := s.cfg.MemberInvitations.MemberAccepted(ctx, inv.ID); err != nil {
		s.log.Error("signal member accepted", "invitation", inv.ID, "error", err)
	}
	s.audit.Record(ctx, inv.OrgID, inv.Email, "member.joined", inv.Email, "as "+inv.Role+", invited by "+inv.InvitedBy)
	return nil
}

// joinByProvider makes the person a developer of each organisation whose identity provider they
// signed in with and which lets anyone from its domains join. The provider decides, not the
// address: another tenant's IdP cannot make someone join this one.
func (s *Service) joinByProvider(ctx context.Context, id onramp.Identity) error {
	if len(id.SSOProviders) == 0 {
		return nil
	}
	ms, err := s.cfg.Members.MembershipsOf(ctx, id.ID)
	if err != nil {
		return err
	}
	for _, orgID := range id.SSOProviders {
		org, err := s.cfg.Organizations.FindOrganization(ctx, orgID)
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if org.SSO == nil || !org.SSO.AllowDomainSignup || !org.UsesSSO(id.Email) || isMember(ms, org.ID) {
			continue
		}
		m := onramp.Member{OrgID: org.ID, IdentityID: id.ID, Email: id.Email, Role: onramp.RoleDeveloper, JoinedAt: s.cfg.Now()}
		if err := s.cfg.Members.SaveMember(ctx, m); err != nil {
			return err
		}
		s.audit.Record(ctx, org.ID, m.Email, "member.joined", m.Email, "as developer, through the organisation's SSO")
	}
	return nil
}

func isMember(ms []onramp.Member, orgID string) bool {
	for _, m := range ms {
		if m.OrgID == orgID {
			return true
		}
	}
	return false
}

// markFirstSignIns records each membership's first sign-in; an owner's completes the partner
// invitation (the organisation becomes active).
func (s *Service) markFirstSignIns(ctx context.Context, id onramp.Identity) error {
	ms, err := s.cfg.Members.MembershipsOf(ctx, id.ID)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	for _, m := range ms {
		if m.FirstSignInAt != nil {
			continue
		}
		// The invitation is told first (a finished one ignores it): should that fail, the sign-in
		// fails and its retry tells it again, rather than the organisation staying invited.
		if m.Role == onramp.RoleOwner {
			if err := s.cfg.Invitations.ContactSignedIn(ctx, m.OrgID, now); err != nil {
				return err
			}
		}
		if _, err := s.cfg.Members.MarkFirstSignIn(ctx, m.ID, now); err != nil {
			return err
		}
	}
	return nil
}

// Invitee returns the identity an invitation to email is bound to, creating it when missing. An
// address of a partner's SSO domain gets none ("" and no error): its first sign-in through that
// partner's identity provider creates it, and the provider vouches for the address.
func (s *Service) Invitee(ctx context.Context, email string) (string, error) {
	if _, sso, err := s.cfg.Organizations.SSOOrganization(ctx, onramp.EmailDomain(email)); err != nil || sso {
		return "", err
	}
	return s.cfg.Identities.EnsureIdentity(ctx, email)
}

// SSOFor returns the partner whose identity provider signs email in, if any: such an address
// signs in only through it (never with an e-mail code).
func (s *Service) SSOFor(ctx context.Context, email string) (onramp.Organization, bool, error) {
	domain := onramp.EmailDomain(email)
	if domain == "" {
		return onramp.Organization{}, false, nil
	}
	return s.cfg.Organizations.SSOOrganization(ctx, domain)
}

// AdmitsRegistration is the registration gate's rule: an account may be created for an address
// with a pending invitation, or, signing up through SSO, for an address of a partner's domain
// that lets its people join (the claims mapper has checked that the partner's own IdP vouched).
func (s *Service) AdmitsRegistration(ctx context.Context, email, method string) (bool, error) {
	pending, err := s.cfg.Team.PendingInvitationsFor(ctx, email)
	if err != nil || len(pending) > 0 {
		return len(pending) > 0, err
	}
	if method != "oidc" {
		return false, nil
	}
	org, found, err := s.SSOFor(ctx, email)
	return found && org.SSO.AllowDomainSignup, err
}
