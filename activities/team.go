package activities

import (
	"context"
	"fmt"
	"net/url"

	"github.com/onramp-dev/onramp"
)

// SaveMemberInvitation stores the invitation (idempotent).
func (a *Activities) SaveMemberInvitation(ctx context.Context, inv onramp.MemberInvitation) error {
	if err := inv.Validate(); err != nil {
		return temporalError(err)
	}
	return temporalError(a.Team.SaveInvitation(ctx, inv))
}

// PrepareInvitee makes sure the invitee can sign in: their identity exists and is enabled (a
// person removed from every organisation was disabled, and may be invited again).
// An address of a partner's SSO domain needs no identity yet: its first SSO sign-in creates one.
func (a *Activities) PrepareInvitee(ctx context.Context, email string) error {
	if _, sso, err := a.Organizations.SSOOrganization(ctx, onramp.EmailDomain(email)); err != nil || sso {
		return temporalError(err)
	}
	id, err := a.Identities.EnsureIdentity(ctx, email)
	if err != nil {
		return temporalError(err)
	}
	return temporalError(a.Sessions.SetIdentityActive(ctx, id, true))
}

// MemberInvitationMail is one member invitation or reminder e-mail.
type MemberInvitationMail struct {
	MessageID  string                  `json:"message_id"`
	Invitation onramp.MemberInvitation `json:"invitation"`
	OrgName    string                  `json:"org_name"`
	PortalURL  string                  `json:"portal_url"`
	Reminder   bool                    `json:"reminder"`
}

// SendMemberInvitation e-mails the invitee a link to sign in.
func (a *Activities) SendMemberInvitation(ctx context.Context, in MemberInvitationMail) error {
	inv := in.Invitation
	subject := fmt.Sprintf("%s invited you to %s's developer portal team", inv.InvitedBy, in.OrgName)
	if in.Reminder {
		subject = "Reminder: " + subject
	}
	text := fmt.Sprintf("%s invited you to join %s as %s.\n\nSign in with a one-time code sent to this address — no password needed:\n%s/login?email=%s\n\nThis invitation expires on %s.\n",
		inv.InvitedBy, in.OrgName, inv.Role, in.PortalURL, url.QueryEscape(inv.Email), inv.ExpiresAt.UTC().Format("Monday 2 January 2006, 15:04 MST"))
	return temporalError(a.Mailer.Send(ctx, onramp.Message{ID: in.MessageID, To: inv.Email, Subject: subject, Text: text}))
}

// InvitationStatusInput moves a member invitation to its final status.
type InvitationStatusInput struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// SetMemberInvitationStatus records how the invitation ended. One already accepted by the portal
// stays accepted.
func (a *Activities) SetMemberInvitationStatus(ctx context.Context, in InvitationStatusInput) error {
	err := a.Team.SetInvitationStatus(ctx, in.ID, in.Status)
	if onramp.ErrorCode(err) == onramp.ECONFLICT {
		return nil // the portal got there first (accepted or cancelled): nothing to change
	}
	return temporalError(err)
}
