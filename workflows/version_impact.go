package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
)

// Impact alarms run in batches: impactBatch organisations' aggregates per activity, impactWindow
// batches in flight, so thousands of organisations take a few activities each, and a failed batch
// is retried alone.
const (
	impactBatch  = 100
	impactWindow = 4
)

// VersionImpactWorkflow alarms the organisations whose own calls of the last 30 days a
// deprecation or a sunset hits (alarmImpact).
func VersionImpactWorkflow(ctx workflow.Context, in VersionImpactInput) (VersionImpactResult, error) {
	return alarmImpact(ctx, in.Event)
}

// alarmImpact plans the event (which operations it affects, the organisations assigned the
// product, the window's end), then assesses the organisations batch by batch, each batch in an
// activity that notifies and mails each affected organisation once. A batch that fails for good
// is reported, and the others go on.
func alarmImpact(ctx workflow.Context, e onramp.ImpactEvent) (VersionImpactResult, error) {
	var a *activities.Activities
	var res VersionImpactResult
	planCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    5 * time.Minute,
		ScheduleToCloseTimeout: 15 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
	var plan onramp.ImpactPlan
	if err := workflow.ExecuteActivity(planCtx, a.PlanImpact, e).Get(ctx, &plan); err != nil {
		return res, err
	}
	res.Operations, res.Organizations = len(plan.Operations), len(plan.Organizations)
	if len(plan.Operations) == 0 {
		return res, nil
	}
	orgs := plan.Organizations
	plan.Organizations = nil
	batchCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	var batches [][]string
	for start := 0; start < len(orgs); start += impactBatch {
		batches = append(batches, orgs[start:min(start+impactBatch, len(orgs))])
	}
	for start := 0; start < len(batches); start += impactWindow {
		window := batches[start:min(start+impactWindow, len(batches))]
		futures := make([]workflow.Future, len(window))
		for i, b := range window {
			futures[i] = workflow.ExecuteActivity(batchCtx, a.AlarmImpact, activities.ImpactBatch{Plan: plan, OrgIDs: b})
		}
		for i, f := range futures {
			var r activities.ImpactBatchResult
			if err := f.Get(ctx, &r); err != nil {
				workflow.GetLogger(ctx).Warn("impact batch failed", "first", window[i][0], "organizations", len(window[i]), "error", err)
				res.Failed = append(res.Failed, window[i]...)
				continue
			}
			res.Alarmed += r.Alarmed
			res.Mailed += r.Mailed
		}
	}
	return res, nil
}
