package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/onramp-dev/onramp"
)

// Impacts assesses what a change means for each organisation (impact.Service).
type Impacts interface {
	Plan(ctx context.Context, a onramp.Actor, e onramp.ImpactEvent) (onramp.ImpactPlan, error)
	Alarms(ctx context.Context, a onramp.Actor, plan onramp.ImpactPlan, orgIDs []string) ([]onramp.ImpactAlarm, error)
}

// ImpactBatch is a batch of organisations to assess against a plan (whose own list of
// organisations is left out: the workflow's history holds it once).
type ImpactBatch struct {
	Plan   onramp.ImpactPlan `json:"plan"`
	OrgIDs []string          `json:"org_ids"`
}

// ImpactBatchResult counts a batch's alarms and the mails sent now (not those sent before).
type ImpactBatchResult struct {
	Alarmed int `json:"alarmed"`
	Mailed  int `json:"mailed"`
}

// assessing is who the impact activities act as.
var assessing = onramp.ProviderActor("impact alarms")

// PlanImpact works out what the event affects and which organisations to assess. While the
// version is not stored yet (a publication stores it just after starting its announcement) it
// fails, retryably.
func (a *Activities) PlanImpact(ctx context.Context, e onramp.ImpactEvent) (onramp.ImpactPlan, error) {
	p, err := a.Impacts.Plan(ctx, assessing, e)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		return p, temporal.NewApplicationError(e.Product+" "+e.Version+" is not stored yet", "version-not-stored")
	}
	return p, temporalError(err)
}

// AlarmImpact assesses one batch and alarms each organisation whose own calls the change hits:
// its notification is stored once (by id) and each of its mails is claimed in the notice log
// before it is sent, so a retry of the batch never notifies or mails anyone twice.
func (a *Activities) AlarmImpact(ctx context.Context, b ImpactBatch) (ImpactBatchResult, error) {
	var res ImpactBatchResult
	alarms, err := a.Impacts.Alarms(ctx, assessing, b.Plan, b.OrgIDs)
	if err != nil {
		return res, temporalError(err)
	}
	for _, al := range alarms {
		if err := a.Onboarding.Notify(ctx, al.Notification); err != nil {
			return res, temporalError(err)
		}
		res.Alarmed++
		for _, m := range al.Mails {
			sent, err := a.mailOnceSent(ctx, m)
			if err != nil {
				return res, err
			}
			if sent {
				res.Mailed++
			}
		}
	}
	return res, nil
}
