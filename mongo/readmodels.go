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
const readModelsVersion = 1

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
	var items []listItem
	collect := func(coll string, opts *options.FindOptionsBuilder, each func(raw bson.Raw) error) error {
		cur, err := d.Collection(coll).Find(ctx, bson.M{}, opts)
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
	decode := func(coll string, into func() any, add func(v any) []listItem) error {
		return collect(coll, nil, func(raw bson.Raw) error {
			v := into()
			if err := bson.Unmarshal(raw, v); err != nil {
				return err
			}
			items = append(items, add(v)...)
			return nil
		})
	}
	var sla onramp.SLACompliance
	funnel := onramp.FunnelStats{}
	steps := []error{
		decode("organizations", func() any { return &onramp.Organization{} }, func(v any) []listItem { return orgItems(*v.(*onramp.Organization)) }),
		decode("members", func() any { return &onramp.Member{} }, func(v any) []listItem { return memberItems(*v.(*onramp.Member)) }),
		decode("member_invitations", func() any { return &onramp.MemberInvitation{} }, func(v any) []listItem {
			return invitationItems(*v.(*onramp.MemberInvitation))
		}),
		decode("audit_events", func() any { return &onramp.AuditEvent{} }, func(v any) []listItem {
			e := *v.(*onramp.AuditEvent)
			return []listItem{item("audit/"+e.OrgID, e.Position(), e)}
		}),
		decode("notifications", func() any { return &onramp.Notification{} }, func(v any) []listItem {
			n := *v.(*onramp.Notification)
			return []listItem{item("notifications/"+n.OrgID, n.Position(), n)}
		}),
		decode("production_requests", func() any { return &onramp.ProductionRequest{} }, func(v any) []listItem {
			r := *v.(*onramp.ProductionRequest)
			sla.Count(r, 1)
			return productionItems(r)
		}),
		decode("quota_requests", func() any { return &onramp.QuotaRequest{} }, func(v any) []listItem { return quotaItems(*v.(*onramp.QuotaRequest)) }),
		decode("journeys", func() any { return &journeyDoc{} }, func(v any) []listItem {
			j := *v.(*journeyDoc)
			replay(&funnel, j.Stages)
			journey := onramp.Journey{OrgID: j.OrgID, Stages: j.Stages}
			return []listItem{item("journeys", journey.Position(), journey)}
		}),
		decode("credentials", func() any { return &onramp.Credential{} }, func(v any) []listItem { return []listItem{credentialItem(*v.(*onramp.Credential))} }),
		decode("rotations", func() any { return &onramp.Rotation{} }, func(v any) []listItem { return rotationItems(*v.(*onramp.Rotation)) }),
		decode("products", func() any { return &onramp.Product{} }, func(v any) []listItem {
			p := *v.(*onramp.Product)
			return []listItem{item("products", p.Position(), p)}
		}),
		decode("assignments", func() any { return &onramp.Assignment{} }, func(v any) []listItem { return []listItem{assignmentItem(*v.(*onramp.Assignment))} }),
		decode("plans", func() any { return &onramp.Plan{} }, func(v any) []listItem { return []listItem{planItem(*v.(*onramp.Plan))} }),
		collect("product_versions", options.Find().SetProjection(bson.M{"product": 1, "version": 1, "number": 1}), func(raw bson.Raw) error {
			var v onramp.ProductVersion
			if err := bson.Unmarshal(raw, &v); err != nil {
				return err
			}
			items = append(items, versionItem(v))
			return nil
		}),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	if err := d.createLists(ctx, items); err != nil {
		return err
	}
	if err := d.writeStats(ctx, statsSLA, sla); err != nil {
		return err
	}
	return d.writeStats(ctx, statsFunnel, funnel)
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
