package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
)

// Invitation defaults: a reminder after 3 days, expiry after 14.
const (
	DefaultReminderAfter = 72 * time.Hour
	DefaultExpireAfter   = 14 * 24 * time.Hour
)

// PartnerInvitationWorkflow invites a partner organisation: it stores the organisation, creates or
// reuses the contact's identity as owner, e-mails the invitation, reminds once, and ends when the
// contact first signs in (active) or when the invitation expires. A resend signal e-mails the
// invitation again and restarts the expiry.
func PartnerInvitationWorkflow(ctx workflow.Context, in PartnerInvitationInput) (InvitationState, error) {
	ctx, state, err := startInvitation(ctx, &in.ReminderAfter, &in.ExpireAfter, onramp.OrgInvited)
	if err != nil {
		return *state, err
	}
	var a *activities.Activities
	org := in.Organization

	start := workflow.Now(ctx)
	org.InvitedAt = start
	expiresAt := start.Add(in.ExpireAfter)
	org.ExpiresAt = &expiresAt
	state.ExpiresAt = expiresAt
	if err := workflow.ExecuteActivity(ctx, a.SavePartner, org).Get(ctx, nil); err != nil {
		return *state, err
	}
	if err := workflow.ExecuteActivity(ctx, a.AddContact, activities.AddContactInput{OrgID: org.ID, Email: org.ContactEmail, JoinedAt: start}).Get(ctx, nil); err != nil {
		return *state, err
	}
	send := sender(state, func(reminder bool, n int) error {
		return workflow.ExecuteActivity(ctx, a.SendInvitation, activities.InvitationMailInput{
			MessageID: fmt.Sprintf("%s-%d", workflow.GetInfo(ctx).WorkflowExecution.RunID, n),
			OrgName:   org.Name, Email: org.ContactEmail, PortalURL: in.PortalURL, ExpiresAt: state.ExpiresAt, Reminder: reminder,
		}).Get(ctx, nil)
	})
	if err := send(false); err != nil {
		return *state, err
	}
	out, err := invitationLoop{
		reminderAfter: in.ReminderAfter, expireAfter: in.ExpireAfter, state: state, send: send,
		extended: func(expiresAt time.Time) error {
			org.ExpiresAt = &expiresAt
			return workflow.ExecuteActivity(ctx, a.SavePartner, org).Get(ctx, nil)
		},
		accept: SignalContactSignedIn,
		cancel: SignalCancelInvitation, // a withdrawn invitation ends like an expired one
	}.run(ctx, start)
	if err != nil {
		return *state, err
	}
	update := activities.SetPartnerStatusInput{OrgID: org.ID, Status: onramp.OrgExpired}
	if out.accepted {
		state.SignedInAt = &out.acceptedAt
		update = activities.SetPartnerStatusInput{OrgID: org.ID, Status: onramp.OrgActive, FirstSignIn: &out.acceptedAt}
	}
	state.Status = update.Status
	if err := workflow.ExecuteActivity(ctx, a.SetPartnerStatus, update).Get(ctx, nil); err != nil {
		return *state, err
	}
	// The first sign-in also issues the organisation's first sandbox credential, so it is on the
	// dashboard when the partner lands. (Versioned: executions recorded before it replay without it.)
	if out.accepted && workflow.GetVersion(ctx, changeFirstSandboxCredential, workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteActivity(ctx, a.IssueSandboxCredential, org.ID).Get(ctx, &state.SandboxCredential); err != nil {
			return *state, err
		}
	}
	return *state, nil
}
