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

// ProductionReviewWorkflow reviews a production request: received (with an SLA due time on the
// business calendar) → in_review (claimed) → approved | rejected | changes_requested (the partner
// edits and resubmits: received again, with a new due time). Reviewers get a reminder at 50 % of
// the SLA and an escalation at the breach, on durable timers. Approval grants production on the
// approved products and issues the organisation's first production key.
func ProductionReviewWorkflow(ctx workflow.Context, in ProductionReviewInput) (ReviewState, error) {
	ctx = withActivityDefaults(ctx)
	r := &review{in: in, state: ReviewState{Round: 1}}
	r.actions = &actionQueue[ReviewAction]{validate: r.validate, onQueue: r.queued}
	return serveActions(ctx, r.actions, QueryReviewState, ReviewActions, func() ReviewState { return r.state },
		func() bool { return r.receivedRound == r.state.Round }, r.run,
		func() error { return fmt.Errorf("the request is already %s", r.state.Status) })
}

type review struct {
	in      ProductionReviewInput
	state   ReviewState
	actions *actionQueue[ReviewAction]
	// Set when an action is queued, so a second one is refused up front: a decision in this round,
	// a resubmission after changes were requested.
	decided, resubmitted bool
	// receivedRound is the last round whose "received" is recorded; resubmission is the Update
	// that started the round, answered once it is.
	receivedRound int
	resubmission  *queued[ReviewAction]
}

func (r *review) queued(name string, _ ReviewAction) {
	if name == ReviewApprove || name == ReviewReject || name == ReviewRequestChanges {
		r.decided = true
	}
	if name == ReviewResubmit {
		r.resubmitted = true
	}
}

// validate says whether action may be taken now; the portal gets the error back from the Update.
func (r *review) validate(action string, act ReviewAction) error {
	status := r.state.Status
	if act.By == "" {
		return errors.New(`say who acts: {"by": "you@provider.example"}`)
	}
	switch action {
	case ReviewClaim:
		if status != onramp.RequestReceived || r.decided || r.state.Reviewer != "" {
			return fmt.Errorf("only an unclaimed received request can be claimed; this one is %s", status)
		}
	case ReviewApprove, ReviewReject, ReviewRequestChanges:
		if r.decided || (status != onramp.RequestReceived && status != onramp.RequestInReview) {
			return fmt.Errorf("the request is already decided (%s)", status)
		}
		if action == ReviewReject && act.Reason == "" {
			return errors.New(`give the reason the partner will read: {"by": "…", "reason": "…"}`)
		}
		if action == ReviewRequestChanges && act.Changes == "" {
			return errors.New(`say what to change: {"by": "…", "changes": "…"}`)
		}
	case ReviewResubmit:
		if status != onramp.RequestChangesRequested || r.resubmitted {
			return fmt.Errorf("only a request with changes requested can be resubmitted; this one is %s", status)
		}
	}
	return nil
}

func (r *review) record(ctx workflow.Context, status, by, note string) error {
	var a *activities.Activities
	r.state.Status = status
	return workflow.ExecuteActivity(ctx, a.RecordReviewStep, activities.ReviewStep{RequestID: r.in.RequestID, OrgID: r.in.OrgID, Status: status,
		By: by, Note: note, At: workflow.Now(ctx), SLADue: r.state.SLADue, Reviewer: r.state.Reviewer, PortalURL: r.in.PortalURL,
		MessageID: fmt.Sprintf("%s-%d-%s", r.in.RequestID, r.state.Round, status)}).Get(ctx, nil)
}

func (r *review) run(ctx workflow.Context) error {
	var a *activities.Activities
	for {
		if err := workflow.ExecuteActivity(ctx, a.ReviewDue, workflow.Now(ctx)).Get(ctx, &r.state.SLADue); err != nil {
			return err
		}
		r.state.Reviewer, r.state.Reminded, r.state.Escalated, r.state.Refused = "", false, false, nil
		if err := r.record(ctx, onramp.RequestReceived, "partner", ""); err != nil {
			return err
		}
		r.receivedRound = r.state.Round
		if r.resubmission != nil {
			r.resubmission.done, r.resubmission = true, nil
		}
		timers, cancel := workflow.WithCancel(ctx)
		r.startTimers(ctx, timers)
		err := r.decide(ctx)
		cancel()
		if err != nil || r.state.Status != onramp.RequestChangesRequested {
			return err
		}
		for { // the partner edits the request and resubmits it
			p, err := r.actions.next(ctx)
			if err != nil {
				return err
			}
			if p.name == ReviewResubmit {
				r.state.Round++
				r.decided, r.resubmitted, r.resubmission = false, false, p
				break
			}
			p.done, p.err = true, fmt.Errorf("changes are requested; the partner resubmits first")
		}
	}
}

// startTimers sends the reviewers' reminder at half the SLA and the escalation at its breach.
func (r *review) startTimers(ctx, timers workflow.Context) {
	var a *activities.Activities
	sla := r.state.SLADue.Sub(workflow.Now(ctx))
	for _, t := range []struct {
		kind  string
		after time.Duration
		mark  *bool
	}{{"reminder", sla / 2, &r.state.Reminded}, {"escalation", sla, &r.state.Escalated}} {
		workflow.Go(timers, func(tctx workflow.Context) {
			if workflow.Sleep(tctx, t.after) != nil {
				return // decided first
			}
			*t.mark = true
			notice := activities.ReviewerNotice{RequestID: r.in.RequestID, OrgID: r.in.OrgID, Kind: t.kind, SLADue: r.state.SLADue,
				PortalURL: r.in.PortalURL, MessageID: fmt.Sprintf("%s-%d-%s", r.in.RequestID, r.state.Round, t.kind)}
			// Sent even if a decision arrives meanwhile: it was due.
			actx, _ := workflow.NewDisconnectedContext(tctx)
			if err := workflow.ExecuteActivity(actx, a.NotifyReviewers, notice).Get(actx, nil); err != nil {
				workflow.GetLogger(ctx).Error("reviewer notice", "kind", t.kind, "error", err)
			}
		})
	}
}

// decide applies actions in arrival order until the request is approved, rejected or sent back.
func (r *review) decide(ctx workflow.Context) error {
	for {
		p, err := r.actions.next(ctx)
		if err != nil {
			return err
		}
		switch p.name {
		case ReviewClaim:
			r.state.Reviewer = p.act.By
			err = r.record(ctx, onramp.RequestInReview, p.act.By, "")
		case ReviewApprove:
			var refused bool
			if refused, err = r.approve(ctx, p); refused {
				continue
			}
		case ReviewReject:
			err = r.record(ctx, onramp.RequestRejected, p.act.By, p.act.Reason)
		case ReviewRequestChanges:
			err = r.record(ctx, onramp.RequestChangesRequested, p.act.By, p.act.Changes)
		default:
			err = fmt.Errorf("%s is not possible while the request is %s", p.name, r.state.Status)
			p.done, p.err = true, err
			continue
		}
		p.done, p.err = true, err
		if err != nil {
			return err
		}
		if p.name != ReviewClaim {
			return nil
		}
	}
}

// approve grants production, issues the first production key and records the approval. The grant
// is checked by GrantProduction under the portal's rule, since a Signal never passes the portal:
// a refusal (EINVALID) refuses the decision — nothing recorded, the reason in the state and, for
// an Update, its answer — and the review waits for another one. Executions that reached their
// approval before that change replay as recorded: a refused grant failed them.
func (r *review) approve(ctx workflow.Context, p *queued[ReviewAction]) (refused bool, err error) {
	var a *activities.Activities
	waits := workflow.GetVersion(ctx, changeRefusedGrantWaits, workflow.DefaultVersion, 1) == 1
	reviewer := r.state.Reviewer
	if r.state.Reviewer == "" {
		r.state.Reviewer = p.act.By
	}
	var granted string
	err = workflow.ExecuteActivity(ctx, a.GrantProduction, activities.GrantInput{RequestID: r.in.RequestID, OrgID: r.in.OrgID, Grants: p.act.Grants}).Get(ctx, &granted)
	var app *temporal.ApplicationError
	if waits && errors.As(err, &app) && app.Type() == onramp.EINVALID {
		r.state.Reviewer, r.decided = reviewer, false
		r.state.Refused = &RefusedDecision{Action: p.name, By: p.act.By, Reason: app.Message(), At: workflow.Now(ctx)}
		workflow.GetLogger(ctx).Warn("approval refused; the review waits for another decision", "by", p.act.By, "reason", app.Message())
		p.done, p.err = true, temporal.NewApplicationError(app.Message(), onramp.EINVALID)
		return true, nil
	}
	if err == nil {
		err = workflow.ExecuteActivity(ctx, a.IssueProductionCredential, r.in.OrgID).Get(ctx, nil)
	}
	if err == nil {
		err = r.record(ctx, onramp.RequestApproved, p.act.By, granted)
	}
	return false, err
}
