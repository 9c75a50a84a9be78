package mongo

import (
	"context"

	"github.com/onramp-dev/onramp"
)

// What the list tests drive directly.

// PutListItems puts entries (positions, no payload) into a list.
func PutListItems(ctx context.Context, d *DB, list string, ps ...onramp.Position) error {
	var after []listItem
	for _, p := range ps {
		after = append(after, item(list, p, nil))
	}
	return d.syncLists(ctx, nil, after)
}

// DeleteListItems removes entries from a list.
func DeleteListItems(ctx context.Context, d *DB, list string, ps ...onramp.Position) error {
	var before []listItem
	for _, p := range ps {
		before = append(before, item(list, p, nil))
	}
	return d.syncLists(ctx, before, nil)
}

// CreateListItems writes lists in bulk (createLists).
func CreateListItems(ctx context.Context, d *DB, list string, ps ...onramp.Position) error {
	var items []listItem
	for _, p := range ps {
		items = append(items, item(list, p, nil))
	}
	return d.createLists(ctx, items)
}

// ListPage reads a page of merged lists.
func ListPage(ctx context.Context, d *DB, lists []string, r onramp.PageRequest) (onramp.Page[onramp.Position], error) {
	if err := r.Validate(); err != nil {
		return onramp.Page[onramp.Position]{}, err
	}
	es, next, prev, err := d.page(ctx, pageQuery{lists: lists, req: r})
	out := onramp.Page[onramp.Position]{Items: []onramp.Position{}, Next: next, Prev: prev}
	for _, e := range es {
		out.Items = append(out.Items, e.pos)
	}
	return out, err
}

// ListPositions reads a whole list.
func ListPositions(ctx context.Context, d *DB, list string) ([]onramp.Position, error) {
	return positionsOf(ctx, d, list)
}

// ChunkMax is how many entries a chunk holds.
const ChunkMax = chunkMax

// UsageCollection is the bucket collection of base that holds org's documents.
func (s *Usage) UsageCollection(base, org string) string {
	return s.rewritten(context.Background(), base, org)
}
