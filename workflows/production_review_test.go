package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/production/productiontest"
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
func newReviewEnv(t *testing.T) *reviewEnv { return newReviewEnvGranting(t, nil) }

// newReviewEnvGranting runs GrantProduction as grant does, or else grants whatever it is sent.
func newReviewEnvGranting(t *testing.T, grant func(context.Context, activities.GrantInput) (string, error)) *reviewEnv {
	if grant == nil {
		grant = func(context.Context, activities.GrantInput) (string, error) { return "payments on standard", nil }
	}
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
	e.env.OnActivity(a.GrantProduction, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.GrantInput) (string, error) {
		granted, err := grant(ctx, in)
		if err == nil {
			e.granted++
		}
		return granted, err
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

// grantStores are the stores the real GrantProduction runs on: request prq-1 of org-1 asks
// payments on standard (payments read/write, 10 000 calls a month); premium offers more.
type grantStores struct {
	catalog  *catalogtest.Memory
	requests *productiontest.Memory
	acts     *activities.Activities
}

func mustGrantStores(tb testing.TB) *grantStores {
	tb.Helper()
	g := &grantStores{catalog: catalogtest.NewMemory(), requests: productiontest.NewMemory()}
	g.acts = &activities.Activities{Requests: g.requests, Plans: g.catalog, Assignments: g.catalog}
	ctx := context.Background()
	payments := func(limit int64, scopes ...string) map[string]onramp.Grant {
		return map[string]onramp.Grant{"payments": {Scopes: scopes, Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: limit, Period: "month"}}}
	}
	for _, p := range []onramp.Plan{
		{Name: "standard", Products: payments(10000, "payments:read", "payments:write")},
		{Name: "premium", Products: payments(100000, "payments:read", "payments:write", "payments:refund")},
	} {
		if err := g.catalog.SavePlan(ctx, p); err != nil {
			tb.Fatal(err)
		}
	}
	r := onramp.ProductionRequest{ID: "prq-1", OrgID: "org-1", Status: onramp.RequestReceived, Products: []onramp.RequestedProduct{{Product: "payments", Plan: "standard", MonthlyVolume: 5000}}}
	if err := g.requests.SaveProductionRequest(ctx, r); err != nil {
		tb.Fatal(err)
	}
	return g
}

func (g *grantStores) assignments(tb testing.TB) []onramp.Assignment {
	tb.Helper()
	as, err := g.catalog.AssignmentsOf(context.Background(), "org-1")
	if err != nil {
		tb.Fatal(err)
	}
	return as
}

func (e *reviewEnv) state(tb testing.TB) workflows.ReviewState {
	tb.Helper()
	v, err := e.env.QueryWorkflow(workflows.QueryReviewState)
	if err != nil {
		tb.Fatal(err)
	}
	var st workflows.ReviewState
	if err := v.Get(&st); err != nil {
		tb.Fatal(err)
	}
	return st
}

func std(scopes ...string) []onramp.ApprovedProduct {
	return []onramp.ApprovedProduct{{Product: "payments", Plan: "standard", Scopes: scopes}}
}

// An approval signalled from the Web UI skips the portal, so the review's grant applies the
// portal's rule itself: each wider grant is refused — nothing granted or recorded, the reason in
// the state, the review still waiting — and a correct approval afterwards approves.
func TestReviewSignalWiderThanTheRequestIsRefused(t *testing.T) {
	g := mustGrantStores(t)
	e := newReviewEnvGranting(t, g.acts.GrantProduction)
	month := func(n int64) *onramp.Quota { return &onramp.Quota{Limit: n, Period: "month"} }
	wider := []struct {
		name   string
		grants []onramp.ApprovedProduct
		field  string
	}{
		{"a product not requested", []onramp.ApprovedProduct{{Product: "insights", Plan: "standard"}}, "grants[0]"},
		{"a richer plan", []onramp.ApprovedProduct{{Product: "payments", Plan: "premium"}}, "grants[0]"},
		{"a scope outside the plan", std("payments:read", "payments:refund"), "grants[0].scopes"},
		{"a quota above the plan's", []onramp.ApprovedProduct{{Product: "payments", Plan: "standard", Quota: month(10001)}}, "grants[0].quota"},
	}
	for i, w := range wider {
		at := time.Duration(i+1) * time.Hour
		e.env.RegisterDelayedCallback(func() {
			e.env.SignalWorkflow(workflows.ReviewApprove, workflows.ReviewAction{By: "ops@provider.example", Grants: w.grants})
		}, at)
		e.env.RegisterDelayedCallback(func() {
			st := e.state(t)
			if st.Status != onramp.RequestReceived || st.Reviewer != "" || st.Refused == nil || st.Refused.By != "ops@provider.example" || !strings.Contains(st.Refused.Reason, w.field+": ") {
				t.Errorf("%s: state = %+v (refused %+v), want still received, the refusal naming %s", w.name, st, st.Refused, w.field)
			}
			if e.env.IsWorkflowCompleted() || e.granted != 0 || len(g.assignments(t)) != 0 || !eq(e.statuses(), []string{onramp.RequestReceived}) {
				t.Errorf("%s: completed %v, granted %d, assignments %+v, steps %v; want nothing granted or recorded", w.name, e.env.IsWorkflowCompleted(), e.granted, g.assignments(t), e.statuses())
			}
		}, at+30*time.Minute)
	}
	e.env.RegisterDelayedCallback(func() {
		e.env.SignalWorkflow(workflows.ReviewApprove, workflows.ReviewAction{By: "ana@provider.example", Grants: std("payments:read")})
	}, 6*time.Hour)
	st := e.run(t)
	if st.Status != onramp.RequestApproved || st.Reviewer != "ana@provider.example" || e.granted != 1 || e.issued != 1 {
		t.Errorf("state = %+v, granted %d, issued %d; want the correct approval to approve once", st, e.granted, e.issued)
	}
	if got := e.statuses(); !eq(got, []string{onramp.RequestReceived, onramp.RequestApproved}) {
		t.Errorf("steps = %v", got)
	}
	if as := g.assignments(t); len(as) != 1 || strings.Join(as[0].Scopes, " ") != "payments:read" || as[0].Quota.Limit != 10000 || as[0].Plan != "standard" {
		t.Errorf("assignments = %+v, want payments:read on standard only", as)
	}
}

// A grant GrantProduction cannot make (a quota of nothing) used to fail the whole review, leaving
// the request stuck; by signal it is refused and the review goes on to another decision.
func TestReviewSignalWithAQuotaOfNothingDoesNotFailTheReview(t *testing.T) {
	g := mustGrantStores(t)
	e := newReviewEnvGranting(t, g.acts.GrantProduction)
	e.env.RegisterDelayedCallback(func() {
		e.env.SignalWorkflow(workflows.ReviewClaim, workflows.ReviewAction{By: "ana@provider.example"})
		e.env.SignalWorkflow(workflows.ReviewApprove, workflows.ReviewAction{By: "ops@provider.example",
			Grants: []onramp.ApprovedProduct{{Product: "payments", Plan: "standard", Quota: &onramp.Quota{Limit: 0, Period: "month"}}}})
	}, time.Hour)
	e.env.RegisterDelayedCallback(func() {
		if st := e.state(t); e.env.IsWorkflowCompleted() || st.Status != onramp.RequestInReview || st.Reviewer != "ana@provider.example" || st.Refused == nil || !strings.Contains(st.Refused.Reason, "grants[0].quota: ") {
			t.Errorf("completed %v, state %+v (refused %+v); want still in review by its claimant, the refusal naming the quota", e.env.IsWorkflowCompleted(), st, st.Refused)
		}
	}, 2*time.Hour)
	e.env.RegisterDelayedCallback(func() {
		e.env.SignalWorkflow(workflows.ReviewReject, workflows.ReviewAction{By: "ana@provider.example", Reason: "Volumes too low for production."})
	}, 3*time.Hour)
	st := e.run(t)
	if st.Status != onramp.RequestRejected || e.granted != 0 || e.issued != 0 || len(g.assignments(t)) != 0 {
		t.Errorf("state = %+v, granted %d, issued %d; want rejected with nothing granted", st, e.granted, e.issued)
	}
	if got := e.statuses(); !eq(got, []string{onramp.RequestReceived, onramp.RequestInReview, onramp.RequestRejected}) {
		t.Errorf("steps = %v", got)
	}
}

// An Update whose grant is refused (the portal checked it, but the plans changed since) gets the
// refusal as its answer, typed EINVALID, and the review waits for another decision.
func TestReviewUpdateWiderThanTheRequestIsAnsweredWithTheRefusal(t *testing.T) {
	g := mustGrantStores(t)
	e := newReviewEnvGranting(t, g.acts.GrantProduction)
	var refused, approved error
	e.env.RegisterDelayedCallback(func() {
		e.env.UpdateWorkflow(workflows.ReviewApprove, "wide", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("the validator refused %v; the grant is checked when applied", err) },
			OnComplete: func(_ any, err error) {
				refused = err
			},
		}, workflows.ReviewAction{By: "ana@provider.example", Grants: []onramp.ApprovedProduct{{Product: "payments", Plan: "premium"}}})
	}, time.Hour)
	e.update(workflows.ReviewApprove, 2*time.Hour, workflows.ReviewAction{By: "ana@provider.example"}, &approved)
	st := e.run(t)
	var app *temporal.ApplicationError
	if !errors.As(refused, &app) || app.Type() != onramp.EINVALID || !strings.Contains(app.Message(), "grants[0]: payments on premium was not requested") {
		t.Errorf("the wider update answered %v, want EINVALID naming grants[0]", refused)
	}
	if approved != nil || st.Status != onramp.RequestApproved || e.granted != 1 {
		t.Errorf("then approve = %v, state %+v, granted %d", approved, st, e.granted)
	}
	if as := g.assignments(t); len(as) != 1 || len(as[0].Scopes) != 2 {
		t.Errorf("assignments = %+v, want payments with the standard plan's scopes", as)
	}
}

// An execution that reached its approval before refused grants waited (no marker of the change in
// its history: GetVersion answers DefaultVersion) keeps the behaviour it recorded, a failed
// review, so its replay matches. The literal is the change id: it must never be renamed.
func TestReviewRefusedGrantBeforeTheChangeReplaysAsRecorded(t *testing.T) {
	g := mustGrantStores(t)
	e := newReviewEnvGranting(t, g.acts.GrantProduction)
	e.env.OnGetVersion("refused-grant-waits", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	e.env.RegisterDelayedCallback(func() {
		e.env.SignalWorkflow(workflows.ReviewApprove, workflows.ReviewAction{By: "ops@provider.example",
			Grants: []onramp.ApprovedProduct{{Product: "payments", Plan: "standard", Quota: &onramp.Quota{Limit: 0, Period: "month"}}}})
	}, time.Hour)
	e.env.ExecuteWorkflow(workflows.ProductionReviewWorkflowName, workflows.ProductionReviewInput{RequestID: "prq-1", OrgID: "org-1", PortalURL: "http://portal.test"})
	var app *temporal.ApplicationError
	if err := e.env.GetWorkflowError(); !e.env.IsWorkflowCompleted() || !errors.As(err, &app) || app.Type() != onramp.EINVALID {
		t.Errorf("completed %v, error %v; want the pre-change review failed by the refused grant", e.env.IsWorkflowCompleted(), err)
	}
}
