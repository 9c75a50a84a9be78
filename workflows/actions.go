package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// actionQueue receives a workflow's actions both as Updates (validated, answered once the workflow
// has applied them) and as Signals of the same names and payloads (the Temporal Web UI; an invalid
// one is logged and dropped), and hands them to the workflow's main loop in arrival order.
type actionQueue[A any] struct {
	validate func(name string, act A) error
	onQueue  func(name string, act A) // bookkeeping the validator relies on (e.g. "a decision is queued")
	pending  []*queued[A]
}

type queued[A any] struct {
	name string
	act  A
	done bool
	err  error
}

// serveActions runs a workflow that takes actions: it installs the state query, the actions and
// the UpdateStarted handler (answered once started holds: the portal starts the workflow with it,
// Update-with-Start, instead of polling the read model), runs the main loop, then answers every
// Update still waiting with ended (what the workflow has become) and waits for the handlers, so
// the workflow completes cleanly.
func serveActions[A, R any](ctx workflow.Context, q *actionQueue[A], query string, names []string, state func() R,
	started func() bool, run func(workflow.Context) error, ended func() error) (R, error) {
	if err := registerActions(ctx, q, query, names, state); err != nil {
		return state(), err
	}
	err := workflow.SetUpdateHandler(ctx, UpdateStarted, func(ctx workflow.Context) (R, error) {
		err := workflow.Await(ctx, started)
		return state(), err
	})
	if err != nil {
		return state(), err
	}
	err = run(ctx)
	q.finish(ctx, ended())
	return state(), err
}

// registerActions installs the query that answers the workflow's state, and the Update and Signal
// handlers of names; an Update returns the state once its action is applied.
func registerActions[A, R any](ctx workflow.Context, q *actionQueue[A], query string, names []string, state func() R) error {
	if err := workflow.SetQueryHandler(ctx, query, func() (R, error) { return state(), nil }); err != nil {
		return err
	}
	for _, name := range names {
		err := workflow.SetUpdateHandlerWithOptions(ctx, name, func(ctx workflow.Context, act A) (R, error) {
			p := q.add(name, act)
			if err := workflow.Await(ctx, func() bool { return p.done }); err != nil {
				return state(), err
			}
			return state(), p.err
		}, workflow.UpdateHandlerOptions{Validator: func(act A) error { return q.validate(name, act) }})
		if err != nil {
			return err
		}
		ch := workflow.GetSignalChannel(ctx, name)
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				var act A
				ch.Receive(ctx, &act)
				if err := q.validate(name, act); err != nil {
					workflow.GetLogger(ctx).Warn("signal ignored", "action", name, "error", err)
					continue
				}
				q.add(name, act)
			}
		})
	}
	return nil
}

func (q *actionQueue[A]) add(name string, act A) *queued[A] {
	if q.onQueue != nil {
		q.onQueue(name, act)
	}
	p := &queued[A]{name: name, act: act}
	q.pending = append(q.pending, p)
	return p
}

// next waits for the next action and takes it off the queue; the caller marks it done.
func (q *actionQueue[A]) next(ctx workflow.Context) (*queued[A], error) {
	if err := workflow.Await(ctx, func() bool { return len(q.pending) > 0 }); err != nil {
		return nil, err
	}
	p := q.pending[0]
	q.pending = q.pending[1:]
	return p, nil
}

// finish answers every Update still waiting with err and waits for the handlers to return, so
// the workflow can complete cleanly.
func (q *actionQueue[A]) finish(ctx workflow.Context, err error) {
	for _, p := range q.pending {
		p.done, p.err = true, err
	}
	q.pending = nil
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// nextRemindingOnce waits for the next action; if none has come after `after`, it calls remind
// once and waits on.
func (q *actionQueue[A]) nextRemindingOnce(ctx workflow.Context, after time.Duration, remind func() error) (*queued[A], error) {
	reminded := false
	for {
		timeout := after
		if reminded {
			timeout = 365 * 24 * time.Hour
		}
		ok, err := workflow.AwaitWithTimeout(ctx, timeout, func() bool { return len(q.pending) > 0 })
		if err != nil {
			return nil, err
		}
		if ok {
			return q.next(ctx)
		}
		reminded = true
		if err := remind(); err != nil {
			return nil, err
		}
	}
}
