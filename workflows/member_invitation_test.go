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

func runMemberInvitation(t *testing.T, signal string, after time.Duration) (workflows.InvitationState, []activities.MemberInvitationMail, []string) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	worker.Register(env, &activities.Activities{})
	var mails []activities.MemberInvitationMail
	var final []string
	env.OnActivity(a.SaveMemberInvitation, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.PrepareInvitee, mock.Anything, "dev@acme.example").Return(nil)
	env.OnActivity(a.SendMemberInvitation, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.MemberInvitationMail) error {
		mails = append(mails, m)
		return nil
	})
	env.OnActivity(a.SetMemberInvitationStatus, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.InvitationStatusInput) error {
		final = append(final, in.Status)
		return nil
	})
	if signal != "" {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(signal, workflows.ContactSignedIn{}) }, after)
	}
	env.ExecuteWorkflow(workflows.MemberInvitationWorkflowName, workflows.MemberInvitationInput{
		Invitation: onramp.MemberInvitation{ID: "inv-1", OrgID: "org-1", Email: "dev@acme.example", Role: onramp.RoleDeveloper, InvitedBy: "cto@acme.example"},
		OrgName:    "Acme", PortalURL: "http://portal.test",
	})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var st workflows.InvitationState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st, mails, final
}

func TestMemberInvitationOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		signal     string
		after      time.Duration
		wantStatus string
		wantMails  int
	}{
		{"accepted the same day", workflows.SignalMemberAccepted, 2 * time.Hour, onramp.InvitationAccepted, 1},
		{"cancelled after the reminder", workflows.SignalCancelInvitation, 4 * 24 * time.Hour, onramp.InvitationCancelled, 2},
		{"never answered", "", 0, onramp.InvitationExpired, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, mails, final := runMemberInvitation(t, tt.signal, tt.after)
			if st.Status != tt.wantStatus || len(final) != 1 || final[0] != tt.wantStatus {
				t.Errorf("state %+v, final status writes %v; want %s", st, final, tt.wantStatus)
			}
			if len(mails) != tt.wantMails || mails[0].Invitation.Role != onramp.RoleDeveloper || mails[0].Reminder {
				t.Errorf("mails = %+v, want %d starting with the invitation", mails, tt.wantMails)
			}
		})
	}
}
