package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/worker"
	"github.com/onramp-dev/onramp/workflows"
)

type reviewEnv struct {
	env     *testsuite.TestWorkflowEnvironment
	start   time.Time
	steps   []activities.ReviewStep
	notices []activities.ReviewerNotice
	at      []time.Duration // when each notice went out
	granted int
	issued  int
}

// newReviewEnv runs reviews whose SLA is always 8 hours after each submission.
func newReviewEnv(t *testing.T) *reviewEnv {
	var s testsuite.WorkflowTestSuite
	e := &reviewEnv{env: s.NewTestWorkflowEnvironment()}
	e.start = e.env.Now()
	var a *activities.Activities
	worker.Register(e.env, &activities.Activities{})
	e.env.OnActivity(a.ReviewDue, mock.Anything, mock.Anything).Return(func(_ context.Context, at time.Time) (time.Time, error) { return at.Add(8 * time.Hour), nil })
	e.env.OnActivity(a.RecordReviewStep, mock.Anything, mock.Anything).Return(func(_ context.Context, s activities.ReviewStep) error {
		e.steps = append(e.steps, s)
		return nil
	})
	e.env.OnActivity(a.NotifyReviewers, mock.Anything, mock.Anything).Return(func(_ context.Context, n activities.ReviewerNotice) error {
		e.notices = append(e.notices, n)
		e.at = append(e.at, e.env.Now().Sub(e.start))
		return nil
	})
	e.env.OnActivity(a.GrantProduction, mock.Anything, mock.Anything).Return(func(context.Context, activities.GrantInput) (string, error) {
		e.granted++
		return "payments on standard", nil
	})
	e.env.OnActivity(a.IssueProductionCredential, mock.Anything, "org-1").Return(func(context.Context, string) (string, error) {
		e.issued++
		return "cred_1_production", nil
	})
	return e
}

func (e *reviewEnv) update(name string, after time.Duration, act workflows.ReviewAction, rejected *error) {
	e.env.RegisterDelayedCallback(func() {
		e.env.UpdateWorkflow(name, name+after.String(), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { *rejected = err },
			OnComplete: func(_ any, err error) {},
		}, act)
	}, after)
}

func (e *reviewEnv) run(t *testing.T) workflows.ReviewState {
	t.Helper()
	e.env.ExecuteWorkflow(workflows.ProductionReviewWorkflowName, workflows.ProductionReviewInput{RequestID: "prq-1", OrgID: "org-1", PortalURL: "http://portal.test"})
	if !e.env.IsWorkflowCompleted() || e.env.GetWorkflowError() != nil {
		t.Fatalf("completed=%v err=%v", e.env.IsWorkflowCompleted(), e.env.GetWorkflowError())
	}
	var st workflows.ReviewState
	if err := e.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *reviewEnv) statuses() []string {
	var out []string
	for _, s := range e.steps {
		out = append(out, s.Status)
	}
	return out
}

func eq(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReviewRemindsAtHalfTheSLAAndEscalatesAtTheBreach(t *testing.T) {
	e := newReviewEnv(t)
	var rejected error
	e.update(workflows.ReviewClaim, 3*time.Hour, workflows.ReviewAction{By: "ana@provider.example"}, &rejected)
	e.update(workflows.ReviewApprove, 9*time.Hour, workflows.ReviewAction{By: "ana@provider.example"}, &rejected)
	st := e.run(t)
	if rejected != nil {
		t.Fatalf("an update was rejected: %v", rejected)
	}
	if st.Status != onramp.RequestApproved || !st.Reminded || !st.Escalated || st.Reviewer != "ana@provider.example" {
		t.Errorf("state = %+v, want approved after a reminder and an escalation", st)
	}
	if len(e.notices) != 2 || e.notices[0].Kind != "reminder" || e.at[0] != 4*time.Hour || e.notices[1].Kind != "escalation" || e.at[1] != 8*time.Hour {
		t.Errorf("notices = %+v at %v, want the reminder at 4h and the escalation at 8h", e.notices, e.at)
	}
	if got := e.statuses(); !eq(got, []string{onramp.RequestReceived, onramp.RequestInReview, onramp.RequestApproved}) {
		t.Errorf("steps = %v", got)
	}
	if e.granted != 1 || e.issued != 1 {
		t.Errorf("granted %d, issued %d; want production granted and a key issued once", e.granted, e.issued)
	}
}

func TestReviewDecidedInTimeSendsNoReminder(t *testing.T) {
	e := newReviewEnv(t)
	var rejected error
	e.update(workflows.ReviewReject, time.Hour, workflows.ReviewAction{By: "ana@provider.example", Reason: "We only onboard EU companies."}, &rejected)
	st := e.run(t)
	if st.Status != onramp.RequestRejected || st.Reminded || len(e.notices) != 0 || e.granted != 0 {
		t.Errorf("state = %+v, notices %+v, granted %d; want rejected without reminders or grants", st, e.notices, e.granted)
	}
	if last := e.steps[len(e.steps)-1]; last.Note != "We only onboard EU companies." {
		t.Errorf("the reason is not recorded: %+v", last)
	}
}

func TestReviewChangesRequestedLoop(t *testing.T) {
	e := newReviewEnv(t)
	var rejected error
	e.update(workflows.ReviewRequestChanges, time.Hour, workflows.ReviewAction{By: "ana@provider.example", Changes: "Add a security contact."}, &rejected)
	e.update(workflows.ReviewApprove, 90*time.Minute, workflows.ReviewAction{By: "ana@provider.example"}, &rejected) // refused: the partner must resubmit first
	var afterChanges error
	e.update(workflows.ReviewResubmit, 2*time.Hour, workflows.ReviewAction{By: "cto@acme.example"}, &afterChanges)
	var final error
	e.update(workflows.ReviewApprove, 3*time.Hour, workflows.ReviewAction{By: "ana@provider.example"}, &final)
	st := e.run(t)
	if rejected == nil {
		t.Error("approving while changes are requested was accepted")
	}
	if afterChanges != nil || final != nil {
		t.Fatalf("resubmit: %v, approve: %v", afterChanges, final)
	}
	want := []string{onramp.RequestReceived, onramp.RequestChangesRequested, onramp.RequestReceived, onramp.RequestApproved}
	if got := e.statuses(); !eq(got, want) || st.Round != 2 {
		t.Errorf("steps = %v (round %d), want %v in round 2", got, st.Round, want)
	}
	if due := e.steps[2].SLADue.Sub(e.start); due != 10*time.Hour {
		t.Errorf("the resubmission is due %s after the start, want 2h + 8h", due)
	}
}

func TestReviewSecondApprovalIsRejectedByTheValidator(t *testing.T) {
	e := newReviewEnv(t)
	var first, second error
	// Two reviewers approve at the same moment: the second is refused before it is accepted.
	e.env.RegisterDelayedCallback(func() {
		e.env.UpdateWorkflow(workflows.ReviewApprove, "a1", &testsuite.TestUpdateCallback{OnReject: func(err error) { first = err }}, workflows.ReviewAction{By: "ana@provider.example"})
		e.env.UpdateWorkflow(workflows.ReviewApprove, "a2", &testsuite.TestUpdateCallback{OnReject: func(err error) { second = err }}, workflows.ReviewAction{By: "bo@provider.example"})
	}, time.Hour)
	st := e.run(t)
	if first != nil || second == nil {
		t.Fatalf("first approval: %v, second: %v; want the second rejected", first, second)
	}
	if st.Status != onramp.RequestApproved || e.granted != 1 {
		t.Errorf("state %+v, granted %d", st, e.granted)
	}
	var missingReason error
	e2 := newReviewEnv(t)
	e2.update(workflows.ReviewReject, time.Hour, workflows.ReviewAction{By: "ana@provider.example"}, &missingReason)
	e2.update(workflows.ReviewReject, 2*time.Hour, workflows.ReviewAction{By: "ana@provider.example", Reason: "incomplete"}, new(error))
	e2.run(t)
	if missingReason == nil {
		t.Error("a rejection without a reason was accepted")
	}
}

func TestReviewSignalsHaveTheSameEffect(t *testing.T) {
	e := newReviewEnv(t)
	e.env.RegisterDelayedCallback(func() {
		e.env.SignalWorkflow(workflows.ReviewApprove, workflows.ReviewAction{}) // invalid: no "by", ignored
	}, time.Hour)
	e.env.RegisterDelayedCallback(func() {
		e.env.SignalWorkflow(workflows.ReviewApprove, workflows.ReviewAction{By: "ops@provider.example"})
	}, 2*time.Hour)
	st := e.run(t)
	if st.Status != onramp.RequestApproved || st.Reviewer != "ops@provider.example" || e.granted != 1 || e.issued != 1 {
		t.Errorf("state = %+v, granted %d, issued %d; want the signal to approve like the portal", st, e.granted, e.issued)
	}
}
