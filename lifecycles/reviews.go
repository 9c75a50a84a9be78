package lifecycles

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/workflows"
)

var _ onramp.Reviews = (*Temporal)(nil)

// StartReview starts the review of a submitted request; ECONFLICT when one runs already.
func (t *Temporal) StartReview(ctx context.Context, r onramp.ProductionRequest) error {
	return t.startRecorded(ctx, workflows.ProductionReviewID(r.ID), enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, workflows.ProductionReviewWorkflowName,
		workflows.ProductionReviewInput{RequestID: r.ID, OrgID: r.OrgID, PortalURL: t.cfg.PortalURL}, "request "+r.ID+" is already submitted")
}

// Review sends the action as a Temporal Update and waits until the workflow has recorded it. The
// validator's refusal, or a review that has ended, comes back as ECONFLICT; a grant the review
// refuses (wider than the request) as EINVALID.
func (t *Temporal) Review(ctx context.Context, requestID, action string, d onramp.ReviewDecision) error {
	return t.update(ctx, workflows.ProductionReviewID(requestID), action,
		workflows.ReviewAction{By: d.By, Reason: d.Reason, Changes: d.Changes, Grants: d.Grants}, "the review of "+requestID)
}

// update sends an Update and waits for its completion. The validator's refusal, or a workflow
// that has ended, comes back as ECONFLICT with the reason; a refusal the workflow types EINVALID
// keeps its code.
func (t *Temporal) update(ctx context.Context, workflowID, name string, arg any, what string) error {
	h, err := t.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted, Args: []any{arg},
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var notFound *serviceerror.NotFound
	var app *temporal.ApplicationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound) || strings.Contains(err.Error(), "workflow execution already completed"):
		return onramp.Errorf(onramp.ECONFLICT, "%s has ended; nothing more can be done on it", what)
	case errors.As(err, &app) && app.Type() == onramp.EINVALID:
		return onramp.Errorf(onramp.EINVALID, "%s", app.Message())
	case errors.As(err, &app):
		return onramp.Errorf(onramp.ECONFLICT, "%s", app.Message())
	}
	return fmt.Errorf("%s %s: %w", name, what, err)
}

var _ onramp.Rotations = (*Temporal)(nil)

// RotationWorkflowID is the workflow a new rotation of a credential runs as (one at a time).
func (t *Temporal) RotationWorkflowID(credentialID string) string {
	return workflows.CredentialRotationOf(credentialID)
}

// StartRotation starts a rotation under its workflow id; ECONFLICT when a rotation of the same
// credential is running (Temporal refuses the id), so two concurrent starts make one rotation.
func (t *Temporal) StartRotation(ctx context.Context, r onramp.Rotation) error {
	return t.startRecorded(ctx, workflows.RotationWorkflowID(r), enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, workflows.CredentialRotationWorkflowName,
		workflows.CredentialRotationInput{Rotation: r, PortalURL: t.cfg.PortalURL}, r.Label+" is already being rotated")
}

// Rotate sends a rotation action as an Update and waits until the workflow has recorded it.
func (t *Temporal) Rotate(ctx context.Context, r onramp.Rotation, action string, a onramp.RotationAction) error {
	return t.update(ctx, workflows.RotationWorkflowID(r), action, a, "rotation "+r.ID)
}
