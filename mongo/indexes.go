package mongo

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// indexes serve the queries that are not by _id. Every list a page reads (members, partners,
// queues, logs…) is a read model read by _id (lists.go) and the usage is read by _id from the
// gateway nodes' documents (usage.go), so what is left is the dev mailbox and the worker's batch
// read of many organisations' members. FerretDB accepts the indexes (and still scans); a real
// MongoDB needs them.
var indexes = map[string][]bson.D{
	"dev_mail": {{{Key: "to", Value: 1}, {Key: "sent_at", Value: -1}}},
	"members":  {{{Key: "org_id", Value: 1}, {Key: "joined_at", Value: 1}}}, // MembersOfAll: a batch of organisations' members in one query
}

// EnsureIndexes creates the indexes Onramp queries by that are missing. (Only missing ones:
// FerretDB closes the connection when asked to create an index that exists.)
func (d *DB) EnsureIndexes(ctx context.Context) error {
	for coll, keys := range indexes {
		existing := map[string]bool{}
		specs, err := d.Collection(coll).Indexes().ListSpecifications(ctx)
		if err != nil {
			return fmt.Errorf("list indexes of %s: %w", coll, err)
		}
		for _, sp := range specs {
			existing[sp.Name] = true
		}
		var models []mongo.IndexModel
		for _, k := range keys {
			if name := indexName(k); !existing[name] {
				models = append(models, mongo.IndexModel{Keys: k, Options: options.Index().SetName(name)})
			}
		}
		if len(models) == 0 {
			continue
		}
		if _, err := d.Collection(coll).Indexes().CreateMany(ctx, models); err != nil {
			return fmt.Errorf("create indexes on %s: %w", coll, err)
		}
	}
	return nil
}

// indexName is MongoDB's default name for keys ("org_id_1_at_-1").
func indexName(keys bson.D) string {
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		parts = append(parts, k.Key, fmt.Sprint(k.Value))
	}
	return strings.Join(parts, "_")
}
