package partners

import (
	"context"
	"time"

	"github.com/onramp-dev/onramp"
)

// Funnel is the onboarding funnel: how many organisations reached each stage and the median time
// between consecutive stages, both from the counters the store keeps as stages are reached (no
// organisation is read), and a page of the partners' journeys.
type Funnel struct {
	Stages   []StageCount
	Medians  []StageMedian
	Partners onramp.Page[Journey]
}

// StageCount is how many organisations reached a stage.
type StageCount struct {
	Stage string `json:"stage"`
	Count int64  `json:"count"`
}

// StageMedian is the median time from one stage to the next, over the journeys that reached
// both: within 4.5 % of the exact median (onramp.DurationHistogram), 0 below a second.
type StageMedian struct {
	From          string  `json:"from"`
	To            string  `json:"to"`
	Journeys      int64   `json:"journeys"` // how many reached both
	MedianSeconds float64 `json:"median_seconds"`
	Human         string  `json:"median"`
}

// Journey is one partner's way through the stages.
type Journey struct {
	OrgID  string               `json:"org_id"`
	Name   string               `json:"name"`
	Stages map[string]time.Time `json:"stages"`
	// InvitationToProduction is the seed's metric: invitation to first successful production call.
	InvitationToProduction *float64 `json:"invitation_to_first_production_call_seconds,omitempty"`
	Human                  string   `json:"invitation_to_first_production_call,omitempty"`
}

// Funnel returns the funnel's counters and medians with a page of the journeys, by organisation
// id. EINVALID for a bad page.
func (s *Service) Funnel(ctx context.Context, a onramp.Actor, page onramp.PageRequest) (Funnel, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return Funnel{}, err
	}
	if err := page.Validate(); err != nil {
		return Funnel{}, err
	}
	stats, err := s.cfg.Onboarding.FunnelStats(ctx)
	if err != nil {
		return Funnel{}, err
	}
	js, err := s.cfg.Onboarding.Journeys(ctx, page)
	if err != nil {
		return Funnel{}, err
	}
	f := Funnel{Stages: stageCounts(stats), Medians: medians(stats)}
	f.Partners = onramp.MapPage(js, func(j onramp.Journey) Journey { return journey(j) })
	for i, j := range f.Partners.Items {
		if o, err := s.cfg.Organizations.FindOrganization(ctx, j.OrgID); err == nil {
			f.Partners.Items[i].Name = o.Name
		} else if onramp.ErrorCode(err) != onramp.ENOTFOUND {
			return f, err
		}
	}
	return f, nil
}

func stageCounts(stats onramp.FunnelStats) []StageCount {
	out := make([]StageCount, 0, len(onramp.FunnelStages))
	for _, st := range onramp.FunnelStages {
		out = append(out, StageCount{Stage: st, Count: stats.Reached[st]})
	}
	return out
}

// medians are the median times between consecutive stages, over the journeys that reached both.
func medians(stats onramp.FunnelStats) []StageMedian {
	var out []StageMedian
	for i := 1; i < len(onramp.FunnelStages); i++ {
		from, to := onramp.FunnelStages[i-1], onramp.FunnelStages[i]
		m := StageMedian{From: from, To: to}
		if d, ok := stats.Median(from, to); ok {
			m.Journeys = stats.Gaps[onramp.GapKey(from, to)].Count
			m.MedianSeconds = d.Seconds()
			m.Human = d.Round(time.Second).String()
		}
		out = append(out, m)
	}
	return out
}

func journey(j onramp.Journey) Journey {
	p := Journey{OrgID: j.OrgID, Stages: j.Stages}
	a, okA := j.Stages[onramp.StageInvited]
	b, okB := j.Stages[onramp.StageFirstProductionCall]
	if okA && okB {
		d := b.Sub(a).Seconds()
		p.InvitationToProduction, p.Human = &d, b.Sub(a).Round(time.Second).String()
	}
	return p
}
