package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
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
	if in.ReminderAfter <= 0 {
		in.ReminderAfter = DefaultReminderAfter
	}
	if in.ExpireAfter <= 0 {
		in.ExpireAfter = DefaultExpireAfter
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	var a *activities.Activities
	org := in.Organization
	state := InvitationState{Status: onramp.OrgInvited}
	if err := workflow.SetQueryHandler(ctx, QueryInvitationState, func() (InvitationState, error) { return state, nil }); err != nil {
		return state, err
	}

	start := workflow.Now(ctx)
	org.InvitedAt = start
	expiresAt := start.Add(in.ExpireAfter)
	org.ExpiresAt = &expiresAt
	state.ExpiresAt = expiresAt
	if err := workflow.ExecuteActivity(ctx, a.SavePartner, org).Get(ctx, nil); err != nil {
		return state, err
	}
	if err := workflow.ExecuteActivity(ctx, a.AddContact, activities.AddContactInput{OrgID: org.ID, Email: org.ContactEmail, JoinedAt: start}).Get(ctx, nil); err != nil {
		return state, err
	}
	send := func(reminder bool) error {
		n := state.InvitationsSent + state.RemindersSent + 1
		err := workflow.ExecuteActivity(ctx, a.SendInvitation, activities.InvitationMailInput{
			MessageID: fmt.Sprintf("%s-%d", workflow.GetInfo(ctx).WorkflowExecution.RunID, n),
			OrgName:   org.Name, Email: org.ContactEmail, PortalURL: in.PortalURL, ExpiresAt: state.ExpiresAt, Reminder: reminder,
		}).Get(ctx, nil)
		if err == nil && reminder {
			state.RemindersSent++
		} else if err == nil {
			state.InvitationsSent++
		}
		return err
	}
	if err := send(false); err != nil {
		return state, err
	}
	lastSent := start

	signedIn := workflow.GetSignalChannel(ctx, SignalContactSignedIn)
	resend := workflow.GetSignalChannel(ctx, SignalResendInvitation)
	for {
		// Timers are re-created each round so a resend restarts both; cancelling the old ones keeps
		// the history free of stale timer events.
		timerCtx, cancelTimers := workflow.WithCancel(ctx)
		reminderFires := false
		sel := workflow.NewSelector(ctx)
		if state.RemindersSent == 0 {
			remindIn := lastSent.Add(in.ReminderAfter).Sub(workflow.Now(ctx))
			if remindIn > 0 {
				sel.AddFuture(workflow.NewTimer(timerCtx, remindIn), func(workflow.Future) { reminderFires = true })
			}
		}
		expired := false
		sel.AddFuture(workflow.NewTimer(timerCtx, state.ExpiresAt.Sub(workflow.Now(ctx))), func(workflow.Future) { expired = true })
		var signal ContactSignedIn
		gotSignIn := false
		sel.AddReceive(signedIn, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &signal); gotSignIn = true })
		resent := false
		sel.AddReceive(resend, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); resent = true })
		sel.Select(ctx)
		cancelTimers()

		switch {
		case gotSignIn:
			at := signal.At
			if at.IsZero() {
				at = workflow.Now(ctx)
			}
			state.Status, state.SignedInAt = onramp.OrgActive, &at
			err := workflow.ExecuteActivity(ctx, a.SetPartnerStatus, activities.SetPartnerStatusInput{OrgID: org.ID, Status: onramp.OrgActive, FirstSignIn: &at}).Get(ctx, nil)
			return state, err
		case expired:
			state.Status = onramp.OrgExpired
			err := workflow.ExecuteActivity(ctx, a.SetPartnerStatus, activities.SetPartnerStatusInput{OrgID: org.ID, Status: onramp.OrgExpired}).Get(ctx, nil)
			return state, err
		case resent:
			lastSent = workflow.Now(ctx)
			state.ExpiresAt = lastSent.Add(in.ExpireAfter)
			org.ExpiresAt = &state.ExpiresAt
			if err := workflow.ExecuteActivity(ctx, a.SavePartner, org).Get(ctx, nil); err != nil {
				return state, err
			}
			if err := send(false); err != nil {
				return state, err
			}
		case reminderFires:
			if err := send(true); err != nil {
				return state, err
			}
		}
	}
}
