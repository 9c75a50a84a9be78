package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/onramp-dev/onramp"
)

// Credentials stores credentials (collection credentials) with a lookup document per key hash
// (credential_keys, _id = hash): the gateway's lookup is an _id read on every store.
type Credentials struct{ db *DB }

var _ onramp.CredentialStore = (*Credentials)(nil)

// NewCredentials returns the store on db; it panics on a nil db.
func NewCredentials(db *DB) *Credentials {
	if db == nil {
		panic("mongo.NewCredentials: nil db")
	}
	return &Credentials{db: db}
}

type credentialKey struct {
	Hash         string `bson:"_id"`
	CredentialID string `bson:"credential_id"`
}

// CreateCredential stores the hash lookup, then the credential; ECONFLICT when the ID exists (the
// lookup written for it is removed again).
func (s *Credentials) CreateCredential(ctx context.Context, c onramp.Credential) error {
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Millisecond)
	keys := s.db.Collection("credential_keys")
	if _, err := keys.InsertOne(ctx, credentialKey{Hash: c.Hash, CredentialID: c.ID}); err != nil {
		return err
	}
	_, err := s.db.Collection("credentials").InsertOne(ctx, c)
	if mongo.IsDuplicateKeyError(err) {
		_, _ = keys.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": c.Hash})
		return onramp.Errorf(onramp.ECONFLICT, "credential %s exists", c.ID)
	}
	if err != nil {
		return err
	}
	return s.db.syncLists(ctx, nil, []listItem{credentialItem(c)})
}

// credentialItem is c's entry in its organisation's list: its id only, since the gateway changes
// a credential's last use all the time; the list's readers fetch each by _id.
func credentialItem(c onramp.Credential) listItem {
	return item("credentials/"+c.OrgID, c.Position(), nil)
}

// FindCredential returns ENOTFOUND for an unknown id.
func (s *Credentials) FindCredential(ctx context.Context, id string) (onramp.Credential, error) {
	return findByID[onramp.Credential](ctx, s.db.Collection("credentials"), id, "credential")
}

// CredentialByHash returns ENOTFOUND when no credential has the key hash.
func (s *Credentials) CredentialByHash(ctx context.Context, hash string) (onramp.Credential, error) {
	var k credentialKey
	err := s.db.Collection("credential_keys").FindOne(ctx, bson.M{"_id": hash}).Decode(&k)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return onramp.Credential{}, onramp.Errorf(onramp.ENOTFOUND, "no such credential")
	} else if err != nil {
		return onramp.Credential{}, err
	}
	c, err := s.FindCredential(ctx, k.CredentialID)
	if err == nil && c.Hash != hash { // a lookup left by a conflicting create
		return onramp.Credential{}, onramp.Errorf(onramp.ENOTFOUND, "no such credential")
	}
	return c, err
}

// CredentialsOf lists an organisation's credentials, newest first.
func (s *Credentials) CredentialsOf(ctx context.Context, orgID string) ([]onramp.Credential, error) {
	ps, err := positionsOf(ctx, s.db, "credentials/"+orgID)
	out := make([]onramp.Credential, 0, len(ps))
	for _, p := range ps {
		if err != nil {
			break
		}
		var c onramp.Credential
		if c, err = s.FindCredential(ctx, p.ID); err == nil {
			out = append(out, c)
		}
	}
	return out, err
}

// RevokeCredential marks it revoked; ENOTFOUND for an unknown id. Revoking twice keeps the first time.
func (s *Credentials) RevokeCredential(ctx context.Context, id string, at time.Time) error {
	coll := s.db.Collection("credentials")
	res, err := coll.UpdateOne(ctx, bson.M{"_id": id, "status": bson.M{"$ne": onramp.CredentialRevoked}},
		bson.M{"$set": bson.M{"status": onramp.CredentialRevoked, "revoked_at": at.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		if _, err := s.FindCredential(ctx, id); err != nil {
			return err
		}
	}
	return s.db.recordChange(ctx, onramp.ChangeCredential, id)
}

// ExpireCredential marks it expiring at expiresAt; ENOTFOUND for an unknown id. A revoked one
// stays revoked.
func (s *Credentials) ExpireCredential(ctx context.Context, id string, expiresAt time.Time) error {
	res, err := s.db.Collection("credentials").UpdateOne(ctx, bson.M{"_id": id, "status": bson.M{"$ne": onramp.CredentialRevoked}},
		bson.M{"$set": bson.M{"status": onramp.CredentialExpiring, "expires_at": expiresAt.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		if _, err := s.FindCredential(ctx, id); err != nil {
			return err
		}
	}
	return s.db.recordChange(ctx, onramp.ChangeCredential, id)
}

func rotationItems(r onramp.Rotation) []listItem {
	return []listItem{item("rotations.org/"+r.OrgID, r.Position(), r), item("rotations.status/"+r.Status, r.QueuePosition(), r)}
}

// SaveRotation upserts r by ID, moving it between the lists of its statuses.
func (s *Credentials) SaveRotation(ctx context.Context, r onramp.Rotation) error {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond), r.UpdatedAt.UTC().Truncate(time.Millisecond)
	return withLock(ctx, s.db, "rotation:"+r.ID, func() error {
		_, _, err := replaceListed(ctx, s.db, "rotations", r.ID, "rotation", r, rotationItems)
		return err
	})
}

// FindRotation returns ENOTFOUND for an unknown id.
func (s *Credentials) FindRotation(ctx context.Context, id string) (onramp.Rotation, error) {
	return findByID[onramp.Rotation](ctx, s.db.Collection("rotations"), id, "rotation")
}

// RotationsOf lists an organisation's rotations, newest first.
func (s *Credentials) RotationsOf(ctx context.Context, orgID string) ([]onramp.Rotation, error) {
	return allOf[onramp.Rotation](ctx, s.db, "rotations.org/"+orgID)
}

// RotationsIn returns a page of the rotations in the statuses, oldest first.
func (s *Credentials) RotationsIn(ctx context.Context, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.Rotation], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Rotation]{}, err
	}
	return pageOf[onramp.Rotation](ctx, s.db, pageQuery{lists: statusLists("rotations.status/", statuses), req: page})
}
