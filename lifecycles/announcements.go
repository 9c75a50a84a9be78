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
