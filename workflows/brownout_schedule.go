package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp/activities"
)

// BrownoutScheduleWorkflow drives one version's brownouts on durable timers: it stores the
// plan's windows in the catalog (the gateways enforce them from there, on their own clocks),
// then for each window in turn waits until the plan's notice before it, has the partners told,
// and waits until it is over; it ends after the last. A cancel (Update or Signal) at any point
// removes what is not over yet and ends it.
func BrownoutScheduleWorkflow(ctx workflow.Context, in BrownoutScheduleInput) (BrownoutState, error) {
	ctx = withActivityDefaults(ctx)
	b := &brownoutSchedule{in: in, st: BrownoutState{Status: BrownoutScheduled, Windows: in.Plan.Windows}}
	b.actions = &actionQueue[BrownoutAction]{validate: b.validate, onQueue: func(string, BrownoutAction) { b.cancelling = true }}
	return serveActions(ctx, b.actions, QueryBrownoutState, []string{BrownoutCancel}, func() BrownoutState { return b.st },
		func() bool { return b.stored }, b.run,
		func() error { return fmt.Errorf("the brownout schedule is already %s", b.st.Status) })
}

type brownoutSchedule struct {
	in         BrownoutScheduleInput
	st         BrownoutState
	actions    *actionQueue[BrownoutAction]
	cancelling bool // a cancel is queued: a second one is refused up front
	stored     bool // the catalog holds the windows
}

func (b *brownoutSchedule) validate(_ string, act BrownoutAction) error {
	if act.By == "" {
		return errors.New(`say who cancels: {"by": "you@provider.example"}`)
	}
	if b.cancelling || b.st.Status != BrownoutScheduled {
		return fmt.Errorf("the brownout schedule is already %s", b.st.Status)
	}
	return nil
}

func (b *brownoutSchedule) run(ctx workflow.Context) error {
	var a *activities.Activities
	p := b.in.Plan
	err := workflow.ExecuteActivity(ctx, a.StoreBrownouts, activities.BrownoutChange{Product: p.Product, Version: p.Version, At: workflow.Now(ctx), Windows: p.Windows}).Get(ctx, nil)
	if err != nil {
		return err
	}
	b.stored = true
	for i, w := range p.Windows {
		if act, err := b.waitUntil(ctx, w.Start.Add(-p.Notice)); act != nil || err != nil {
			return b.cancel(ctx, act, err)
		}
		n := activities.BrownoutNotice{Product: p.Product, Version: p.Version, Window: w, Number: i + 1, Count: len(p.Windows), PortalURL: b.in.PortalURL}
		if err := workflow.ExecuteActivity(ctx, a.NotifyBrownout, n).Get(ctx, nil); err != nil {
			return err
		}
		b.st.Notified++
		if act, err := b.waitUntil(ctx, w.End); act != nil || err != nil {
			return b.cancel(ctx, act, err)
		}
		b.st.Ended++
	}
	b.st.Status = BrownoutCompleted
	return nil
}

// waitUntil sleeps until t (at once when it has passed) unless a cancel comes first, which it
// returns.
func (b *brownoutSchedule) waitUntil(ctx workflow.Context, t time.Time) (*queued[BrownoutAction], error) {
	if d := t.Sub(workflow.Now(ctx)); d > 0 {
		if _, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return len(b.actions.pending) > 0 }); err != nil {
			return nil, err
		}
	}
	if len(b.actions.pending) == 0 {
		return nil, nil
	}
	return b.actions.next(ctx)
}

// cancel applies a cancel: the catalog keeps only what is over (a window under way ends now).
func (b *brownoutSchedule) cancel(ctx workflow.Context, act *queued[BrownoutAction], err error) error {
	if err != nil {
		return err
	}
	var a *activities.Activities
	now := workflow.Now(ctx)
	err = workflow.ExecuteActivity(ctx, a.StoreBrownouts, activities.BrownoutChange{Product: b.in.Plan.Product, Version: b.in.Plan.Version, At: now}).Get(ctx, nil)
	if err == nil {
		b.st.Status, b.st.CancelledBy, b.st.CancelledAt = BrownoutCancelled, act.act.By, &now
	}
	act.done, act.err = true, err
	return err
}
