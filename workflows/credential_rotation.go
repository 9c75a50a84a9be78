package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
)

// CredentialRotationWorkflow rotates a credential: policies/rotation decides whether the security
// team reviews it first (approve or reject, with a reminder); then a new credential is issued, the
// old one is marked expiring at now + overlap (the gateway refuses it from then on, worker or not),
// and when the durable timer fires the old one is revoked and the organisation told. During the
// overlap the partner may revoke the old key now or extend the overlap; before the new key exists
// the rotation can be cancelled.
func CredentialRotationWorkflow(ctx workflow.Context, in CredentialRotationInput) (RotationState, error) {
	ctx = withActivityDefaults(ctx)
	if in.ReviewReminder <= 0 {
		in.ReviewReminder = 24 * time.Hour
	}
	rt := &rotation{in: in, r: in.Rotation, state: RotationState{Status: in.Rotation.Status}}
	rt.actions = &actionQueue[onramp.RotationAction]{validate: rt.validate}
	return serveActions(ctx, rt.actions, QueryRotationState, RotationActions, func() RotationState { return rt.state },
		func() bool { return rt.saved }, rt.run,
		func() error { return fmt.Errorf("the rotation is %s", rt.state.Status) })
}

type rotation struct {
	in      CredentialRotationInput
	r       onramp.Rotation
	state   RotationState
	actions *actionQueue[onramp.RotationAction]
	saved   bool // the read model holds the rotation's first decision (review needed, or overlapping)
}

func (rt *rotation) validate(action string, a onramp.RotationAction) error {
	if a.By == "" {
		return errors.New(`say who acts: {"by": "you@example.com"}`)
	}
	st := rt.state.Status
	switch action {
	case RotationApprove, RotationReject:
		if st != onramp.RotationPendingReview {
			return fmt.Errorf("the rotation is %s; only one pending review can be approved or rejected", st)
		}
		if action == RotationReject && a.Reason == "" {
			return errors.New(`give the reason the partner will read: {"by": "…", "reason": "…"}`)
		}
	case RotationCancel:
		if st != onramp.RotationPendingReview {
			return fmt.Errorf("the rotation is %s; it can be cancelled only before the new key is issued", st)
		}
	case RotationRevokeNow, RotationExtend:
		if st != onramp.RotationOverlapping {
			return fmt.Errorf("the rotation is %s; the old key's overlap is not running", st)
		}
		if action == RotationExtend {
			if _, err := onramp.ParseExtension(a.Overlap); err != nil {
				return errors.New(onramp.ErrorMessage(err))
			}
		}
	}
	return nil
}

func (rt *rotation) save(ctx workflow.Context, status string) error {
	var a *activities.Activities
	rt.state.Status, rt.r.Status = status, status
	rt.r.UpdatedAt = workflow.Now(ctx)
	err := workflow.ExecuteActivity(ctx, a.SaveRotation, rt.r).Get(ctx, nil)
	rt.saved = rt.saved || err == nil
	return err
}

func (rt *rotation) notify(ctx workflow.Context, kind, title, body string) error {
	var a *activities.Activities
	return workflow.ExecuteActivity(ctx, a.NotifyRotation, activities.RotationNotice{OrgID: rt.r.OrgID, Kind: kind, Title: title, Body: body,
		Link: rt.in.PortalURL + "/credentials?org=" + rt.r.OrgID, MessageID: rt.r.ID + "-" + kind}).Get(ctx, nil)
}

func (rt *rotation) run(ctx workflow.Context) error {
	var a *activities.Activities
	var review activities.RotationReview
	if err := workflow.ExecuteActivity(ctx, a.EvaluateRotation, rt.r).Get(ctx, &review); err != nil {
		return err
	}
	rt.r.ReviewRequired, rt.r.ReviewReasons, rt.state.ReviewRequired = review.Required, review.Reasons, review.Required
	if review.Required {
		if err := rt.save(ctx, onramp.RotationPendingReview); err != nil {
			return err
		}
		if err := rt.notify(ctx, "review", "Security review needed: rotation of "+rt.r.Label, "A rotation waits for approval in the review queue."); err != nil {
			return err
		}
		proceed, err := rt.awaitReview(ctx)
		if err != nil || !proceed {
			return err
		}
	}

	// Issue the new key, then start the old one's overlap.
	if err := workflow.ExecuteActivity(ctx, a.IssueRotatedCredential, rt.r).Get(ctx, &rt.r.NewCredentialID); err != nil {
		return err
	}
	rt.state.NewCredentialID = rt.r.NewCredentialID
	overlap, err := time.ParseDuration(rt.r.Overlap)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("overlap "+rt.r.Overlap+" is not a duration", "invalid", err)
	}
	if err := rt.expireOldAt(ctx, workflow.Now(ctx).Add(overlap)); err != nil {
		return err
	}
	if err := rt.notify(ctx, "issued", "New key issued: "+rt.r.Label+" (rotated)",
		"Both keys work until "+rt.r.ExpiresAt.UTC().Format(time.RFC3339)+"; switch your systems to the new one."); err != nil {
		return err
	}
	var revokeNow *queued[onramp.RotationAction] // answered once the old key is revoked
	for revokeNow == nil {
		ok, err := workflow.AwaitWithTimeout(ctx, rt.r.ExpiresAt.Sub(workflow.Now(ctx)), func() bool { return len(rt.actions.pending) > 0 })
		if err != nil {
			return err
		}
		if !ok {
			break // the overlap is over
		}
		p, _ := rt.actions.next(ctx)
		switch p.name {
		case RotationRevokeNow:
			revokeNow = p
			continue
		case RotationExtend:
			d, _ := time.ParseDuration(p.act.Overlap)
			p.err = rt.expireOldAt(ctx, workflow.Now(ctx).Add(d))
		default:
			p.err = fmt.Errorf("%s is not possible during the overlap", p.name)
		}
		p.done = true
		if p.err != nil && p.name == RotationExtend {
			return p.err
		}
	}
	err = workflow.ExecuteActivity(ctx, a.RevokeRotatedCredential, rt.r).Get(ctx, nil)
	if err == nil {
		err = rt.save(ctx, onramp.RotationCompleted)
	}
	if revokeNow != nil {
		revokeNow.done, revokeNow.err = true, err
	}
	if err != nil {
		return err
	}
	return rt.notify(ctx, "completed", "Old key revoked: "+rt.r.Label, "The rotation is complete; only the new key works now.")
}

// expireOldAt marks the old key expiring at `at`, where the gateway stops accepting it.
func (rt *rotation) expireOldAt(ctx workflow.Context, at time.Time) error {
	var a *activities.Activities
	rt.r.ExpiresAt, rt.state.ExpiresAt = &at, &at
	if err := workflow.ExecuteActivity(ctx, a.ExpireRotatedCredential, rt.r).Get(ctx, nil); err != nil {
		return err
	}
	return rt.save(ctx, onramp.RotationOverlapping)
}

// awaitReview waits for the security review (reminding reviewers once) or a cancellation; it
// reports whether the rotation proceeds.
func (rt *rotation) awaitReview(ctx workflow.Context) (bool, error) {
	for {
		p, err := rt.actions.nextRemindingOnce(ctx, rt.in.ReviewReminder, func() error {
			return rt.notify(ctx, "review-reminder", "Reminder: rotation of "+rt.r.Label+" waits for review", "It has waited "+rt.in.ReviewReminder.String()+".")
		})
		if err != nil {
			return false, err
		}
		switch p.name {
		case RotationApprove:
			rt.r.Reviewer = p.act.By
			p.done = true // the issuing that follows is visible in the rotation's state
			return true, nil
		case RotationReject:
			rt.r.Reviewer, rt.r.Note = p.act.By, p.act.Reason
			p.err = rt.save(ctx, onramp.RotationRejected)
			if p.err == nil {
				p.err = rt.notify(ctx, "rejected", "Rotation of "+rt.r.Label+" rejected", "Reason: "+p.act.Reason)
			}
			p.done = true
			return false, p.err
		case RotationCancel:
			p.err = rt.save(ctx, onramp.RotationCancelled)
			p.done = true
			return false, p.err
		default:
			p.err, p.done = fmt.Errorf("%s is not possible while the rotation waits for review", p.name), true
		}
	}
}
