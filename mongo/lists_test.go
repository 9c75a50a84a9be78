package mongo_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/mongo"
)

func pos(i int) onramp.Position {
	return onramp.Position{Key: fmt.Sprintf("k%04d", i/3), ID: fmt.Sprintf("id%05d", i)} // three per key
}

// walkAll follows Next from the first page and Prev back from the last, comparing every page with
// the reference pagination.
func checkPages(t *testing.T, db *mongo.DB, lists []string, want []onramp.Position, limit int) {
	t.Helper()
	ctx := t.Context()
	self := func(p onramp.Position) onramp.Position { return p }
	var seen []onramp.Position
	cursor, pages := "", 0
	var last onramp.Page[onramp.Position]
	for {
		r := onramp.PageRequest{Cursor: cursor, Limit: limit}
		got, err := mongo.ListPage(ctx, db, lists, r)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := onramp.PageOf(want, self, r)
		if !slices.Equal(got.Items, ref.Items) || (got.Next == "") != (ref.Next == "") || (got.Prev == "") != (ref.Prev == "") {
			t.Fatalf("page %d (limit %d) = %d items next=%v prev=%v, want %d items next=%v prev=%v", pages, limit,
				len(got.Items), got.Next != "", got.Prev != "", len(ref.Items), ref.Next != "", ref.Prev != "")
		}
		seen, last = append(seen, got.Items...), got
		pages++
		if got.Next == "" {
			break
		}
		cursor = got.Next
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("walking forward saw %d entries, want %d", len(seen), len(want))
	}
	var back []onramp.Position
	for cursor = last.Prev; cursor != ""; {
		r := onramp.PageRequest{Cursor: cursor, Limit: limit}
		got, err := mongo.ListPage(ctx, db, lists, r)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := onramp.PageOf(want, self, r)
		if !slices.Equal(got.Items, ref.Items) || (got.Prev == "") != (ref.Prev == "") || (got.Next == "") != (ref.Next == "") {
			t.Fatalf("backwards (limit %d): %d items prev=%v, want %d prev=%v", limit, len(got.Items), got.Prev != "", len(ref.Items), ref.Prev != "")
		}
		back = append(slices.Clone(got.Items), back...)
		cursor = got.Prev
	}
	if n := len(want) - len(last.Items); !slices.Equal(back, want[:n]) {
		t.Fatalf("walking back saw %d entries, want %d", len(back), n)
	}
}

// A list grown past several chunks in random order and shrunk again pages exactly like the
// reference pagination, both ways, at both limit bounds.
func TestListPagesLikeTheReference(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	r := rand.New(rand.NewPCG(7, 9))
	n := 3*mongo.ChunkMax + 17
	order := r.Perm(n)
	var want []onramp.Position
	for start := 0; start < n; start += 40 {
		var batch []onramp.Position
		for _, i := range order[start:min(start+40, n)] {
			batch = append(batch, pos(i))
		}
		if err := mongo.PutListItems(ctx, db, "l", batch...); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
	}
	slices.SortFunc(want, onramp.Position.Compare)
	got, err := mongo.ListPositions(ctx, db, "l")
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("the list holds %d entries (%v), want %d in order", len(got), err, len(want))
	}
	for _, limit := range []int{1, 7, onramp.MaxPageLimit} {
		if limit == 1 { // a short walk at limit 1, on a list of its own
			if err := mongo.PutListItems(ctx, db, "small", want[:25]...); err != nil {
				t.Fatal(err)
			}
			checkPages(t, db, []string{"small"}, want[:25], limit)
			continue
		}
		checkPages(t, db, []string{"l"}, want, limit)
	}
	// Remove a whole chunk's worth from the front and some from the middle.
	var gone []onramp.Position
	for i := range mongo.ChunkMax + 5 {
		gone = append(gone, want[i])
	}
	for i := 200; i < 260; i += 2 {
		gone = append(gone, want[i])
	}
	if err := mongo.DeleteListItems(ctx, db, "l", gone...); err != nil {
		t.Fatal(err)
	}
	want = slices.DeleteFunc(want, func(p onramp.Position) bool { return slices.Contains(gone, p) })
	checkPages(t, db, []string{"l"}, want, 50)
	// Putting an entry again changes nothing.
	if err := mongo.PutListItems(ctx, db, "l", want[10], want[200]); err != nil {
		t.Fatal(err)
	}
	checkPages(t, db, []string{"l"}, want, onramp.MaxPageLimit)
}

// Pages of several lists read as one list, merged in order; bulk creation and a later put agree.
func TestListsMergeAndBulkCreate(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	var a, b, want []onramp.Position
	for i := range 90 {
		if i%3 == 0 {
			a = append(a, pos(i))
		} else {
			b = append(b, pos(i))
		}
		want = append(want, pos(i))
	}
	if err := mongo.CreateListItems(ctx, db, "a", a...); err != nil {
		t.Fatal(err)
	}
	if err := mongo.CreateListItems(ctx, db, "b", b[:40]...); err != nil {
		t.Fatal(err)
	}
	if err := mongo.CreateListItems(ctx, db, "b", b[40:]...); err != nil { // exists: merged in
		t.Fatal(err)
	}
	checkPages(t, db, []string{"a", "b"}, want, 13)
	if p, err := mongo.ListPage(ctx, db, []string{"missing"}, onramp.PageRequest{}); err != nil || len(p.Items) != 0 || p.Next != "" || p.Prev != "" {
		t.Errorf("a list that does not exist = %+v, %v; want an empty page", p, err)
	}
}

// A cursor keeps its place while entries are added before and after it.
func TestListCursorStableWhileInserting(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	var want []onramp.Position
	for i := 0; i < 600; i += 2 {
		want = append(want, pos(i))
	}
	if err := mongo.PutListItems(ctx, db, "l", want...); err != nil {
		t.Fatal(err)
	}
	first, err := mongo.ListPage(ctx, db, []string{"l"}, onramp.PageRequest{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	lastSeen := first.Items[len(first.Items)-1]
	var added []onramp.Position
	for i := 1; i < 600; i += 4 { // odd positions on both sides of the cursor, splitting chunks
		added = append(added, pos(i))
	}
	if err := mongo.PutListItems(ctx, db, "l", added...); err != nil {
		t.Fatal(err)
	}
	second, err := mongo.ListPage(ctx, db, []string{"l"}, onramp.PageRequest{Cursor: first.Next, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(want), added...)
	slices.SortFunc(all, onramp.Position.Compare)
	i := slices.Index(all, lastSeen)
	if !slices.Equal(second.Items, all[i+1:i+101]) {
		t.Errorf("the page after the cursor starts at %v, want %v (right after the last entry seen)", second.Items[0], all[i+1])
	}
}

// Two clients (two nodes) write one list at once: nothing is lost, nothing doubled.
func TestListConcurrentWritersFromTwoClients(t *testing.T) {
	dbs := MustOpenClients(t, 2)
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ps []onramp.Position
			for j := range 8 {
				ps = append(ps, pos(g*8+j))
			}
			errs <- mongo.PutListItems(ctx, dbs[g%2], "shared", ps...)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := mongo.ListPositions(ctx, dbs[1], "shared")
	if err != nil || len(got) != 320 {
		t.Fatalf("after 40 concurrent writes of 8: %d entries, %v; want 320", len(got), err)
	}
}

// Readers without the lock see every entry stored before they started while a writer splits
// chunks under them.
func TestListReadersWhileSplitting(t *testing.T) {
	dbs := MustOpenClients(t, 2)
	ctx := t.Context()
	var base []onramp.Position
	for i := 0; i < 800; i += 10 {
		base = append(base, pos(i))
	}
	if err := mongo.PutListItems(ctx, dbs[0], "l", base...); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i < 800; i += 10 {
			var ps []onramp.Position
			for j := range 5 {
				ps = append(ps, pos(i+j))
			}
			if err := mongo.PutListItems(ctx, dbs[0], "l", ps...); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			if reads == 0 {
				t.Log("the writer finished before a read")
			}
			return
		default:
		}
		got, err := mongo.ListPositions(ctx, dbs[1], "l")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range base {
			if _, found := slices.BinarySearchFunc(got, p, onramp.Position.Compare); !found {
				t.Fatalf("read %d missed %v, stored before it began", reads, p)
			}
		}
		if !slices.IsSortedFunc(got, onramp.Position.Compare) {
			t.Fatalf("read %d is out of order", reads)
		}
	}
}
