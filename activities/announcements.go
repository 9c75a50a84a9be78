package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/onramp-dev/onramp"
)

// Announcer composes version announcements (subscriptions.Service): who is to hear of a version,
// and each one's mail.
type Announcer interface {
	Recipients(ctx context.Context, a onramp.Actor, product, version string) ([]string, error)
	Announcement(ctx context.Context, a onramp.Actor, product, version, memberID string) (onramp.Message, bool, error)
}

// AnnouncementInput names a published version.
type AnnouncementInput struct {
	Product string `json:"product"`
	Version string `json:"version"`
}

// AnnouncementDelivery is one recipient's mail about a version (a member id, never an address).
type AnnouncementDelivery struct {
	Product  string `json:"product"`
	Version  string `json:"version"`
	MemberID string `json:"member_id"`
}

// announcing is who the announcement activities act as.
var announcing = onramp.ProviderActor("version announcement")

// AnnouncementRecipients lists the member ids to mail about the version. While the version is not
// stored yet (its publication stores it just after starting the announcement) it fails, retryably.
func (a *Activities) AnnouncementRecipients(ctx context.Context, in AnnouncementInput) ([]string, error) {
	ids, err := a.Announcer.Recipients(ctx, announcing, in.Product, in.Version)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		return nil, temporal.NewApplicationError(in.Product+" "+in.Version+" is not stored yet", "version-not-stored")
	}
	return ids, temporalError(err)
}

// SendAnnouncement mails one recipient about the version, once: a message the delivery log holds
// is not sent again, and a recipient who is no longer to get it (left, unsubscribed, no longer
// sees the product) is skipped. It reports whether it sent. Once the relay has taken the message,
// failing to log it does not fail the activity (a retry would send it twice); the log then
// catches only a later re-run.
func (a *Activities) SendAnnouncement(ctx context.Context, in AnnouncementDelivery) (bool, error) {
	m, ok, err := a.Announcer.Announcement(ctx, announcing, in.Product, in.Version, in.MemberID)
	if err != nil || !ok {
		return false, temporalError(err)
	}
	if done, err := a.Deliveries.Delivered(ctx, m.ID); err != nil || done {
		return false, temporalError(err)
	}
	if err := a.Mailer.Send(ctx, m); err != nil {
		return false, temporalError(err)
	}
	if err := a.Deliveries.MarkDelivered(ctx, m.ID, time.Now()); err != nil {
		activity.GetLogger(ctx).Error("announcement sent but not logged as delivered", "message", m.ID, "error", err)
	}
	return true, nil
}
