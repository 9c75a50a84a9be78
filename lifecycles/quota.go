package lifecycles

import (
	"context"

	"go.temporal.io/api/enums/v1"

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
	return t.start(ctx, a.Key(), enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, workflows.QuotaAlertWorkflowName,
		workflows.QuotaAlertInput{Alert: a, PortalURL: t.cfg.PortalURL}, "")
}

// StartQuotaReview starts the review of r; ECONFLICT while another request of the product waits.
func (t *Temporal) StartQuotaReview(ctx context.Context, r onramp.QuotaRequest) error {
	return t.startRecorded(ctx, workflows.QuotaIncreaseReviewID(r.OrgID, r.Product), enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, workflows.QuotaIncreaseReviewWorkflowName,
		workflows.QuotaIncreaseReviewInput{Request: r, PortalURL: t.cfg.PortalURL}, "a quota request for "+r.Product+" is already waiting for review; wait for its answer")
}

// DecideQuota sends the decision as an Update and waits until the workflow has applied it.
func (t *Temporal) DecideQuota(ctx context.Context, r onramp.QuotaRequest, action string, d onramp.QuotaDecision) error {
	if r.Status != onramp.QuotaPending {
		return onramp.Errorf(onramp.ECONFLICT, "the quota request %s is already %s", r.ID, r.Status)
	}
	return t.update(ctx, workflows.QuotaIncreaseReviewID(r.OrgID, r.Product), action, d, "the quota request "+r.ID)
}
