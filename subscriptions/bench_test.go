package subscriptions_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/subscriptions"
)

// benchSpec is version n (1…) of a product of 25 paths × GET and POST = 50 operations; each
// version adds an optional parameter to a few more operations, and version 3 makes one required
// (a breaking change), so every changelog has something in it.
func benchSpec(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "openapi: 3.0.3\ninfo: {title: Bench, version: v%d}\npaths:\n", n)
	for p := range 25 {
		fmt.Fprintf(&b, "  /items%d:\n", p)
		for _, method := range []string{"get", "post"} {
			fmt.Fprintf(&b, "    %s:\n      operationId: %s%d\n      summary: %s item %d\n      parameters:\n", method, method, p, method, p)
			required := n >= 3 && p == 0 && method == "get"
			fmt.Fprintf(&b, "        - {name: limit, in: query, required: %v, schema: {type: integer}}\n", required)
			if p < 3*(n-1) {
				fmt.Fprintf(&b, "        - {name: filter%d, in: query, schema: {type: string}}\n", n)
			}
			b.WriteString("      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n" +
				"              schema: {type: object, properties: {id: {type: string}, amount: {type: integer}}}\n")
		}
	}
	return []byte(b.String())
}

// BenchmarkFeed measures generating (and rendering as Atom) the feed of a product with 5 versions
// of 50 operations: "first" on a portal that has read none of the documents yet, "changelogs
// cached" once the feed was served since the last publication (what every later poll costs).
func BenchmarkFeed(b *testing.B) {
	f := mustFixture(b)
	ctx := context.Background()
	if err := f.catalog.SaveProduct(ctx, onramp.Product{Slug: "bench", Name: "Bench"}); err != nil {
		b.Fatal(err)
	}
	for n := 1; n <= 5; n++ {
		f.now = f.now.Add(time.Hour)
		if _, err := f.catalog.Publish(ctx, catalog.Publish{Product: "bench", Version: fmt.Sprintf("v%d", n), Spec: benchSpec(n)}); err != nil {
			b.Fatal(err)
		}
	}
	org := f.mustOrg(b, "org_bench", "standard")
	if _, err := f.catalog.Assign(ctx, onramp.Assignment{OrgID: org.ID, Product: "bench", Plan: "standard", Grant: onramp.Grant{Scopes: []string{"bench:read", "bench:write"},
		Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 10, Period: "day"}}}); err != nil {
		b.Fatal(err)
	}
	tok := mustToken(b, f, f.mustMember(b, org, "ana", onramp.RoleDeveloper), org.ID).Token
	render := func(b *testing.B, svc *subscriptions.Service) {
		feed, err := svc.Feed(ctx, tok, org.ID, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if len(feed.Entries) != 5 || !feed.Entries[2].Breaking {
			b.Fatalf("feed of %d entries, v3 breaking=%v", len(feed.Entries), feed.Entries[2].Breaking)
		}
		if _, err := feed.Atom(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			cat, err := catalog.New(catalog.Config{Store: f.store, Assignments: f.store, Policy: policy, Announcements: &catalogtest.Announcements{},
				SandboxURL: "http://s", ProductionURL: "http://p"})
			if err != nil {
				b.Fatal(err)
			}
			svc, err := subscriptions.New(subscriptions.Config{Catalog: cat, Versions: f.store, Policy: policy, Organizations: f.team, Members: f.team,
				Team: f.team, Subscriptions: f.subs, Tokens: f.subs, PortalURL: portal})
			if err != nil {
				b.Fatal(err)
			}
			render(b, svc)
		}
	})
	b.Run("changelogs cached", func(b *testing.B) {
		render(b, f.svc)
		for b.Loop() {
			render(b, f.svc)
		}
	})
}
