package mongo

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Counters kept as events happen (collection stats, one blob document each): read by _id,
// changed under their lock (an $inc would do on MongoDB, but FerretDB loses concurrent updates of
// one document from several connections, $inc included).
const (
	statsCollection = "stats"
	statsFunnel     = "funnel"
	statsSLA        = "sla"
)

func (d *DB) readStats(ctx context.Context, id string, out any) (bool, error) {
	var doc blobDoc
	err := d.Collection(statsCollection).FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, bson.Unmarshal(doc.B, out)
}

func (d *DB) writeStats(ctx context.Context, id string, v any) error {
	doc, err := blob(id, v)
	if err != nil {
		return err
	}
	_, err = d.Collection(statsCollection).ReplaceOne(ctx, bson.M{"_id": id}, doc, options.Replace().SetUpsert(true))
	return err
}

// updateStats changes the counters id holds under their lock.
func updateStats[T any](ctx context.Context, d *DB, id string, change func(*T)) error {
	return withLock(ctx, d, "stats:"+id, func() error {
		var v T
		if _, err := d.readStats(ctx, id, &v); err != nil {
			return err
		}
		change(&v)
		return d.writeStats(ctx, id, &v)
	})
}
