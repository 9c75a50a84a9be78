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

type rotationEnv struct {
	env      *testsuite.TestWorkflowEnvironment
	start    time.Time
	saved    []string // statuses stored
	expires  []time.Duration
	revoked  time.Duration // when the old key was revoked (-1: never)
	issued   int
	notices  []string
	required bool
}

func newRotationEnv(t *testing.T, reviewRequired bool) *rotationEnv {
	var s testsuite.WorkflowTestSuite
	e := &rotationEnv{env: s.NewTestWorkflowEnvironment(), revoked: -1, required: reviewRequired}
	e.start = e.env.Now()
	var a *activities.Activities
	worker.Register(e.env, &activities.Activities{})
	e.env.OnActivity(a.EvaluateRotation, mock.Anything, mock.Anything).Return(activities.RotationReview{Required: reviewRequired, Reasons: []string{"production write"}}, nil)
	e.env.OnActivity(a.SaveRotation, mock.Anything, mock.Anything).Return(func(_ context.Context, r onramp.Rotation) error {
		e.saved = append(e.saved, r.Status)
		return nil
	})
	e.env.OnActivity(a.IssueRotatedCredential, mock.Anything, mock.Anything).Return(func(context.Context, onramp.Rotation) (string, error) {
		e.issued++
		return "cred_new", nil
	})
	e.env.OnActivity(a.ExpireRotatedCredential, mock.Anything, mock.Anything).Return(func(_ context.Context, r onramp.Rotation) error {
		e.expires = append(e.expires, r.ExpiresAt.Sub(e.start))
		return nil
	})
	e.env.OnActivity(a.RevokeRotatedCredential, mock.Anything, mock.Anything).Return(func(context.Context, onramp.Rotation) error {
		e.revoked = e.env.Now().Sub(e.start)
		return nil
	})
	e.env.OnActivity(a.NotifyRotation, mock.Anything, mock.Anything).Return(func(_ context.Context, n activities.RotationNotice) error {
		e.notices = append(e.notices, n.Kind)
		return nil
	})
	return e
}

func (e *rotationEnv) act(name string, after time.Duration, a onramp.RotationAction, rejected *error) {
	e.env.RegisterDelayedCallback(func() {
		e.env.UpdateWorkflow(name, name+after.String(), &testsuite.TestUpdateCallback{OnReject: func(err error) { *rejected = err }}, a)
	}, after)
}

func (e *rotationEnv) run(t *testing.T, overlap string) workflows.RotationState {
	t.Helper()
	e.env.ExecuteWorkflow(workflows.CredentialRotationWorkflowName, workflows.CredentialRotationInput{PortalURL: "http://portal.test",
		Rotation: onramp.Rotation{ID: "rot_1", OrgID: "org_1", OldCredentialID: "cred_old", Label: "CI", Overlap: overlap, Status: onramp.RotationPendingReview}})
	if !e.env.IsWorkflowCompleted() || e.env.GetWorkflowError() != nil {
		t.Fatalf("completed=%v err=%v", e.env.IsWorkflowCompleted(), e.env.GetWorkflowError())
	}
	var st workflows.RotationState
	if err := e.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRotationOverlapIsRespected(t *testing.T) {
	e := newRotationEnv(t, false)
	st := e.run(t, "24h")
	if st.Status != onramp.RotationCompleted || st.NewCredentialID != "cred_new" || e.issued != 1 {
		t.Fatalf("state = %+v", st)
	}
	if len(e.expires) != 1 || e.expires[0] != 24*time.Hour || e.revoked != 24*time.Hour {
		t.Errorf("expiry %v, revoked at %s; want both at 24h", e.expires, e.revoked)
	}
	if len(e.notices) != 2 || e.notices[0] != "issued" || e.notices[1] != "completed" {
		t.Errorf("notices = %v", e.notices)
	}
}

func TestRotationRevokeOldNowAndExtend(t *testing.T) {
	e := newRotationEnv(t, false)
	var rejected error
	e.act(workflows.RotationExtend, time.Hour, onramp.RotationAction{By: "dev@acme.example", Overlap: "48h"}, &rejected)
	e.act(workflows.RotationRevokeNow, 3*time.Hour, onramp.RotationAction{By: "dev@acme.example"}, &rejected)
	st := e.run(t, "24h")
	if rejected != nil {
		t.Fatalf("an action was rejected: %v", rejected)
	}
	if st.Status != onramp.RotationCompleted || len(e.expires) != 2 || e.expires[1] != 49*time.Hour || e.revoked != 3*time.Hour {
		t.Errorf("state %+v, expiries %v, revoked at %s; want extended to 49h then revoked at 3h", st, e.expires, e.revoked)
	}
}

func TestRotationReviewApproveRejectCancel(t *testing.T) {
	t.Run("approve", func(t *testing.T) {
		e := newRotationEnv(t, true)
		var rejected error
		e.act(workflows.RotationRevokeNow, time.Hour, onramp.RotationAction{By: "dev@acme.example"}, &rejected) // nothing to revoke yet
		e.act(workflows.RotationApprove, 2*time.Hour, onramp.RotationAction{By: "sec@provider.example"}, new(error))
		st := e.run(t, "1h")
		if rejected == nil || st.Status != onramp.RotationCompleted || e.issued != 1 || e.revoked != 3*time.Hour || !st.ReviewRequired {
			t.Errorf("state %+v, early revoke %v, revoked at %s", st, rejected, e.revoked)
		}
		if e.saved[0] != onramp.RotationPendingReview || e.notices[0] != "review" {
			t.Errorf("saved %v, notices %v; want the review first", e.saved, e.notices)
		}
	})
	t.Run("reject", func(t *testing.T) {
		e := newRotationEnv(t, true)
		var noReason error
		e.act(workflows.RotationReject, time.Hour, onramp.RotationAction{By: "sec@provider.example"}, &noReason)
		e.act(workflows.RotationReject, 30*time.Hour, onramp.RotationAction{By: "sec@provider.example", Reason: "rotate the CI key first"}, new(error))
		st := e.run(t, "1h")
		if noReason == nil || st.Status != onramp.RotationRejected || e.issued != 0 || e.revoked != -1 {
			t.Errorf("state %+v, reasonless reject %v, issued %d", st, noReason, e.issued)
		}
		if len(e.notices) != 3 || e.notices[1] != "review-reminder" || e.notices[2] != "rejected" {
			t.Errorf("notices = %v, want review, its reminder after 24h, rejected", e.notices)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		e := newRotationEnv(t, true)
		e.act(workflows.RotationCancel, time.Hour, onramp.RotationAction{By: "dev@acme.example"}, new(error))
		st := e.run(t, "1h")
		if st.Status != onramp.RotationCancelled || e.issued != 0 {
			t.Errorf("state %+v, issued %d", st, e.issued)
		}
	})
}

// The portal names rotation actions with the domain's constants; the workflow's pinned Update
// names are in histories and never change, so the two must agree.
func TestRotationActionNamesAreTheDomains(t *testing.T) {
	for pinned, domain := range map[string]string{workflows.RotationApprove: onramp.RotationApprove, workflows.RotationReject: onramp.RotationReject,
		workflows.RotationRevokeNow: onramp.RotationRevokeOldNow, workflows.RotationExtend: onramp.RotationExtend, workflows.RotationCancel: onramp.RotationCancel} {
		if pinned != domain {
			t.Errorf("workflow action %q, domain action %q", pinned, domain)
		}
	}
}
