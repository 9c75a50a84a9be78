package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/onramp-dev/onramp"
)

// Changes is the change feed: every write of a credential, an organisation, its assignments or a
// product inserts one small document into the collection of its ten seconds (changes_<unix/10>),
// and gateways read the last seconds' collections instead of re-reading what they cache. Inserts
// never conflict, so any number of portal and worker processes record changes, on FerretDB too;
// a burst of writes makes one collection big only while it is recent (FerretDB scans what it
// reads), and writers drop collections older than onramp.ChangeRetention.
type Changes struct{ db *DB }

var _ onramp.ChangeFeed = (*Changes)(nil)

// NewChanges returns the feed on db; it panics on a nil db.
func NewChanges(db *DB) *Changes {
	if db == nil {
		panic("mongo.NewChanges: nil db")
	}
	return &Changes{db: db}
}

// changeBucket is how much time one collection of changes covers.
const changeBucket = 10 * time.Second

func changeCollection(t time.Time) string {
	return "changes_" + strconv.FormatInt(t.Unix()/int64(changeBucket/time.Second), 10)
}

// Changes lists the changes recorded at or after since (at most onramp.ChangeRetention ago),
// oldest first.
func (c *Changes) Changes(ctx context.Context, since time.Time) ([]onramp.Change, error) {
	now := time.Now()
	if oldest := now.Add(-onramp.ChangeRetention); since.Before(oldest) {
		since = oldest
	}
	var out []onramp.Change
	for t := since.Truncate(changeBucket); !t.After(now); t = t.Add(changeBucket) {
		got, err := findAll[onramp.Change](ctx, c.db.Collection(changeCollection(t)), bson.M{}, bson.D{{Key: "_id", Value: 1}}, 0)
		if err != nil {
			return nil, err
		}
		for _, ch := range got {
			if !ch.At.Before(since.Truncate(time.Millisecond)) {
				out = append(out, ch)
			}
		}
	}
	slices.SortFunc(out, func(a, b onramp.Change) int { return a.At.Compare(b.At) })
	return out, nil
}

// pruneEvery is how often a process drops change collections past their retention.
const pruneEvery = 30 * time.Second

// recordChange tells the gateways that a record changed. A failure is returned: the write it
// follows succeeded, but until it is retried the gateways keep what they cached.
func (d *DB) recordChange(ctx context.Context, kind, key string) error {
	now := time.Now().UTC()
	var b [6]byte
	_, _ = rand.Read(b[:])
	ch := onramp.Change{ID: fmt.Sprintf("%x-%s", now.UnixNano(), hex.EncodeToString(b[:])), Kind: kind, Key: key, At: now.Truncate(time.Millisecond)}
	if _, err := d.Collection(changeCollection(now)).InsertOne(ctx, ch); err != nil {
		return fmt.Errorf("recorded, but the gateways were not told (retry): %w", err)
	}
	if last := d.lastPrune.Load(); now.UnixNano()-last > int64(pruneEvery) && d.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		d.dropChangesBefore(ctx, now.Add(-onramp.ChangeRetention-changeBucket))
	}
	return nil
}

// dropChangesBefore drops the change collections that end before t.
func (d *DB) dropChangesBefore(ctx context.Context, t time.Time) {
	names, err := d.CollectionNames(ctx)
	if err != nil {
		return
	}
	limit := t.Unix() / int64(changeBucket/time.Second)
	for _, name := range names {
		if n, err := strconv.ParseInt(strings.TrimPrefix(name, "changes_"), 10, 64); err == nil && strings.HasPrefix(name, "changes_") && n < limit {
			_ = d.Collection(name).Drop(ctx)
		}
	}
}
