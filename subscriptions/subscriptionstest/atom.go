package subscriptionstest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"
)

const atomNS = "http://www.w3.org/2005/Atom"

// node is one element of a parsed document.
type node struct {
	name     xml.Name
	attrs    map[string]string
	text     strings.Builder
	children []*node
}

func (n *node) all(local string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name.Space == atomNS && c.name.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// parse reads a whole XML document into elements, failing on anything that is not well-formed
// (encoding/xml's strict mode: unclosed or mismatched tags, bad entities, two roots, junk after).
func parse(doc []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name, attrs: map[string]string{}}
			for _, a := range t.Attr {
				if a.Name.Space == "" {
					n.attrs[a.Name.Local] = a.Value
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if strings.TrimSpace(string(t)) != "" {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// AtomEntry is what CheckAtom read of one entry.
type AtomEntry struct {
	ID, Title, Updated, Published, Link, Summary, Content string
	Categories                                            []string
}

// AtomFeed is what CheckAtom read of a feed.
type AtomFeed struct {
	ID, Title, Updated string
	Entries            []AtomEntry
}

// Elements RFC 4287 allows as children of atom:feed and atom:entry (§4.1.1, §4.1.2).
var (
	feedChildren  = map[string]bool{"author": true, "category": true, "contributor": true, "generator": true, "icon": true, "id": true, "link": true, "logo": true, "rights": true, "subtitle": true, "title": true, "updated": true, "entry": true}
	entryChildren = map[string]bool{"author": true, "category": true, "content": true, "contributor": true, "id": true, "link": true, "published": true, "rights": true, "source": true, "summary": true, "title": true, "updated": true}
	single        = map[string]bool{"id": true, "title": true, "updated": true, "published": true, "summary": true, "content": true, "rights": true, "subtitle": true, "generator": true, "icon": true, "logo": true, "source": true}
)

// CheckAtom fails tb unless ValidateAtom accepts doc, and returns what it read.
func CheckAtom(tb testing.TB, doc []byte) AtomFeed {
	tb.Helper()
	f, err := ValidateAtom(doc)
	if err != nil {
		tb.Fatalf("%v\n%s", err, doc)
	}
	return f
}

// ValidateAtom returns an error unless doc is a well-formed Atom 1.0 feed document that meets
// RFC 4287's structure: an atom:feed root with exactly one id (an absolute IRI), title and updated
// (RFC 3339), an author (or one in every entry), only the elements the RFC defines in the Atom
// namespace, and per entry exactly one id, title and updated, an alternate link or content, text
// constructs of type text or html, links with href and categories with term; entry ids unique.
func ValidateAtom(doc []byte) (AtomFeed, error) {
	root, err := parse(doc)
	if err != nil {
		return AtomFeed{}, fmt.Errorf("the feed is not well-formed XML: %w", err)
	}
	if root.name.Space != atomNS || root.name.Local != "feed" {
		return AtomFeed{}, fmt.Errorf("root element %s %s, want atom:feed (%s)", root.name.Space, root.name.Local, atomNS)
	}
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkContainer(root, feedChildren, "feed", fail)
	out := AtomFeed{ID: text(root, "id"), Title: text(root, "title"), Updated: text(root, "updated")}
	authors := len(root.all("author")) > 0
	seen := map[string]bool{}
	for i, e := range root.all("entry") {
		where := fmt.Sprintf("entry %d", i+1)
		checkContainer(e, entryChildren, where, fail)
		ae := AtomEntry{ID: text(e, "id"), Title: text(e, "title"), Updated: text(e, "updated"), Published: text(e, "published"),
			Summary: text(e, "summary"), Content: text(e, "content")}
		for _, l := range e.all("link") {
			if rel := l.attrs["rel"]; rel == "" || rel == "alternate" {
				ae.Link = l.attrs["href"]
			}
		}
		for _, c := range e.all("category") {
			ae.Categories = append(ae.Categories, c.attrs["term"])
		}
		if ae.Link == "" && len(e.all("content")) == 0 {
			fail("%s has neither an alternate link nor content", where)
		}
		if len(e.all("author")) == 0 && !authors {
			fail("%s has no author and neither has the feed", where)
		}
		if seen[ae.ID] {
			fail("%s repeats the id %s", where, ae.ID)
		}
		seen[ae.ID] = true
		out.Entries = append(out.Entries, ae)
	}
	if len(problems) > 0 {
		return out, fmt.Errorf("the feed breaks RFC 4287:\n  %s", strings.Join(problems, "\n  "))
	}
	return out, nil
}

func text(n *node, local string) string {
	if c := n.all(local); len(c) > 0 {
		return strings.TrimSpace(c[0].text.String())
	}
	return ""
}

// checkContainer checks the children of a feed or an entry.
func checkContainer(n *node, allowed map[string]bool, where string, fail func(string, ...any)) {
	count := map[string]int{}
	for _, c := range n.children {
		if c.name.Space != atomNS {
			continue // extension elements are allowed
		}
		if !allowed[c.name.Local] {
			fail("%s: atom:%s is not an element of atom:%s", where, c.name.Local, n.name.Local)
		}
		count[c.name.Local]++
	}
	for name := range single {
		if count[name] > 1 {
			fail("%s has %d atom:%s, at most one allowed", where, count[name], name)
		}
	}
	for _, name := range []string{"id", "title", "updated"} {
		if count[name] != 1 {
			fail("%s has %d atom:%s, exactly one required", where, count[name], name)
		}
	}
	if u, err := url.Parse(text(n, "id")); err != nil || u.Scheme == "" {
		fail("%s: id %q is not an absolute IRI", where, text(n, "id"))
	}
	for _, name := range []string{"updated", "published"} {
		if v := text(n, name); v != "" {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				fail("%s: %s %q is not an RFC 3339 date-time", where, name, v)
			}
		}
	}
	for _, name := range []string{"title", "subtitle", "summary", "rights", "content"} {
		for _, c := range n.all(name) {
			if t := c.attrs["type"]; t != "" && t != "text" && t != "html" && t != "xhtml" && name != "content" {
				fail("%s: %s type %q is not text, html or xhtml", where, name, t)
			}
			if t := c.attrs["type"]; name == "content" && t == "xhtml" {
				fail("%s: xhtml content needs an xhtml:div; this checker expects text or html", where)
			}
		}
	}
	for _, l := range n.all("link") {
		if l.attrs["href"] == "" {
			fail("%s: a link without href", where)
		}
	}
	for _, c := range n.all("category") {
		if c.attrs["term"] == "" {
			fail("%s: a category without term", where)
		}
	}
	for _, a := range n.all("author") {
		if text(a, "name") == "" {
			fail("%s: an author without a name", where)
		}
	}
}
