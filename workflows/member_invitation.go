package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
)

// MemberInvitationWorkflow invites a person into an organisation with a role: it records the
// pending invitation, makes sure the person can sign in, e-mails them, reminds once, and ends
// when they join (the portal adds the membership at their sign-in), when it is cancelled, or when
// it expires. Resend restarts the expiry.
func MemberInvitationWorkflow(ctx workflow.Context, in MemberInvitationInput) (InvitationState, error) {
	ctx, state, err := startInvitation(ctx, &in.ReminderAfter, &in.ExpireAfter, onramp.InvitationPending)
	if err != nil {
		return *state, err
	}
	var a *activities.Activities
	inv := in.Invitation
	start := workflow.Now(ctx)
	inv.Status, inv.CreatedAt, inv.ExpiresAt = onramp.InvitationPending, start, start.Add(in.ExpireAfter)
	state.ExpiresAt = inv.ExpiresAt
	if err := workflow.ExecuteActivity(ctx, a.SaveMemberInvitation, inv).Get(ctx, nil); err != nil {
		return *state, err
	}
	if err := workflow.ExecuteActivity(ctx, a.PrepareInvitee, inv.Email).Get(ctx, nil); err != nil {
		return *state, err
	}
	send := sender(state, func(reminder bool, n int) error {
		return workflow.ExecuteActivity(ctx, a.SendMemberInvitation, activities.MemberInvitationMail{
			MessageID:  fmt.Sprintf("%s-%d", workflow.GetInfo(ctx).WorkflowExecution.RunID, n),
			Invitation: inv, OrgName: in.OrgName, PortalURL: in.PortalURL, Reminder: reminder,
		}).Get(ctx, nil)
	})
	if err := send(false); err != nil {
		return *state, err
	}
	out, err := invitationLoop{
		reminderAfter: in.ReminderAfter, expireAfter: in.ExpireAfter, state: state, send: send,
		extended: func(expiresAt time.Time) error {
			inv.ExpiresAt = expiresAt
			return workflow.ExecuteActivity(ctx, a.SaveMemberInvitation, inv).Get(ctx, nil)
		},
		accept: SignalMemberAccepted,
		cancel: SignalCancelInvitation,
	}.run(ctx, start)
	if err != nil {
		return *state, err
	}
	switch {
	case out.accepted:
		state.Status, state.SignedInAt = onramp.InvitationAccepted, &out.acceptedAt
	case out.cancelled:
		state.Status = onramp.InvitationCancelled
	default:
		state.Status = onramp.InvitationExpired
	}
	return *state, workflow.ExecuteActivity(ctx, a.SetMemberInvitationStatus, activities.InvitationStatusInput{ID: inv.ID, Status: state.Status}).Get(ctx, nil)
}
