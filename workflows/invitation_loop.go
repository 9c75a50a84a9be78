package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// startInvitation is what both invitation workflows begin with: the default timings (for zero
// durations), their activity options, and the state that the query answers.
func startInvitation(ctx workflow.Context, reminderAfter, expireAfter *time.Duration, status string) (workflow.Context, *InvitationState, error) {
	if *reminderAfter <= 0 {
		*reminderAfter = DefaultReminderAfter
	}
	if *expireAfter <= 0 {
		*expireAfter = DefaultExpireAfter
	}
	ctx = withActivityDefaults(ctx)
	state := &InvitationState{Status: status}
	err := workflow.SetQueryHandler(ctx, QueryInvitationState, func() (InvitationState, error) { return *state, nil })
	return ctx, state, err
}

// invitationOutcome is how an invitation ended.
type invitationOutcome struct {
	accepted   bool
	acceptedAt time.Time
	expired    bool
	cancelled  bool
}

// invitationLoop is what partner and member invitations share: after the first e-mail, remind
// once, expire, let a resend restart the expiry, and end on acceptance (or cancellation).
type invitationLoop struct {
	reminderAfter, expireAfter time.Duration
	state                      *InvitationState
	send                       func(reminder bool) error       // e-mails and counts
	extended                   func(expiresAt time.Time) error // stores the new expiry after a resend
	accept                     string                          // signal carrying ContactSignedIn
	cancel                     string                          // signal with no payload; "" when not cancellable
}

func (l invitationLoop) run(ctx workflow.Context, sentAt time.Time) (invitationOutcome, error) {
	acceptCh := workflow.GetSignalChannel(ctx, l.accept)
	resendCh := workflow.GetSignalChannel(ctx, SignalResendInvitation)
	var cancelCh workflow.ReceiveChannel
	if l.cancel != "" {
		cancelCh = workflow.GetSignalChannel(ctx, l.cancel)
	}
	lastSent := sentAt
	for {
		// Timers are re-created each round so a resend restarts both; cancelling the old ones keeps
		// the history free of stale timer events.
		timerCtx, cancelTimers := workflow.WithCancel(ctx)
		var out invitationOutcome
		remind, resent := false, false
		sel := workflow.NewSelector(ctx)
		if l.state.RemindersSent == 0 {
			if in := lastSent.Add(l.reminderAfter).Sub(workflow.Now(ctx)); in > 0 {
				sel.AddFuture(workflow.NewTimer(timerCtx, in), func(workflow.Future) { remind = true })
			}
		}
		sel.AddFuture(workflow.NewTimer(timerCtx, l.state.ExpiresAt.Sub(workflow.Now(ctx))), func(workflow.Future) { out.expired = true })
		sel.AddReceive(acceptCh, func(c workflow.ReceiveChannel, _ bool) {
			var s ContactSignedIn
			c.Receive(ctx, &s)
			out.accepted, out.acceptedAt = true, s.At
			if out.acceptedAt.IsZero() {
				out.acceptedAt = workflow.Now(ctx)
			}
		})
		sel.AddReceive(resendCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); resent = true })
		if cancelCh != nil {
			sel.AddReceive(cancelCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); out.cancelled = true })
		}
		sel.Select(ctx)
		cancelTimers()

		switch {
		case out.accepted, out.expired, out.cancelled:
			return out, nil
		case resent:
			lastSent = workflow.Now(ctx)
			l.state.ExpiresAt = lastSent.Add(l.expireAfter)
			if err := l.extended(l.state.ExpiresAt); err != nil {
				return out, err
			}
			if err := l.send(false); err != nil {
				return out, err
			}
		case remind:
			if err := l.send(true); err != nil {
				return out, err
			}
		}
	}
}

// sender returns the send function of an invitation: it runs send and counts what went out.
func sender(state *InvitationState, send func(reminder bool, n int) error) func(bool) error {
	return func(reminder bool) error {
		if err := send(reminder, state.InvitationsSent+state.RemindersSent+1); err != nil {
			return err
		}
		if reminder {
			state.RemindersSent++
		} else {
			state.InvitationsSent++
		}
		return nil
	}
}

// withActivityDefaults is how every Onramp workflow runs its activities: 30 s per attempt,
// retried with backoff up to a minute apart (non-retryable errors stop at once).
func withActivityDefaults(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
}
