package lifecycles

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/workflows"
)

var (
	_ onramp.QuotaAlerts  = (*Temporal)(nil)
	_ onramp.QuotaReviews = (*Temporal)(nil)
)

// RaiseQuotaAlert starts the alert's workflow under the alert's key. Temporal refuses a second
// start of that id, even after the first has completed, so concurrent gateway nodes raise it once.
func (t *Temporal) RaiseQuotaAlert(ctx context.Context, a onramp.QuotaAlert) error {
	_, err := t.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       a.Key(),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}, workflows.QuotaAlertWorkflowName, workflows.QuotaAlertInput{Alert: a, PortalURL: t.cfg.PortalURL})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("raise quota alert: %w", err)
	}
	return nil
}

// StartQuotaReview starts the review of r; ECONFLICT while another request of the product waits.
func (t *Temporal) StartQuotaReview(ctx context.Context, r onramp.QuotaRequest) error {
	_, err := t.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.QuotaIncreaseReviewID(r.OrgID, r.Product),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without it the SDK hands back the running review as if this one had started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.QuotaIncreaseReviewWorkflowName, workflows.QuotaIncreaseReviewInput{Request: r, PortalURL: t.cfg.PortalURL})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return onramp.Errorf(onramp.ECONFLICT, "a quota request for %s is already waiting for review; wait for its answer", r.Product)
	}
	if err != nil {
		return fmt.Errorf("start quota review: %w", err)
	}
	return nil
}

// DecideQuota sends the decision as an Update and waits until the workflow has applied it.
func (t *Temporal) DecideQuota(ctx context.Context, r onramp.QuotaRequest, action string, d onramp.QuotaDecision) error {
	if r.Status != onramp.QuotaPending {
		return onramp.Errorf(onramp.ECONFLICT, "the quota request %s is already %s", r.ID, r.Status)
	}
	return t.update(ctx, workflows.QuotaIncreaseReviewID(r.OrgID, r.Product), action, d, "the quota request "+r.ID)
}
