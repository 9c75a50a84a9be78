package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/onramp-dev/onramp"
)

// QuotaAlertNotice is a quota alert to deliver.
type QuotaAlertNotice struct {
	Alert     onramp.QuotaAlert `json:"alert"`
	PortalURL string            `json:"portal_url"`
}

// NotifyQuotaAlert stores the alert's notification under the alert's key and e-mails the
// organisation's owners and admins; a retry (or a second raise) writes and sends nothing new.
func (a *Activities) NotifyQuotaAlert(ctx context.Context, n QuotaAlertNotice) error {
	al := n.Alert
	title := fmt.Sprintf("%d %% of your %s quota used (%s)", al.Threshold, al.Product, al.Environment)
	body := fmt.Sprintf("Your organisation has used %d %% of its %d calls to %s in %s this %s. The quota resets at %s. "+
		"See your usage, and request an increase if you need one, on the usage page.",
		al.Threshold, al.Limit, al.Product, al.Environment, al.Period, al.ResetAt.UTC().Format(time.RFC3339))
	return a.notifyOrg(ctx, al.OrgID, onramp.Notification{ID: al.Key(), OrgID: al.OrgID, Title: title, Body: body,
		Link: n.PortalURL + "/usage?org=" + al.OrgID, At: time.Now()})
}

// SaveQuotaRequest stores the quota request's read model.
func (a *Activities) SaveQuotaRequest(ctx context.Context, r onramp.QuotaRequest) error {
	return temporalError(a.QuotaRequests.SaveQuotaRequest(ctx, r))
}

// QuotaChange is an approved quota: the organisation's product gets Limit calls per period.
type QuotaChange struct {
	OrgID   string `json:"org_id"`
	Product string `json:"product"`
	Limit   int64  `json:"limit"`
}

// ApplyQuota sets the assignment's quota limit (idempotent); the gateways follow within their
// cache TTL, since the assignment's UpdatedAt changes.
func (a *Activities) ApplyQuota(ctx context.Context, c QuotaChange) error {
	as, err := a.Assignments.AssignmentsOf(ctx, c.OrgID)
	if err != nil {
		return temporalError(err)
	}
	for _, as := range as {
		if as.Product != c.Product {
			continue
		}
		if as.Quota.Limit == c.Limit {
			return nil
		}
		as.Quota.Limit, as.UpdatedAt = c.Limit, time.Now()
		if err := as.Validate(); err != nil {
			return temporalError(err)
		}
		return temporalError(a.Assignments.SaveAssignment(ctx, as))
	}
	return temporalError(onramp.Errorf(onramp.ENOTFOUND, "%s is not assigned to %s any more", c.Product, c.OrgID))
}

// QuotaNotice is a quota request's notice: review, review-reminder, approved, rejected.
type QuotaNotice = Notice

// NotifyQuota delivers a quota request's notice.
func (a *Activities) NotifyQuota(ctx context.Context, n QuotaNotice) error {
	return a.deliver(ctx, n)
}
