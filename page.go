package onramp

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Page bounds: every list the portal shows is read a page at a time.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// Position is where an item sits in its list: lists are ordered by Key, then by ID, and a
// cursor names a position rather than an offset, so items added before it never shift a page.
// Neither holds a NUL byte (keys are built by the domain's key functions).
type Position struct {
	Key, ID string
}

// Compare orders positions by key, then id.
func (p Position) Compare(q Position) int {
	if c := strings.Compare(p.Key, q.Key); c != 0 {
		return c
	}
	return strings.Compare(p.ID, q.ID)
}

// String is the position as one string ordered like Compare orders positions.
func (p Position) String() string { return p.Key + "\x00" + p.ID }

// ParsePosition reads what String wrote.
func ParsePosition(s string) (Position, bool) {
	k, id, ok := strings.Cut(s, "\x00")
	return Position{Key: k, ID: id}, ok
}

// Cursor is a position in a list and which way to read from it: the items after it (the next
// page) or the items just before it (the previous page).
type Cursor struct {
	Position
	Before bool
}

// Encode is the cursor as the opaque string the API hands out.
func (c Cursor) Encode() string {
	dir := "a"
	if c.Before {
		dir = "b"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(dir + c.Position.String()))
}

// ParseCursor reads a cursor a page gave out; EINVALID for anything else.
func ParseCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(raw) > 0 && (raw[0] == 'a' || raw[0] == 'b') {
		if p, ok := ParsePosition(string(raw[1:])); ok {
			return Cursor{Position: p, Before: raw[0] == 'b'}, nil
		}
	}
	return Cursor{}, Errorf(EINVALID, "cursor %q is not one this list gave out; start again from the first page (no cursor)", s)
}

// PageRequest asks for one page of a list: at most Limit items next to the position Cursor names
// ("" for the first page).
type PageRequest struct {
	Cursor string
	Limit  int
}

// Validate fills in the default limit and returns EINVALID for a limit outside 1 to
// MaxPageLimit or a cursor no page gave out.
func (r *PageRequest) Validate() error {
	if r.Limit == 0 {
		r.Limit = DefaultPageLimit
	}
	if r.Limit < 1 || r.Limit > MaxPageLimit {
		return Errorf(EINVALID, "limit %d must be from 1 to %d", r.Limit, MaxPageLimit)
	}
	if r.Cursor != "" {
		if _, err := ParseCursor(r.Cursor); err != nil {
			return err
		}
	}
	return nil
}

// Start returns the request's cursor; ok is false for the first page.
func (r PageRequest) Start() (c Cursor, ok bool, err error) {
	if r.Cursor == "" {
		return Cursor{}, false, nil
	}
	c, err = ParseCursor(r.Cursor)
	return c, err == nil, err
}

// Page is one page of a list with the cursors of the pages around it ("" when there is none).
type Page[T any] struct {
	Items []T
	Next  string
	Prev  string
}

// PageOf is the reference pagination: items in order of pos, the page r asks for, and its
// neighbours' cursors. The fakes page with it; the stores' contracts hold them to it.
func PageOf[T any](items []T, pos func(T) Position, r PageRequest) (Page[T], error) {
	if err := r.Validate(); err != nil {
		return Page[T]{}, err
	}
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b T) int { return pos(a).Compare(pos(b)) })
	c, ok, err := r.Start()
	if err != nil {
		return Page[T]{}, err
	}
	start, end := 0, min(r.Limit, len(sorted))
	if ok {
		at, _ := slices.BinarySearchFunc(sorted, c.Position, func(v T, p Position) int { return pos(v).Compare(p) })
		if c.Before {
			start, end = max(0, at-r.Limit), at
		} else {
			if at < len(sorted) && pos(sorted[at]).Compare(c.Position) == 0 {
				at++
			}
			start, end = at, min(at+r.Limit, len(sorted))
		}
	}
	out := Page[T]{Items: slices.Clone(sorted[start:end])}
	if out.Items == nil {
		out.Items = []T{}
	}
	if end < len(sorted) && end > start {
		out.Next = Cursor{Position: pos(sorted[end-1])}.Encode()
	}
	if start > 0 {
		first := c.Position
		if end > start {
			first = pos(sorted[start])
		}
		out.Prev = Cursor{Position: first, Before: true}.Encode()
	}
	return out, nil
}

// MapPage converts a page's items, keeping its cursors.
func MapPage[T, U any](p Page[T], f func(T) U) Page[U] {
	out := Page[U]{Items: make([]U, len(p.Items)), Next: p.Next, Prev: p.Prev}
	for i, v := range p.Items {
		out.Items[i] = f(v)
	}
	return out
}

// Sort keys of times, at the millisecond the stores keep: OldestFirst orders earlier times first,
// NewestFirst later ones first. Both are fixed-width hex, so strings compare as times do.
func OldestFirst(t time.Time) string {
	return fmt.Sprintf("%016x", uint64(t.UnixMilli())^(1<<63))
}

// NewestFirst is the key that lists later times first.
func NewestFirst(t time.Time) string {
	return fmt.Sprintf("%016x", math.MaxUint64-(uint64(t.UnixMilli())^(1<<63)))
}

// keyText is a free text (a name) as a sort key: without NUL bytes, which separate key and id.
func keyText(s string) string { return strings.ReplaceAll(s, "\x00", "") }
