package mongo

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// indexes are the lookups every signed-in request makes (memberships, pending invitations, SSO
// domains) and the lists the UI shows. FerretDB accepts them (and still scans); a real MongoDB
// needs them.
var indexes = map[string][]bson.D{
	"members":             {{{Key: "identity_id", Value: 1}}, {{Key: "org_id", Value: 1}, {Key: "joined_at", Value: 1}}},
	"member_invitations":  {{{Key: "email", Value: 1}, {Key: "status", Value: 1}}, {{Key: "org_id", Value: 1}, {Key: "created_at", Value: -1}}},
	"organizations":       {{{Key: "sso.domains", Value: 1}}, {{Key: "invited_at", Value: -1}}},
	"audit_events":        {{{Key: "org_id", Value: 1}, {Key: "at", Value: -1}}},
	"dev_mail":            {{{Key: "to", Value: 1}, {Key: "sent_at", Value: -1}}},
	"product_versions":    {{{Key: "product", Value: 1}, {Key: "number", Value: 1}}},
	"assignments":         {{{Key: "org_id", Value: 1}, {Key: "product", Value: 1}}, {{Key: "product", Value: 1}, {Key: "org_id", Value: 1}}},
	"credentials":         {{{Key: "org_id", Value: 1}, {Key: "created_at", Value: -1}}},
	"usage_events":        {{{Key: "org_id", Value: 1}, {Key: "at", Value: -1}}},
	"production_requests": {{{Key: "org_id", Value: 1}, {Key: "created_at", Value: -1}}, {{Key: "status", Value: 1}, {Key: "sla_due", Value: 1}}},
	"notifications":       {{{Key: "org_id", Value: 1}, {Key: "at", Value: -1}}},
	"quota_requests":      {{{Key: "org_id", Value: 1}, {Key: "created_at", Value: -1}}, {{Key: "status", Value: 1}, {Key: "created_at", Value: 1}}},
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
