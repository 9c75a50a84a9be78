package specs

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onramp-dev/onramp"
)

// Lint rules: what Redocly and Spectral would report, as findings that never block publishing.
const (
	RuleInvalid                 = "openapi-invalid"           // kin-openapi's validation refused something else
	RuleExampleInvalid          = "example-invalid"           // an example does not match its schema (the sandbox generates data instead)
	RuleDefaultInvalid          = "default-invalid"           // a default does not match its schema
	RuleSecuritySchemeUndefined = "security-scheme-undefined" // a security requirement names no defined scheme
	RuleInfoVersionEmpty        = "info-version-empty"
	RuleInfoDescription         = "info-description-missing"
	RuleOperationIDMissing      = "operation-id-missing"   // Onramp derived one
	RuleOperationIDDuplicate    = "operation-id-duplicate" // Onramp renamed the later one
	RuleOperationDescription    = "operation-description-missing"
	RuleComponentUnused         = "component-unused"
)

// normalizeOperationIDs gives every operation a unique operationId, so the catalog, the gateway
// and the scopes can key on it: a missing one is derived from method and path, a duplicate gets
// the first free _2, _3 … suffix. Ids the document sets are claimed first, in path then method
// order, so a derived id never takes a written one and the result is the same on every parse.
func normalizeOperationIDs(doc *openapi3.T) []onramp.Finding {
	ownOperations(doc)
	type located struct {
		path, loc string
		op        *openapi3.Operation
	}
	var written, missing []located
	each(doc, func(path, method string, op *openapi3.Operation) {
		l := located{path, opLocation(path, method), op}
		if op.OperationID == "" {
			op.OperationID = derivedOperationID(method, path)
			missing = append(missing, l)
		} else {
			written = append(written, l)
		}
	})
	taken := map[string]bool{}
	for _, w := range written {
		taken[w.op.OperationID] = true
	}
	var out []onramp.Finding
	changed := map[string]bool{}
	owner := map[string]string{}
	for _, w := range written {
		id := w.op.OperationID
		if first, dup := owner[id]; dup {
			w.op.OperationID, changed[w.path] = freeID(id, taken), true
			out = append(out, onramp.Finding{Rule: RuleOperationIDDuplicate, Severity: onramp.SeverityError, Location: w.loc + ".operationId",
				Message: fmt.Sprintf("operationId %q is also used by %s; Onramp names this operation %s (code generators refuse duplicates)", id, first, w.op.OperationID)})
			continue
		}
		owner[id] = w.loc
	}
	for _, m := range missing {
		m.op.OperationID, changed[m.path] = freeID(m.op.OperationID, taken), true
		out = append(out, onramp.Finding{Rule: RuleOperationIDMissing, Severity: onramp.SeverityWarning, Location: m.loc,
			Message: fmt.Sprintf("the operation has no operationId; Onramp names it %s in the catalog, the gateway and downloads", m.op.OperationID)})
	}
	inlinePathItems(doc, changed)
	return out
}

// ownOperations gives every path its own copies of its operations when its item is a $ref (a 3.1
// components.pathItems entry, a bundle's file) or shares them with another path: renaming an
// operation for one path must not rename it for another, or in the component.
func ownOperations(doc *openapi3.T) {
	if doc.Paths == nil {
		return
	}
	seen := map[*openapi3.Operation]bool{}
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		shared := item.Ref != ""
		for _, op := range item.Operations() {
			shared = shared || seen[op]
			seen[op] = true
		}
		if !shared {
			continue
		}
		own := *item
		for method, op := range item.Operations() {
			copied := *op
			own.SetOperation(method, &copied)
		}
		doc.Paths.Set(path, &own)
	}
}

// inlinePathItems writes the items of the changed paths out in full instead of as a $ref, so the
// stored document keeps the ids given to their operations.
func inlinePathItems(doc *openapi3.T, changed map[string]bool) {
	for path := range changed {
		doc.Paths.Value(path).Ref = ""
	}
}

// freeID returns id when no operation has it yet, otherwise id_2, id_3 …, and takes it.
func freeID(id string, taken map[string]bool) string {
	candidate := id
	for n := 2; taken[candidate]; n++ {
		candidate = id + "_" + strconv.Itoa(n)
	}
	taken[candidate] = true
	return candidate
}

// derivedOperationID names an operation from its method and path the way code generators would:
// GET /pets/{petId} is getPetsPetId.
func derivedOperationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	words := strings.FieldsFunc(path, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		r := []rune(w)
		b.WriteString(strings.ToUpper(string(r[0])) + string(r[1:]))
	}
	if len(words) == 0 {
		b.WriteString("Root")
	}
	return b.String()
}

// lint runs Onramp's own rules on a loaded document and its canonical JSON.
func lint(doc *openapi3.T, canonical []byte) []onramp.Finding {
	var out []onramp.Finding
	if doc.Info != nil && strings.TrimSpace(doc.Info.Description) == "" {
		out = append(out, onramp.Finding{Rule: RuleInfoDescription, Severity: onramp.SeverityInfo, Location: "info.description",
			Message: "the document has no description; partners see it first on the product page"})
	}
	each(doc, func(path, method string, op *openapi3.Operation) {
		if strings.TrimSpace(op.Description) == "" && strings.TrimSpace(op.Summary) == "" {
			out = append(out, onramp.Finding{Rule: RuleOperationDescription, Severity: onramp.SeverityInfo, Location: opLocation(path, method),
				Message: "the operation has neither a summary nor a description"})
		}
	})
	return append(out, unusedComponents(canonical, securitySchemesUsed(doc))...)
}

var componentRef = regexp.MustCompile(`"\$ref":"#/components/([A-Za-z]+)/([^"/]+)[^"]*"`)

// unusedComponents reports the components nothing outside the components refers to, directly
// or through other components, reading the references off the canonical JSON (re-encoding the
// document would cost as much as publishing it).
func unusedComponents(canonical []byte, schemesUsed []string) []onramp.Finding {
	var top map[string]json.RawMessage
	var comps map[string]map[string]json.RawMessage
	if json.Unmarshal(canonical, &top) != nil || top["components"] == nil || json.Unmarshal(top["components"], &comps) != nil {
		return nil
	}
	edges := map[string][]string{}
	for kind, entries := range comps {
		if !componentKinds[kind] {
			continue
		}
		for name, raw := range entries {
			edges[kind+"/"+name] = refsIn(raw)
		}
	}
	used := map[string]bool{}
	var visit func(key string)
	visit = func(key string) {
		if used[key] {
			return
		}
		used[key] = true
		for _, next := range edges[key] {
			visit(next)
		}
	}
	for section, raw := range top {
		if section != "components" {
			for _, key := range refsIn(raw) {
				visit(key)
			}
		}
	}
	for _, name := range schemesUsed {
		visit("securitySchemes/" + name)
	}
	var out []onramp.Finding
	for _, key := range slices.Sorted(maps.Keys(edges)) {
		if !used[key] {
			kind, name, _ := strings.Cut(key, "/")
			out = append(out, onramp.Finding{Rule: RuleComponentUnused, Severity: onramp.SeverityInfo, Location: "components." + kind + "." + name,
				Message: "nothing in the document refers to this component"})
		}
	}
	return out
}

// componentKinds are the sections of components whose entries can be referred to.
var componentKinds = map[string]bool{"schemas": true, "parameters": true, "headers": true, "requestBodies": true, "responses": true,
	"securitySchemes": true, "examples": true, "links": true, "callbacks": true, "pathItems": true}

// refsIn lists the components that JSON refers to, as "kind/name".
func refsIn(js []byte) []string {
	var out []string
	for _, m := range componentRef.FindAllSubmatch(js, -1) {
		name := strings.ReplaceAll(strings.ReplaceAll(string(m[2]), "~1", "/"), "~0", "~")
		out = append(out, string(m[1])+"/"+name)
	}
	return out
}

// securitySchemesUsed lists the schemes the document's security requirements name.
func securitySchemesUsed(doc *openapi3.T) []string {
	var out []string
	add := func(reqs openapi3.SecurityRequirements) {
		for _, r := range reqs {
			for name := range r {
				out = append(out, name)
			}
		}
	}
	add(doc.Security)
	each(doc, func(_, _ string, op *openapi3.Operation) {
		if op.Security != nil {
			add(*op.Security)
		}
	})
	return out
}

var severityRank = map[string]int{onramp.SeverityError: 0, onramp.SeverityWarning: 1, onramp.SeverityInfo: 2}

// sortFindings orders findings most severe first, then by location, so a document's findings
// read the same on every parse.
func sortFindings(fs []onramp.Finding) []onramp.Finding {
	if fs == nil {
		return []onramp.Finding{}
	}
	slices.SortStableFunc(fs, func(a, b onramp.Finding) int {
		return cmp.Or(cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]), strings.Compare(a.Location, b.Location),
			strings.Compare(a.Rule, b.Rule), strings.Compare(a.Message, b.Message))
	})
	return fs
}
