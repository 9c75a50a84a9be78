package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Organizations is the organisation and membership store (collections organizations, members).
type Organizations struct{ db *DB }

var (
	_ onramp.OrganizationStore = (*Organizations)(nil)
	_ onramp.MemberStore       = (*Organizations)(nil)
)

// NewOrganizations returns the store on db; it panics on a nil db.
func NewOrganizations(db *DB) *Organizations {
	if db == nil {
		panic("mongo.NewOrganizations: nil db")
	}
	return &Organizations{db: db}
}

// SaveOrganization upserts o by ID.
func (s *Organizations) SaveOrganization(ctx context.Context, o onramp.Organization) error {
	o.InvitedAt = o.InvitedAt.UTC().Truncate(time.Millisecond)
	if _, err := s.db.Collection("organizations").ReplaceOne(ctx, bson.M{"_id": o.ID}, o, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeOrganization, o.ID)
}

// FindOrganization returns ENOTFOUND when there is no organisation with id.
func (s *Organizations) FindOrganization(ctx context.Context, id string) (onramp.Organization, error) {
	return findByID[onramp.Organization](ctx, s.db.Collection("organizations"), id, "organisation")
}

// ListOrganizations returns every organisation, newest invitation first.
func (s *Organizations) ListOrganizations(ctx context.Context) ([]onramp.Organization, error) {
	return findAll[onramp.Organization](ctx, s.db.Collection("organizations"), bson.M{}, bson.D{{Key: "invited_at", Value: -1}, {Key: "_id", Value: 1}}, 0)
}

// SetOrganizationStatus sets the status, and the first sign-in time only if none is recorded.
// The time is written first, so a reader never sees "active" without it.
func (s *Organizations) SetOrganizationStatus(ctx context.Context, id, status string, firstSignIn *time.Time) error {
	coll := s.db.Collection("organizations")
	if firstSignIn != nil {
		// Only the first sign-in counts for the onboarding funnel.
		if _, err := coll.UpdateOne(ctx, bson.M{"_id": id, "first_sign_in_at": bson.M{"$exists": false}},
			bson.M{"$set": bson.M{"first_sign_in_at": firstSignIn.UTC().Truncate(time.Millisecond)}}); err != nil {
			return err
		}
	}
	res, err := coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"status": status}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return onramp.Errorf(onramp.ENOTFOUND, "no organisation %q", id)
	}
	return s.db.recordChange(ctx, onramp.ChangeOrganization, id)
}

// SSOOrganization returns the organisation whose SSO domains include domain (an indexed lookup).
func (s *Organizations) SSOOrganization(ctx context.Context, domain string) (onramp.Organization, bool, error) {
	found, err := findAll[onramp.Organization](ctx, s.db.Collection("organizations"), bson.M{"sso.domains": domain}, bson.D{{Key: "invited_at", Value: 1}}, 1)
	if err != nil || len(found) == 0 {
		return onramp.Organization{}, false, err
	}
	return found[0], true, nil
}

// DeleteOrganization removes the organisation with id; a missing one is not an error.
func (s *Organizations) DeleteOrganization(ctx context.Context, id string) error {
	if _, err := s.db.Collection("organizations").DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeOrganization, id)
}

// SaveMember upserts m by ID.
func (s *Organizations) SaveMember(ctx context.Context, m onramp.Member) error {
	m.ID = onramp.MemberID(m.OrgID, m.IdentityID)
	m.JoinedAt = m.JoinedAt.UTC().Truncate(time.Millisecond)
	_, err := s.db.Collection("members").ReplaceOne(ctx, bson.M{"_id": m.ID}, m, options.Replace().SetUpsert(true))
	return err
}

// MembershipsOf lists identityID's memberships.
func (s *Organizations) MembershipsOf(ctx context.Context, identityID string) ([]onramp.Member, error) {
	return findAll[onramp.Member](ctx, s.db.Collection("members"), bson.M{"identity_id": identityID}, bson.D{{Key: "joined_at", Value: 1}}, 0)
}

// MarkFirstSignIn records at as the member's first sign-in unless one is recorded.
func (s *Organizations) MarkFirstSignIn(ctx context.Context, memberID string, at time.Time) (bool, error) {
	res, err := s.db.Collection("members").UpdateOne(ctx,
		bson.M{"_id": memberID, "first_sign_in_at": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"first_sign_in_at": at.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return false, err
	}
	return res.ModifiedCount == 1, nil
}
