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

// invitationEnv runs the invitation workflow with recorded activities and a skipping clock.
type invitationEnv struct {
	env      *testsuite.TestWorkflowEnvironment
	start    time.Time
	sent     []activities.InvitationMailInput
	sentAt   []time.Duration
	statuses []activities.SetPartnerStatusInput
	issued   int // sandbox credentials issued
}

func newInvitationEnv(t *testing.T) *invitationEnv {
	var s testsuite.WorkflowTestSuite
	e := &invitationEnv{env: s.NewTestWorkflowEnvironment()}
	e.start = e.env.Now()
	var a *activities.Activities
	worker.Register(e.env, &activities.Activities{})
	e.env.OnActivity(a.SavePartner, mock.Anything, mock.Anything).Return(nil)
	e.env.OnActivity(a.AddContact, mock.Anything, mock.Anything).Return("identity-1", nil)
	e.env.OnActivity(a.SendInvitation, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.InvitationMailInput) error {
		e.sent = append(e.sent, in)
		e.sentAt = append(e.sentAt, e.env.Now().Sub(e.start))
		return nil
	})
	e.env.OnActivity(a.SetPartnerStatus, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SetPartnerStatusInput) error {
		e.statuses = append(e.statuses, in)
		return nil
	})
	e.env.OnActivity(a.IssueSandboxCredential, mock.Anything, "org-1").Return(func(_ context.Context, orgID string) (string, error) {
		e.issued++
		return "cred_1_sandbox", nil
	})
	return e
}

func (e *invitationEnv) run(t *testing.T) workflows.InvitationState {
	t.Helper()
	e.env.ExecuteWorkflow(workflows.PartnerInvitationWorkflowName, workflows.PartnerInvitationInput{
		Organization: onramp.Organization{ID: "org-1", Name: "Acme Payments", Tier: "standard", ContactEmail: "cto@acme.example"},
		PortalURL:    "http://portal.test",
	})
	if !e.env.IsWorkflowCompleted() || e.env.GetWorkflowError() != nil {
		t.Fatalf("completed=%v err=%v", e.env.IsWorkflowCompleted(), e.env.GetWorkflowError())
	}
	var st workflows.InvitationState
	if err := e.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPartnerInvitationCompletesOnFirstSignIn(t *testing.T) {
	e := newInvitationEnv(t)
	e.env.RegisterDelayedCallback(func() {
		e.env.SignalWorkflow(workflows.SignalContactSignedIn, workflows.ContactSignedIn{})
	}, 5*time.Hour)
	st := e.run(t)
	if st.Status != onramp.OrgActive || st.SignedInAt == nil {
		t.Fatalf("state = %+v, want active with a sign-in time", st)
	}
	if len(e.sent) != 1 || e.sent[0].Reminder || e.sent[0].Email != "cto@acme.example" {
		t.Errorf("mails = %+v, want one invitation and no reminder", e.sent)
	}
	if len(e.statuses) != 1 || e.statuses[0].Status != onramp.OrgActive || e.statuses[0].FirstSignIn == nil {
		t.Errorf("status updates = %+v, want one to active with the sign-in time", e.statuses)
	}
	if got := st.SignedInAt.Sub(e.start); got != 5*time.Hour {
		t.Errorf("signed in after %s, want 5h", got)
	}
	if e.issued != 1 || st.SandboxCredential != "cred_1_sandbox" {
		t.Errorf("sandbox credentials issued = %d (state %q), want one at the first sign-in", e.issued, st.SandboxCredential)
	}
}

func TestPartnerInvitationRemindsThenExpires(t *testing.T) {
	e := newInvitationEnv(t)
	st := e.run(t)
	if st.Status != onramp.OrgExpired {
		t.Fatalf("status = %q, want expired", st.Status)
	}
	if len(e.sent) != 2 || !e.sent[1].Reminder {
		t.Fatalf("mails = %+v, want the invitation then one reminder", e.sent)
	}
	if e.sentAt[1] != workflows.DefaultReminderAfter {
		t.Errorf("reminder sent after %s, want %s", e.sentAt[1], workflows.DefaultReminderAfter)
	}
	if len(e.statuses) != 1 || e.statuses[0].Status != onramp.OrgExpired {
		t.Errorf("status updates = %+v, want one to expired", e.statuses)
	}
	if got := st.ExpiresAt.Sub(e.start); got != workflows.DefaultExpireAfter {
		t.Errorf("expired after %s, want %s", got, workflows.DefaultExpireAfter)
	}
}

func TestPartnerInvitationResendRestartsExpiry(t *testing.T) {
	e := newInvitationEnv(t)
	resendAt := 10 * 24 * time.Hour
	e.env.RegisterDelayedCallback(func() { e.env.SignalWorkflow(workflows.SignalResendInvitation, nil) }, resendAt)
	st := e.run(t)
	if st.Status != onramp.OrgExpired || st.InvitationsSent != 2 || st.RemindersSent != 1 {
		t.Fatalf("state = %+v, want expired after 2 invitations and 1 reminder", st)
	}
	if got, want := st.ExpiresAt.Sub(e.start), resendAt+workflows.DefaultExpireAfter; got != want {
		t.Errorf("expired %s after start, want %s (the resend restarts the 14 days)", got, want)
	}
	if e.sentAt[2] != resendAt {
		t.Errorf("resent at %s, want %s", e.sentAt[2], resendAt)
	}
}

func TestPartnerInvitationQueryReportsState(t *testing.T) {
	e := newInvitationEnv(t)
	e.env.RegisterDelayedCallback(func() {
		v, err := e.env.QueryWorkflow(workflows.QueryInvitationState)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		var st workflows.InvitationState
		if err := v.Get(&st); err != nil || st.Status != onramp.OrgInvited || st.InvitationsSent != 1 {
			t.Errorf("query state = %+v (%v), want invited with one invitation sent", st, err)
		}
		e.env.SignalWorkflow(workflows.SignalContactSignedIn, workflows.ContactSignedIn{})
	}, time.Hour)
	if st := e.run(t); st.Status != onramp.OrgActive {
		t.Fatalf("status = %q", st.Status)
	}
}
