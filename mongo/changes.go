package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/onramp-dev/onramp"
)

// Changes is the change feed (collection changes): every write of a credential, an
// organisation, its assignments or a product inserts one small document, and gateways read the
// last seconds' worth instead of re-reading what they cache. Inserts never conflict, so any
// number of portal and worker processes can record changes, on FerretDB too; documents older
// than onramp.ChangeRetention are deleted by the writers.
type Changes struct{ db *DB }

var _ onramp.ChangeFeed = (*Changes)(nil)

// NewChanges returns the feed on db; it panics on a nil db.
func NewChanges(db *DB) *Changes {
	if db == nil {
		panic("mongo.NewChanges: nil db")
	}
	return &Changes{db: db}
}

// Changes lists the changes recorded at or after since, oldest first.
func (c *Changes) Changes(ctx context.Context, since time.Time) ([]onramp.Change, error) {
	return findAll[onramp.Change](ctx, c.db.Collection("changes"), bson.M{"at": bson.M{"$gte": since.UTC().Truncate(time.Millisecond)}},
		bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}, 0)
}

// pruneEvery is how often a process deletes changes past their retention.
const pruneEvery = 30 * time.Second

// recordChange tells the gateways that a record changed. A failure is returned: the write it
// follows succeeded, but until it is retried the gateways keep what they cached.
func (d *DB) recordChange(ctx context.Context, kind, key string) error {
	now := time.Now().UTC()
	var b [6]byte
	_, _ = rand.Read(b[:])
	ch := onramp.Change{ID: fmt.Sprintf("%x-%s", now.UnixNano(), hex.EncodeToString(b[:])), Kind: kind, Key: key, At: now.Truncate(time.Millisecond)}
	if _, err := d.Collection("changes").InsertOne(ctx, ch); err != nil {
		return fmt.Errorf("recorded, but the gateways were not told (retry): %w", err)
	}
	if last := d.lastPrune.Load(); now.UnixNano()-last > int64(pruneEvery) && d.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		_, _ = d.Collection("changes").DeleteMany(ctx, bson.M{"at": bson.M{"$lt": now.Add(-onramp.ChangeRetention)}})
	}
	return nil
}
