package lifecycles

import (
	"context"

	"go.temporal.io/api/enums/v1"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/workflows"
)

var _ onramp.Announcements = (*Temporal)(nil)

// AnnounceVersion starts the version's announcement under its id. A start while one runs, or
// after one completed, is refused by the server and treated as done: each version is announced
// once however often its publication is retried; after a failed run (the version was never
// stored) a new one may start.
func (t *Temporal) AnnounceVersion(ctx context.Context, product, version string) error {
	return t.start(ctx, workflows.VersionAnnouncementID(product, version), enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		workflows.VersionAnnouncementWorkflowName, workflows.VersionAnnouncementInput{Product: product, Version: version}, "")
}

// AlarmImpact starts the event's alarms under its key. A start while one runs, or after one
// completed, is treated as done: each deprecation or sunset is alarmed once however often the
// version is saved; after a failed run a new one may start.
func (t *Temporal) AlarmImpact(ctx context.Context, e onramp.ImpactEvent) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if err := t.start(ctx, workflows.VersionImpactID(e), enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		workflows.VersionImpactWorkflowName, workflows.VersionImpactInput{Event: e}, ""); err != nil {
		return onramp.Errorf(onramp.EUNAVAILABLE, "the alarms to the partners who call %s %s could not be scheduled (%v); save the version again to retry", e.Product, e.Version, err)
	}
	return nil
}
