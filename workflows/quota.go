package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
)

// QuotaAlertWorkflow tells the organisation (notification centre, and e-mail to owners and
// admins) that its use of a product crossed a threshold of its quota.
func QuotaAlertWorkflow(ctx workflow.Context, in QuotaAlertInput) error {
	ctx = withActivityDefaults(ctx)
	var a *activities.Activities
	return workflow.ExecuteActivity(ctx, a.NotifyQuotaAlert, activities.QuotaAlertNotice{Alert: in.Alert, PortalURL: in.PortalURL}).Get(ctx, nil)
}

// QuotaIncreaseReviewWorkflow stores a quota request, tells the reviewers (reminding them once),
// and waits for an approval (the asked limit or another) or a rejection. An approval raises the
// assignment's quota, which every gateway node follows within its cache TTL; the organisation is
// told either way.
func QuotaIncreaseReviewWorkflow(ctx workflow.Context, in QuotaIncreaseReviewInput) (onramp.QuotaRequest, error) {
	ctx = withActivityDefaults(ctx)
	if in.ReviewReminder <= 0 {
		in.ReviewReminder = 24 * time.Hour
	}
	qr := &quotaReview{in: in, r: in.Request}
	qr.actions = &actionQueue[onramp.QuotaDecision]{validate: qr.validate, onQueue: func(string, onramp.QuotaDecision) { qr.decided = true }}
	return serveActions(ctx, qr.actions, QueryQuotaReviewState, QuotaActions, func() onramp.QuotaRequest { return qr.r },
		func() bool { return qr.saved }, qr.run,
		func() error { return fmt.Errorf("the request is already %s", qr.r.Status) })
}

type quotaReview struct {
	in      QuotaIncreaseReviewInput
	r       onramp.QuotaRequest
	actions *actionQueue[onramp.QuotaDecision]
	decided bool // a decision is queued: a second one is refused up front
	saved   bool // the read model holds the request
}

func (qr *quotaReview) validate(action string, d onramp.QuotaDecision) error {
	if d.By == "" {
		return errors.New(`say who decides: {"by": "you@provider.example"}`)
	}
	if qr.decided || qr.r.Status != onramp.QuotaPending {
		return fmt.Errorf("the request is already decided (%s)", qr.r.Status)
	}
	if action == QuotaApprove && d.Limit < 0 {
		return errors.New(`approve the asked limit, or give another positive one: {"by": "…", "limit": 50000}`)
	}
	if action == QuotaReject && d.Reason == "" {
		return errors.New(`give the reason the partner will read: {"by": "…", "reason": "…"}`)
	}
	return nil
}

func (qr *quotaReview) save(ctx workflow.Context) error {
	var a *activities.Activities
	qr.r.UpdatedAt = workflow.Now(ctx)
	err := workflow.ExecuteActivity(ctx, a.SaveQuotaRequest, qr.r).Get(ctx, nil)
	qr.saved = qr.saved || err == nil
	return err
}

func (qr *quotaReview) notify(ctx workflow.Context, kind, title, body string) error {
	var a *activities.Activities
	link := qr.in.PortalURL + "/usage?org=" + qr.r.OrgID
	if kind == "review" || kind == "review-reminder" {
		link = qr.in.PortalURL + "/admin/reviews#" + qr.r.ID
	}
	return workflow.ExecuteActivity(ctx, a.NotifyQuota, activities.QuotaNotice{OrgID: qr.r.OrgID, Kind: kind, Title: title, Body: body,
		Link: link, MessageID: qr.r.ID + "-" + kind}).Get(ctx, nil)
}

func (qr *quotaReview) run(ctx workflow.Context) error {
	var a *activities.Activities
	qr.r.Status = onramp.QuotaPending
	if err := qr.save(ctx); err != nil {
		return err
	}
	asked := fmt.Sprintf("%s asks for %d calls per %s on %s (now %d): %s", qr.r.OrgID, qr.r.RequestedLimit, qr.r.Period, qr.r.Product, qr.r.CurrentLimit, qr.r.Justification)
	if err := qr.notify(ctx, "review", "Quota increase requested: "+qr.r.Product, asked); err != nil {
		return err
	}
	p, err := qr.actions.nextRemindingOnce(ctx, qr.in.ReviewReminder, func() error {
		return qr.notify(ctx, "review-reminder", "Reminder: quota request on "+qr.r.Product+" waits for review", asked)
	})
	if err != nil {
		return err
	}
	qr.r.DecidedBy = p.act.By
	if p.name == QuotaReject {
		qr.r.Status, qr.r.Reason = onramp.QuotaRejected, p.act.Reason
		if err = qr.save(ctx); err == nil {
			err = qr.notify(ctx, "rejected", "Quota increase on "+qr.r.Product+" declined", "Reason: "+p.act.Reason)
		}
		p.done, p.err = true, err
		return err
	}
	qr.r.ApprovedLimit = qr.r.RequestedLimit
	if p.act.Limit > 0 {
		qr.r.ApprovedLimit = p.act.Limit
	}
	err = workflow.ExecuteActivity(ctx, a.ApplyQuota, activities.QuotaChange{OrgID: qr.r.OrgID, Product: qr.r.Product, Limit: qr.r.ApprovedLimit}).Get(ctx, nil)
	if err == nil {
		qr.r.Status = onramp.QuotaApproved
		err = qr.save(ctx)
	}
	if err == nil {
		err = qr.notify(ctx, "approved", "Quota increase on "+qr.r.Product+" approved",
			fmt.Sprintf("Your quota is now %d calls per %s; it applies at once.", qr.r.ApprovedLimit, qr.r.Period))
	}
	p.done, p.err = true, err
	return err
}
