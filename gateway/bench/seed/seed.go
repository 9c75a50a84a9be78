// Package seed gives a store the volume a long-running Onramp holds, for benchmarks: published
// products, and the usage that gateway nodes would have recorded. It writes through the store
// interfaces and the gateway's own usage pipeline, so the documents are the real ones. (A
// future `onramp seed` command can reuse it.)
package seed

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/specs"
)

// Products publishes n products, seed-0000 to seed-<n-1>, each with one current version v1 of
// the OpenAPI document spec. It writes each version directly (one insert, as catalog.Publish's
// last step does) instead of through catalog.Publish, whose changelog reads every version of
// the product first. A product published already is skipped.
func Products(ctx context.Context, store onramp.CatalogStore, spec []byte, n int) error {
	parsed, err := specs.Parse(ctx, spec)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for i := range n {
		slug := fmt.Sprintf("seed-%04d", i)
		p := onramp.Product{Slug: slug, Name: fmt.Sprintf("Seeded product %d", i), Summary: "Seeded for a benchmark.", Tags: []string{"seed"}, UpdatedAt: now}
		if err := store.SaveProduct(ctx, p); err != nil {
			return err
		}
		v := onramp.ProductVersion{ID: onramp.VersionID(slug, "v1"), Product: slug, Version: "v1", Number: 1, Status: onramp.VersionCurrent,
			PublishedAt: now, Spec: string(parsed.JSON), SpecSHA256: parsed.SHA256(), Operations: specs.Operations(parsed.Doc, slug)}
		if err := store.PublishVersion(ctx, v); err != nil && onramp.ErrorCode(err) != onramp.ECONFLICT {
			return err
		}
	}
	return nil
}

// Calls records n calls of orgs organisations (seed-org-0000 …) on product, spread evenly over
// the span before now, as one gateway node that has since stopped would have: running totals,
// credential use and the recent-calls log, written through a gateway.Recorder with a clock that
// follows the calls, in the one flush of its Stop. About 5 % answer 4xx and 1 % 5xx.
func Calls(ctx context.Context, store onramp.GatewayUsageStore, product string, orgs, n int, span time.Duration, now time.Time) error {
	var clock atomic.Int64
	clock.Store(now.Add(-span).UnixNano())
	r := gateway.NewRecorder(gateway.RecorderConfig{Store: store, Node: "seed-" + gateway.NewNodeID(), Interval: 24 * time.Hour,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	defer r.Stop()
	step := span / time.Duration(max(n, 1))
	for i := range n {
		at := now.Add(-span + time.Duration(i)*step)
		clock.Store(at.UnixNano())
		org := fmt.Sprintf("seed-org-%04d", i%orgs)
		status := 200
		switch {
		case i%100 == 99:
			status = 502
		case i%20 == 19:
			status = 404
		}
		r.Record(onramp.UsageEvent{ID: fmt.Sprintf("seed-%08d", i), At: at, OrgID: org, CredentialID: org + "-key", Label: "Seeded key",
			Environment: onramp.Production, Product: product, Version: "v2", Operation: "listPayments", Method: "GET",
			Path: "/" + product + "/v2/payments", Status: status, LatencyMS: 4.2})
	}
	clock.Store(now.UnixNano())
	r.Stop() // one flush, with every page closed: inserted, never rewritten
	return r.Flush(ctx)
}
