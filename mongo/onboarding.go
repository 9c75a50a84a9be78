package mongo

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Onboarding stores production requests (production_requests), notifications, quota requests and
// the onboarding funnel (journeys, one document per organisation keyed by its id), with their
// lists (lists.go) and the counters the funnel and the SLA compliance read (stats).
type Onboarding struct{ db *DB }

var (
	_ onramp.ProductionRequestStore = (*Onboarding)(nil)
	_ onramp.OnboardingStore        = (*Onboarding)(nil)
)

// NewOnboarding returns the store on db; it panics on a nil db.
func NewOnboarding(db *DB) *Onboarding {
	if db == nil {
		panic("mongo.NewOnboarding: nil db")
	}
	return &Onboarding{db: db}
}

func productionItems(r onramp.ProductionRequest) []listItem {
	return []listItem{item("production.org/"+r.OrgID, r.Position(), r), item("production.status/"+r.Status, r.QueuePosition(), r)}
}

// SaveProductionRequest upserts r by ID under the request's lock, moving it between the queue's
// lists and counting its SLA outcome in (the old version's out).
func (s *Onboarding) SaveProductionRequest(ctx context.Context, r onramp.ProductionRequest) error {
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond)
	if r.SLADue != nil {
		due := r.SLADue.UTC().Truncate(time.Millisecond)
		r.SLADue = &due
	}
	return withLock(ctx, s.db, "production-request:"+r.ID, func() error {
		old, found, err := replaceListed(ctx, s.db, "production_requests", r.ID, "production request", r, productionItems)
		if err != nil {
			return err
		}
		var delta onramp.SLACompliance
		if found {
			delta.Count(old, -1)
		}
		delta.Count(r, 1)
		if delta == (onramp.SLACompliance{}) {
			return nil
		}
		return updateStats(ctx, s.db, statsSLA, func(c *onramp.SLACompliance) { c.Decided += delta.Decided; c.OnTime += delta.OnTime })
	})
}

// FindProductionRequest returns ENOTFOUND for an unknown id.
func (s *Onboarding) FindProductionRequest(ctx context.Context, id string) (onramp.ProductionRequest, error) {
	return findByID[onramp.ProductionRequest](ctx, s.db.Collection("production_requests"), id, "production request")
}

// ProductionRequestsOf lists an organisation's requests, newest first.
func (s *Onboarding) ProductionRequestsOf(ctx context.Context, orgID string) ([]onramp.ProductionRequest, error) {
	return allOf[onramp.ProductionRequest](ctx, s.db, "production.org/"+orgID)
}

func statusLists(prefix string, statuses []string) []string {
	out := make([]string, 0, len(statuses))
	for _, st := range statuses {
		if !slices.Contains(out, prefix+st) {
			out = append(out, prefix+st)
		}
	}
	return out
}

// ProductionRequests returns a page of the requests in the statuses, soonest SLA due first.
func (s *Onboarding) ProductionRequests(ctx context.Context, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.ProductionRequest], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.ProductionRequest]{}, err
	}
	return pageOf[onramp.ProductionRequest](ctx, s.db, pageQuery{lists: statusLists("production.status/", statuses), req: page})
}

// SLACompliance reads the counters SaveProductionRequest keeps.
func (s *Onboarding) SLACompliance(ctx context.Context) (onramp.SLACompliance, error) {
	var c onramp.SLACompliance
	_, err := s.db.readStats(ctx, statsSLA, &c)
	return c, err
}

// Notify stores n once.
func (s *Onboarding) Notify(ctx context.Context, n onramp.Notification) error {
	n.At = n.At.UTC().Truncate(time.Millisecond)
	if _, err := s.db.Collection("notifications").InsertOne(ctx, n); err != nil && !mongo.IsDuplicateKeyError(err) {
		return err
	}
	// A retried notification writes its entry again: the first attempt may have failed after the insert.
	return s.db.syncLists(ctx, nil, []listItem{item("notifications/"+n.OrgID, n.Position(), n)})
}

// NotificationsOf returns a page of an organisation's notifications, newest first.
func (s *Onboarding) NotificationsOf(ctx context.Context, orgID string, page onramp.PageRequest) (onramp.Page[onramp.Notification], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Notification]{}, err
	}
	return pageOf[onramp.Notification](ctx, s.db, pageQuery{lists: []string{"notifications/" + orgID}, req: page})
}

// journeyDoc is an organisation's journey with the stages whose funnel counts are not applied
// yet (written before the counters, cleared after: a retry after a failure in between counts them
// then, once).
type journeyDoc struct {
	OrgID   string               `bson:"_id"`
	Stages  map[string]time.Time `bson:"stages"`
	Pending []string             `bson:"pending,omitempty"`
}

// ReachStage records the first time an organisation reached a stage, under the journey's lock,
// and adds what it changes to the funnel's counters (under theirs): each stage counts once
// whichever node records it.
func (s *Onboarding) ReachStage(ctx context.Context, orgID, stage string, at time.Time) error {
	at = at.UTC().Truncate(time.Millisecond)
	return withLock(ctx, s.db, "journey:"+orgID, func() error {
		coll := s.db.Collection("journeys")
		j, err := findByID[journeyDoc](ctx, coll, orgID, "journey")
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			j, err = journeyDoc{OrgID: orgID, Stages: map[string]time.Time{}}, nil
		}
		if err != nil {
			return err
		}
		if j.Stages == nil {
			j.Stages = map[string]time.Time{}
		}
		if _, ok := j.Stages[stage]; ok && !slices.Contains(j.Pending, stage) {
			return nil
		}
		if _, ok := j.Stages[stage]; !ok {
			j.Stages[stage] = at
			j.Pending = append(j.Pending, stage)
			if _, err := coll.ReplaceOne(ctx, bson.M{"_id": orgID}, j, options.Replace().SetUpsert(true)); err != nil {
				return err
			}
		}
		journey := onramp.Journey{OrgID: orgID, Stages: j.Stages}
		if err := s.db.syncLists(ctx, nil, []listItem{item("journeys", journey.Position(), journey)}); err != nil {
			return err
		}
		before := make(map[string]time.Time, len(j.Stages))
		for st, t := range j.Stages {
			if st != stage {
				before[st] = t
			}
		}
		step := onramp.JourneyStep(before, stage, j.Stages[stage])
		if err := updateStats(ctx, s.db, statsFunnel, func(f *onramp.FunnelStats) { f.Add(step) }); err != nil {
			return err
		}
		j.Pending = slices.DeleteFunc(j.Pending, func(p string) bool { return p == stage })
		_, err = coll.UpdateOne(ctx, bson.M{"_id": orgID}, bson.M{"$set": bson.M{"pending": j.Pending}})
		return err
	})
}

// Journeys returns a page of the journeys, by organisation id.
func (s *Onboarding) Journeys(ctx context.Context, page onramp.PageRequest) (onramp.Page[onramp.Journey], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Journey]{}, err
	}
	return pageOf[onramp.Journey](ctx, s.db, pageQuery{lists: []string{"journeys"}, req: page})
}

// FunnelStats reads the counters ReachStage keeps.
func (s *Onboarding) FunnelStats(ctx context.Context) (onramp.FunnelStats, error) {
	var f onramp.FunnelStats
	_, err := s.db.readStats(ctx, statsFunnel, &f)
	if f.Reached == nil {
		f.Reached = map[string]int64{}
	}
	if f.Gaps == nil {
		f.Gaps = map[string]*onramp.DurationHistogram{}
	}
	return f, err
}

var _ onramp.QuotaRequestStore = (*Onboarding)(nil)

func quotaItems(r onramp.QuotaRequest) []listItem {
	return []listItem{item("quota.org/"+r.OrgID, r.Position(), r), item("quota.status/"+r.Status, r.QueuePosition(), r)}
}

// SaveQuotaRequest upserts r by ID.
func (s *Onboarding) SaveQuotaRequest(ctx context.Context, r onramp.QuotaRequest) error {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond), r.UpdatedAt.UTC().Truncate(time.Millisecond)
	return withLock(ctx, s.db, "quota-request:"+r.ID, func() error {
		_, _, err := replaceListed(ctx, s.db, "quota_requests", r.ID, "quota request", r, quotaItems)
		return err
	})
}

// FindQuotaRequest returns ENOTFOUND for an unknown id.
func (s *Onboarding) FindQuotaRequest(ctx context.Context, id string) (onramp.QuotaRequest, error) {
	return findByID[onramp.QuotaRequest](ctx, s.db.Collection("quota_requests"), id, "quota request")
}

// QuotaRequestsOf lists an organisation's quota requests, newest first.
func (s *Onboarding) QuotaRequestsOf(ctx context.Context, orgID string) ([]onramp.QuotaRequest, error) {
	return allOf[onramp.QuotaRequest](ctx, s.db, "quota.org/"+orgID)
}

// QuotaRequestsIn returns a page of the quota requests in the statuses, oldest first.
func (s *Onboarding) QuotaRequestsIn(ctx context.Context, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.QuotaRequest], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.QuotaRequest]{}, err
	}
	return pageOf[onramp.QuotaRequest](ctx, s.db, pageQuery{lists: statusLists("quota.status/", statuses), req: page})
}
