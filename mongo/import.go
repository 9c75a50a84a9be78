package mongo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Bulk writes (onramp seed): what the stores' single writes store, many objects at once — one
// InsertMany per collection, the objects' new lists created in one insert of their heads, each
// shared list (every partner, a status, the search index) changed once per batch under its lock,
// the counters once per batch. They insert: an object whose id exists is an error. The objects
// are new, so no list holds them yet.

// insertAll inserts docs in batches; ECONFLICT when one exists.
func (d *DB) insertAll(ctx context.Context, coll string, docs []any) error {
	for start := 0; start < len(docs); start += 1000 {
		_, err := d.Collection(coll).InsertMany(ctx, docs[start:min(start+1000, len(docs))], options.InsertMany().SetOrdered(false))
		var bulk mongo.BulkWriteException
		if errors.As(err, &bulk) && mongo.IsDuplicateKeyError(err) {
			return onramp.Errorf(onramp.ECONFLICT, "%s: %d of the documents exist already", coll, len(bulk.WriteErrors))
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", coll, err)
		}
	}
	return nil
}

func docsOf[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// ImportOrganizations stores new organisations (no SSO claims are checked: give none with SSO).
func (s *Organizations) ImportOrganizations(ctx context.Context, orgs []onramp.Organization) error {
	docs := make([]any, len(orgs))
	var items []listItem
	for i, o := range orgs {
		if o.SSO != nil {
			return onramp.Errorf(onramp.EINVALID, "organisation %s: import organisations without SSO; invite those", o.ID)
		}
		docs[i] = s.sealed(o)
		items = append(items, orgItems(o)...)
	}
	if err := s.db.insertAll(ctx, "organizations", docs); err != nil {
		return err
	}
	return s.db.createLists(ctx, items)
}

// ImportMembers stores new memberships.
func (s *Organizations) ImportMembers(ctx context.Context, ms []onramp.Member) error {
	var items []listItem
	for i := range ms {
		ms[i].ID, ms[i].JoinedAt = onramp.MemberID(ms[i].OrgID, ms[i].IdentityID), ms[i].JoinedAt.UTC().Truncate(time.Millisecond)
		items = append(items, memberItems(ms[i])...)
	}
	if err := s.db.insertAll(ctx, "members", docsOf(ms)); err != nil {
		return err
	}
	return s.db.createLists(ctx, items)
}

// ImportAudit appends audit events (each with its id).
func (s *Organizations) ImportAudit(ctx context.Context, es []onramp.AuditEvent) error {
	var items []listItem
	for i := range es {
		if es[i].ID == "" {
			es[i].ID = onramp.NewAuditID()
		}
		es[i].At = es[i].At.UTC().Truncate(time.Millisecond)
		items = append(items, item("audit/"+es[i].OrgID, es[i].Position(), es[i]))
	}
	if err := s.db.insertAll(ctx, "audit_events", docsOf(es)); err != nil {
		return err
	}
	return s.db.createLists(ctx, items)
}

// ImportAssignments stores new assignments.
func (s *Catalog) ImportAssignments(ctx context.Context, as []onramp.Assignment) error {
	var items []listItem
	for i := range as {
		as[i].ID, as[i].UpdatedAt = onramp.AssignmentID(as[i].OrgID, as[i].Product), as[i].UpdatedAt.UTC().Truncate(time.Millisecond)
		items = append(items, assignmentItem(as[i]))
	}
	if err := s.db.insertAll(ctx, "assignments", docsOf(as)); err != nil {
		return err
	}
	return s.db.createLists(ctx, items)
}

// ImportCredentials stores new credentials with their key lookups.
func (s *Credentials) ImportCredentials(ctx context.Context, cs []onramp.Credential) error {
	keys := make([]any, len(cs))
	var items []listItem
	for i := range cs {
		cs[i].CreatedAt = cs[i].CreatedAt.UTC().Truncate(time.Millisecond)
		keys[i] = credentialKey{Hash: cs[i].Hash, CredentialID: cs[i].ID}
		items = append(items, credentialItem(cs[i]))
	}
	if err := s.db.insertAll(ctx, "credential_keys", keys); err != nil {
		return err
	}
	if err := s.db.insertAll(ctx, "credentials", docsOf(cs)); err != nil {
		return err
	}
	return s.db.createLists(ctx, items)
}

// ImportJourneys stores the journeys of organisations that have none yet and counts them in the
// funnel.
func (s *Onboarding) ImportJourneys(ctx context.Context, js []onramp.Journey) error {
	docs := make([]any, len(js))
	var items []listItem
	var funnel onramp.FunnelStats
	for i, j := range js {
		stages := make(map[string]time.Time, len(j.Stages))
		for st, at := range j.Stages {
			stages[st] = at.UTC().Truncate(time.Millisecond)
		}
		docs[i] = journeyDoc{OrgID: j.OrgID, Stages: stages}
		replay(&funnel, stages)
		journey := onramp.Journey{OrgID: j.OrgID, Stages: stages}
		items = append(items, item("journeys", journey.Position(), journey))
	}
	if err := s.db.insertAll(ctx, "journeys", docs); err != nil {
		return err
	}
	if err := s.db.createLists(ctx, items); err != nil {
		return err
	}
	return updateStats(ctx, s.db, statsFunnel, func(f *onramp.FunnelStats) { f.Add(funnel) })
}

// ImportProductionRequests stores new production requests and counts the decided ones in the SLA
// compliance.
func (s *Onboarding) ImportProductionRequests(ctx context.Context, rs []onramp.ProductionRequest) error {
	var items []listItem
	var sla onramp.SLACompliance
	for i := range rs {
		rs[i].CreatedAt = rs[i].CreatedAt.UTC().Truncate(time.Millisecond)
		if rs[i].SLADue != nil {
			due := rs[i].SLADue.UTC().Truncate(time.Millisecond)
			rs[i].SLADue = &due
		}
		items = append(items, productionItems(rs[i])...)
		sla.Count(rs[i], 1)
	}
	if err := s.db.insertAll(ctx, "production_requests", docsOf(rs)); err != nil {
		return err
	}
	if err := s.db.createLists(ctx, items); err != nil {
		return err
	}
	return updateStats(ctx, s.db, statsSLA, func(c *onramp.SLACompliance) { c.Decided += sla.Decided; c.OnTime += sla.OnTime })
}

// ImportNotifications stores new notifications.
func (s *Onboarding) ImportNotifications(ctx context.Context, ns []onramp.Notification) error {
	var items []listItem
	for i := range ns {
		ns[i].At = ns[i].At.UTC().Truncate(time.Millisecond)
		items = append(items, item("notifications/"+ns[i].OrgID, ns[i].Position(), ns[i]))
	}
	if err := s.db.insertAll(ctx, "notifications", docsOf(ns)); err != nil {
		return err
	}
	return s.db.createLists(ctx, items)
}

// ImportUsage records new calls: the events in one insert, their hours' totals inserted whole
// where the hour documents are new (a seed writes an organisation's calls together, so most
// are) and added to otherwise — where RecordUsage upserts every hour document of every batch.
func (s *Usage) ImportUsage(ctx context.Context, events []onramp.UsageEvent) error {
	docs := make([]any, len(events))
	type hour struct {
		Calls  int64 `bson:"calls"`
		Errors int64 `bson:"errors"`
	}
	days := map[string]map[string]*hour{}
	var order []string
	for i, e := range events {
		e.At = e.At.UTC().Truncate(time.Millisecond)
		docs[i] = e
		if e.Product == "" {
			continue
		}
		id := hoursID(e.OrgID, e.Product, e.Environment, e.At)
		if days[id] == nil {
			days[id] = map[string]*hour{}
			order = append(order, id)
		}
		h := strconv.Itoa(e.At.Hour())
		if days[id][h] == nil {
			days[id][h] = &hour{}
		}
		days[id][h].Calls++
		if e.Status >= 400 {
			days[id][h].Errors++
		}
	}
	if err := s.db.insertAll(ctx, "usage_events", docs); err != nil {
		return err
	}
	hourDocs := make([]any, len(order))
	for i, id := range order {
		hourDocs[i] = bson.M{"_id": id, "h": days[id]}
	}
	coll := s.db.Collection("usage_hours")
	for start := 0; start < len(hourDocs); start += 1000 {
		end := min(start+1000, len(hourDocs))
		_, err := coll.InsertMany(ctx, hourDocs[start:end], options.InsertMany().SetOrdered(false))
		var bulk mongo.BulkWriteException
		if !errors.As(err, &bulk) || !mongo.IsDuplicateKeyError(err) {
			if err != nil {
				return err
			}
			continue
		}
		for _, we := range bulk.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				return err
			}
			id := order[start+we.Index]
			inc := bson.M{}
			for h, v := range days[id] {
				inc["h."+h+".calls"], inc["h."+h+".errors"] = v.Calls, v.Errors
			}
			if _, err := coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$inc": inc}); err != nil {
				return err
			}
		}
	}
	return nil
}
