package workflows_test

import (
	"context"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/mail"
	"github.com/onramp-dev/onramp/worker"
	"github.com/onramp-dev/onramp/workflows"
)

func TestSmokeWorkflowSendsMail(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	box := mail.NewMemory()
	worker.Register(env, &activities.Activities{Mailer: box})

	env.ExecuteWorkflow(workflows.SmokeWorkflowName, workflows.SmokeInput{To: "ops@example.com"})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var res workflows.SmokeResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	msgs, _ := box.List(t.Context(), "ops@example.com", 0)
	if len(msgs) != 1 || msgs[0].ID != res.MessageID {
		t.Fatalf("mailbox = %+v, want one message with id %q", msgs, res.MessageID)
	}
}

func TestSmokeWorkflowInvalidRecipientFailsWithoutRetry(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	box := mail.NewMemory()
	worker.Register(env, &activities.Activities{Mailer: box})
	attempts := 0
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { attempts++ })

	env.ExecuteWorkflow(workflows.SmokeWorkflowName, workflows.SmokeInput{To: "not an address"})
	if env.GetWorkflowError() == nil {
		t.Fatal("workflow succeeded for an invalid recipient, want an error")
	}
	if attempts != 1 {
		t.Errorf("activity attempts = %d, want 1 (invalid input is not retryable)", attempts)
	}
}
