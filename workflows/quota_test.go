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

type quotaEnv struct {
	env     *testsuite.TestWorkflowEnvironment
	start   time.Time
	saved   []string // statuses stored
	applied []int64  // limits set on the assignment
	notices []string
	at      map[string]time.Duration // when each notice was sent
}

func newQuotaEnv(t *testing.T) *quotaEnv {
	var s testsuite.WorkflowTestSuite
	e := &quotaEnv{env: s.NewTestWorkflowEnvironment(), at: map[string]time.Duration{}}
	e.start = e.env.Now()
	var a *activities.Activities
	worker.Register(e.env, &activities.Activities{})
	e.env.OnActivity(a.SaveQuotaRequest, mock.Anything, mock.Anything).Return(func(_ context.Context, r onramp.QuotaRequest) error {
		e.saved = append(e.saved, r.Status)
		return nil
	})
	e.env.OnActivity(a.ApplyQuota, mock.Anything, mock.Anything).Return(func(_ context.Context, c activities.QuotaChange) error {
		e.applied = append(e.applied, c.Limit)
		return nil
	})
	e.env.OnActivity(a.NotifyQuota, mock.Anything, mock.Anything).Return(func(_ context.Context, n activities.QuotaNotice) error {
		e.notices = append(e.notices, n.Kind)
		e.at[n.Kind] = e.env.Now().Sub(e.start)
		return nil
	})
	return e
}

func (e *quotaEnv) decide(name string, after time.Duration, d onramp.QuotaDecision, rejected *error) {
	e.env.RegisterDelayedCallback(func() {
		e.env.UpdateWorkflow(name, name+after.String(), &testsuite.TestUpdateCallback{OnReject: func(err error) { *rejected = err },
			OnComplete: func(_ any, err error) {
				if err != nil {
					*rejected = err
				}
			}}, d)
	}, after)
}

func (e *quotaEnv) run(t *testing.T) onramp.QuotaRequest {
	t.Helper()
	e.env.ExecuteWorkflow(workflows.QuotaIncreaseReviewWorkflowName, workflows.QuotaIncreaseReviewInput{PortalURL: "http://portal.test",
		Request: onramp.QuotaRequest{ID: "qr_1", OrgID: "org_1", Product: "payments", Period: "month", CurrentLimit: 100, RequestedLimit: 500, Justification: "launch"}})
	if !e.env.IsWorkflowCompleted() || e.env.GetWorkflowError() != nil {
		t.Fatalf("completed=%v err=%v", e.env.IsWorkflowCompleted(), e.env.GetWorkflowError())
	}
	var r onramp.QuotaRequest
	if err := e.env.GetWorkflowResult(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestQuotaReviewApprovesTheAskedLimit(t *testing.T) {
	e := newQuotaEnv(t)
	var rejected error
	e.decide(workflows.QuotaApprove, time.Hour, onramp.QuotaDecision{By: "ana@provider.example"}, &rejected)
	r := e.run(t)
	if rejected != nil || r.Status != onramp.QuotaApproved || r.ApprovedLimit != 500 || r.DecidedBy != "ana@provider.example" {
		t.Fatalf("request %+v, rejected %v", r, rejected)
	}
	if len(e.applied) != 1 || e.applied[0] != 500 {
		t.Errorf("applied %v, want the asked 500", e.applied)
	}
	if len(e.saved) != 2 || e.saved[0] != onramp.QuotaPending || e.saved[1] != onramp.QuotaApproved {
		t.Errorf("saved %v, want pending then approved", e.saved)
	}
	if len(e.notices) != 2 || e.notices[0] != "review" || e.notices[1] != "approved" {
		t.Errorf("notices %v, want the reviewers told, then the partner", e.notices)
	}
}

func TestQuotaReviewApprovesAnotherLimitAfterAReminder(t *testing.T) {
	e := newQuotaEnv(t)
	var rejected error
	e.decide(workflows.QuotaApprove, 30*time.Hour, onramp.QuotaDecision{By: "ana@provider.example", Limit: 300}, &rejected)
	r := e.run(t)
	if rejected != nil || r.ApprovedLimit != 300 || len(e.applied) != 1 || e.applied[0] != 300 {
		t.Fatalf("request %+v, applied %v, rejected %v; want 300 granted", r, e.applied, rejected)
	}
	if e.at["review-reminder"] != 24*time.Hour || len(e.notices) != 3 {
		t.Errorf("notices %v at %v, want one reminder after 24h", e.notices, e.at)
	}
}

func TestQuotaReviewRejectsWithAReasonOnce(t *testing.T) {
	e := newQuotaEnv(t)
	var noReason, second, noBy error
	e.decide(workflows.QuotaReject, time.Hour, onramp.QuotaDecision{By: "ana@provider.example"}, &noReason)
	e.decide(workflows.QuotaApprove, 90*time.Minute, onramp.QuotaDecision{}, &noBy)
	e.decide(workflows.QuotaReject, 2*time.Hour, onramp.QuotaDecision{By: "ana@provider.example", Reason: "send your traffic forecast"}, new(error))
	e.decide(workflows.QuotaApprove, 2*time.Hour, onramp.QuotaDecision{By: "bo@provider.example"}, &second)
	r := e.run(t)
	if noReason == nil || noBy == nil {
		t.Errorf("a reasonless reject (%v) or an anonymous approve (%v) was accepted", noReason, noBy)
	}
	if second == nil {
		t.Error("a second decision was accepted")
	}
	if r.Status != onramp.QuotaRejected || r.Reason != "send your traffic forecast" || len(e.applied) != 0 {
		t.Errorf("request %+v, applied %v", r, e.applied)
	}
	if e.notices[len(e.notices)-1] != "rejected" {
		t.Errorf("notices %v, want the partner told of the rejection", e.notices)
	}
}

func TestQuotaAlertNotifiesOnce(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	worker.Register(env, &activities.Activities{})
	var got []activities.QuotaAlertNotice
	env.OnActivity(a.NotifyQuotaAlert, mock.Anything, mock.Anything).Return(func(_ context.Context, n activities.QuotaAlertNotice) error {
		got = append(got, n)
		return nil
	})
	al := onramp.QuotaAlert{OrgID: "org_1", Product: "payments", Environment: onramp.Sandbox, Threshold: 80, Limit: 100, Period: "month"}
	env.ExecuteWorkflow(workflows.QuotaAlertWorkflowName, workflows.QuotaAlertInput{Alert: al, PortalURL: "http://portal.test"})
	if err := env.GetWorkflowError(); err != nil || len(got) != 1 || got[0].Alert.Key() != al.Key() {
		t.Fatalf("err %v, notices %+v", err, got)
	}
}
