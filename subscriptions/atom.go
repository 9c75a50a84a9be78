package subscriptions

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/yuin/goldmark"

	"github.com/onramp-dev/onramp/specs"
)

// AtomContentType is the media type of Atom feeds (RFC 4287).
const AtomContentType = "application/atom+xml; charset=utf-8"

// AtomNamespace is the namespace of every Atom element.
const AtomNamespace = "http://www.w3.org/2005/Atom"

// EntryChangeLimit is how many changes an entry lists before it points to the portal for the rest.
const EntryChangeLimit = 100

type atomFeed struct {
	XMLName   xml.Name      `xml:"http://www.w3.org/2005/Atom feed"`
	ID        string        `xml:"id"`
	Title     atomText      `xml:"title"`
	Updated   string        `xml:"updated"`
	Author    atomPerson    `xml:"author"`
	Links     []atomLink    `xml:"link"`
	Generator atomGenerator `xml:"generator"`
	Entries   []atomEntry   `xml:"entry"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomGenerator struct {
	Body string `xml:",chardata"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Links      []atomLink     `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Summary    atomText       `xml:"summary"`
	Content    atomText       `xml:"content"`
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Atom renders the feed as an Atom 1.0 document (RFC 4287): the feed's id, title, updated, author
// and alternate link, and per entry its id, title, updated (the version's publication), an
// alternate link to its changelog, categories (product, status, "breaking"), a text summary and
// the changelog as HTML content.
func (f Feed) Atom() ([]byte, error) {
	out := atomFeed{ID: f.ID, Title: atomText{Type: "text", Body: f.Title}, Updated: stamp(f.Updated), Author: atomPerson{Name: f.Author},
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: f.Link}}, Generator: atomGenerator{Body: "Onramp"}}
	for _, e := range f.Entries {
		ae := atomEntry{ID: e.ID, Title: atomText{Type: "text", Body: e.Title}, Updated: stamp(e.Published), Published: stamp(e.Published),
			Links:      []atomLink{{Rel: "alternate", Type: "text/html", Href: e.Link}},
			Categories: []atomCategory{{Term: e.Product, Label: e.ProductName}, {Term: e.Status}},
			Summary:    atomText{Type: "text", Body: summary(e) + "."},
			Content:    atomText{Type: "html", Body: entryHTML(e)}}
		if e.Breaking {
			ae.Categories = append(ae.Categories, atomCategory{Term: specs.Breaking, Label: "breaking changes"})
		}
		out.Entries = append(out.Entries, ae)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode atom feed: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// entryHTML is an entry's changelog as HTML (escaped into the feed's XML by the encoder): the
// changes grouped breaking first, then the release notes (Markdown; raw HTML in them is dropped).
func entryHTML(e Entry) string {
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, "<p>%s %s (%s): %s.", esc(e.ProductName), esc(e.Version), esc(e.Status), esc(summary(e)))
	if e.Sunset != nil {
		fmt.Fprintf(&b, " Sunset: %s.", e.Sunset.UTC().Format(time.DateOnly))
	}
	b.WriteString("</p>\n")
	shown := 0
	for _, g := range groups(e.Changes) {
		if shown == EntryChangeLimit {
			break
		}
		fmt.Fprintf(&b, "<h3>%s (%d)</h3>\n", esc(g.title(e.Previous)), len(g.changes))
		b.WriteString("<ul>\n")
		for _, c := range g.changes {
			if shown == EntryChangeLimit {
				break
			}
			shown++
			b.WriteString("<li>")
			if c.Operation != "" {
				fmt.Fprintf(&b, "<code>%s</code> ", esc(c.Operation))
			}
			b.WriteString(esc(c.Text) + "</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	if rest := len(e.Changes) - shown; rest > 0 {
		fmt.Fprintf(&b, "<p>… and %d more: <a href=\"%s\">the full changelog</a>.</p>\n", rest, esc(e.Link))
	}
	if strings.TrimSpace(e.ReleaseNotes) != "" {
		b.WriteString("<h3>Release notes</h3>\n")
		var notes bytes.Buffer
		if err := goldmark.Convert([]byte(e.ReleaseNotes), &notes); err != nil {
			notes.Reset()
			notes.WriteString("<p>" + esc(e.ReleaseNotes) + "</p>")
		}
		b.Write(notes.Bytes())
	}
	return b.String()
}

// group is the changes of one level.
type group struct {
	level   string
	changes []specs.Change
}

func (g group) title(previous string) string {
	switch g.level {
	case specs.Breaking:
		return "Breaking changes: code written for " + previous + " may fail"
	case specs.Warning:
		return "Changes to check"
	}
	return "Other changes"
}

// groups splits changes by level, breaking first, leaving out empty levels.
func groups(changes []specs.Change) []group {
	var out []group
	for _, level := range []string{specs.Breaking, specs.Warning, specs.NonBreaking} {
		g := group{level: level}
		for _, c := range changes {
			if c.Level == level || (level == specs.NonBreaking && c.Level != specs.Breaking && c.Level != specs.Warning) {
				g.changes = append(g.changes, c)
			}
		}
		if len(g.changes) > 0 {
			out = append(out, g)
		}
	}
	return out
}
