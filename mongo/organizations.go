package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Organizations is the organisation and membership store (collections organizations, members).
// Partners' SSO client secrets are sealed with sealer before they are written and opened when read.
type Organizations struct {
	db     *DB
	sealer onramp.Sealer
}

var (
	_ onramp.OrganizationStore = (*Organizations)(nil)
	_ onramp.MemberStore       = (*Organizations)(nil)
)

// NewOrganizations returns the store on db, sealing SSO secrets with sealer; it panics on a nil one.
func NewOrganizations(db *DB, sealer onramp.Sealer) *Organizations {
	if db == nil || sealer == nil {
		panic("mongo.NewOrganizations: nil db or sealer")
	}
	return &Organizations{db: db, sealer: sealer}
}

// CreateOrganization inserts o, its SSO client secret sealed; ECONFLICT when its id exists.
func (s *Organizations) CreateOrganization(ctx context.Context, o onramp.Organization) error {
	return s.claimingDomains(ctx, o, func() error {
		_, err := s.db.Collection("organizations").InsertOne(ctx, s.sealed(o))
		if mongo.IsDuplicateKeyError(err) {
			return onramp.Errorf(onramp.ECONFLICT, "organisation %q exists", o.ID)
		} else if err != nil {
			return err
		}
		return s.db.recordChange(ctx, onramp.ChangeOrganization, o.ID)
	})
}

// claimingDomains runs write when no other organisation has one of o's SSO domains, under one
// lock for all domain claims: checking and writing are one step across nodes. Organisations
// without SSO take no lock.
func (s *Organizations) claimingDomains(ctx context.Context, o onramp.Organization, write func() error) error {
	if o.SSO == nil || len(o.SSO.Domains) == 0 {
		return write()
	}
	return s.withLock(ctx, "sso-domains", func() error {
		for _, d := range o.SSO.Domains {
			other, taken, err := s.SSOOrganization(ctx, d)
			if err != nil {
				return err
			}
			if taken && other.ID != o.ID {
				return onramp.SSODomainTaken(d, other)
			}
		}
		return write()
	})
}

// UpdateOrganization changes the organisation under its lock (see withLock): read, change, write.
func (s *Organizations) UpdateOrganization(ctx context.Context, id string, change func(*onramp.Organization) error) (onramp.Organization, error) {
	var out onramp.Organization
	err := s.withLock(ctx, "organization:"+id, func() error {
		o, err := s.FindOrganization(ctx, id)
		if err != nil {
			return err
		}
		if err := change(&o); err != nil {
			return err
		}
		o.ID = id
		out = o
		return s.claimingDomains(ctx, o, func() error {
			if _, err := s.db.Collection("organizations").ReplaceOne(ctx, bson.M{"_id": id}, s.sealed(o)); err != nil {
				return err
			}
			return s.db.recordChange(ctx, onramp.ChangeOrganization, id)
		})
	})
	return out, err
}

// sealed is o as stored: times at the store's precision, the SSO client secret sealed.
func (s *Organizations) sealed(o onramp.Organization) onramp.Organization {
	o.InvitedAt = o.InvitedAt.UTC().Truncate(time.Millisecond)
	if o.SSO != nil && o.SSO.ClientSecret != "" {
		sso := *o.SSO
		sso.SecretKeyID, sso.SealedSecret = s.sealer.Seal([]byte(sso.ClientSecret), []byte(o.ID))
		sso.ClientSecret = ""
		o.SSO = &sso
	}
	return o
}

// opened is o as read, its SSO client secret opened (records from before sealing hold it plain).
func (s *Organizations) opened(o onramp.Organization) (onramp.Organization, error) {
	if o.SSO == nil || len(o.SSO.SealedSecret) == 0 {
		return o, nil
	}
	plain, err := s.sealer.Open(o.SSO.SecretKeyID, o.SSO.SealedSecret, []byte(o.ID))
	if err != nil {
		return o, fmt.Errorf("open the SSO client secret of %s: %w", o.ID, err)
	}
	o.SSO.ClientSecret, o.SSO.SealedSecret, o.SSO.SecretKeyID = string(plain), nil, ""
	return o, nil
}

func (s *Organizations) openedAll(orgs []onramp.Organization, err error) ([]onramp.Organization, error) {
	for i := range orgs {
		if err != nil {
			break
		}
		orgs[i], err = s.opened(orgs[i])
	}
	return orgs, err
}

// FindOrganization returns ENOTFOUND when there is no organisation with id.
func (s *Organizations) FindOrganization(ctx context.Context, id string) (onramp.Organization, error) {
	o, err := findByID[onramp.Organization](ctx, s.db.Collection("organizations"), id, "organisation")
	if err != nil {
		return o, err
	}
	return s.opened(o)
}

// ListOrganizations returns every organisation, newest invitation first.
func (s *Organizations) ListOrganizations(ctx context.Context) ([]onramp.Organization, error) {
	return s.openedAll(findAll[onramp.Organization](ctx, s.db.Collection("organizations"), bson.M{}, bson.D{{Key: "invited_at", Value: -1}, {Key: "_id", Value: 1}}, 0))
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
	o, err := s.opened(found[0])
	return o, err == nil, err
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
