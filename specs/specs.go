// Package specs does Onramp's OpenAPI work with kin-openapi: it parses a document (or a bundle of
// files) being published, converting Swagger 2.0, refusing only what cannot be served and
// reporting the rest as lint findings; lists its operations with the scope each needs; renders
// the copy an organisation downloads; and computes the changelog between two versions.
package specs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"gopkg.in/yaml.v3"

	"github.com/onramp-dev/onramp"
)

// ScopeExtension names an operation's scope explicitly; without it, reads need <product>:read and
// everything else <product>:write.
const ScopeExtension = "x-onramp-scope"

// Spec is a parsed OpenAPI 3 document that Onramp can serve, with what is wrong with it.
type Spec struct {
	Doc       *openapi3.T
	JSON      []byte           // canonical JSON of Doc, what is stored
	Converted bool             // it was uploaded as Swagger 2.0
	Files     []string         // a bundle's files merged into it, the root first; nil for one document
	Findings  []onramp.Finding // lint findings, most severe first; none of them refused the document
}

// SHA256 is the hex digest of the canonical JSON.
func (s *Spec) SHA256() string {
	sum := sha256.Sum256(s.JSON)
	return hex.EncodeToString(sum[:])
}

// MaxDocumentBytes bounds a stored document's canonical JSON, well inside MongoDB's 16 MiB limit
// on the version it is stored with.
const MaxDocumentBytes = 12 << 20

const convertHint = "convert it to OpenAPI 3 (e.g. `npx swagger2openapi swagger.yaml -o openapi.yaml`) and upload the result"

// Parse reads one YAML or JSON OpenAPI 3.0/3.1 document, or a Swagger 2.0 one (converted). It
// refuses only what cannot be served, with EINVALID and every problem located: a document that
// is neither YAML nor JSON, is not OpenAPI 3.x or Swagger 2.0, has a $ref that does not resolve
// (references to other files or URLs included: publish those as a bundle), has no operations or
// paths the gateway cannot route, or sets a malformed x-onramp-scope. Everything else is
// returned as Findings; missing and duplicate operationIds are also fixed in the document.
func Parse(ctx context.Context, data []byte) (*Spec, error) {
	return parse(ctx, nil, "", data)
}

// parse reads the root document data, named rootName inside src (nil for a single document).
func parse(ctx context.Context, src source, rootName string, data []byte) (*Spec, error) {
	version, err := documentVersion(data)
	if err != nil {
		return nil, err
	}
	used, err := checkExternalRefs(src, rootName, data)
	if err != nil {
		return nil, err
	}
	converted := version == "2.0"
	if converted && len(used) > 1 {
		return nil, onramp.Errorf(onramp.EINVALID, "%s refers to other files; Swagger 2.0 descriptions are published as one file: %s", rootName, convertHint)
	}
	if converted {
		if data, err = convertSwagger2(data); err != nil {
			return nil, err
		}
	}
	loadFrom := src
	if len(used) <= 1 && !mayReferOutside.Match(data) {
		loadFrom = nil // a description in one file loads, and hashes, exactly like a single upload
	}
	doc, err := loadDocument(ctx, loadFrom, rootName, data)
	if err != nil {
		return nil, err
	}
	if err := checkServable(doc); err != nil {
		return nil, err
	}
	findings := normalizeOperationIDs(doc)
	findings = append(findings, validationFindings(doc.Validate(ctx, openapi3.EnableMultiError()))...)
	canonical, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("marshal spec: %w", err)
	}
	findings = append(findings, lint(doc, canonical)...)
	if len(canonical) > MaxDocumentBytes {
		return nil, onramp.Errorf(onramp.EINVALID, "the document is %.1f MiB as JSON; Onramp publishes documents up to %d MiB", float64(len(canonical))/(1<<20), MaxDocumentBytes>>20)
	}
	s := &Spec{Doc: doc, JSON: canonical, Converted: converted, Findings: sortFindings(findings)}
	if src != nil {
		s.Files = used
	}
	return s, nil
}

// documentVersion returns the document's `openapi` or `swagger` version, or EINVALID saying why
// it is not a document Onramp publishes.
func documentVersion(data []byte) (string, error) {
	head, err := readHead(data)
	if err != nil {
		return "", onramp.Errorf(onramp.EINVALID, "the document is neither YAML nor JSON: %v", err)
	}
	switch {
	case head.OpenAPI != nil:
		v := fmt.Sprint(head.OpenAPI)
		if !strings.HasPrefix(v, "3.0") && !strings.HasPrefix(v, "3.1") {
			return "", onramp.Errorf(onramp.EINVALID, "openapi %q is not supported; publish OpenAPI 3.0 or 3.1", v)
		}
		return v, nil
	case head.Swagger != nil:
		if v := fmt.Sprint(head.Swagger); v != "2.0" {
			return "", onramp.Errorf(onramp.EINVALID, "swagger %q is not supported; %s", v, convertHint)
		}
		return "2.0", nil
	}
	return "", onramp.Errorf(onramp.EINVALID, "this is not an OpenAPI document: it has no `openapi: 3.x` (or `swagger: \"2.0\"`) field at the top")
}

type head struct {
	Swagger any `yaml:"swagger" json:"swagger"`
	OpenAPI any `yaml:"openapi" json:"openapi"`
}

// topLevelVersion finds a block-style YAML document's version line without parsing the rest.
var topLevelVersion = regexp.MustCompile(`(?m)^(openapi|swagger):[ \t]*["']?([0-9][0-9.]*)["']?[ \t]*(#.*)?\r?$`)

// readHead reads the document's version fields, cheaply where it can: a YAML parse of a large
// document costs seconds, encoding/json or one line of YAML milliseconds (a document whose YAML
// is broken further down is refused by kin-openapi's loader instead).
func readHead(data []byte) (head, error) {
	var h head
	if looksLikeJSON(data) && json.Unmarshal(data, &h) == nil {
		return h, nil
	}
	if m := topLevelVersion.FindSubmatch(data); m != nil {
		if string(m[1]) == "openapi" {
			h.OpenAPI = string(m[2])
		} else {
			h.Swagger = string(m[2])
		}
		return h, nil
	}
	return h, yaml.Unmarshal(data, &h)
}

func looksLikeJSON(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
}

// loadDocument resolves every $ref with kin-openapi, inside the bundle only, and merges a bundle's files
// into one document. EINVALID when a $ref does not resolve.
func loadDocument(ctx context.Context, src source, rootName string, data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.IsExternalRefsAllowed = false
	var doc *openapi3.T
	var err error
	if src == nil {
		doc, err = loader.LoadFromData(data)
	} else {
		loader.ReadFromURIFunc = src.read
		doc, err = loader.LoadFromDataWithPath(data, &url.URL{Path: rootName})
	}
	if err != nil {
		return nil, &onramp.Error{Code: onramp.EINVALID, Message: "the document cannot be loaded: fix the problem listed and publish again",
			Details: []onramp.ErrorDetail{{Location: "$ref", Message: err.Error()}}}
	}
	if src == nil {
		return doc, nil
	}
	doc.InternalizeRefs(ctx, nil)
	merged, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("marshal bundled spec: %w", err)
	}
	// Loading the merged document the way stored ones are loaded proves no file reference is left.
	if doc, err = Load(merged); err != nil {
		return nil, &onramp.Error{Code: onramp.EINVALID, Message: "the bundle's files could not be merged into one document",
			Details: []onramp.ErrorDetail{{Location: "$ref", Message: err.Error()}}}
	}
	return doc, nil
}

// checkServable refuses what the gateway cannot serve: no operations, paths it cannot route, or
// malformed scopes (falling back to the default scope would silently change who may call it).
func checkServable(doc *openapi3.T) error {
	var details []onramp.ErrorDetail
	count := 0
	each(doc, func(path, method string, op *openapi3.Operation) {
		count++
		if v, ok := op.Extensions[ScopeExtension]; ok {
			if s, isString := v.(string); !isString || !scopePattern.MatchString(s) {
				details = append(details, onramp.ErrorDetail{Location: opLocation(path, method) + "." + ScopeExtension,
					Message: fmt.Sprintf("%v is not a scope; write it as <product>:<access>, e.g. payments:refund", v)})
			}
		}
	})
	if count == 0 {
		return &onramp.Error{Code: onramp.EINVALID, Message: "the document has no operations: partners could call nothing",
			Details: []onramp.ErrorDetail{{Location: "paths", Message: "add at least one operation under paths (webhooks alone are not callable through the gateway)"}}}
	}
	if err := checkRoutable(doc); err != nil {
		details = append(details, onramp.ErrorDetail{Location: "paths", Message: "the gateway cannot route these paths: " + err.Error()})
	}
	if len(details) > 0 {
		return &onramp.Error{Code: onramp.EINVALID, Details: details,
			Message: fmt.Sprintf("the document has %d problem(s) Onramp cannot serve; each is listed with its location: fix them and publish again", len(details))}
	}
	return nil
}

// Load reads a stored canonical document (already checked at publication).
func Load(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load stored spec: %w", err)
	}
	return doc, nil
}

// Router routes requests to doc's operations by path alone: it clears doc's servers (document and
// path level), because the gateway serves every version under /<product>/<version>.
func Router(doc *openapi3.T) (routers.Router, error) {
	doc.Servers = nil
	if doc.Paths != nil {
		for _, item := range doc.Paths.Map() {
			item.Servers = nil
		}
	}
	return gorillamux.NewRouter(doc)
}

// checkRoutable builds the gateway's router for doc, leaving doc's servers as they were.
func checkRoutable(doc *openapi3.T) error {
	servers := doc.Servers
	pathServers := map[*openapi3.PathItem]openapi3.Servers{}
	if doc.Paths != nil {
		for _, item := range doc.Paths.Map() {
			pathServers[item] = item.Servers
		}
	}
	defer func() {
		doc.Servers = servers
		for item, s := range pathServers {
			item.Servers = s
		}
	}()
	_, err := Router(doc)
	return err
}

func convertSwagger2(data []byte) ([]byte, error) {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, onramp.Errorf(onramp.EINVALID, "the Swagger 2.0 document cannot be read: %v", err)
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, onramp.Errorf(onramp.EINVALID, "the Swagger 2.0 document cannot be read as JSON: %v; %s", err, convertHint)
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(js, &doc2); err != nil {
		return nil, onramp.Errorf(onramp.EINVALID, "the Swagger 2.0 document is malformed: %v; %s", err, convertHint)
	}
	doc3, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, onramp.Errorf(onramp.EINVALID, "the Swagger 2.0 document could not be converted: %v; %s", err, convertHint)
	}
	out, err := json.Marshal(doc3)
	if err != nil {
		return nil, onramp.Errorf(onramp.EINVALID, "the converted document cannot be written: %v; %s", err, convertHint)
	}
	return out, nil
}

// validationFindings turns kin-openapi's validation errors into findings, located by their
// nested messages ("invalid paths: invalid path /x: invalid operation POST: …" is at
// "paths./x.post") and classified by their types.
func validationFindings(err error) []onramp.Finding {
	if err == nil {
		return nil
	}
	var errs []error
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		errs = multi
	} else {
		errs = []error{err}
	}
	out := make([]onramp.Finding, 0, len(errs))
	for _, e := range errs {
		d := locate(e.Error())
		rule, severity := classify(e)
		if rule == RuleInfoVersionEmpty {
			d.Location = "info.version"
		}
		out = append(out, onramp.Finding{Rule: rule, Severity: severity, Location: d.Location, Message: firstLine(d.Message)})
	}
	return out
}

// classify names the rule a kin-openapi validation error breaks and how much it matters.
func classify(err error) (rule, severity string) {
	var value *openapi3.SchemaValueError
	var undefined *openapi3.SecurityRequirementSchemeUndefinedError
	var version *openapi3.InfoVersionRequired
	switch {
	case errors.As(err, &value) && value.ValueKind == "example":
		return RuleExampleInvalid, onramp.SeverityWarning
	case errors.As(err, &value) && value.ValueKind == "default":
		return RuleDefaultInvalid, onramp.SeverityWarning
	case errors.As(err, &undefined):
		return RuleSecuritySchemeUndefined, onramp.SeverityError
	case errors.As(err, &version):
		return RuleInfoVersionEmpty, onramp.SeverityWarning
	}
	return RuleInvalid, onramp.SeverityError
}

// maxMessage bounds a finding's message: kin-openapi appends whole schemas and values to some.
const maxMessage = 400

// firstLine keeps a message's first line, at most maxMessage bytes of it.
func firstLine(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	msg = strings.TrimSpace(msg)
	if len(msg) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

var locators = []struct {
	re   *regexp.Regexp
	part func(m []string) string
}{
	{regexp.MustCompile(`^invalid (paths|components|info|servers|tags|webhooks|security|externalDocs)$`), func(m []string) string { return m[1] }},
	{regexp.MustCompile(`^invalid path (.+)$`), func(m []string) string { return m[1] }},
	{regexp.MustCompile(`^invalid operation ([A-Z]+)$`), func(m []string) string { return strings.ToLower(m[1]) }},
	{regexp.MustCompile(`^(schema|parameter|response|requestBody|header|securityScheme|example|link|callback)s? "?([^"]+)"?$`), func(m []string) string { return plural(m[1]) + "." + m[2] }},
	{regexp.MustCompile(`^(request body|requestBody)$`), func([]string) string { return "requestBody" }},
	{regexp.MustCompile(`^invalid (response|responses)$`), func([]string) string { return "responses" }},
}

func plural(kind string) string {
	if kind == "requestBody" {
		return "requestBodies"
	}
	return kind + "s"
}

func locate(msg string) onramp.ErrorDetail {
	var loc []string
	rest := msg
	for {
		head, tail, ok := strings.Cut(rest, ": ")
		if !ok {
			break
		}
		matched := false
		for _, l := range locators {
			if m := l.re.FindStringSubmatch(head); m != nil {
				loc, matched = append(loc, l.part(m)), true
				break
			}
		}
		if !matched {
			break
		}
		rest = tail
	}
	if len(loc) == 0 {
		loc = []string{"(document)"}
	}
	return onramp.ErrorDetail{Location: strings.Join(loc, "."), Message: rest}
}

var methodOrder = []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodTrace, http.MethodConnect}

// each calls fn for every operation in path order, then method order.
func each(doc *openapi3.T, fn func(path, method string, op *openapi3.Operation)) {
	if doc.Paths == nil {
		return
	}
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range keys {
		ops := paths[p].Operations()
		for _, m := range methodOrder {
			if op, ok := ops[m]; ok {
				fn(p, m, op)
			}
		}
	}
}

var scopePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*:[a-z][a-z0-9_.-]*$`)

// opLocation is where an operation is in the document, e.g. paths./payments.post.
func opLocation(path, method string) string {
	return "paths." + path + "." + strings.ToLower(method)
}

// OperationID is the id Onramp knows an operation by: its operationId, which publication fills
// in and makes unique; versions published before that use "METHOD /path" for a missing one.
func OperationID(method, path string, op *openapi3.Operation) string {
	if op.OperationID != "" {
		return op.OperationID
	}
	return method + " " + path
}

// Operations lists doc's operations with the scope each needs in product.
func Operations(doc *openapi3.T, product string) []onramp.Operation {
	var out []onramp.Operation
	each(doc, func(path, method string, op *openapi3.Operation) {
		out = append(out, onramp.Operation{ID: OperationID(method, path, op), Method: method, Path: path, Summary: op.Summary, Tags: op.Tags, Scope: scopeOf(op, product, method)})
	})
	return out
}

func scopeOf(op *openapi3.Operation, product, method string) string {
	if s, ok := op.Extensions[ScopeExtension].(string); ok && s != "" {
		return s
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return product + ":read"
	}
	return product + ":write"
}

// Server is a gateway base URL a downloaded document points at.
type Server struct {
	URL, Description string
}

// Security schemes of every downloaded document: exactly the two ways the gateway accepts an API key.
const (
	SchemeAPIKey = "apiKey"
	SchemeBearer = "bearerKey"
)

// Export returns a copy of doc for an organisation: only the operations in allowed (by id), the
// given servers, the gateway's security schemes, and each operation's scope as x-onramp-scope.
func Export(doc *openapi3.T, product string, allowed map[string]bool, servers []Server) (*openapi3.T, error) {
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("copy spec: %w", err)
	}
	out, err := Load(js)
	if err != nil {
		return nil, err
	}
	for path, item := range out.Paths.Map() {
		for method, op := range item.Operations() {
			if !allowed[OperationID(method, path, op)] {
				item.SetOperation(method, nil)
				continue
			}
			if op.Extensions == nil {
				op.Extensions = map[string]any{}
			}
			op.Extensions[ScopeExtension] = scopeOf(op, product, method)
			op.Security = nil // the document-wide requirement below applies
		}
		if len(item.Operations()) == 0 {
			out.Paths.Delete(path)
		}
	}
	out.Servers = nil
	for _, s := range servers {
		out.Servers = append(out.Servers, &openapi3.Server{URL: s.URL, Description: s.Description})
	}
	if out.Components == nil {
		out.Components = &openapi3.Components{}
	}
	out.Components.SecuritySchemes = openapi3.SecuritySchemes{
		SchemeAPIKey: &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{Type: "apiKey", In: "header", Name: "X-API-Key",
			Description: "The organisation's API key (onr_test_… in the sandbox, onr_live_… in production)."}},
		SchemeBearer: &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{Type: "http", Scheme: "bearer",
			Description: "The same API key sent as `Authorization: Bearer <key>`."}},
	}
	out.Security = openapi3.SecurityRequirements{{SchemeAPIKey: []string{}}, {SchemeBearer: []string{}}}
	return out, nil
}

// Encode writes doc as "json" (indented) or "yaml".
func Encode(doc *openapi3.T, format string) ([]byte, error) {
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	if format == "json" {
		var buf bytes.Buffer
		if err := json.Indent(&buf, js, "", "  "); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	// Through yaml.Node so the document keeps JSON's key order.
	var node yaml.Node
	if err := yaml.Unmarshal(js, &node); err != nil {
		return nil, fmt.Errorf("encode spec as YAML: %w", err)
	}
	plainStyle(&node)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return nil, fmt.Errorf("encode spec as YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// plainStyle turns JSON's flow style into YAML's block style (strings keep their quoting).
func plainStyle(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = 0
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		n.Style = 0
	}
	for _, c := range n.Content {
		plainStyle(c)
	}
}

// Tags returns the document's tag names in declaration order, then any only used by operations.
func Tags(doc *openapi3.T) []string {
	var out []string
	for _, t := range doc.Tags {
		out = append(out, t.Name)
	}
	each(doc, func(_, _ string, op *openapi3.Operation) {
		for _, t := range op.Tags {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	})
	return out
}
