package mongo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

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
		items = append(items, assignmentItems(as[i])...)
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

// ImportUsage stores a node's flushes of organisations it has written nothing for yet (onramp
// seed: gateway.UsageFlushes of the calls it makes up), as SaveUsage would, but each collection
// in bulk inserts — where SaveUsage replaces an organisation's documents one at a time.
func (s *Usage) ImportUsage(ctx context.Context, node string, flushes []onramp.UsageFlush) error {
	docs := map[string][]any{}
	for _, f := range flushes {
		org, at := f.Head.OrgID, f.Head.UpdatedAt
		for _, p := range f.Pages {
			c, id := s.pageDocID(ctx, org, node, p.Ref, at)
			d, err := newPageDoc(id, org, node, p)
			if err != nil {
				return err
			}
			docs[c] = append(docs[c], d)
		}
		for _, m := range f.Months {
			doc, uses, err := monthDocs(org, node, m)
			if err != nil {
				return err
			}
			c := s.rewritten(ctx, "usage_months_"+month(doc.Month), org)
			docs[c] = append(docs[c], doc)
			c = s.rewritten(ctx, "usage_uses_"+month(doc.Month), org)
			for _, u := range uses {
				docs[c] = append(docs[c], u)
			}
		}
		h, err := newHeadDoc(org, node, f.Head, at)
		if err != nil {
			return err
		}
		c := s.rewritten(ctx, "usage_heads_"+month(at), org)
		docs[c] = append(docs[c], h)
	}
	// Pages before months and heads, as SaveUsage writes them: a head never lists a missing page.
	pagesFirst := func(c string) int {
		if strings.HasPrefix(c, "usage_pages_") {
			return 0
		}
		return 1
	}
	names := slices.SortedFunc(maps.Keys(docs), func(a, b string) int { return cmp.Compare(pagesFirst(a), pagesFirst(b)) })
	for _, c := range names {
		if err := s.db.insertAll(ctx, c, docs[c]); err != nil {
			return err
		}
	}
	return nil
}
