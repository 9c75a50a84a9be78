package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
)

// announcementWindow is how many recipients' mails are in flight at once.
const announcementWindow = 10

// VersionAnnouncementWorkflow e-mails the members subscribed to a newly published version, each
// in an activity of their own, so a retry (of one recipient, or of the run) never mails anyone a
// second time; first it alarms the organisations whose own calls the version's breaking changes
// hit (alarmImpact). The publication starts it just before it stores the version: the recipients'
// list waits for the version, for up to 15 minutes, and the run fails without mailing anyone if
// it never appears.
func VersionAnnouncementWorkflow(ctx workflow.Context, in VersionAnnouncementInput) (VersionAnnouncementResult, error) {
	var a *activities.Activities
	var res VersionAnnouncementResult
	listCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    5 * time.Minute,
		ScheduleToCloseTimeout: 15 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
	var recipients []string
	if err := workflow.ExecuteActivity(listCtx, a.AnnouncementRecipients, activities.AnnouncementInput{Product: in.Product, Version: in.Version}).Get(ctx, &recipients); err != nil {
		return res, err
	}
	res.Recipients = len(recipients)
	// The version is stored now: alarm the organisations whose own calls its breaking changes hit
	// (nothing when it has none). A failure is the alarm's alone: the subscribers are mailed anyway.
	if workflow.GetVersion(ctx, changeVersionImpact, workflow.DefaultVersion, 1) == 1 {
		imp, err := alarmImpact(ctx, onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: in.Product, Version: in.Version})
		if err != nil {
			workflow.GetLogger(ctx).Error("impact alarms failed", "product", in.Product, "version", in.Version, "error", err)
		}
		res.Impact = &imp
	}
	sendCtx := withActivityDefaults(ctx)
	for start := 0; start < len(recipients); start += announcementWindow {
		batch := recipients[start:min(start+announcementWindow, len(recipients))]
		futures := make([]workflow.Future, len(batch))
		for i, member := range batch {
			futures[i] = workflow.ExecuteActivity(sendCtx, a.SendAnnouncement, activities.AnnouncementDelivery{Product: in.Product, Version: in.Version, MemberID: member})
		}
		for i, f := range futures {
			var sent bool
			switch err := f.Get(ctx, &sent); {
			case err != nil:
				workflow.GetLogger(ctx).Warn("announcement not delivered", "member", batch[i], "error", err)
				res.Failed = append(res.Failed, batch[i])
			case sent:
				res.Sent++
			default:
				res.Skipped++
			}
		}
	}
	return res, nil
}
