package specs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Generate returns a value valid against the schema where it can: its example (or 3.1 const or
// examples) when the value fits the schema, then a fitting enum value or default, then data shaped
// by type, format and bounds, deterministic for a seed. A value the document gets wrong is never
// returned. It never panics.
func Generate(ref *openapi3.SchemaRef, seed uint64) any {
	g := generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seen: map[*openapi3.Schema]int{}}
	return g.value(ref, 0)
}

type generator struct {
	rng  *rand.Rand
	seen map[*openapi3.Schema]int // recursion guard for self-referencing schemas
}

const maxDepth = 6

func (g *generator) value(ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil || depth > maxDepth {
		return nil
	}
	s := ref.Value
	if g.seen[s] > 1 {
		return nil
	}
	g.seen[s]++
	defer func() { g.seen[s]-- }()

	if v, ok := g.documented(s); ok {
		return v
	}
	switch {
	case len(s.AllOf) > 0:
		merged := map[string]any{}
		for _, sub := range s.AllOf {
			if m, ok := g.value(sub, depth+1).(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		return merged
	case len(s.OneOf) > 0:
		return g.value(s.OneOf[0], depth+1)
	case len(s.AnyOf) > 0:
		return g.value(s.AnyOf[0], depth+1)
	}
	types := s.Type.Slice()
	t := ""
	if len(types) > 0 {
		t = types[0]
	} else if len(s.Properties) > 0 {
		t = "object"
	}
	switch t {
	case "object":
		return g.object(s, depth)
	case "array":
		n := 1 + g.rng.IntN(3)
		if s.MinItems > uint64(n) {
			n = int(min(s.MinItems, 10))
		}
		if s.MaxItems != nil && uint64(n) > *s.MaxItems {
			n = int(*s.MaxItems)
		}
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			out = append(out, g.value(s.Items, depth+1))
		}
		return out
	case "integer":
		lo, hi := bounds(s, 0, 1000)
		lo, hi = math.Ceil(lo), math.Floor(hi)
		if hi < lo {
			return int64(lo)
		}
		return int64(lo) + g.rng.Int64N(int64(hi-lo)+1)
	case "number":
		lo, hi := bounds(s, 0, 1000)
		return math.Round((lo+g.rng.Float64()*(hi-lo))*100) / 100
	case "boolean":
		return g.rng.IntN(2) == 1
	case "string":
		return g.str(s)
	}
	return nil
}

// documented returns the schema's own value that fits it: its const or example (or 3.1
// examples), else an enum value (from a seeded start), else its default.
func (g *generator) documented(s *openapi3.Schema) (any, bool) {
	if v, ok := firstFitting(s, append([]any{s.Const, s.Example}, s.Examples...)); ok {
		return v, true
	}
	if len(s.Enum) > 0 {
		i := g.rng.IntN(len(s.Enum))
		if v, ok := firstFitting(s, append(slices.Clone(s.Enum[i:]), s.Enum[:i]...)); ok {
			return v, true
		}
	}
	return firstFitting(s, []any{s.Default})
}

// firstFitting returns the first non-nil value that is valid against s.
func firstFitting(s *openapi3.Schema, values []any) (any, bool) {
	for _, v := range values {
		if v != nil && Fits(s, v) {
			return v, true
		}
	}
	return nil, false
}

// Fits reports whether v is valid against s, formats included: the sandbox serves a document's
// example only when it is.
func Fits(s *openapi3.Schema, v any) bool {
	return s.VisitJSON(v, openapi3.EnableFormatValidation()) == nil
}

// bounds returns the schema's numeric range around [lo, hi], clamped to ±1e15 so any
// arithmetic on it stays finite.
func bounds(s *openapi3.Schema, lo, hi float64) (float64, float64) {
	lo, hi = rawBounds(s, lo, hi)
	clamp := func(v float64) float64 {
		if math.IsNaN(v) {
			return 0
		}
		return math.Max(-1e15, math.Min(1e15, v))
	}
	lo, hi = clamp(lo), clamp(hi)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

func rawBounds(s *openapi3.Schema, lo, hi float64) (float64, float64) {
	if s.Min != nil {
		lo = *s.Min
		if s.ExclusiveMin.IsTrue() {
			lo++
		}
		if hi < lo {
			hi = lo + 1000
		}
	}
	if s.Max != nil {
		hi = *s.Max
		if s.ExclusiveMax.IsTrue() {
			hi--
		}
		if lo > hi {
			lo = hi
		}
	}
	return lo, hi
}

func (g *generator) object(s *openapi3.Schema, depth int) map[string]any {
	out := map[string]any{}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := s.Properties[n]
		if p == nil || p.Value == nil || p.Value.ReadOnly && p.Value.WriteOnly {
			continue
		}
		if v := g.value(p, depth+1); v != nil {
			out[n] = v
		}
	}
	return out
}

var words = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}

func (g *generator) str(s *openapi3.Schema) string {
	var v string
	switch s.Format {
	case "date-time":
		v = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.rng.IntN(365*24)) * time.Hour).Format(time.RFC3339)
	case "date":
		v = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.rng.IntN(365)).Format(time.DateOnly)
	case "email":
		v = words[g.rng.IntN(len(words))] + "@example.com"
	case "uuid":
		v = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", g.rng.Uint32(), g.rng.IntN(1<<16), g.rng.IntN(1<<12), g.rng.IntN(1<<12), g.rng.Uint64()&(1<<48-1))
	case "uri", "url":
		v = "https://example.com/" + words[g.rng.IntN(len(words))]
	default:
		v = words[g.rng.IntN(len(words))] + "-" + strconv.Itoa(g.rng.IntN(1000))
	}
	if s.MaxLength != nil && uint64(len(v)) > *s.MaxLength {
		v = v[:*s.MaxLength]
	}
	if n := min(s.MinLength, 1<<12); uint64(len(v)) < n {
		v += strings.Repeat("x", int(n)-len(v))
	}
	return v
}
