package activities

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/onramp-dev/onramp"
)

// SavePartner stores the invited organisation (status invited); re-running it re-invites. It
// writes what the invitation owns (name, plan, contact, SSO settings, invitation times) and keeps
// the rest: the workflow's copy carries no SSO client secret (Temporal keeps inputs in its
// history), so the one the portal stored stays, and so does a key-age policy an admin set since.
func (a *Activities) SavePartner(ctx context.Context, o onramp.Organization) error {
	stored, err := a.Organizations.UpdateOrganization(ctx, o.ID, func(s *onramp.Organization) error {
		invited := o
		invited.MaxCredentialAge, invited.FirstSignInAt, invited.Status = s.MaxCredentialAge, s.FirstSignInAt, onramp.OrgInvited
		if o.SSO != nil && o.SSO.ClientSecret == "" {
			if s.SSO == nil {
				return onramp.Errorf(onramp.EINVALID, "organisation %s has no stored SSO client secret", o.ID)
			}
			sso := *o.SSO
			sso.ClientSecret = s.SSO.ClientSecret
			invited.SSO = &sso
		}
		if err := invited.Validate(); err != nil {
			return err
		}
		*s = invited
		return nil
	})
	if onramp.ErrorCode(err) == onramp.ENOTFOUND { // the portal stores it first; this is the fallback
		o.Status = onramp.OrgInvited
		if err = o.Validate(); err == nil {
			err = a.Organizations.CreateOrganization(ctx, o)
		}
		stored = o
	}
	if err != nil {
		return temporalError(err)
	}
	if err := a.extendContactInvitation(ctx, stored); err != nil {
		return temporalError(err)
	}
	return temporalError(a.Onboarding.ReachStage(ctx, o.ID, onramp.StageInvited, o.InvitedAt))
}

// ContactInvitationID is the owner invitation of an organisation whose contact signs in through
// its SSO: it lives and ends with the partner invitation.
func ContactInvitationID(orgID string) string { return "contact-" + orgID }

// extendContactInvitation gives a pending contact invitation the partner invitation's new expiry
// (a re-send restarts both).
func (a *Activities) extendContactInvitation(ctx context.Context, o onramp.Organization) error {
	inv, err := a.Team.FindInvitation(ctx, ContactInvitationID(o.ID))
	if onramp.ErrorCode(err) == onramp.ENOTFOUND || (err == nil && (inv.Status != onramp.InvitationPending || o.ExpiresAt == nil)) {
		return nil
	} else if err != nil {
		return err
	}
	inv.ExpiresAt = *o.ExpiresAt
	return a.Team.SaveInvitation(ctx, inv)
}

// AddContactInput names the organisation and its primary contact.
type AddContactInput struct {
	OrgID    string    `json:"org_id"`
	Email    string    `json:"email"`
	JoinedAt time.Time `json:"joined_at"`
}

// AddContact creates or reuses the contact's identity and makes it the organisation's owner. A
// contact who signs in through the partner's SSO gets no identity yet: their first SSO sign-in
// creates it (through the portal's registration gate), and a pending owner invitation makes them
// owner then.
func (a *Activities) AddContact(ctx context.Context, in AddContactInput) (string, error) {
	org, err := a.Organizations.FindOrganization(ctx, in.OrgID)
	if err != nil {
		return "", temporalError(err)
	}
	if org.UsesSSO(in.Email) {
		inv := onramp.MemberInvitation{ID: ContactInvitationID(in.OrgID), OrgID: in.OrgID, Email: in.Email, Role: onramp.RoleOwner,
			InvitedBy: "provider", Status: onramp.InvitationPending, CreatedAt: in.JoinedAt}
		if org.ExpiresAt != nil {
			inv.ExpiresAt = *org.ExpiresAt
		}
		return "", temporalError(a.Team.SaveInvitation(ctx, inv))
	}
	id, err := a.Identities.EnsureIdentity(ctx, in.Email)
	if err != nil {
		return "", temporalError(err)
	}
	m := onramp.Member{OrgID: in.OrgID, IdentityID: id, Email: in.Email, Role: onramp.RoleOwner, JoinedAt: in.JoinedAt}
	return id, temporalError(a.Members.SaveMember(ctx, m))
}

// InvitationMailInput is one invitation or reminder e-mail.
type InvitationMailInput struct {
	MessageID string    `json:"message_id"`
	OrgName   string    `json:"org_name"`
	Email     string    `json:"email"`
	PortalURL string    `json:"portal_url"`
	ExpiresAt time.Time `json:"expires_at"`
	Reminder  bool      `json:"reminder"`
}

// SendInvitation e-mails the contact a link to the portal's sign-in with the address filled in.
func (a *Activities) SendInvitation(ctx context.Context, in InvitationMailInput) error {
	link := in.PortalURL + "/login?email=" + url.QueryEscape(in.Email)
	subject := fmt.Sprintf("You are invited to the %s developer portal", in.OrgName)
	lead := "Your organisation " + in.OrgName + " has been invited to integrate with our APIs."
	if in.Reminder {
		subject = "Reminder: " + subject
		lead = "A reminder: your invitation for " + in.OrgName + " is still waiting."
	}
	text := lead + "\n\nSign in with a one-time code sent to this address — no password needed:\n" + link +
		"\n\nYour sandbox credentials are ready the moment you first sign in.\nThis invitation expires on " +
		in.ExpiresAt.UTC().Format("Monday 2 January 2006, 15:04 MST") + ".\n"
	return temporalError(a.Mailer.Send(ctx, onramp.Message{ID: in.MessageID, To: in.Email, Subject: subject, Text: text}))
}

// SetPartnerStatusInput moves an organisation to a new status.
type SetPartnerStatusInput struct {
	OrgID       string     `json:"org_id"`
	Status      string     `json:"status"`
	FirstSignIn *time.Time `json:"first_sign_in,omitempty"`
}

// SetPartnerStatus records the organisation's new status (and first sign-in time, once). An
// invitation that expired (or was cancelled) takes its contact's owner invitation with it: nobody
// can accept it until the organisation is invited again.
func (a *Activities) SetPartnerStatus(ctx context.Context, in SetPartnerStatusInput) error {
	if err := a.Organizations.SetOrganizationStatus(ctx, in.OrgID, in.Status, in.FirstSignIn); err != nil {
		return temporalError(err)
	}
	if in.Status == onramp.OrgExpired {
		err := a.Team.SetInvitationStatus(ctx, ContactInvitationID(in.OrgID), onramp.InvitationExpired)
		if code := onramp.ErrorCode(err); code != "" && code != onramp.ENOTFOUND && code != onramp.ECONFLICT {
			return temporalError(err)
		}
	}
	if in.FirstSignIn == nil {
		return nil
	}
	return temporalError(a.Onboarding.ReachStage(ctx, in.OrgID, onramp.StageFirstSignIn, *in.FirstSignIn))
}
