package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/onramp-dev/onramp"
)

var _ onramp.BrownoutStore = (*Catalog)(nil)

// SetBrownouts replaces the version's brownout windows (field brownouts of its product_versions
// document, which the gateways read with the rest of the version); ENOTFOUND when it is absent.
func (s *Catalog) SetBrownouts(ctx context.Context, product, version string, windows []onramp.BrownoutWindow) error {
	ws := make([]onramp.BrownoutWindow, 0, len(windows))
	for _, w := range windows {
		ws = append(ws, onramp.BrownoutWindow{Start: w.Start.UTC().Truncate(time.Millisecond), End: w.End.UTC().Truncate(time.Millisecond)})
	}
	res, err := s.db.Collection("product_versions").UpdateOne(ctx, bson.M{"_id": onramp.VersionID(product, version)}, bson.M{"$set": bson.M{"brownouts": ws}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q", product, version)
	}
	return s.db.recordChange(ctx, onramp.ChangeProduct, product) // the gateways reload the route's windows
}

// Notices is the log of lifecycle notices sent (collection lifecycle_notices, one document per
// notice id): the insert of an id is the claim, so two deliveries of one notice cannot both win.
type Notices struct{ db *DB }

var _ onramp.NoticeLog = (*Notices)(nil)

// NewNotices returns the log on db; it panics on a nil db.
func NewNotices(db *DB) *Notices {
	if db == nil {
		panic("mongo.NewNotices: nil db")
	}
	return &Notices{db: db}
}

// ClaimNotice inserts id; false when it is there already.
func (s *Notices) ClaimNotice(ctx context.Context, id string, at time.Time) (bool, error) {
	_, err := s.db.Collection("lifecycle_notices").InsertOne(ctx, bson.M{"_id": id, "at": at.UTC().Truncate(time.Millisecond)})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, err
}

// ReleaseNotice deletes id.
func (s *Notices) ReleaseNotice(ctx context.Context, id string) error {
	_, err := s.db.Collection("lifecycle_notices").DeleteOne(ctx, bson.M{"_id": id})
	return err
}
