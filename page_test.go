package onramp_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

type item struct{ key, id string }

func itemPos(i item) onramp.Position { return onramp.Position{Key: i.key, ID: i.id} }

func ids(p onramp.Page[item]) []string {
	out := []string{}
	for _, i := range p.Items {
		out = append(out, i.id)
	}
	return out
}

func TestPageOfWalksBothWaysAndKeepsItsPlaceWhileItemsAreAdded(t *testing.T) {
	var items []item
	for i := range 7 {
		items = append(items, item{key: fmt.Sprintf("k%d", i/2), id: fmt.Sprintf("i%d", i)}) // pairs share a key
	}
	page := func(cursor string, limit int) onramp.Page[item] {
		t.Helper()
		p, err := onramp.PageOf(items, itemPos, onramp.PageRequest{Cursor: cursor, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := page("", 3)
	if got := ids(first); !slices.Equal(got, []string{"i0", "i1", "i2"}) || first.Prev != "" || first.Next == "" {
		t.Fatalf("first page = %v prev=%q next=%q", got, first.Prev, first.Next)
	}
	// An item inserted before the cursor does not shift the next page; one after it shows up.
	items = append(items, item{key: "k0", id: "i00"}, item{key: "k1", id: "i35"})
	second := page(first.Next, 3)
	if got := ids(second); !slices.Equal(got, []string{"i3", "i35", "i4"}) {
		t.Fatalf("second page = %v, want i3 i35 i4", got)
	}
	back := page(second.Prev, 3)
	if got := ids(back); !slices.Equal(got, []string{"i00", "i1", "i2"}) || back.Prev == "" {
		t.Fatalf("previous page = %v prev=%q, want the three before i3 with one more before them", got, back.Prev)
	}
	last := page(page(second.Next, 3).Prev, 100)
	if got := ids(last); len(got) != 7 {
		t.Errorf("everything before the third page = %v", got)
	}
	end := page(second.Next, 3)
	if got := ids(end); !slices.Equal(got, []string{"i5", "i6"}) || end.Next != "" {
		t.Errorf("last page = %v next=%q, want i5 i6 and no next", got, end.Next)
	}
}

func TestPageRequestLimitsBothSides(t *testing.T) {
	for limit, ok := range map[int]bool{-1: false, 0: true, 1: true, onramp.MaxPageLimit: true, onramp.MaxPageLimit + 1: false} {
		r := onramp.PageRequest{Limit: limit}
		err := r.Validate()
		if (err == nil) != ok || (err != nil && onramp.ErrorCode(err) != onramp.EINVALID) {
			t.Errorf("limit %d: %v, want ok=%v", limit, err, ok)
		}
		if limit == 0 && r.Limit != onramp.DefaultPageLimit {
			t.Errorf("limit 0 became %d, want the default %d", r.Limit, onramp.DefaultPageLimit)
		}
	}
	r := onramp.PageRequest{Cursor: "not-a-cursor!"}
	if err := r.Validate(); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a made-up cursor = %v, want EINVALID", err)
	}
}

func TestTimeKeysOrderAsTimes(t *testing.T) {
	times := []time.Time{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0), time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 27, 9, 0, 0, int(time.Millisecond), time.UTC)}
	for i := 1; i < len(times); i++ {
		if !(onramp.OldestFirst(times[i-1]) < onramp.OldestFirst(times[i])) || !(onramp.NewestFirst(times[i-1]) > onramp.NewestFirst(times[i])) {
			t.Errorf("%s and %s are out of order", times[i-1], times[i])
		}
	}
}

func TestSearchTermsAndMatches(t *testing.T) {
	o := onramp.Organization{ID: "org_1", Name: "Müller-Lüdenscheidt GmbH", ContactEmail: "Jane.Doe@Acme.Example", Status: onramp.OrgActive}
	if got, want := o.SearchKeys(), []string{"acme.example", "gmbh", "jane.doe@acme.example", "ludenscheidt", "muller", "org_1"}; !slices.Equal(got, want) {
		t.Fatalf("search keys = %v, want %v", got, want)
	}
	for search, want := range map[string]bool{"mül": true, "MULLER gmb": true, "lüden": true, "acme": true, "jane.doe@": true,
		"doe": false, "müller ag": false, "": true, "org_1": true} {
		if got := (onramp.OrgQuery{Search: search}).Matches(o); got != want {
			t.Errorf("%q matches = %v, want %v", search, got, want)
		}
	}
	if (onramp.OrgQuery{Search: "muller", Status: onramp.OrgInvited}).Matches(o) {
		t.Error("a search in another status matched")
	}
	q := onramp.OrgQuery{Search: "gm müller"}
	if q.ScanTerm() != "muller" || o.SearchPosition(q.ScanTerm()).Key != onramp.SearchKey("muller", o) {
		t.Errorf("scan term %q at %v", q.ScanTerm(), o.SearchPosition(q.ScanTerm()))
	}
}
