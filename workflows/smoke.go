package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp/activities"
)

// SmokeWorkflow sends one e-mail through the SendMail activity; the operator (or the foundation
// test) checks the mailbox to see the whole path work: client → server → worker → activity → store.
func SmokeWorkflow(ctx workflow.Context, in SmokeInput) (SmokeResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	// The message id comes from the workflow id, so a retried activity replaces, not duplicates.
	id := "smoke-" + workflow.GetInfo(ctx).WorkflowExecution.ID
	var a *activities.Activities
	err := workflow.ExecuteActivity(ctx, a.SendMail, activities.SendMailInput{
		ID:      id,
		To:      in.To,
		Subject: "Onramp smoke test",
		Text:    "The Onramp worker ran a workflow and delivered this message.",
	}).Get(ctx, nil)
	if err != nil {
		return SmokeResult{}, err
	}
	return SmokeResult{MessageID: id}, nil
}
