package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Subscriptions stores members' e-mail subscriptions (collection subscriptions, _id = member id),
// their feed tokens (feed_tokens, _id = member id, with a lookup document per hash in
// feed_token_hashes, _id = hash) and the delivery log (mail_deliveries, _id = message id). Every
// read is an _id lookup; a member's changes run under the member's lock.
type Subscriptions struct{ db *DB }

var (
	_ onramp.SubscriptionStore = (*Subscriptions)(nil)
	_ onramp.FeedTokenStore    = (*Subscriptions)(nil)
	_ onramp.DeliveryLog       = (*Subscriptions)(nil)
)

// NewSubscriptions returns the store on db; it panics on a nil db.
func NewSubscriptions(db *DB) *Subscriptions {
	if db == nil {
		panic("mongo.NewSubscriptions: nil db")
	}
	return &Subscriptions{db: db}
}

// Subscriptions returns the member's choices (the zero value when they made none).
func (s *Subscriptions) Subscriptions(ctx context.Context, memberID string) (onramp.Subscriptions, error) {
	out, err := findByID[onramp.Subscriptions](ctx, s.db.Collection("subscriptions"), memberID, "subscriptions")
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		return onramp.Subscriptions{MemberID: memberID}, nil
	}
	return out, err
}

// SetSubscription reads, changes and writes the member's document under the member's lock, so
// concurrent changes (from any node) are all kept.
func (s *Subscriptions) SetSubscription(ctx context.Context, memberID, product, level string, at time.Time) (onramp.Subscriptions, error) {
	var out onramp.Subscriptions
	err := withLock(ctx, s.db, "subscriptions:"+memberID, func() error {
		var err error
		if out, err = s.Subscriptions(ctx, memberID); err != nil {
			return err
		}
		if out.Products == nil {
			out.Products = map[string]string{}
		}
		switch {
		case product == "":
			out.Default = level
		case level == "":
			delete(out.Products, product)
		default:
			out.Products[product] = level
		}
		out.UpdatedAt = at.UTC().Truncate(time.Millisecond)
		_, err = s.db.Collection("subscriptions").ReplaceOne(ctx, bson.M{"_id": memberID}, out, options.Replace().SetUpsert(true))
		return err
	})
	return out, err
}

type feedTokenHash struct {
	Hash     string `bson:"_id"`
	MemberID string `bson:"member_id"`
}

// SetFeedToken writes the new hash's lookup, then (under the member's lock) the member's token,
// then removes the replaced hash's lookup. A lookup counts only while the member's token names
// it, so the replaced token stops working with the second write, whatever happens after.
func (s *Subscriptions) SetFeedToken(ctx context.Context, t onramp.FeedToken) error {
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Millisecond)
	hashes := s.db.Collection("feed_token_hashes")
	if _, err := hashes.ReplaceOne(ctx, bson.M{"_id": t.Hash}, feedTokenHash{Hash: t.Hash, MemberID: t.MemberID}, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	return withLock(ctx, s.db, "feed-token:"+t.MemberID, func() error {
		old, err := s.FeedTokenOf(ctx, t.MemberID)
		replaces := err == nil && old.Hash != t.Hash
		if code := onramp.ErrorCode(err); code != "" && code != onramp.ENOTFOUND {
			return err
		}
		if _, err := s.db.Collection("feed_tokens").ReplaceOne(ctx, bson.M{"_id": t.MemberID}, t, options.Replace().SetUpsert(true)); err != nil {
			return err
		}
		if !replaces {
			return nil
		}
		_, err = hashes.DeleteOne(ctx, bson.M{"_id": old.Hash})
		return err
	})
}

// FeedTokenOf returns ENOTFOUND when the member has no token.
func (s *Subscriptions) FeedTokenOf(ctx context.Context, memberID string) (onramp.FeedToken, error) {
	return findByID[onramp.FeedToken](ctx, s.db.Collection("feed_tokens"), memberID, "feed token")
}

var errNoFeedToken = onramp.Errorf(onramp.ENOTFOUND, "no such feed token")

// FeedTokenByHash finds the hash's lookup, then its member's token, and answers only when that
// token still has the hash (a lookup a crash left behind finds nothing).
func (s *Subscriptions) FeedTokenByHash(ctx context.Context, hash string) (onramp.FeedToken, error) {
	var h feedTokenHash
	err := s.db.Collection("feed_token_hashes").FindOne(ctx, bson.M{"_id": hash}).Decode(&h)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return onramp.FeedToken{}, errNoFeedToken
	} else if err != nil {
		return onramp.FeedToken{}, err
	}
	t, err := s.FeedTokenOf(ctx, h.MemberID)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND || (err == nil && t.Hash != hash) {
		return onramp.FeedToken{}, errNoFeedToken
	}
	return t, err
}

// DeleteFeedToken removes the member's token and its lookup.
func (s *Subscriptions) DeleteFeedToken(ctx context.Context, memberID string) error {
	return withLock(ctx, s.db, "feed-token:"+memberID, func() error {
		t, err := s.FeedTokenOf(ctx, memberID)
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := s.db.Collection("feed_tokens").DeleteOne(ctx, bson.M{"_id": memberID}); err != nil {
			return err
		}
		_, err = s.db.Collection("feed_token_hashes").DeleteOne(ctx, bson.M{"_id": t.Hash})
		return err
	})
}

type delivery struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// Delivered reports whether the message id is in the log.
func (s *Subscriptions) Delivered(ctx context.Context, id string) (bool, error) {
	err := s.db.Collection("mail_deliveries").FindOne(ctx, bson.M{"_id": id}).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, err
}

// MarkDelivered inserts the message id; one already there is kept as it was.
func (s *Subscriptions) MarkDelivered(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.Collection("mail_deliveries").InsertOne(ctx, delivery{ID: id, At: at.UTC().Truncate(time.Millisecond)})
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	return err
}
