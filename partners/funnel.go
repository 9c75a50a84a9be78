package partners

import (
	"context"
	"sort"
	"time"

	"github.com/onramp-dev/onramp"
)

// Funnel is the onboarding funnel: how many organisations reached each stage, the median time
// between consecutive stages, and each partner's journey.
type Funnel struct {
	Stages   []StageCount  `json:"stages"`
	Medians  []StageMedian `json:"medians"`
	Partners []Journey     `json:"partners"`
}

// StageCount is how many organisations reached a stage.
type StageCount struct {
	Stage string `json:"stage"`
	Count int    `json:"count"`
}

// StageMedian is the median time from one stage to the next.
type StageMedian struct {
	From          string  `json:"from"`
	To            string  `json:"to"`
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

// Funnel computes the onboarding funnel from every organisation's journey.
func (s *Service) Funnel(ctx context.Context, a onramp.Actor) (Funnel, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return Funnel{}, err
	}
	js, err := s.cfg.Onboarding.Journeys(ctx)
	if err != nil {
		return Funnel{}, err
	}
	orgs, err := s.cfg.Organizations.ListOrganizations(ctx)
	if err != nil {
		return Funnel{}, err
	}
	names := map[string]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	return Funnel{Stages: stageCounts(js), Medians: medians(js), Partners: journeys(js, names)}, nil
}

func stageCounts(js []onramp.Journey) []StageCount {
	out := make([]StageCount, 0, len(onramp.FunnelStages))
	for _, st := range onramp.FunnelStages {
		n := 0
		for _, j := range js {
			if _, ok := j.Stages[st]; ok {
				n++
			}
		}
		out = append(out, StageCount{Stage: st, Count: n})
	}
	return out
}

// medians are the median times between consecutive stages, over the journeys that reached both.
func medians(js []onramp.Journey) []StageMedian {
	var out []StageMedian
	for i := 1; i < len(onramp.FunnelStages); i++ {
		from, to := onramp.FunnelStages[i-1], onramp.FunnelStages[i]
		var ds []float64
		for _, j := range js {
			a, okA := j.Stages[from]
			b, okB := j.Stages[to]
			if okA && okB {
				ds = append(ds, b.Sub(a).Seconds())
			}
		}
		m := StageMedian{From: from, To: to}
		if len(ds) > 0 {
			sort.Float64s(ds)
			m.MedianSeconds = ds[len(ds)/2]
			if len(ds)%2 == 0 {
				m.MedianSeconds = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
			}
			m.Human = (time.Duration(m.MedianSeconds) * time.Second).Round(time.Second).String()
		}
		out = append(out, m)
	}
	return out
}

func journeys(js []onramp.Journey, names map[string]string) []Journey {
	out := []Journey{}
	for _, j := range js {
		p := Journey{OrgID: j.OrgID, Name: names[j.OrgID], Stages: j.Stages}
		a, okA := j.Stages[onramp.StageInvited]
		b, okB := j.Stages[onramp.StageFirstProductionCall]
		if okA && okB {
			d := b.Sub(a).Seconds()
			p.InvitationToProduction, p.Human = &d, b.Sub(a).Round(time.Second).String()
		}
		out = append(out, p)
	}
	return out
}
