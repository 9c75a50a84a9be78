package subscriptions

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/specs"
)

// Feed is a feed of published versions, newest first: rendered as Atom by Atom.
type Feed struct {
	ID      string // a tag URI, stable for the organisation and product
	Title   string
	Link    string // the portal page the feed follows
	Updated time.Time
	Author  string
	Entries []Entry
}

// Entry is one published version and its changelog against the version before it.
type Entry struct {
	ID           string // a tag URI of the version, the same in every feed that carries it
	Title        string
	Link         string // the version's changelog in the portal
	Published    time.Time
	Product      string
	ProductName  string
	Version      string
	Previous     string // "" for a product's first version
	Status       string
	Sunset       *time.Time
	ReleaseNotes string // Markdown
	Breaking     bool
	Changes      []specs.Change // breaking first
}

// CatalogFeedLimit is how many of the newest versions the feed of every product carries.
const CatalogFeedLimit = 100

// Feed returns the feed of product ("": of every product) of orgID as the holder of token sees
// it: exactly the products, versions and changelogs the catalog shows the organisation.
// EUNAUTHORIZED for a token that is malformed, unknown, rotated, revoked or not orgID's (one
// answer for all); EFORBIDDEN when policy no longer lets its holder read feeds; ENOTFOUND for a
// product the organisation does not see, the catalog's own answer for a product that does not exist.
func (s *Service) Feed(ctx context.Context, token, orgID, product string) (Feed, error) {
	org, err := s.reader(ctx, token, orgID)
	if err != nil {
		return Feed{}, err
	}
	if product == "" {
		return s.catalogFeed(ctx, org)
	}
	view, err := s.cfg.Catalog.Product(ctx, org, product, "")
	if err != nil {
		return Feed{}, err
	}
	entries, err := s.entries(ctx, org.ID, view.Product, view.Versions)
	if err != nil {
		return Feed{}, err
	}
	f := Feed{ID: s.tag("orgs/" + org.ID + "/products/" + view.Product.Slug), Title: view.Product.Name + " — versions and changes",
		Link: s.cfg.PortalURL + "/catalog/" + url.PathEscape(view.Product.Slug) + "?org=" + url.QueryEscape(org.ID), Entries: entries}
	return s.finish(f), nil
}

func (s *Service) catalogFeed(ctx context.Context, org onramp.Organization) (Feed, error) {
	list, err := s.cfg.Catalog.List(ctx, org, "", "")
	if err != nil {
		return Feed{}, err
	}
	var all []Entry
	for _, e := range list {
		entries, err := s.entries(ctx, org.ID, e.Product, e.Versions)
		if err != nil {
			return Feed{}, err
		}
		all = append(all, entries...)
	}
	slices.SortStableFunc(all, func(a, b Entry) int { return b.Published.Compare(a.Published) })
	if len(all) > CatalogFeedLimit {
		all = all[:CatalogFeedLimit]
	}
	f := Feed{ID: s.tag("orgs/" + org.ID + "/catalog"), Title: "API catalog of " + org.Name + " — versions and changes",
		Link: s.cfg.PortalURL + "/catalog?org=" + url.QueryEscape(org.ID), Entries: all}
	return s.finish(f), nil
}

// finish sets what every feed has: its author and its last update (the newest entry's).
func (s *Service) finish(f Feed) Feed {
	f.Author = "API provider at " + s.host
	for _, e := range f.Entries {
		if e.Published.After(f.Updated) {
			f.Updated = e.Published
		}
	}
	if f.Updated.IsZero() {
		f.Updated = s.cfg.Now()
	}
	return f
}

// entries are the product's versions (in publication order), newest first, each with its changelog.
func (s *Service) entries(ctx context.Context, orgID string, p onramp.Product, versions []onramp.ProductVersion) ([]Entry, error) {
	out := make([]Entry, 0, len(versions))
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		changes, prev, err := s.changelog(ctx, versions, i)
		if err != nil {
			return nil, err
		}
		e := Entry{ID: s.tag("products/" + p.Slug + "/versions/" + v.Version), Published: v.PublishedAt.UTC(), Product: p.Slug, ProductName: p.Name,
			Version: v.Version, Previous: prev, Status: v.Status, Sunset: v.Sunset, ReleaseNotes: v.ReleaseNotes, Breaking: specs.HasBreaking(changes), Changes: changes,
			Link: s.cfg.PortalURL + "/catalog/" + url.PathEscape(p.Slug) + "?org=" + url.QueryEscape(orgID) + "&version=" + url.QueryEscape(v.Version) + "#changelog"}
		e.Title = p.Name + " " + v.Version + ": " + summary(e)
		out = append(out, e)
	}
	return out, nil
}

// changelog is the catalog's changelog of versions[i] against the one before it, computed once
// per pair (published versions never change, and the one before a version stays the same).
func (s *Service) changelog(ctx context.Context, versions []onramp.ProductVersion, i int) ([]specs.Change, string, error) {
	if i == 0 {
		return []specs.Change{}, "", nil
	}
	key := versions[i-1].ID + ">" + versions[i].ID
	if c, ok := s.changelogs.Load(key); ok {
		return c.([]specs.Change), versions[i-1].Version, nil
	}
	changes, prev, err := s.cfg.Catalog.Changelog(ctx, versions, versions[i].Version)
	if err != nil {
		return nil, "", err
	}
	s.changelogs.Store(key, changes)
	return changes, prev, nil
}

// summary says in a few words what a version changes: "2 breaking changes, 3 other changes since v1".
func summary(e Entry) string {
	if e.Previous == "" {
		return "first version"
	}
	breaking := 0
	for _, c := range e.Changes {
		if c.Level == specs.Breaking {
			breaking++
		}
	}
	var parts []string
	if breaking > 0 {
		parts = append(parts, plural(breaking, "breaking change"))
	}
	if other := len(e.Changes) - breaking; other > 0 || breaking == 0 {
		word := "change"
		if breaking > 0 {
			word = "other change"
		}
		parts = append(parts, plural(other, word))
	}
	return strings.Join(parts, ", ") + " since " + e.Previous
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if n == 0 {
		return "no " + what + "s"
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// tag is a tag URI (RFC 4151) under the portal's host: ids that never change, so feed readers
// never show an entry twice.
func (s *Service) tag(specific string) string {
	return "tag:" + s.host + ",2026:onramp/" + specific
}
