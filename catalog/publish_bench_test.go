package catalog_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/policies"
)

var (
	componentRefs = regexp.MustCompile(`"#/components/([A-Za-z]+)/([^"/]+)`)
	operationIDs  = regexp.MustCompile(`"operationId":"([^"]+)"`)
)

// MustLargeDocument returns a JSON OpenAPI document of at least size bytes: copies of Ory
// Network's API (1 MB as JSON), each copy's paths under /copyN and its components suffixed CopyN,
// so every copy is a real, distinct part of the document.
func MustLargeDocument(tb testing.TB, size int) []byte {
	tb.Helper()
	c, _ := MustDemoCatalog(tb)
	if err := c.SaveProduct(tb.Context(), onramp.Product{Slug: "seed", Name: "seed"}); err != nil {
		tb.Fatal(err)
	}
	seed, err := c.Publish(tb.Context(), catalog.Publish{Product: "seed", Version: "v1", Spec: MustReadSpec(tb, "ory/client-go-v1.22.92-openapi.yaml"), DryRun: true})
	if err != nil {
		tb.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(seed.Version.Spec), &doc); err != nil {
		tb.Fatal(err)
	}
	original, originalComponents := doc["paths"], doc["components"].(map[string]any)
	paths, components := map[string]any{}, map[string]map[string]any{}
	for n := 1; ; n++ {
		suffix := "Copy" + strconv.Itoa(n)
		mustMergeCopy(tb, original, "/copy"+strconv.Itoa(n), suffix, paths)
		for kind, entries := range originalComponents {
			if components[kind] == nil {
				components[kind] = map[string]any{}
			}
			mustMergeCopy(tb, entries, "", suffix, components[kind])
		}
		doc["paths"], doc["components"] = paths, components
		out, err := json.Marshal(doc)
		if err != nil {
			tb.Fatal(err)
		}
		if len(out) >= size {
			return out
		}
	}
}

// mustMergeCopy adds a copy of section's entries to into, keys prefixed, references and
// operation ids suffixed.
func mustMergeCopy(tb testing.TB, section any, prefix, suffix string, into map[string]any) {
	tb.Helper()
	js, err := json.Marshal(section)
	if err != nil {
		tb.Fatal(err)
	}
	js = componentRefs.ReplaceAll(js, []byte(`"#/components/$1/${2}`+suffix))
	js = operationIDs.ReplaceAll(js, []byte(`"operationId":"$1`+suffix+`"`))
	var entries map[string]any
	if err := json.Unmarshal(js, &entries); err != nil {
		tb.Fatal(err)
	}
	for k, v := range entries {
		if prefix == "" {
			k += suffix
		}
		into[prefix+k] = v
	}
}

// BenchmarkPublish5MB publishes a 5 MB document (dry run: everything but the store's one write):
// as a product's first version; as a next version, whose changelog against the previous one is
// computed too, with the previous document cached (as after its publication) and not (as after a
// restart). The requirement is at most 5 s per publication.
func BenchmarkPublish5MB(b *testing.B) {
	doc := MustLargeDocument(b, 5<<20)
	b.Logf("document: %.2f MiB of JSON, %d bytes", float64(len(doc))/(1<<20), len(doc))
	c, store := MustDemoCatalog(b)
	for _, slug := range []string{"first", "next"} {
		if err := c.SaveProduct(b.Context(), onramp.Product{Slug: slug, Name: slug}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.Publish(b.Context(), catalog.Publish{Product: "next", Version: "v1", Spec: doc}); err != nil {
		b.Fatal(err, onramp.ErrorDetails(err))
	}
	engine, err := policies.New(b.Context(), policies.Embedded())
	if err != nil {
		b.Fatal(err)
	}
	restarted := func() *catalog.Catalog {
		fresh, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://s", ProductionURL: "http://p"})
		if err != nil {
			b.Fatal(err)
		}
		return fresh
	}
	for _, bc := range []struct {
		name, product string
		catalog       func() *catalog.Catalog
	}{
		{"first version", "first", func() *catalog.Catalog { return c }},
		{"next version", "next", func() *catalog.Catalog { return c }},
		{"next version after a restart", "next", restarted},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				b.StopTimer()
				cat := bc.catalog()
				b.StartTimer()
				out, err := cat.Publish(b.Context(), catalog.Publish{Product: bc.product, Version: "v2", Spec: doc, DryRun: true})
				if err != nil || len(out.Version.Operations) == 0 || bc.product == "next" && out.Previous != "v1" {
					b.Fatalf("publish: %+v, %v", out.Previous, err)
				}
			}
		})
	}
}
