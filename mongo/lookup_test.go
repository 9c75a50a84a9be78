package mongo_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A lookup by _id costs the same in a large collection as in a small one: every read model is
// read by _id. (FerretDB's SQLite backend scanned the whole table for one until devstack indexed
// the expression its lookups use: 100 ms and more here, growing with the collection.)
func TestLookupByIDDoesNotGrowWithTheCollection(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	pad := strings.Repeat("x", 20<<10)
	for name, n := range map[string]int{"small": 20, "large": 1500} {
		var docs []any
		for i := range n {
			docs = append(docs, bson.M{"_id": fmt.Sprintf("%s-%05d", name, i), "pad": pad})
		}
		for start := 0; start < n; start += 250 {
			if _, err := db.Collection(name).InsertMany(ctx, docs[start:min(start+250, n)]); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(500 * time.Millisecond) // devstack indexes new collections within 200 ms
	lookup := func(coll, id string) time.Duration {
		best := time.Hour
		for range 5 {
			start := time.Now()
			var out bson.M
			if err := db.Collection(coll).FindOne(ctx, bson.M{"_id": id}).Decode(&out); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := lookup("small", "small-00007"), lookup("large", "large-01234")
	if large > 10*small+20*time.Millisecond {
		t.Errorf("a lookup by _id among 1 500 documents of 20 KB took %v, among 20 %v: the collection is scanned", large, small)
	}
	t.Logf("lookup by _id: %v among 20 documents, %v among 1 500", small, large)
}
