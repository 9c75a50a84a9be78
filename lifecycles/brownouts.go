package lifecycles

import (
	"context"

	"go.temporal.io/api/enums/v1"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/workflows"
)

var _ onramp.BrownoutSchedules = (*Temporal)(nil)

// StartBrownouts starts the version's schedule with Update-with-Start, so it returns once the
// windows are in the catalog; ECONFLICT while another schedule of the version runs.
func (t *Temporal) StartBrownouts(ctx context.Context, p onramp.BrownoutPlan) error {
	return t.startRecorded(ctx, workflows.BrownoutScheduleID(p.Product, p.Version), enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, workflows.BrownoutScheduleWorkflowName,
		workflows.BrownoutScheduleInput{Plan: p, PortalURL: t.cfg.PortalURL},
		"a brownout schedule of "+p.Product+" "+p.Version+" is running; cancel it first to schedule another")
}

// CancelBrownouts sends cancel as an Update and waits until the catalog holds only what is over;
// ECONFLICT when no schedule runs.
func (t *Temporal) CancelBrownouts(ctx context.Context, product, version, by string) error {
	return t.update(ctx, workflows.BrownoutScheduleID(product, version), workflows.BrownoutCancel, workflows.BrownoutAction{By: by},
		"the brownout schedule of "+product+" "+version)
}
