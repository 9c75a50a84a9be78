// Package specs does Onramp's OpenAPI work with kin-openapi: it parses and validates a document
// being published (converting Swagger 2.0), lists its operations with the scope each needs,
// renders the copy an organisation downloads, and computes the changelog between two versions.
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
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/onramp-dev/onramp"
)

// ScopeExtension names an operation's scope explicitly; without it, reads need <product>:read and
// everything else <product>:write.
const ScopeExtension = "x-onramp-scope"

// Spec is a parsed, valid OpenAPI 3 document.
type Spec struct {
	Doc       *openapi3.T
	JSON      []byte // canonical JSON of Doc, what is stored
	Converted bool   // it was uploaded as Swagger 2.0
}

// SHA256 is the hex digest of the canonical JSON.
func (s *Spec) SHA256() string {
	sum := sha256.Sum256(s.JSON)
	return hex.EncodeToString(sum[:])
}

const convertHint = "convert it to OpenAPI 3 (e.g. `npx swagger2openapi swagger.yaml -o openapi.yaml`) and upload the result"

// Parse reads a YAML or JSON OpenAPI 3.0/3.1 document, or a Swagger 2.0 one (converted), and
// validates it. EINVALID lists every problem found with its location; external $refs are refused.
func Parse(ctx context.Context, data []byte) (*Spec, error) {
	var head struct {
		Swagger any `yaml:"swagger"`
		OpenAPI any `yaml:"openapi"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, onramp.Errorf(onramp.EINVALID, "the document is neither YAML nor JSON: %v", err)
	}
	converted := false
	switch {
	case head.OpenAPI != nil:
		v := fmt.Sprint(head.OpenAPI)
		if !strings.HasPrefix(v, "3.0") && !strings.HasPrefix(v, "3.1") {
			return nil, onramp.Errorf(onramp.EINVALID, "openapi %q is not supported; publish OpenAPI 3.0 or 3.1", v)
		}
	case head.Swagger != nil:
		if fmt.Sprint(head.Swagger) != "2.0" {
			return nil, onramp.Errorf(onramp.EINVALID, "swagger %q is not supported; %s", fmt.Sprint(head.Swagger), convertHint)
		}
		var err error
		if data, err = convertSwagger2(data); err != nil {
			return nil, err
		}
		converted = true
	default:
		return nil, onramp.Errorf(onramp.EINVALID, "this is not an OpenAPI document: it has no `openapi: 3.x` (or `swagger: \"2.0\"`) field at the top")
	}

	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, &onramp.Error{Code: onramp.EINVALID, Message: "the document cannot be loaded: fix the problem listed and publish again",
			Details: []onramp.ErrorDetail{{Location: "$ref", Message: err.Error()}}}
	}
	details := validationDetails(doc.Validate(ctx, openapi3.EnableMultiError()))
	details = append(details, checkOperations(doc)...)
	if len(details) > 0 {
		return nil, &onramp.Error{Code: onramp.EINVALID, Details: details,
			Message: fmt.Sprintf("the document has %d problem(s); each is listed with its location: fix them all and publish again", len(details))}
	}
	canonical, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("marshal spec: %w", err)
	}
	return &Spec{Doc: doc, JSON: canonical, Converted: converted}, nil
}

// Load reads a stored canonical document (already validated at publication).
func Load(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load stored spec: %w", err)
	}
	return doc, nil
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

// validationDetails turns kin-openapi's nested messages ("invalid paths: invalid path /x:
// invalid operation POST: …") into located details ("paths./x.post").
func validationDetails(err error) []onramp.ErrorDetail {
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
	out := make([]onramp.ErrorDetail, 0, len(errs))
	for _, e := range errs {
		out = append(out, locate(e.Error()))
	}
	return out
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

// checkOperations finds what kin-openapi accepts but Onramp cannot serve: duplicate operation ids
// and malformed scopes.
func checkOperations(doc *openapi3.T) []onramp.ErrorDetail {
	var out []onramp.ErrorDetail
	seen := map[string]string{}
	each(doc, func(path, method string, op *openapi3.Operation) {
		loc := "paths." + path + "." + strings.ToLower(method)
		if op.OperationID != "" {
			if prev, dup := seen[op.OperationID]; dup {
				out = append(out, onramp.ErrorDetail{Location: loc + ".operationId", Message: fmt.Sprintf("operationId %q is also used by %s; operation ids must be unique", op.OperationID, prev)})
			}
			seen[op.OperationID] = loc
		}
		if v, ok := op.Extensions[ScopeExtension]; ok {
			if s, isString := v.(string); !isString || !scopePattern.MatchString(s) {
				out = append(out, onramp.ErrorDetail{Location: loc + "." + ScopeExtension, Message: fmt.Sprintf("%v is not a scope; write it as <product>:<access>, e.g. payments:refund", v)})
			}
		}
	})
	return out
}

// Operations lists doc's operations with the scope each needs in product.
func Operations(doc *openapi3.T, product string) []onramp.Operation {
	var out []onramp.Operation
	each(doc, func(path, method string, op *openapi3.Operation) {
		id := op.OperationID
		if id == "" {
			id = method + " " + path
		}
		out = append(out, onramp.Operation{ID: id, Method: method, Path: path, Summary: op.Summary, Tags: op.Tags, Scope: scopeOf(op, product, method)})
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
			id := op.OperationID
			if id == "" {
				id = method + " " + path
			}
			if !allowed[id] {
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
