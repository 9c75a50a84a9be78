package mongo

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Lists are the read models every list page reads: ordered lists of (position, payload) entries
// kept in documents read by _id only. FerretDB answers an exact _id lookup from SQLite's index
// and scans the whole collection in Go for anything else (a range of _ids, a sort, any other
// field: ≈1 s at 10 000 documents), so a page must be a few _id reads whatever the data's size.
//
// A list is a head document (_id: the list's name) that holds its entries itself while they are
// few, and otherwise the ordered bounds of its chunks, each a document of up to chunkMax entries
// (_id: name|c<n>). Both are stored as one BSON blob: FerretDB takes 3–4× longer to read a
// document of nested fields than the same bytes as a binary value. Writers hold the list's lock
// (see withLock: FerretDB loses concurrent updates of one document across connections) and write
// a split's new chunk, then the head, then the shrunk chunk, so a reader without the lock never
// misses an entry: it takes from each chunk only what the head it read assigns to that chunk,
// and reads the head again when a chunk says its bounds moved.
//
// Lists are written after the documents they summarise: an error is returned (the caller's retry
// writes the entries again, they are idempotent) and EnsureReadModels rebuilds every list from
// the collections when their format changes.

const (
	listsCollection = "lists"
	chunkMax        = 128 // entries per chunk; a page of up to 200 reads two or three
	inlineMax       = 128 // entries a head holds itself before it is split into chunks
	headRetries     = 3
)

// listEntry is one item of a list: its position (onramp.Position.String) and its payload.
type listEntry struct {
	P string   `bson:"p"`
	D bson.Raw `bson:"d,omitempty"`
}

type chunkRef struct {
	Lo string `bson:"l"` // the chunk holds positions from Lo (the first chunk's is "") to the next's Lo
	ID string `bson:"id"`
}

type headBody struct {
	Inline []listEntry `bson:"i,omitempty"` // the entries, while there are no chunks
	Chunks []chunkRef  `bson:"c,omitempty"`
	Seq    int64       `bson:"s"`

	created bool // not stored yet (insert, don't replace)
}

type chunkBody struct {
	Lo      string      `bson:"l"`
	Hi      string      `bson:"h"` // exclusive; "" is the end
	Entries []listEntry `bson:"e"`
}

type blobDoc struct {
	ID string `bson:"_id"`
	B  []byte `bson:"b"`
}

func (d *DB) lists() *mongo.Collection { return d.Collection(listsCollection) }

// readBlob decodes the blob of document id into out; found is false when there is none.
func (d *DB) readBlob(ctx context.Context, id string, out any) (bool, error) {
	var doc blobDoc
	err := d.lists().FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, bson.Unmarshal(doc.B, out)
}

func blob(id string, body any) (blobDoc, error) {
	b, err := bson.Marshal(body)
	return blobDoc{ID: id, B: b}, err
}

func (d *DB) writeBlob(ctx context.Context, id string, body any) error {
	doc, err := blob(id, body)
	if err != nil {
		return err
	}
	_, err = d.lists().ReplaceOne(ctx, bson.M{"_id": id}, doc, options.Replace().SetUpsert(true))
	return err
}

func chunkID(list string, seq int64) string { return list + "|c" + strconv.FormatInt(seq, 10) }

// listItem is an entry of a named list: what a stored object contributes to its lists.
type listItem struct {
	list string
	pos  onramp.Position
	data any // encoded as the payload; nil for none
}

func item(list string, pos onramp.Position, data any) listItem {
	return listItem{list: list, pos: pos, data: data}
}

// syncLists makes the lists hold after's items instead of before's: every item of after is put
// (its payload may have changed), and those of before at positions after has not are removed.
func (d *DB) syncLists(ctx context.Context, before, after []listItem) error {
	puts, dels := map[string][]listEntry{}, map[string][]string{}
	kept := map[string]bool{}
	for _, it := range after {
		e, err := it.entry()
		if err != nil {
			return err
		}
		puts[it.list] = append(puts[it.list], e)
		kept[it.list+"\x00"+e.P] = true
	}
	for _, it := range before {
		if p := it.pos.String(); !kept[it.list+"\x00"+p] {
			dels[it.list] = append(dels[it.list], p)
		}
	}
	names := make([]string, 0, len(puts)+len(dels))
	for n := range puts {
		names = append(names, n)
	}
	for n := range dels {
		if _, ok := puts[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names) // one lock at a time, in a fixed order
	for _, n := range names {
		if err := d.applyList(ctx, n, puts[n], dels[n]); err != nil {
			return err
		}
	}
	return nil
}

func (it listItem) entry() (listEntry, error) {
	e := listEntry{P: it.pos.String()}
	if it.data != nil {
		raw, err := bson.Marshal(it.data)
		if err != nil {
			return e, err
		}
		e.D = raw
	}
	return e, nil
}

func entryLess(a, b listEntry) int { return strings.Compare(a.P, b.P) }

// merge returns sorted entries with puts upserted (by position) and dels removed.
func merge(entries, puts []listEntry, dels []string) []listEntry {
	byPos := make(map[string]listEntry, len(entries)+len(puts))
	for _, e := range entries {
		byPos[e.P] = e
	}
	for _, p := range dels {
		delete(byPos, p)
	}
	for _, e := range puts {
		byPos[e.P] = e
	}
	out := make([]listEntry, 0, len(byPos))
	for _, e := range byPos {
		out = append(out, e)
	}
	slices.SortFunc(out, entryLess)
	return out
}

// applyList upserts puts and removes dels in one list, holding its lock.
func (d *DB) applyList(ctx context.Context, list string, puts []listEntry, dels []string) error {
	if len(puts) == 0 && len(dels) == 0 {
		return nil
	}
	return withLock(ctx, d, "list:"+list, func() error {
		for {
			var h headBody
			found, err := d.readBlob(ctx, list, &h)
			if err != nil {
				return err
			}
			if !found && len(puts) == 0 {
				return nil
			}
			err = d.applyHead(ctx, list, &h, found, puts, dels)
			if !found && mongo.IsDuplicateKeyError(err) {
				continue // created meanwhile by createLists, which takes no lock: apply to it
			}
			return err
		}
	})
}

func (d *DB) applyHead(ctx context.Context, list string, h *headBody, found bool, puts []listEntry, dels []string) error {
	h.created = !found
	if len(h.Chunks) == 0 {
		entries := merge(h.Inline, puts, dels)
		if len(entries) <= inlineMax {
			if len(entries) == 0 {
				_, err := d.lists().DeleteOne(ctx, bson.M{"_id": list})
				return err
			}
			h.Inline = entries
			return d.writeHead(ctx, list, h)
		}
		// Too many for the head: chunks first, then the head that names them.
		h.Inline = nil
		return d.writeChunked(ctx, list, h, [][]listEntry{entries}, nil)
	}
	return d.applyChunked(ctx, list, h, puts, dels)
}

// writeHead replaces the head, or inserts it when the list is new (so a concurrent creation is
// noticed rather than overwritten).
func (d *DB) writeHead(ctx context.Context, list string, h *headBody) error {
	if !h.created {
		return d.writeBlob(ctx, list, h)
	}
	doc, err := blob(list, h)
	if err != nil {
		return err
	}
	_, err = d.lists().InsertOne(ctx, doc)
	return err
}

// chunkOf is the index of the chunk whose range holds position p.
func chunkOf(refs []chunkRef, p string) int {
	i := sort.Search(len(refs), func(i int) bool { return refs[i].Lo > p })
	return max(0, i-1)
}

// applyChunked changes the chunks puts and dels fall in, splitting full ones and dropping empty
// ones, in the order that keeps lock-free readers whole.
func (d *DB) applyChunked(ctx context.Context, list string, h *headBody, puts []listEntry, dels []string) error {
	byChunk := map[int]*struct {
		puts []listEntry
		dels []string
	}{}
	at := func(i int) *struct {
		puts []listEntry
		dels []string
	} {
		if byChunk[i] == nil {
			byChunk[i] = &struct {
				puts []listEntry
				dels []string
			}{}
		}
		return byChunk[i]
	}
	for _, e := range puts {
		c := at(chunkOf(h.Chunks, e.P))
		c.puts = append(c.puts, e)
	}
	for _, p := range dels {
		c := at(chunkOf(h.Chunks, p))
		c.dels = append(c.dels, p)
	}
	touched := make([]int, 0, len(byChunk))
	for i := range byChunk {
		touched = append(touched, i)
	}
	sort.Ints(touched)
	groups := make([][]listEntry, len(h.Chunks)) // nil: unchanged
	for _, i := range touched {
		var c chunkBody
		if _, err := d.readBlob(ctx, h.Chunks[i].ID, &c); err != nil {
			return err
		}
		groups[i] = merge(c.Entries, byChunk[i].puts, byChunk[i].dels)
	}
	return d.writeChunked(ctx, list, h, groups, touched)
}

// writeChunked lays out a list anew where groups[i] (for i in touched, or every group when the
// head had no chunks) replaces chunk i's entries: groups over chunkMax are split, empty ones
// dropped. New chunks are written first, then the head, then the changed old chunks, then the
// dropped ones are deleted.
func (d *DB) writeChunked(ctx context.Context, list string, h *headBody, groups [][]listEntry, touched []int) error {
	old := h.Chunks
	out, dropped := layout(list, h, groups, touched)
	if len(out) == 0 { // everything removed
		if _, err := d.lists().DeleteOne(ctx, bson.M{"_id": list}); err != nil {
			return err
		}
		return d.deleteChunks(ctx, dropped)
	}
	if err := d.rebound(ctx, old, out); err != nil {
		return err
	}
	body := func(i int) chunkBody {
		hi := ""
		if i+1 < len(out) {
			hi = out[i+1].ref.Lo
		}
		return chunkBody{Lo: out[i].ref.Lo, Hi: hi, Entries: out[i].entries}
	}
	for i := range out {
		if out[i].fresh {
			if err := d.writeBlob(ctx, out[i].ref.ID, body(i)); err != nil {
				return err
			}
		}
	}
	h.Chunks = make([]chunkRef, len(out))
	for i := range out {
		h.Chunks[i] = out[i].ref
	}
	if err := d.writeHead(ctx, list, h); err != nil {
		return err
	}
	for i := range out {
		if out[i].dirty && !out[i].fresh {
			if err := d.writeBlob(ctx, out[i].ref.ID, body(i)); err != nil {
				return err
			}
		}
	}
	return d.deleteChunks(ctx, dropped)
}

// laid is a chunk of a list's new layout.
type laid struct {
	ref     chunkRef
	entries []listEntry
	dirty   bool // rewrite (an old chunk whose entries or bounds changed)
	fresh   bool // insert before the head
}

// layout is the list's new chunks (new ones numbered from h.Seq on) and the ids of the old chunks
// it drops; see writeChunked.
func layout(list string, h *headBody, groups [][]listEntry, touched []int) (out []laid, dropped []string) {
	old := h.Chunks
	if len(old) == 0 {
		touched = []int{0}
	}
	for i, g := range groups {
		switch {
		case !slices.Contains(touched, i):
			out = append(out, laid{ref: old[i]})
		case len(g) == 0 && len(old) > 0:
			dropped = append(dropped, old[i].ID)
		default:
			for j, part := range splitEntries(g) {
				l := laid{entries: part, dirty: true}
				if j == 0 && len(old) > 0 {
					l.ref = chunkRef{Lo: old[i].Lo, ID: old[i].ID}
				} else {
					l.ref = chunkRef{Lo: part[0].P, ID: chunkID(list, h.Seq)}
					l.fresh = true
					h.Seq++
				}
				if j == 0 && len(old) == 0 {
					l.ref.Lo = ""
				}
				out = append(out, l)
			}
		}
	}
	if len(out) > 0 {
		out[0].ref.Lo = "" // the first chunk starts at the beginning, whatever was dropped before it
	}
	return out, dropped
}

// rebound marks for rewriting, with its entries read back, each kept chunk whose bounds moved (its
// neighbour was split off or dropped), so readers holding an older head notice.
func (d *DB) rebound(ctx context.Context, old []chunkRef, out []laid) error {
	for i := range out {
		if out[i].dirty || out[i].fresh {
			continue
		}
		hi, prevHi := "", ""
		if i+1 < len(out) {
			hi = out[i+1].ref.Lo
		}
		if j := slices.IndexFunc(old, func(r chunkRef) bool { return r.ID == out[i].ref.ID }); j+1 < len(old) {
			prevHi = old[j+1].Lo
		}
		if prevHi != hi || out[i].ref.Lo != loOf(old, out[i].ref.ID) {
			var c chunkBody
			if _, err := d.readBlob(ctx, out[i].ref.ID, &c); err != nil {
				return err
			}
			out[i].entries, out[i].dirty = c.Entries, true
		}
	}
	return nil
}

func loOf(refs []chunkRef, id string) string {
	for _, r := range refs {
		if r.ID == id {
			return r.Lo
		}
	}
	return ""
}

func (d *DB) deleteChunks(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if _, err := d.lists().DeleteOne(ctx, bson.M{"_id": id}); err != nil {
			return err
		}
	}
	return nil
}

// splitEntries cuts sorted entries into chunks of at most chunkMax, evenly.
func splitEntries(es []listEntry) [][]listEntry {
	if len(es) <= chunkMax {
		return [][]listEntry{es}
	}
	n := (len(es) + chunkMax - 1) / chunkMax
	size := (len(es) + n - 1) / n
	var out [][]listEntry
	for i := 0; i < len(es); i += size {
		out = append(out, es[i:min(i+size, len(es))])
	}
	return out
}

// createLists writes lists that do not exist yet in one insert of their heads (the seed's and
// the rebuild's bulk path); a list that exists already gets its entries through applyList.
func (d *DB) createLists(ctx context.Context, items []listItem) error {
	byList := map[string][]listEntry{}
	for _, it := range items {
		e, err := it.entry()
		if err != nil {
			return err
		}
		byList[it.list] = append(byList[it.list], e)
	}
	var docs []any
	var names []string
	var big []string
	for name, es := range byList {
		es = merge(nil, es, nil)
		if len(es) > inlineMax {
			big = append(big, name)
			continue
		}
		doc, err := blob(name, headBody{Inline: es})
		if err != nil {
			return err
		}
		docs, names = append(docs, doc), append(names, name)
	}
	retry := map[string]bool{}
	for _, n := range big {
		retry[n] = true
	}
	for start := 0; start < len(docs); start += 1000 {
		end := min(start+1000, len(docs))
		_, err := d.lists().InsertMany(ctx, docs[start:end], options.InsertMany().SetOrdered(false))
		var bulk mongo.BulkWriteException
		if errors.As(err, &bulk) {
			for _, we := range bulk.WriteErrors {
				if !mongo.IsDuplicateKeyError(we) {
					return err
				}
				retry[names[start+we.Index]] = true
			}
		} else if err != nil {
			return err
		}
	}
	for n := range retry {
		if err := d.applyList(ctx, n, byList[n], nil); err != nil {
			return err
		}
	}
	return nil
}

// listReader reads lists for one request, each chunk at most once.
type listReader struct {
	d      *DB
	mu     sync.Mutex
	heads  map[string]*headBody
	chunks map[string]*chunkBody
}

func (d *DB) reader() *listReader {
	return &listReader{d: d, heads: map[string]*headBody{}, chunks: map[string]*chunkBody{}}
}

func (r *listReader) head(ctx context.Context, list string, fresh bool) (*headBody, error) {
	r.mu.Lock()
	h, ok := r.heads[list]
	r.mu.Unlock()
	if ok && !fresh {
		return h, nil
	}
	h = &headBody{}
	if _, err := r.d.readBlob(ctx, list, h); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.heads[list] = h
	r.mu.Unlock()
	return h, nil
}

func (r *listReader) chunk(ctx context.Context, id string, fresh bool) (*chunkBody, error) {
	r.mu.Lock()
	c, ok := r.chunks[id]
	r.mu.Unlock()
	if ok && !fresh {
		return c, nil
	}
	c = &chunkBody{}
	if _, err := r.d.readBlob(ctx, id, c); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.chunks[id] = c
	r.mu.Unlock()
	return c, nil
}

// walk calls visit with the list's entries from position from on (inclusive; "" from either
// end), forwards or backwards, until visit returns false.
func (r *listReader) walk(ctx context.Context, list, from string, backward bool, visit func(listEntry) bool) error {
	last := "" // the last entry visited, where a walk over a head read again resumes
	for attempt := 0; ; attempt++ {
		h, err := r.head(ctx, list, attempt > 0)
		if err != nil {
			return err
		}
		start := from
		if last != "" {
			start = last
		}
		torn, err := r.walkHead(ctx, h, start, backward, attempt < headRetries, func(e listEntry) bool {
			if e.P == last {
				return true
			}
			last = e.P
			return visit(e)
		})
		if err != nil || !torn {
			return err
		}
	}
}

// walkHead walks the entries h lays out; torn reports a chunk whose bounds disagree with h (a
// writer split or dropped a neighbour since h was read), when the caller may read h again.
func (r *listReader) walkHead(ctx context.Context, h *headBody, from string, backward, mayRetry bool, visit func(listEntry) bool) (torn bool, err error) {
	each := func(es []listEntry, lo, hi string) bool {
		n := len(es)
		for k := range n {
			i := k
			if backward {
				i = n - 1 - k
			}
			e := es[i]
			if e.P < lo || (hi != "" && e.P >= hi) {
				continue
			}
			if from != "" && ((!backward && e.P < from) || (backward && e.P > from)) {
				continue
			}
			if !visit(e) {
				return false
			}
		}
		return true
	}
	if len(h.Chunks) == 0 {
		each(h.Inline, "", "")
		return false, nil
	}
	start := 0
	if from != "" {
		start = chunkOf(h.Chunks, from)
	} else if backward {
		start = len(h.Chunks) - 1
	}
	for i := start; i >= 0 && i < len(h.Chunks); {
		lo, hi := h.Chunks[i].Lo, ""
		if i+1 < len(h.Chunks) {
			hi = h.Chunks[i+1].Lo
		}
		c, err := r.chunk(ctx, h.Chunks[i].ID, false)
		if err != nil {
			return false, err
		}
		if mayRetry && (c.Lo > lo || (c.Hi != "" && (hi == "" || c.Hi < hi))) {
			if c, err = r.chunk(ctx, h.Chunks[i].ID, true); err != nil {
				return false, err
			}
			if c.Lo > lo || (c.Hi != "" && (hi == "" || c.Hi < hi)) {
				return true, nil
			}
		}
		if !each(c.Entries, lo, hi) {
			return false, nil
		}
		if backward {
			i--
		} else {
			i++
		}
	}
	return false, nil
}

// pageQuery is what a page of one or more lists (merged in position order) asks for.
type pageQuery struct {
	lists []string
	req   onramp.PageRequest // validated
	// within bounds the walk (a search's prefix): false ends it. Nil: the whole list.
	within func(p onramp.Position) bool
	// keep filters entries; nil keeps all.
	keep func(p onramp.Position, raw bson.Raw) bool
	// start is where a first page starts (a search's prefix); "" the list's beginning.
	start onramp.Position
	// maxScan bounds the entries a filtered page looks at; 0: no bound.
	maxScan int
}

type pagedEntry struct {
	pos onramp.Position
	raw bson.Raw
}

// take walks each list from from in one direction and returns up to n kept entries, merged in
// order, and whether the scan stopped at maxScan (at the position returned as stoppedAt).
func (r *listReader) take(ctx context.Context, q pageQuery, from string, inclusive, backward bool, n int) (out []pagedEntry, stoppedAt string, err error) {
	var all []pagedEntry
	stopped := ""
	for _, list := range q.lists {
		got, scanned := 0, 0
		err := r.walk(ctx, list, from, backward, func(e listEntry) bool {
			if !inclusive && e.P == from {
				return true
			}
			pos, _ := onramp.ParsePosition(e.P)
			if q.within != nil && !q.within(pos) {
				return false
			}
			scanned++
			if q.keep == nil || q.keep(pos, e.D) {
				all = append(all, pagedEntry{pos: pos, raw: e.D})
				got++
			}
			if q.maxScan > 0 && scanned >= q.maxScan && got < n {
				if stopped == "" || (!backward && e.P < stopped) || (backward && e.P > stopped) {
					stopped = e.P
				}
				return false
			}
			return got < n
		})
		if err != nil {
			return nil, "", err
		}
	}
	slices.SortFunc(all, func(a, b pagedEntry) int {
		if backward {
			return b.pos.Compare(a.pos)
		}
		return a.pos.Compare(b.pos)
	})
	if stopped != "" { // beyond where one list stopped looking, the merge is incomplete
		sp, _ := onramp.ParsePosition(stopped)
		cut := slices.IndexFunc(all, func(e pagedEntry) bool {
			c := e.pos.Compare(sp)
			return (!backward && c > 0) || (backward && c < 0)
		})
		if cut >= 0 {
			all = all[:cut]
		}
	}
	if len(all) > n {
		all = all[:n]
	}
	return all, stopped, nil
}

// page reads one page as onramp.PageOf defines it, from each list's entries around the cursor.
func (d *DB) page(ctx context.Context, q pageQuery) ([]pagedEntry, string, string, error) {
	r := d.reader()
	c, ok, err := q.req.Start()
	if err != nil {
		return nil, "", "", err
	}
	limit := q.req.Limit
	if !ok {
		from := ""
		if q.start != (onramp.Position{}) {
			from = q.start.String()
		}
		items, stopped, err := r.take(ctx, q, from, true, false, limit+1)
		if err != nil {
			return nil, "", "", err
		}
		next := ""
		if len(items) > limit {
			items = items[:limit]
			next = onramp.Cursor{Position: items[limit-1].pos}.Encode()
		} else if stopped != "" {
			sp, _ := onramp.ParsePosition(stopped)
			next = onramp.Cursor{Position: sp}.Encode()
		}
		return items, next, "", nil
	}
	from := c.Position.String()
	items, stopped, err := r.take(ctx, q, from, false, c.Before, limit+1)
	if err != nil {
		return nil, "", "", err
	}
	more := len(items) > limit || stopped != ""
	if len(items) > limit {
		items = items[:limit]
	}
	// Is there anything on the other side of the cursor?
	other, otherStopped, err := r.take(ctx, q, from, true, !c.Before, 1)
	if err != nil {
		return nil, "", "", err
	}
	beyond := len(other) > 0 || otherStopped != ""
	edge := func(i int) onramp.Position { return items[i].pos }
	var next, prev string
	if c.Before {
		slices.Reverse(items)
		if more {
			at := c.Position
			if len(items) > 0 {
				at = edge(0)
			}
			if stopped != "" && len(items) == 0 {
				at, _ = onramp.ParsePosition(stopped)
			}
			prev = onramp.Cursor{Position: at, Before: true}.Encode()
		}
		if beyond && len(items) > 0 {
			next = onramp.Cursor{Position: edge(len(items) - 1)}.Encode()
		}
		return items, next, prev, nil
	}
	if more {
		at := c.Position
		if len(items) > 0 {
			at = edge(len(items) - 1)
		}
		if len(items) < limit && stopped != "" {
			at, _ = onramp.ParsePosition(stopped)
		}
		next = onramp.Cursor{Position: at}.Encode()
	}
	if beyond {
		at := c.Position
		if len(items) > 0 {
			at = edge(0)
		}
		prev = onramp.Cursor{Position: at, Before: true}.Encode()
	}
	return items, next, prev, nil
}

// pageOf decodes a page of lists' payloads.
func pageOf[T any](ctx context.Context, d *DB, q pageQuery) (onramp.Page[T], error) {
	entries, next, prev, err := d.page(ctx, q)
	if err != nil {
		return onramp.Page[T]{}, err
	}
	out := onramp.Page[T]{Items: make([]T, 0, len(entries)), Next: next, Prev: prev}
	for _, e := range entries {
		var v T
		if err := bson.Unmarshal(e.raw, &v); err != nil {
			return out, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// allOf decodes every payload of a list (one organisation's members, say), in order.
func allOf[T any](ctx context.Context, d *DB, list string) ([]T, error) {
	out := []T{}
	var decodeErr error
	err := d.reader().walk(ctx, list, "", false, func(e listEntry) bool {
		var v T
		if decodeErr = bson.Unmarshal(e.D, &v); decodeErr != nil {
			return false
		}
		out = append(out, v)
		return true
	})
	if err == nil {
		err = decodeErr
	}
	return out, err
}

// positionsOf lists the positions of a list's entries, in order.
func positionsOf(ctx context.Context, d *DB, list string) ([]onramp.Position, error) {
	var out []onramp.Position
	err := d.reader().walk(ctx, list, "", false, func(e listEntry) bool {
		p, _ := onramp.ParsePosition(e.P)
		out = append(out, p)
		return true
	})
	return out, err
}

// replaceListed upserts v (whose _id is id) in coll and moves it in the lists from the entries of
// the version stored before (if any) to its own. It returns the version before, found or not.
func replaceListed[T any](ctx context.Context, d *DB, coll, id, what string, v T, items func(T) []listItem) (old T, found bool, err error) {
	old, err = findByID[T](ctx, d.Collection(coll), id, what)
	var before []listItem
	if err == nil {
		before, found = items(old), true
	} else if onramp.ErrorCode(err) != onramp.ENOTFOUND {
		return old, false, err
	}
	if _, err := d.Collection(coll).ReplaceOne(ctx, bson.M{"_id": id}, v, options.Replace().SetUpsert(true)); err != nil {
		return old, found, err
	}
	return old, found, d.syncLists(ctx, before, items(v))
}
