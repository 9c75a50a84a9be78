package mongo

import (
	"context"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Usage stores what the gateway nodes count, one document per writer, every one keyed by _id
// (the only lookup FerretDB does not scan for):
//
//	gateway_nodes  _id <node>                    the node's heartbeat
//	quota_counts   _id <counter id>@<node>       the node's running total of a quota counter
//	usage_months   _id <org>:<YYYY-MM>@<node>    the node's running totals of an organisation's month
//	usage_heads    _id <org>@<node>              the node's credential use and call-log index
//	usage_pages    _id <org>@<node>#<page key>   one page of the node's call log
//
// Readers list the nodes, then read each node's documents by _id and sum them. usage_counters
// holds the shared counters written before per-node counting; they are read, never written.
type Usage struct{ db *DB }

var _ onramp.UsageStore = (*Usage)(nil)

// NewUsage returns the store on db; it panics on a nil db.
func NewUsage(db *DB) *Usage {
	if db == nil {
		panic("mongo.NewUsage: nil db")
	}
	return &Usage{db: db}
}

// SaveNode records the node's heartbeat.
func (s *Usage) SaveNode(ctx context.Context, n onramp.GatewayNode) error {
	n.StartedAt, n.SeenAt = n.StartedAt.UTC().Truncate(time.Millisecond), n.SeenAt.UTC().Truncate(time.Millisecond)
	_, err := s.db.Collection("gateway_nodes").ReplaceOne(ctx, bson.M{"_id": n.ID}, n, options.Replace().SetUpsert(true))
	return err
}

// Nodes lists the nodes seen at or after since (a small collection: one document per process).
func (s *Usage) Nodes(ctx context.Context, since time.Time) ([]onramp.GatewayNode, error) {
	return findAll[onramp.GatewayNode](ctx, s.db.Collection("gateway_nodes"), bson.M{"seen_at": bson.M{"$gte": since.UTC().Truncate(time.Millisecond)}}, bson.D{{Key: "_id", Value: 1}}, 0)
}

func (s *Usage) nodeIDs(ctx context.Context, since time.Time) ([]string, error) {
	ns, err := s.Nodes(ctx, since.Add(-onramp.NodeReadMargin))
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids, err
}

type quotaCount struct {
	ID    string `bson:"_id"`
	Count int64  `bson:"count"`
}

// SaveQuotaCounts sets the node's totals with $max, so a late, older write never lowers one.
func (s *Usage) SaveQuotaCounts(ctx context.Context, node string, totals map[string]int64) error {
	models := make([]mongo.WriteModel, 0, len(totals))
	for id, n := range totals {
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": id + "@" + node}).SetUpsert(true).
			SetUpdate(bson.M{"$max": bson.M{"count": n}, "$set": bson.M{"counter": id, "node": node}}))
	}
	return s.db.bulk(ctx, "quota_counts", models)
}

// QuotaCounts sums the counters over the nodes; onramp.LegacyNode's are the shared counters of
// the same id (usage_counters).
func (s *Usage) QuotaCounts(ctx context.Context, ids, nodes []string) (map[string]int64, error) {
	keys := make([]string, 0, len(ids)*len(nodes))
	legacy := false
	for _, n := range nodes {
		if n == onramp.LegacyNode {
			legacy = true
			continue
		}
		for _, id := range ids {
			keys = append(keys, id+"@"+n)
		}
	}
	out := make(map[string]int64, len(ids))
	for _, id := range ids {
		out[id] = 0
	}
	counts, err := findIDs[quotaCount](ctx, s.db, "quota_counts", keys)
	if err != nil {
		return out, err
	}
	for _, c := range counts {
		out[c.ID[:strings.LastIndexByte(c.ID, '@')]] += c.Count
	}
	if !legacy {
		return out, nil
	}
	shared, err := findIDs[quotaCount](ctx, s.db, "usage_counters", ids)
	for _, c := range shared {
		out[c.ID] += c.Count
	}
	return out, err
}

// Counters sums the counters over every node seen since the earliest of their windows began.
func (s *Usage) Counters(ctx context.Context, ids []string) (map[string]int64, error) {
	since := time.Now()
	for _, id := range ids {
		if unix, err := strconv.ParseInt(id[strings.LastIndexByte(id, ':')+1:], 10, 64); err == nil && time.Unix(unix, 0).Before(since) {
			since = time.Unix(unix, 0)
		}
	}
	nodes, err := s.nodeIDs(ctx, since)
	if err != nil {
		return nil, err
	}
	return s.QuotaCounts(ctx, ids, append(nodes, onramp.LegacyNode))
}

type monthDoc struct {
	ID                string `bson:"_id"`
	Node              string `bson:"node"`
	onramp.UsageMonth `bson:",inline"`
}

type headDoc struct {
	ID               string `bson:"_id"`
	Node             string `bson:"node"`
	onramp.UsageHead `bson:",inline"`
}

type pageDoc struct {
	ID              string    `bson:"_id"`
	OrgID           string    `bson:"org_id"`
	Node            string    `bson:"node"`
	Hour            time.Time `bson:"hour"` // the purge's and a TTL index's field
	onramp.CallPage `bson:",inline"`
}

func monthID(org string, month time.Time, node string) string {
	return org + ":" + month.UTC().Format("2006-01") + "@" + node
}

func headID(org, node string) string { return org + "@" + node }

func pageID(org, node string, r onramp.CallPageRef) string { return org + "@" + node + "#" + r.Key() }

// SaveUsage writes the pages first, then the months and the head that lists the pages, then
// deletes the dropped pages: a reader never finds a listed page missing but for a purge.
func (s *Usage) SaveUsage(ctx context.Context, node string, f onramp.UsageFlush) error {
	org := f.Head.OrgID
	pages := make([]mongo.WriteModel, len(f.Pages))
	for i, p := range f.Pages {
		p.Ref = utcRef(p.Ref)
		for j := range p.Calls {
			p.Calls[j].At = p.Calls[j].At.UTC().Truncate(time.Millisecond)
		}
		id := pageID(org, node, p.Ref)
		pages[i] = mongo.NewReplaceOneModel().SetFilter(bson.M{"_id": id}).SetUpsert(true).SetReplacement(pageDoc{ID: id, OrgID: org, Node: node, Hour: p.Ref.Hour, CallPage: p})
	}
	if err := s.db.bulk(ctx, "usage_pages", pages); err != nil {
		return err
	}
	months := make([]mongo.WriteModel, len(f.Months))
	for i, m := range f.Months {
		m.Month = m.Month.UTC()
		id := monthID(org, m.Month, node)
		months[i] = mongo.NewReplaceOneModel().SetFilter(bson.M{"_id": id}).SetUpsert(true).SetReplacement(monthDoc{ID: id, Node: node, UsageMonth: m})
	}
	if err := s.db.bulk(ctx, "usage_months", months); err != nil {
		return err
	}
	h := f.Head
	h.UpdatedAt = h.UpdatedAt.UTC().Truncate(time.Millisecond)
	for i := range h.Pages {
		h.Pages[i] = utcRef(h.Pages[i])
	}
	id := headID(org, node)
	if _, err := s.db.Collection("usage_heads").ReplaceOne(ctx, bson.M{"_id": id}, headDoc{ID: id, Node: node, UsageHead: h}, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	drops := make([]mongo.WriteModel, len(f.Drop))
	for i, r := range f.Drop {
		drops[i] = mongo.NewDeleteOneModel().SetFilter(bson.M{"_id": pageID(org, node, r)})
	}
	return s.db.bulk(ctx, "usage_pages", drops)
}

func utcRef(r onramp.CallPageRef) onramp.CallPageRef {
	r.Hour, r.First, r.Last = r.Hour.UTC(), r.First.UTC().Truncate(time.Millisecond), r.Last.UTC().Truncate(time.Millisecond)
	return r
}

// UsageTotals sums the nodes' months that overlap [from, to).
func (s *Usage) UsageTotals(ctx context.Context, orgID, product, env string, from, to time.Time) (onramp.UsageTotals, error) {
	from, to = from.UTC(), to.UTC()
	first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	nodes, err := s.nodeIDs(ctx, first)
	if err != nil {
		return onramp.UsageTotals{}, err
	}
	var ids []string
	for m := first; m.Before(to); m = m.AddDate(0, 1, 0) {
		for _, n := range nodes {
			ids = append(ids, monthID(orgID, m, n))
		}
	}
	docs, err := findIDs[monthDoc](ctx, s.db, "usage_months", ids)
	if err != nil {
		return onramp.UsageTotals{}, err
	}
	months := make([]onramp.UsageMonth, len(docs))
	for i, d := range docs {
		months[i] = d.UsageMonth
	}
	return onramp.SumUsage(months, product, env, from, to), nil
}

func (s *Usage) heads(ctx context.Context, orgID string, since time.Time) ([]onramp.UsageHead, []string, error) {
	nodes, err := s.nodeIDs(ctx, since)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = headID(orgID, n)
	}
	docs, err := findIDs[headDoc](ctx, s.db, "usage_heads", ids)
	heads, owners := make([]onramp.UsageHead, len(docs)), make([]string, len(docs))
	for i, d := range docs {
		heads[i], owners[i] = d.UsageHead, d.Node
	}
	return heads, owners, err
}

// Calls reads the pages the nodes' heads list, newest first, until the filter's limit is met.
func (s *Usage) Calls(ctx context.Context, orgID string, f onramp.CallFilter) ([]onramp.UsageEvent, error) {
	heads, nodes, err := s.heads(ctx, orgID, f.From)
	if err != nil {
		return nil, err
	}
	return onramp.CollectCalls(heads, f, func(head int, r onramp.CallPageRef) ([]onramp.UsageEvent, error) {
		var d pageDoc
		err := s.db.Collection("usage_pages").FindOne(ctx, bson.M{"_id": pageID(orgID, nodes[head], r)}).Decode(&d)
		if err == mongo.ErrNoDocuments {
			return nil, nil // purged
		}
		return d.Calls, err
	})
}

// CallsWith sums the nodes' per-minute calls of the credential from since's minute on.
func (s *Usage) CallsWith(ctx context.Context, orgID, credentialID string, since time.Time) (int64, error) {
	heads, _, err := s.heads(ctx, orgID, since)
	return onramp.CredentialCalls(heads, credentialID, since), err
}

// LastUsed reads every node's head of the organisation.
func (s *Usage) LastUsed(ctx context.Context, orgID string) (map[string]time.Time, error) {
	heads, _, err := s.heads(ctx, orgID, time.Time{})
	return onramp.LatestUse(heads), err
}

// PurgeUsage deletes, by _id, the pages of hours before a time that the heads list (the heads are
// few; the pages are many, and FerretDB would scan them all for any other filter), and the call
// events stored before per-node logging.
func (s *Usage) PurgeUsage(ctx context.Context, before time.Time) (int64, error) {
	heads, err := findAll[headDoc](ctx, s.db.Collection("usage_heads"), bson.M{}, bson.D{{Key: "_id", Value: 1}}, 0)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, h := range heads {
		for _, r := range h.Pages {
			if r.Hour.Add(time.Hour).After(before) {
				continue
			}
			res, err := s.db.Collection("usage_pages").DeleteOne(ctx, bson.M{"_id": pageID(h.OrgID, h.Node, r)})
			if err != nil {
				return n, err
			}
			n += res.DeletedCount * int64(r.Count)
		}
	}
	res, err := s.db.Collection("usage_events").DeleteMany(ctx, bson.M{"at": bson.M{"$lt": before.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return n, err
	}
	return n + res.DeletedCount, nil
}

// ExpireUsage asks MongoDB to delete log pages older than retention itself (a TTL index on their
// hour). FerretDB refuses TTL indexes: the error says so, and the worker purges periodically.
func (s *Usage) ExpireUsage(ctx context.Context, retention time.Duration) error {
	if has, err := s.db.HasTTLIndex(ctx, "usage_pages"); err != nil || has {
		return err // asking again for an existing index would drop FerretDB's connection
	}
	_, err := s.db.Collection("usage_pages").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "hour", Value: 1}},
		Options: options.Index().SetName("usage_pages_ttl").SetExpireAfterSeconds(int32((retention + time.Hour).Seconds()))})
	return err
}
