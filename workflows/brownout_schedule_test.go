package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/worker"
	"github.com/onramp-dev/onramp/workflows"
)

// brownoutEnv runs the schedule with time skipping; activities record what they were asked, and
// when (as an offset from the start).
type brownoutEnv struct {
	env     *testsuite.TestWorkflowEnvironment
	start   time.Time
	stores  []activities.BrownoutChange
	storeAt []time.Duration
	notices []int // window numbers announced
	noticed []time.Duration
}

func newBrownoutEnv(t *testing.T) *brownoutEnv {
	var s testsuite.WorkflowTestSuite
	e := &brownoutEnv{env: s.NewTestWorkflowEnvironment()}
	e.start = e.env.Now()
	var a *activities.Activities
	worker.Register(e.env, &activities.Activities{})
	e.env.OnActivity(a.StoreBrownouts, mock.Anything, mock.Anything).Return(func(_ context.Context, ch activities.BrownoutChange) error {
		e.stores, e.storeAt = append(e.stores, ch), append(e.storeAt, e.env.Now().Sub(e.start))
		return nil
	})
	e.env.OnActivity(a.NotifyBrownout, mock.Anything, mock.Anything).Return(func(_ context.Context, n activities.BrownoutNotice) error {
		e.notices, e.noticed = append(e.notices, n.Number), append(e.noticed, e.env.Now().Sub(e.start))
		return nil
	})
	return e
}

// windows are three weekly 15-minute windows, the first 10 days after the start.
func (e *brownoutEnv) windows() []onramp.BrownoutWindow {
	var out []onramp.BrownoutWindow
	for i := range 3 {
		s := e.start.Add(10*24*time.Hour + time.Duration(i)*7*24*time.Hour)
		out = append(out, onramp.BrownoutWindow{Start: s, End: s.Add(15 * time.Minute)})
	}
	return out
}

func (e *brownoutEnv) run(t *testing.T, ws []onramp.BrownoutWindow, notice time.Duration) workflows.BrownoutState {
	t.Helper()
	e.env.ExecuteWorkflow(workflows.BrownoutScheduleWorkflowName, workflows.BrownoutScheduleInput{PortalURL: "http://portal.test",
		Plan: onramp.BrownoutPlan{Product: "payments", Version: "v1", Windows: ws, Notice: notice, By: "ana@provider.example"}})
	if !e.env.IsWorkflowCompleted() || e.env.GetWorkflowError() != nil {
		t.Fatalf("completed=%v err=%v", e.env.IsWorkflowCompleted(), e.env.GetWorkflowError())
	}
	var st workflows.BrownoutState
	if err := e.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// update sends cancel as an Update after `after`, recording its rejection or failure.
func (e *brownoutEnv) update(after time.Duration, act workflows.BrownoutAction, failed *error) {
	e.env.RegisterDelayedCallback(func() {
		e.env.UpdateWorkflow(workflows.BrownoutCancel, "cancel-"+after.String()+"-"+act.By, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { *failed = err }, OnComplete: func(_ any, err error) {
				if err != nil {
					*failed = err
				}
			}}, act)
	}, after)
}

func TestBrownoutScheduleNoticesEachWindowAheadAndCompletes(t *testing.T) {
	e := newBrownoutEnv(t)
	ws := e.windows()
	st := e.run(t, ws, 24*time.Hour)
	if st.Status != workflows.BrownoutCompleted || st.Notified != 3 || st.Ended != 3 {
		t.Fatalf("state = %+v, want completed with 3 windows announced and over", st)
	}
	if len(e.stores) != 1 || e.storeAt[0] != 0 || len(e.stores[0].Windows) != 3 || !e.stores[0].At.Equal(e.start) {
		t.Fatalf("stores = %+v at %v, want the 3 windows stored once, at the start", e.stores, e.storeAt)
	}
	for i, w := range ws {
		if want := w.Start.Add(-24 * time.Hour).Sub(e.start); e.notices[i] != i+1 || e.noticed[i] != want {
			t.Errorf("notice %d = window %d at %s, want window %d 24h before it, at %s", i, e.notices[i], e.noticed[i], i+1, want)
		}
	}
}

func TestBrownoutScheduleAnnouncesAtOnceWhatIsSoonerThanTheNotice(t *testing.T) {
	e := newBrownoutEnv(t)
	soon := onramp.BrownoutWindow{Start: e.start.Add(5 * time.Second), End: e.start.Add(9 * time.Second)}
	st := e.run(t, []onramp.BrownoutWindow{soon}, 24*time.Hour)
	if st.Status != workflows.BrownoutCompleted || len(e.noticed) != 1 || e.noticed[0] != 0 {
		t.Fatalf("state = %+v, notices at %v; want one notice at once, then completed", st, e.noticed)
	}
}

func TestBrownoutScheduleCancelledByUpdateInsideAWindow(t *testing.T) {
	e := newBrownoutEnv(t)
	ws := e.windows()
	at := ws[1].Start.Add(5 * time.Minute).Sub(e.start) // inside the second window
	var noBy, failed error
	e.update(at-time.Minute, workflows.BrownoutAction{}, &noBy)
	e.update(at, workflows.BrownoutAction{By: "ana@provider.example"}, &failed)
	st := e.run(t, ws, time.Hour)
	if noBy == nil || failed != nil {
		t.Fatalf("cancel without by = %v (want refused), with by = %v (want applied)", noBy, failed)
	}
	if st.Status != workflows.BrownoutCancelled || st.CancelledBy != "ana@provider.example" || st.Notified != 2 || st.Ended != 1 {
		t.Fatalf("state = %+v, want cancelled by ana after 2 notices and 1 window", st)
	}
	if len(e.stores) != 2 || e.storeAt[1] != at || len(e.stores[1].Windows) != 0 || !e.stores[1].At.Equal(e.start.Add(at)) {
		t.Fatalf("stores = %+v at %v; want the cancel to keep only what is before %s", e.stores, e.storeAt, at)
	}
	if len(e.notices) != 2 {
		t.Errorf("notices = %v, want none after the cancel", e.notices)
	}
}

func TestBrownoutScheduleCancelledBySignalBeforeAnyNotice(t *testing.T) {
	e := newBrownoutEnv(t)
	e.env.RegisterDelayedCallback(func() {
		e.env.SignalWorkflow(workflows.BrownoutCancel, workflows.BrownoutAction{By: "ops@provider.example"})
	}, 2*time.Hour)
	st := e.run(t, e.windows(), 24*time.Hour)
	if st.Status != workflows.BrownoutCancelled || st.CancelledBy != "ops@provider.example" || len(e.notices) != 0 || len(e.stores) != 2 || e.storeAt[1] != 2*time.Hour {
		t.Fatalf("state = %+v, notices %v, stores at %v; want cancelled at 2h by the signal, nobody told", st, e.notices, e.storeAt)
	}
}

func TestBrownoutScheduleRefusesCancelOnceOver(t *testing.T) {
	e := newBrownoutEnv(t)
	ws := e.windows()
	var first, second error
	at := ws[0].Start.Sub(e.start) - 30*time.Hour
	e.update(at, workflows.BrownoutAction{By: "ana@provider.example"}, &first)
	e.update(at, workflows.BrownoutAction{By: "bo@provider.example"}, &second)
	st := e.run(t, ws, 24*time.Hour)
	if first != nil || second == nil || st.CancelledBy != "ana@provider.example" {
		t.Fatalf("first = %v, second = %v, state %+v; want the first applied and the second refused", first, second, st)
	}
}

func TestBrownoutScheduleFailsWhenTheWindowsCannotBeStored(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	worker.Register(env, &activities.Activities{})
	env.OnActivity(a.StoreBrownouts, mock.Anything, mock.Anything).Return(temporal.NewNonRetryableApplicationError("payments has no version v9", onramp.ENOTFOUND, nil))
	start := env.Now()
	env.ExecuteWorkflow(workflows.BrownoutScheduleWorkflowName, workflows.BrownoutScheduleInput{
		Plan: onramp.BrownoutPlan{Product: "payments", Version: "v9", Windows: []onramp.BrownoutWindow{{Start: start.Add(time.Hour), End: start.Add(2 * time.Hour)}}}})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() == nil {
		t.Fatalf("completed=%v err=%v, want a failed schedule", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
}
