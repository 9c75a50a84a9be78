package mongo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// readModelsVersion is the format of the lists and counters; a database whose marker names
// another (or none, while it holds data written before the lists existed) is rebuilt at start.
const readModelsVersion = 2

const readModelsMarker = "read-models"

type readModelsState struct {
	Version int `bson:"version"`
}

// EnsureReadModels rebuilds the lists (lists.go) and the funnel and SLA counters from the
// collections when they are of another format: one scan of each collection, once, under a lock,
// so nodes starting together rebuild once.
func (d *DB) EnsureReadModels(ctx context.Context) error {
	var st readModelsState
	if found, err := d.readStats(ctx, readModelsMarker, &st); err != nil || (found && st.Version == readModelsVersion) {
		return err
	}
	return withLock(ctx, d, "read-models", func() error {
		if found, err := d.readStats(ctx, readModelsMarker, &st); err != nil || (found && st.Version == readModelsVersion) {
			return err
		}
		if err := d.RebuildReadModels(ctx); err != nil {
			return err
		}
		return d.writeStats(ctx, readModelsMarker, readModelsState{Version: readModelsVersion})
	})
}

// RebuildReadModels drops every list and counter and builds them again from the collections.
func (d *DB) RebuildReadModels(ctx context.Context) error {
	if _, err := d.lists().DeleteMany(ctx, bson.M{}); err != nil {
		return err
	}
	r := &rebuild{d: d, funnel: onramp.FunnelStats{}}
	if err := r.read(ctx); err != nil {
		return err
	}
	if err := d.createLists(ctx, r.items); err != nil {
		return err
	}
	if err := d.writeStats(ctx, statsSLA, r.sla); err != nil {
		return err
	}
	return d.writeStats(ctx, statsFunnel, r.funnel)
}

// rebuild is what RebuildReadModels gathers from the collections.
type rebuild struct {
	d      *DB
	items  []listItem
	sla    onramp.SLACompliance
	funnel onramp.FunnelStats
}

func one[T any](f func(T) listItem) func(T) []listItem {
	return func(v T) []listItem { return []listItem{f(v)} }
}

// read collects every list's items and the counters, a collection at a time.
func (r *rebuild) read(ctx context.Context) error {
	steps := []func() error{
		func() error { return decodeAll(ctx, r, "organizations", orgItems) },
		func() error { return decodeAll(ctx, r, "members", memberItems) },
		func() error { return decodeAll(ctx, r, "member_invitations", invitationItems) },
		func() error {
			return decodeAll(ctx, r, "audit_events", one(func(e onramp.AuditEvent) listItem { return item("audit/"+e.OrgID, e.Position(), e) }))
		},
		func() error {
			return decodeAll(ctx, r, "notifications", one(func(n onramp.Notification) listItem { return item("notifications/"+n.OrgID, n.Position(), n) }))
		},
		func() error {
			return decodeAll(ctx, r, "production_requests", func(p onramp.ProductionRequest) []listItem { r.sla.Count(p, 1); return productionItems(p) })
		},
		func() error { return decodeAll(ctx, r, "quota_requests", quotaItems) },
		func() error {
			return decodeAll(ctx, r, "journeys", one(func(j journeyDoc) listItem {
				replay(&r.funnel, j.Stages)
				journey := onramp.Journey{OrgID: j.OrgID, Stages: j.Stages}
				return item("journeys", journey.Position(), journey)
			}))
		},
		func() error { return decodeAll(ctx, r, "credentials", one(credentialItem)) },
		func() error { return decodeAll(ctx, r, "rotations", rotationItems) },
		func() error {
			return decodeAll(ctx, r, "products", one(func(p onramp.Product) listItem { return item("products", p.Position(), p) }))
		},
		func() error { return decodeAll(ctx, r, "assignments", assignmentItems) },
		func() error { return decodeAll(ctx, r, "plans", one(planItem)) },
		func() error {
			return r.collect(ctx, "product_versions", options.Find().SetProjection(bson.M{"product": 1, "version": 1, "number": 1}), func(raw bson.Raw) error {
				var v onramp.ProductVersion
				if err := bson.Unmarshal(raw, &v); err != nil {
					return err
				}
				r.items = append(r.items, versionItem(v))
				return nil
			})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// collect runs each on every document of coll.
func (r *rebuild) collect(ctx context.Context, coll string, opts *options.FindOptionsBuilder, each func(raw bson.Raw) error) error {
	cur, err := r.d.Collection(coll).Find(ctx, bson.M{}, opts)
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		if err := each(cur.Current); err != nil {
			return fmt.Errorf("rebuild from %s: %w", coll, err)
		}
	}
	return cur.Err()
}

// decodeAll adds the items of every document of coll, decoded as a T.
func decodeAll[T any](ctx context.Context, r *rebuild, coll string, add func(T) []listItem) error {
	return r.collect(ctx, coll, nil, func(raw bson.Raw) error {
		var v T
		if err := bson.Unmarshal(raw, &v); err != nil {
			return err
		}
		r.items = append(r.items, add(v)...)
		return nil
	})
}

// replay adds a journey's stages to the funnel in the order they were reached.
func replay(f *onramp.FunnelStats, stages map[string]time.Time) {
	names := make([]string, 0, len(stages))
	for st := range stages {
		names = append(names, st)
	}
	sort.Slice(names, func(i, j int) bool { return stages[names[i]].Before(stages[names[j]]) })
	seen := map[string]time.Time{}
	for _, st := range names {
		f.Add(onramp.JourneyStep(seen, st, stages[st]))
		seen[st] = stages[st]
	}
}
