package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Onboarding stores production requests (production_requests), notifications and the onboarding
// funnel (journeys, one document per organisation keyed by its id).
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

// SaveProductionRequest upserts r by ID.
func (s *Onboarding) SaveProductionRequest(ctx context.Context, r onramp.ProductionRequest) error {
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond)
	_, err := s.db.Collection("production_requests").ReplaceOne(ctx, bson.M{"_id": r.ID}, r, options.Replace().SetUpsert(true))
	return err
}

// FindProductionRequest returns ENOTFOUND for an unknown id.
func (s *Onboarding) FindProductionRequest(ctx context.Context, id string) (onramp.ProductionRequest, error) {
	return findByID[onramp.ProductionRequest](ctx, s.db.Collection("production_requests"), id, "production request")
}

// ProductionRequestsOf lists an organisation's requests, newest first.
func (s *Onboarding) ProductionRequestsOf(ctx context.Context, orgID string) ([]onramp.ProductionRequest, error) {
	return findAll[onramp.ProductionRequest](ctx, s.db.Collection("production_requests"), bson.M{"org_id": orgID}, bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: 1}}, 0)
}

// ProductionRequests lists every request in one of the statuses, soonest SLA due first.
func (s *Onboarding) ProductionRequests(ctx context.Context, statuses []string) ([]onramp.ProductionRequest, error) {
	return findAll[onramp.ProductionRequest](ctx, s.db.Collection("production_requests"), bson.M{"status": bson.M{"$in": statuses}}, bson.D{{Key: "sla_due", Value: 1}, {Key: "_id", Value: 1}}, 0)
}

// Notify stores n once.
func (s *Onboarding) Notify(ctx context.Context, n onramp.Notification) error {
	n.At = n.At.UTC().Truncate(time.Millisecond)
	_, err := s.db.Collection("notifications").InsertOne(ctx, n)
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	return err
}

// NotificationsOf lists the newest notifications of an organisation.
func (s *Onboarding) NotificationsOf(ctx context.Context, orgID string, limit int) ([]onramp.Notification, error) {
	return findAll[onramp.Notification](ctx, s.db.Collection("notifications"), bson.M{"org_id": orgID}, bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: 1}}, limit)
}

// ReachStage records the first time an organisation reached a stage.
func (s *Onboarding) ReachStage(ctx context.Context, orgID, stage string, at time.Time) error {
	coll := s.db.Collection("journeys")
	if _, err := coll.UpdateOne(ctx, bson.M{"_id": orgID}, bson.M{"$setOnInsert": bson.M{"stages": bson.M{}}}, options.UpdateOne().SetUpsert(true)); err != nil {
		return err
	}
	field := "stages." + stage
	_, err := coll.UpdateOne(ctx, bson.M{"_id": orgID, field: bson.M{"$exists": false}}, bson.M{"$set": bson.M{field: at.UTC().Truncate(time.Millisecond)}})
	return err
}

// Journeys lists every organisation's journey.
func (s *Onboarding) Journeys(ctx context.Context) ([]onramp.Journey, error) {
	return findAll[onramp.Journey](ctx, s.db.Collection("journeys"), bson.M{}, bson.D{{Key: "_id", Value: 1}}, 0)
}

var _ onramp.QuotaRequestStore = (*Onboarding)(nil)

// SaveQuotaRequest upserts r by ID.
func (s *Onboarding) SaveQuotaRequest(ctx context.Context, r onramp.QuotaRequest) error {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond), r.UpdatedAt.UTC().Truncate(time.Millisecond)
	_, err := s.db.Collection("quota_requests").ReplaceOne(ctx, bson.M{"_id": r.ID}, r, options.Replace().SetUpsert(true))
	return err
}

// FindQuotaRequest returns ENOTFOUND for an unknown id.
func (s *Onboarding) FindQuotaRequest(ctx context.Context, id string) (onramp.QuotaRequest, error) {
	return findByID[onramp.QuotaRequest](ctx, s.db.Collection("quota_requests"), id, "quota request")
}

// QuotaRequestsOf lists an organisation's quota requests, newest first.
func (s *Onboarding) QuotaRequestsOf(ctx context.Context, orgID string) ([]onramp.QuotaRequest, error) {
	return findAll[onramp.QuotaRequest](ctx, s.db.Collection("quota_requests"), bson.M{"org_id": orgID}, bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: 1}}, 0)
}

// QuotaRequestsIn lists every quota request in one of the statuses, oldest first.
func (s *Onboarding) QuotaRequestsIn(ctx context.Context, statuses []string) ([]onramp.QuotaRequest, error) {
	return findAll[onramp.QuotaRequest](ctx, s.db.Collection("quota_requests"), bson.M{"status": bson.M{"$in": statuses}}, bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, 0)
}
