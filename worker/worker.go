// Package worker holds the single list of what the Onramp worker registers.
package worker

import (
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/workflows"
)

// New returns a worker on workflows.TaskQueue with every workflow and activity registered; call
// Start or Run on it.
func New(c client.Client, acts *activities.Activities) (sdkworker.Worker, error) {
	if c == nil || acts == nil {
		return nil, errors.New("worker.New: nil client or activities")
	}
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{})
	Register(w, acts)
	return w, nil
}

// Register adds every workflow and activity to r; tests use it with the testsuite environment so
// they register exactly what production does.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	RegisterWorkflows(r)
	r.RegisterActivityWithOptions(acts, activity.RegisterOptions{})
}

// RegisterWorkflows adds every workflow under its pinned name; replay tests use it alone.
func RegisterWorkflows(r sdkworker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.SmokeWorkflow, workflow.RegisterOptions{Name: workflows.SmokeWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.PartnerInvitationWorkflow, workflow.RegisterOptions{Name: workflows.PartnerInvitationWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.MemberInvitationWorkflow, workflow.RegisterOptions{Name: workflows.MemberInvitationWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.ProductionReviewWorkflow, workflow.RegisterOptions{Name: workflows.ProductionReviewWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.CredentialRotationWorkflow, workflow.RegisterOptions{Name: workflows.CredentialRotationWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.QuotaAlertWorkflow, workflow.RegisterOptions{Name: workflows.QuotaAlertWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.QuotaIncreaseReviewWorkflow, workflow.RegisterOptions{Name: workflows.QuotaIncreaseReviewWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.BrownoutScheduleWorkflow, workflow.RegisterOptions{Name: workflows.BrownoutScheduleWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.VersionAnnouncementWorkflow, workflow.RegisterOptions{Name: workflows.VersionAnnouncementWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.VersionImpactWorkflow, workflow.RegisterOptions{Name: workflows.VersionImpactWorkflowName})
}
