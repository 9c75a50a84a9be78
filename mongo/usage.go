package mongo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Usage stores what the gateway nodes count, one document per writer, each read by _id. On
// FerretDB (v1.24, SQLite) a find by _id and an insert take a millisecond whatever a collection
// holds, but an update or a delete scans the whole collection (measured: 15-35 ms at a few
// thousand documents), so what a node rewrites every second lives in collections of one month
// or one day, and the call log's closed pages are only ever inserted:
//
//	gateway_nodes            _id <node>                  the node's heartbeat
//	quota_counts_<YYYYMMDD>  _id <counter id>@<node>     its running total of a counter whose window starts that day
//	usage_months_<YYYYMM>    _id <org>@<node>            its running totals of an organisation's month
//	usage_uses_<YYYYMM>      _id <org>@<node>#<product>  its month's calls of one product per version and operation
//	usage_heads_<YYYYMM>     _id <org>@<node>            its credential use and call-log index, as of that month
//	usage_open_<YYYYMM>      _id <org>@<node>#<ok|err>   the log page it is still filling
//	usage_pages_<YYYYMMDD>   _id <org>@<node>#<page key> a closed page of calls of that day (inserted once)
//
// On FerretDB an update also decodes every document of its collection, so the collections nodes
// rewrite are split further in buckets of the organisations (a suffix _00 … _15): an update reads
// a sixteenth of the active organisations' documents. (MongoDB, which updates by _id through an
// index, gets the same layout: one layout, whichever server a reader and a writer see.)
//
// A month's calls per version and operation (UsageLine.Uses) are kept apart from its totals, one
// document per product: they are most of a busy partner's month (200 KB at 100 000 calls over 5
// products), the usage page never reads them, and impact reads one product's. A node rewrites a
// product's document only when it changed since the node last wrote it.
//
// Readers list the nodes, then read each node's documents by _id and sum them. Retention drops
// whole day collections. usage_counters holds the shared counters written before per-node
// counting: read, never written.
type Usage struct {
	db *DB

	mu      sync.Mutex
	written map[string]uint64 // a hash of the uses document last written, by collection and _id
}

var _ onramp.UsageStore = (*Usage)(nil)

func day(t time.Time) string   { return t.UTC().Format("20060102") }
func month(t time.Time) string { return t.UTC().Format("200601") }

// buckets is how many collections an organisation-keyed one is split in.
const buckets = 16

// rewritten is the collection of base (and its date) that holds org's documents.
func (s *Usage) rewritten(_ context.Context, base, org string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(org))
	return fmt.Sprintf("%s_%02d", base, h.Sum32()%buckets)
}

// NewUsage returns the store on db; it panics on a nil db.
func NewUsage(db *DB) *Usage {
	if db == nil {
		panic("mongo.NewUsage: nil db")
	}
	return &Usage{db: db, written: map[string]uint64{}}
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

// quotaCollection is where a counter's per-node totals are: the day its window starts, its
// organisation's bucket.
func (s *Usage) quotaCollection(ctx context.Context, counterID string) string {
	unix, _ := strconv.ParseInt(counterID[strings.LastIndexByte(counterID, ':')+1:], 10, 64)
	org, _, _ := strings.Cut(counterID, ":")
	return s.rewritten(ctx, "quota_counts_"+day(time.Unix(unix, 0)), org)
}

// SaveQuotaCounts sets the node's totals with $max, so a late, older write never lowers one.
func (s *Usage) SaveQuotaCounts(ctx context.Context, node string, totals map[string]int64) error {
	byColl := map[string][]mongo.WriteModel{}
	for id, n := range totals {
		c := s.quotaCollection(ctx, id)
		byColl[c] = append(byColl[c], mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": id + "@" + node}).SetUpsert(true).
			SetUpdate(bson.M{"$max": bson.M{"count": n}}))
	}
	for c, models := range byColl {
		if err := s.db.bulk(ctx, c, models); err != nil {
			return err
		}
	}
	return nil
}

// QuotaCounts sums the counters over the nodes; onramp.LegacyNode's are the shared counters of
// the same id (usage_counters).
func (s *Usage) QuotaCounts(ctx context.Context, ids, nodes []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	byColl := map[string][]string{}
	legacy := false
	for _, id := range ids {
		out[id] = 0
		for _, n := range nodes {
			if n == onramp.LegacyNode {
				legacy = true
				continue
			}
			c := s.quotaCollection(ctx, id)
			byColl[c] = append(byColl[c], id+"@"+n)
		}
	}
	for c, keys := range byColl {
		counts, err := findIDs[quotaCount](ctx, s.db, c, keys)
		if err != nil {
			return out, err
		}
		for _, q := range counts {
			out[q.ID[:strings.LastIndexByte(q.ID, '@')]] += q.Count
		}
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

// Usage documents keep as fields only what a query, a sort or the purge reads, and the rest in one
// binary field, BSON-encoded (body): FerretDB v1 converts a document field by field, 5-8 µs a
// field (measured: one document of 1 000 fields read in 5 ms, of 20 000 in 150 ms), on every read
// and, for every document of the collection, on every update. A busy partner's month or index is
// thousands of fields; its body is one. Documents written before bodies (a data directory of an
// earlier build) hold their values inline and read as they are; their months' uses, inline too,
// are not counted by OperationUsage, which reads uses documents only.

// unpack is a document's value: its body decoded, or the inline value of one written before bodies.
func unpack[T any](body []byte, inline T) (T, error) {
	if len(body) == 0 {
		return inline, nil
	}
	var v T
	return v, bson.Unmarshal(body, &v)
}

type monthDoc struct {
	ID                string `bson:"_id"`
	Node              string `bson:"node"`
	Body              []byte `bson:"body,omitempty"` // the UsageMonth
	onramp.UsageMonth `bson:",inline"`
}

// usesDoc is one node's calls of one product in one month, per version and operation: the
// month's lines of the product with their Uses only (usesBody).
type usesDoc struct {
	ID      string    `bson:"_id"`
	OrgID   string    `bson:"org_id"`
	Node    string    `bson:"node"`
	Month   time.Time `bson:"month"`
	Product string    `bson:"product"`
	Body    []byte    `bson:"body"`
}

type usesBody struct {
	Lines []onramp.UsageLine `bson:"lines"`
}

func usesID(org, node, product string) string { return nodeDocID(org, node) + "#" + product }

// monthDocs are a month as written, its lines without their uses, and its uses documents, one per
// product that has any.
func monthDocs(org, node string, m onramp.UsageMonth) (monthDoc, []usesDoc, error) {
	m.Month = m.Month.UTC()
	lines := make([]onramp.UsageLine, len(m.Lines))
	uses := map[string]*usesBody{}
	var products []string
	for i, l := range m.Lines {
		lines[i], lines[i].Uses = l, nil
		if len(l.Uses) == 0 {
			continue
		}
		if uses[l.Product] == nil {
			uses[l.Product], products = &usesBody{}, append(products, l.Product)
		}
		uses[l.Product].Lines = append(uses[l.Product].Lines, onramp.UsageLine{Product: l.Product, Environment: l.Environment, Uses: l.Uses})
	}
	docs := make([]usesDoc, len(products))
	for i, p := range products {
		body, err := bson.Marshal(uses[p])
		if err != nil {
			return monthDoc{}, nil, err
		}
		docs[i] = usesDoc{ID: usesID(org, node, p), OrgID: org, Node: node, Month: m.Month, Product: p, Body: body}
	}
	m.Lines = lines
	body, err := bson.Marshal(m)
	return monthDoc{ID: nodeDocID(org, node), Node: node, Body: body, UsageMonth: onramp.UsageMonth{OrgID: m.OrgID, Month: m.Month}}, docs, err
}

// saveUses replaces the uses documents that changed since this store last wrote them.
func (s *Usage) saveUses(ctx context.Context, coll string, docs []usesDoc) error {
	for _, d := range docs {
		h := fnv.New64a()
		_, _ = h.Write(d.Body)
		key, sum := coll+"/"+d.ID, h.Sum64()
		s.mu.Lock()
		same := s.written[key] == sum
		s.mu.Unlock()
		if same {
			continue
		}
		if _, err := s.db.Collection(coll).ReplaceOne(ctx, bson.M{"_id": d.ID}, d, options.Replace().SetUpsert(true)); err != nil {
			return err
		}
		s.mu.Lock()
		if len(s.written) >= maxWrittenKept {
			clear(s.written) // forgetting costs a rewrite each, not a lost write
		}
		s.written[key] = sum
		s.mu.Unlock()
	}
	return nil
}

// maxWrittenKept bounds what saveUses remembers: an entry per organisation, product and month.
const maxWrittenKept = 200000

type headDoc struct {
	ID               string `bson:"_id"`
	Node             string `bson:"node"`
	Body             []byte `bson:"body,omitempty"` // the UsageHead
	onramp.UsageHead `bson:",inline"`
}

// newHeadDoc is the head as written at at.
func newHeadDoc(org, node string, h onramp.UsageHead, at time.Time) (headDoc, error) {
	h.UpdatedAt = at.UTC().Truncate(time.Millisecond)
	h.Pages = slices.Clone(h.Pages)
	for i := range h.Pages {
		h.Pages[i] = utcRef(h.Pages[i])
	}
	body, err := bson.Marshal(h)
	return headDoc{ID: nodeDocID(org, node), Node: node, Body: body, UsageHead: onramp.UsageHead{OrgID: h.OrgID, UpdatedAt: h.UpdatedAt}}, err
}

// pageDoc keeps the page's summary (Ref) as a field: the purge counts calls from it.
type pageDoc struct {
	ID              string `bson:"_id"`
	OrgID           string `bson:"org_id"`
	Node            string `bson:"node"`
	Body            []byte `bson:"body,omitempty"` // the CallPage
	onramp.CallPage `bson:",inline"`
}

// newPageDoc is the page as written, under id.
func newPageDoc(id, org, node string, p onramp.CallPage) (pageDoc, error) {
	p.Ref = utcRef(p.Ref)
	p.Calls = slices.Clone(p.Calls)
	for j := range p.Calls {
		p.Calls[j].At = p.Calls[j].At.UTC().Truncate(time.Millisecond)
	}
	body, err := bson.Marshal(p)
	return pageDoc{ID: id, OrgID: org, Node: node, Body: body, CallPage: onramp.CallPage{Ref: p.Ref}}, err
}

func (d pageDoc) calls() ([]onramp.UsageEvent, error) {
	p, err := unpack(d.Body, d.CallPage)
	return p.Calls, err
}

// pageDocID is where a page is written: its collection and _id (an open page has one place per
// kind, rewritten as it fills; a closed one its day's).
func (s *Usage) pageDocID(ctx context.Context, org, node string, r onramp.CallPageRef, at time.Time) (string, string) {
	if r.Open {
		return s.rewritten(ctx, "usage_open_"+month(at), org), openID(org, node, r.Errors)
	}
	return "usage_pages_" + day(r.Hour), pageID(org, node, r)
}

func nodeDocID(org, node string) string { return org + "@" + node }

func openID(org, node string, errs bool) string {
	if errs {
		return nodeDocID(org, node) + "#err"
	}
	return nodeDocID(org, node) + "#ok"
}

func pageID(org, node string, r onramp.CallPageRef) string {
	return nodeDocID(org, node) + "#" + r.Key()
}

// SaveUsage writes closed pages first (inserts; one already there is left as it is), then the
// open pages, the months and the head of the flush's month, so a reader following a head finds
// every page it lists. Dropped pages are only left out of the head: their day's purge deletes them.
func (s *Usage) SaveUsage(ctx context.Context, node string, f onramp.UsageFlush) error {
	org, at := f.Head.OrgID, f.Head.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	closed, open := map[string][]mongo.WriteModel{}, []mongo.WriteModel{}
	for _, p := range f.Pages {
		c, id := s.pageDocID(ctx, org, node, p.Ref, at)
		d, err := newPageDoc(id, org, node, p)
		if err != nil {
			return err
		}
		if p.Ref.Open {
			open = append(open, mongo.NewReplaceOneModel().SetFilter(bson.M{"_id": id}).SetUpsert(true).SetReplacement(d))
			continue
		}
		closed[c] = append(closed[c], mongo.NewInsertOneModel().SetDocument(d))
	}
	for c, models := range closed {
		if err := s.db.bulk(ctx, c, models); err != nil && !onlyDuplicates(err) {
			return err
		}
	}
	if err := s.db.bulk(ctx, s.rewritten(ctx, "usage_open_"+month(at), org), open); err != nil {
		return err
	}
	for _, m := range f.Months {
		doc, uses, err := monthDocs(org, node, m)
		if err != nil {
			return err
		}
		if err := s.saveUses(ctx, s.rewritten(ctx, "usage_uses_"+month(doc.Month), org), uses); err != nil {
			return err
		}
		if _, err := s.db.Collection(s.rewritten(ctx, "usage_months_"+month(doc.Month), org)).ReplaceOne(ctx, bson.M{"_id": doc.ID}, doc, options.Replace().SetUpsert(true)); err != nil {
			return err
		}
	}
	h, err := newHeadDoc(org, node, f.Head, at)
	if err != nil {
		return err
	}
	_, err = s.db.Collection(s.rewritten(ctx, "usage_heads_"+month(at), org)).ReplaceOne(ctx, bson.M{"_id": h.ID}, h, options.Replace().SetUpsert(true))
	return err
}

// onlyDuplicates reports whether every write of a bulk failed as a duplicate: pages inserted
// already by a flush whose answer was lost.
func onlyDuplicates(err error) bool {
	var bulk mongo.BulkWriteException
	if !errors.As(err, &bulk) || bulk.WriteConcernError != nil {
		return false
	}
	for _, we := range bulk.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return false
		}
	}
	return true
}

func utcRef(r onramp.CallPageRef) onramp.CallPageRef {
	r.Hour, r.First, r.Last = r.Hour.UTC(), r.First.UTC().Truncate(time.Millisecond), r.Last.UTC().Truncate(time.Millisecond)
	return r
}

// UsageTotals sums the nodes' months that overlap [from, to).
func (s *Usage) UsageTotals(ctx context.Context, orgID, product, env string, from, to time.Time) (onramp.UsageTotals, error) {
	months, err := s.UsageMonths(ctx, orgID, from, to)
	return onramp.SumUsage(months, product, env, from.UTC(), to.UTC()), err
}

// UsageMonths reads the nodes' months that overlap [from, to), each by _id, without their lines'
// Uses (OperationUsage reads those).
func (s *Usage) UsageMonths(ctx context.Context, orgID string, from, to time.Time) ([]onramp.UsageMonth, error) {
	from, to = from.UTC(), to.UTC()
	first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	nodes, err := s.nodeIDs(ctx, first)
	if err != nil {
		return nil, err
	}
	var months []onramp.UsageMonth
	for m := first; m.Before(to); m = m.AddDate(0, 1, 0) {
		ids := make([]string, len(nodes))
		for i, n := range nodes {
			ids[i] = nodeDocID(orgID, n)
		}
		docs, err := findIDs[monthDoc](ctx, s.db, s.rewritten(ctx, "usage_months_"+month(m), orgID), ids)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			um, err := unpack(d.Body, d.UsageMonth)
			if err != nil {
				return nil, err
			}
			for i := range um.Lines {
				um.Lines[i].Uses = nil // inline in months written before uses documents
			}
			months = append(months, um)
		}
	}
	return months, nil
}

// OperationUsage reads, for each organisation, the nodes' uses documents of product in the months
// that overlap [from, to) by _id (grouped per bucket collection: one $in on MongoDB, one exact
// read each on FerretDB) and sums them.

func (s *Usage) OperationUsage(ctx context.Context, product string, orgIDs []string, from, to time.Time) (map[string][]onramp.OperationUsage, error) {
	from, to = from.UTC(), to.UTC()
	first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	nodes, err := s.nodeIDs(ctx, first)
	if err != nil {
		return nil, err
	}
	months := map[string][]onramp.UsageMonth{}
	for m := first; m.Before(to); m = m.AddDate(0, 1, 0) {
		byColl := map[string][]string{}
		for _, org := range orgIDs {
			c := s.rewritten(ctx, "usage_uses_"+month(m), org)
			for _, n := range nodes {
				byColl[c] = append(byColl[c], usesID(org, n, product))
			}
		}
		for c, ids := range byColl {
			docs, err := findIDs[usesDoc](ctx, s.db, c, ids)
			if err != nil {
				return nil, err
			}
			for _, d := range docs {
				u, err := unpack(d.Body, usesBody{})
				if err != nil {
					return nil, err
				}
				months[d.OrgID] = append(months[d.OrgID], onramp.UsageMonth{OrgID: d.OrgID, Month: d.Month, Lines: u.Lines})
			}
		}
	}
	out := make(map[string][]onramp.OperationUsage, len(months))
	for org, ms := range months {
		if u := onramp.SumOperationUsage(ms, product, from, to); len(u) > 0 {
			out[org] = u
		}
	}
	return out, nil
}

// heads are the newest head of each node seen since since (this month's, or last month's for a
// node idle since), with the month each was found in.
func (s *Usage) heads(ctx context.Context, orgID string, since time.Time) ([]onramp.UsageHead, []string, []string, error) {
	nodes, err := s.nodeIDs(ctx, since)
	if err != nil {
		return nil, nil, nil, err
	}
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = nodeDocID(orgID, n)
	}
	now := time.Now().UTC()
	newest := map[string]headDoc{}
	months := map[string]string{}
	for _, m := range []time.Time{now, time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)} {
		docs, err := findIDs[headDoc](ctx, s.db, s.rewritten(ctx, "usage_heads_"+month(m), orgID), ids)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, d := range docs {
			if old, ok := newest[d.Node]; !ok || d.UpdatedAt.After(old.UpdatedAt) {
				newest[d.Node], months[d.Node] = d, month(m)
			}
		}
	}
	var heads []onramp.UsageHead
	var owners, in []string
	for node, d := range newest {
		h, err := unpack(d.Body, d.UsageHead)
		if err != nil {
			return nil, nil, nil, err
		}
		heads, owners, in = append(heads, h), append(owners, node), append(in, months[node])
	}
	return heads, owners, in, nil
}

// Calls reads the pages the nodes' heads list, newest first, until the filter's limit is met.
func (s *Usage) Calls(ctx context.Context, orgID string, f onramp.CallFilter) ([]onramp.UsageEvent, error) {
	heads, nodes, months, err := s.heads(ctx, orgID, f.From)
	if err != nil {
		return nil, err
	}
	return onramp.CollectCalls(heads, f, func(head int, r onramp.CallPageRef) ([]onramp.UsageEvent, error) {
		var d pageDoc
		if r.Open {
			err := s.db.Collection(s.rewritten(ctx, "usage_open_"+months[head], orgID)).FindOne(ctx, bson.M{"_id": openID(orgID, nodes[head], r.Errors)}).Decode(&d)
			if err == nil && d.Ref.Key() == r.Key() {
				return d.calls()
			} else if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
				return nil, err
			} // closed since the head was written: read it where closed pages are
		}
		err := s.db.Collection("usage_pages_"+day(r.Hour)).FindOne(ctx, bson.M{"_id": pageID(orgID, nodes[head], r)}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, nil // purged
		} else if err != nil {
			return nil, err
		}
		return d.calls()
	})
}

// CallsWith sums the nodes' per-minute calls of the credential from since's minute on.
func (s *Usage) CallsWith(ctx context.Context, orgID, credentialID string, since time.Time) (int64, error) {
	heads, _, _, err := s.heads(ctx, orgID, since)
	return onramp.CredentialCalls(heads, credentialID, since), err
}

// LastUsed reads every node's newest head of the organisation.
func (s *Usage) LastUsed(ctx context.Context, orgID string) (map[string]time.Time, error) {
	heads, _, _, err := s.heads(ctx, orgID, time.Time{})
	return onramp.LatestUse(heads), err
}

// Collections kept after their last day or month: heads and open pages for a month after (a
// reader falls back to last month's head), per-node quota counts for the longest window.
const (
	keepMonths    = 2
	keepQuotaDays = 32
)

// PurgeUsage drops the day collections of closed pages before before's day (counting their
// calls first), and the month and quota collections nothing reads any more; plus the call events
// stored before per-node logging.
func (s *Usage) PurgeUsage(ctx context.Context, before time.Time) (int64, error) {
	names, err := s.db.db.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	var n int64
	for _, name := range names {
		switch {
		case expired(name, "usage_pages_", "20060102", before.UTC().Truncate(24*time.Hour)):
			n += s.callsIn(ctx, name)
		case expired(name, "usage_heads_", "200601", time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -keepMonths, 0)),
			expired(name, "usage_open_", "200601", time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -keepMonths, 0)),
			expired(name, "quota_counts_", "20060102", now.AddDate(0, 0, -keepQuotaDays)):
		default:
			continue
		}
		if err := s.db.Collection(name).Drop(ctx); err != nil {
			return n, err
		}
	}
	res, err := s.db.Collection("usage_events").DeleteMany(ctx, bson.M{"at": bson.M{"$lt": before.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return n, err
	}
	return n + res.DeletedCount, nil
}

// expired reports whether name is prefix + a date (in layout, a bucket suffix after it) before limit.
func expired(name, prefix, layout string, limit time.Time) bool {
	date, _, _ := strings.Cut(strings.TrimPrefix(name, prefix), "_")
	t, err := time.Parse(layout, date)
	return strings.HasPrefix(name, prefix) && err == nil && t.Before(limit)
}

// callsIn counts the calls of a pages collection about to be dropped (one scan, by the purge).
func (s *Usage) callsIn(ctx context.Context, coll string) int64 {
	cur, err := s.db.Collection(coll).Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"ref.count": 1}))
	if err != nil {
		return 0
	}
	var refs []struct {
		Ref onramp.CallPageRef `bson:"ref"`
	}
	if err := cur.All(ctx, &refs); err != nil {
		return 0
	}
	var n int64
	for _, r := range refs {
		n += int64(r.Ref.Count)
	}
	return n
}
