package catalog_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/specs"
)

// cliChange is one change as `oasdiff changelog -f json` prints it.
type cliChange struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Level     int    `json:"level"` // 3 error, 2 warning, 1 info
	Operation string `json:"operation"`
	Path      string `json:"path"`
}

// cliLevels maps the CLI's levels to the catalog's.
var cliLevels = map[int]string{3: specs.Breaking, 2: specs.Warning, 1: specs.NonBreaking}

// changeKey is what both sides must agree on for a change.
func changeKey(id, level, operation, text string) string {
	return level + " " + id + " " + operation + " " + text
}

// MustGoldenChangelog reads a changelog the oasdiff CLI printed (testdata/changelog/README.md
// says how to regenerate it), as sorted change keys.
func MustGoldenChangelog(tb testing.TB, name string) []string {
	tb.Helper()
	b, err := os.ReadFile("testdata/changelog/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	var changes []cliChange
	if err := json.Unmarshal(b, &changes); err != nil {
		tb.Fatal(err)
	}
	out := make([]string, 0, len(changes))
	for _, c := range changes {
		op := ""
		if c.Operation != "" {
			op = c.Operation + " " + c.Path
		}
		out = append(out, changeKey(c.ID, cliLevels[c.Level], op, c.Text))
	}
	slices.Sort(out)
	return out
}

// Consecutive real versions of one public API publish in order, and the changelog the catalog
// computes (publishing them through parsing, normalisation and storage) is exactly what oasdiff's
// own CLI reports for the same two files.
func TestChangelogOfARealHistoryMatchesTheOasdiffCLI(t *testing.T) {
	for _, h := range []struct {
		product  string
		versions [2]string
		golden   string
		breaking bool
	}{
		// Ory Hydra's consecutive releases v2.2.0 and v2.3.0.
		{"hydra", [2]string{"v2.2.0", "v2.3.0"}, "hydra-v2.2.0-v2.3.0.json", false},
		// Ory Kratos: the module proxy serves only v1.0.0 and v1.3.1 (v1.1.0 to v1.3.0 answer 403).
		{"kratos", [2]string{"v1.0.0", "v1.3.1"}, "kratos-v1.0.0-v1.3.1.json", true},
	} {
		t.Run(h.product, func(t *testing.T) {
			c, store := MustDemoCatalog(t)
			if err := c.SaveProduct(t.Context(), onramp.Product{Slug: h.product, Name: h.product}); err != nil {
				t.Fatal(err)
			}
			var second catalog.Published
			for i, v := range h.versions {
				out, err := c.Publish(t.Context(), catalog.Publish{Product: h.product, Version: v, Spec: MustReadSpec(t, "ory/"+h.product+"-"+v+"-api.json")})
				if err != nil {
					t.Fatalf("publish %s: %v %+v", v, err, onramp.ErrorDetails(err))
				}
				if out.Version.Number != i+1 {
					t.Errorf("%s is number %d, want %d", v, out.Version.Number, i+1)
				}
				second = out
			}
			want := MustGoldenChangelog(t, h.golden)
			versions, err := store.ListVersions(t.Context(), h.product)
			if err != nil {
				t.Fatal(err)
			}
			stored, previous, err := c.Changelog(t.Context(), versions, h.versions[1])
			if err != nil || previous != h.versions[0] {
				t.Fatalf("Changelog = previous %q, %v", previous, err)
			}
			for name, changes := range map[string][]specs.Change{"at publication": second.Changes, "of the stored versions": stored} {
				got := make([]string, 0, len(changes))
				for _, ch := range changes {
					got = append(got, changeKey(ch.ID, ch.Level, ch.Operation, ch.Text))
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("changelog %s differs from the oasdiff CLI's (%d vs %d changes):\n%s", name, len(got), len(want), diffLines(got, want))
				}
				if specs.HasBreaking(changes) != h.breaking || len(changes) == 0 {
					t.Errorf("changelog %s: %d changes, breaking %v; want changes, breaking %v", name, len(changes), specs.HasBreaking(changes), h.breaking)
				}
			}
		})
	}
}

// diffLines lists what only one side has, at most 20 lines of each.
func diffLines(got, want []string) string {
	var out []string
	for _, g := range got {
		if !slices.Contains(want, g) && len(out) < 20 {
			out = append(out, "+ "+g)
		}
	}
	n := len(out)
	for _, w := range want {
		if !slices.Contains(got, w) && len(out) < n+20 {
			out = append(out, "- "+w)
		}
	}
	return strings.Join(out, "\n")
}
