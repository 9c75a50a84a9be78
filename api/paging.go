package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

// Every list in the API and the UI is read a page at a time: `limit` (1 to 200, 50 unless given)
// and an opaque `cursor` from a previous page's next_cursor or prev_cursor. A cursor names a
// position in the list, so items added meanwhile never shift the page it opens.

// pageRequest reads a list's page from the query string: its cursor from param and the limit.
// EINVALID for a limit that is not a number (its range is the services' to check).
func pageRequest(c *gin.Context, param string) (onramp.PageRequest, error) {
	r := onramp.PageRequest{Cursor: c.Query(param)}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return r, onramp.Errorf(onramp.EINVALID, "limit %q must be a number from 1 to %d", v, onramp.MaxPageLimit)
		}
		r.Limit = n
	}
	return r, nil
}

// pageBody is a page as JSON: its items under name, and the neighbours' cursors when there are any.
func pageBody[T any](name string, p onramp.Page[T]) gin.H {
	items := p.Items
	if items == nil {
		items = []T{}
	}
	body := gin.H{name: items}
	if p.Next != "" {
		body["next_cursor"] = p.Next
	}
	if p.Prev != "" {
		body["prev_cursor"] = p.Prev
	}
	return body
}

// pager is a list's page links in the UI: the current address with the list's cursor parameter
// set to the previous and next pages' ("" when there is none), ending at the list's anchor.
type pager struct {
	Prev, Next string
	// Words of the links; "Previous" and "Next" unless set.
	PrevText, NextText string
}

func pagerOf[T any](c *gin.Context, param, anchor string, p onramp.Page[T]) pager {
	link := func(cursor string) string {
		if cursor == "" {
			return ""
		}
		return pageLink(c, param, cursor, anchor)
	}
	return pager{Prev: link(p.Prev), Next: link(p.Next), PrevText: "Previous", NextText: "Next"}
}

// listParams are the query parameters a page link carries on besides the lists' cursors: the
// organisation and the lists' filters. Nothing else of the address reaches a link, so a crafted
// ?notice= or ?error= puts no text on the page.
var listParams = []string{"org", "q", "status", "environment", "credential", "operation", "from", "to", "limit", "version", "tag"}

// pageLink is the current page with the list's cursor parameter set to cursor ("": removed),
// ending at the list's anchor.
func pageLink(c *gin.Context, param, cursor, anchor string) string {
	q := url.Values{}
	for name, vs := range c.Request.URL.Query() {
		if strings.HasSuffix(name, "cursor") || slices.Contains(listParams, name) {
			q[name] = vs
		}
	}
	if cursor == "" {
		q.Del(param)
	} else {
		q.Set(param, cursor)
	}
	return (&url.URL{Path: c.Request.URL.Path, RawQuery: q.Encode()}).RequestURI() + "#" + anchor
}

// listView is a page of a list with its pager, as a template shows it.
type listView[T any] struct {
	Items []T
	Pager pager
}

func listOf[T any](c *gin.Context, param, anchor string, p onramp.Page[T]) listView[T] {
	return listView[T]{Items: p.Items, Pager: pagerOf(c, param, anchor, p)}
}
