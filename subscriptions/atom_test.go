package subscriptions_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
)

// The feeds are Atom documents by RFC 4287's structure, their entries carry the changelog
// breaking first, and raw HTML in a release note is dropped.
func TestFeedsAreValidAtom(t *testing.T) {
	f := mustFixture(t)
	org := f.mustOrg(t, "org_1", "standard")
	tok := mustToken(t, f, f.mustMember(t, org, "ana", onramp.RoleDeveloper), org.ID).Token
	f.now = f.now.Add(time.Hour)
	v3 := paymentsV3(t, true)
	if _, err := f.catalog.Publish(t.Context(), catalog.Publish{Product: "payments", Version: "v3", Spec: v3,
		ReleaseNotes: "Limit is **required**. <script>alert(1)</script> & more"}); err != nil {
		t.Fatal(err)
	}
	for _, product := range []string{"payments", ""} {
		feed, err := f.svc.Feed(context.Background(), tok, org.ID, product)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := feed.Atom()
		if err != nil {
			t.Fatal(err)
		}
		got := subscriptionstest.CheckAtom(t, doc)
		if got.ID != feed.ID || len(got.Entries) != len(feed.Entries) || got.Updated != feed.Updated.UTC().Format("2006-01-02T15:04:05Z") {
			t.Fatalf("%q: read back %+v", product, got)
		}
		newest := got.Entries[0]
		if newest.ID != "tag:portal.example,2026:onramp/products/payments/versions/v3" || newest.Title != "Payments v3: 1 breaking change since v2" ||
			!slices.Contains(newest.Categories, "breaking") || newest.Link != portal+"/catalog/payments?org=org_1&version=v3#changelog" {
			t.Errorf("%q: newest entry %+v", product, newest)
		}
		// Markdown renders as the portal renders it: raw HTML is dropped, not passed on to readers.
		if strings.Contains(string(doc), "<script") || strings.Contains(newest.Content, "<script") || !strings.Contains(newest.Content, "<strong>required</strong>") {
			t.Errorf("%q: the release notes' markup is passed on (or the Markdown not rendered): %s", product, newest.Content)
		}
		v2 := got.Entries[slices.IndexFunc(got.Entries, func(e subscriptionstest.AtomEntry) bool { return strings.HasSuffix(e.ID, "/payments/versions/v2") })]
		breaking, other := strings.Index(v2.Content, "Breaking changes"), strings.Index(v2.Content, "Other changes")
		if breaking < 0 || other < 0 || breaking > other || !strings.Contains(v2.Content, "Idempotency-Key") {
			t.Errorf("%q: v2's changes are not listed breaking first: %s", product, v2.Content)
		}
	}
}

// The checker the tests rely on refuses what RFC 4287 refuses.
func TestValidateAtomRefusesBrokenFeeds(t *testing.T) {
	entry := `<entry><id>tag:x,2026:e1</id><title>t</title><updated>2026-12-01T09:00:00Z</updated><link href="http://x/e1"/></entry>`
	feed := func(body string) string {
		return `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>tag:x,2026:f</id><title>f</title><updated>2026-12-01T09:00:00Z</updated><author><name>a</name></author>` + body + `</feed>`
	}
	if _, err := subscriptionstest.ValidateAtom([]byte(feed(entry))); err != nil {
		t.Fatalf("a minimal valid feed: %v", err)
	}
	for name, doc := range map[string]string{
		"not well-formed":       feed(entry)[:len(feed(entry))-3],
		"no namespace":          strings.Replace(feed(entry), ` xmlns="http://www.w3.org/2005/Atom"`, "", 1),
		"feed without id":       strings.Replace(feed(entry), `<id>tag:x,2026:f</id>`, "", 1),
		"entry without updated": feed(strings.Replace(entry, `<updated>2026-12-01T09:00:00Z</updated>`, "", 1)),
		"entry with two titles": feed(strings.Replace(entry, `<title>t</title>`, `<title>t</title><title>u</title>`, 1)),
		"duplicate entry ids":   feed(entry + entry),
		"relative id":           feed(strings.Replace(entry, `tag:x,2026:e1`, `e1`, 1)),
		"bad date":              feed(strings.Replace(entry, `2026-12-01T09:00:00Z`, `1 Dec 2026`, 1)),
		"no author":             strings.Replace(feed(entry), `<author><name>a</name></author>`, "", 1),
		"unknown element":       feed(strings.Replace(entry, `<title>t</title>`, `<title>t</title><description>d</description>`, 1)),
		"no link, no content":   feed(strings.Replace(entry, `<link href="http://x/e1"/>`, "", 1)),
	} {
		if _, err := subscriptionstest.ValidateAtom([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
