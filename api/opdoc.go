package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/specs"
)

// Operation pages render parameters and schemas as tables; these types flatten kin-openapi's
// document for the templates.

type paramDoc struct {
	Name, In, Type, Description, Example string
	Required                             bool
}

type fieldDoc struct {
	Name, Type, Description, Example string
	Required                         bool
	Depth                            int
}

type responseDoc struct {
	Status, Description, MediaType string
	Fields                         []fieldDoc
}

type operationDoc struct {
	catalog.OperationView
	Anchor      string
	Description string
	Deprecated  bool
	Parameters  []paramDoc
	BodyType    string
	Body        []fieldDoc
	ExampleBody string // for try-it: the spec's example, else data generated from the schema
	Responses   []responseDoc
}

// groupOperations groups a version's operations by their first tag, in the document's tag order.
func groupOperations(view catalog.ProductView) []opGroup {
	byTag := map[string][]operationDoc{}
	for _, op := range view.Operations {
		tag := "other"
		if len(op.Tags) > 0 {
			tag = op.Tags[0]
		}
		byTag[tag] = append(byTag[tag], documentOperation(view.Doc, op))
	}
	var out []opGroup
	for _, t := range append(view.Tags, "other") {
		if ops, ok := byTag[t]; ok {
			out = append(out, opGroup{Tag: t, Operations: ops})
			delete(byTag, t)
		}
	}
	return out
}

func documentOperation(doc *openapi3.T, op catalog.OperationView) operationDoc {
	d := operationDoc{OperationView: op, Anchor: "op-" + strings.NewReplacer(" ", "-", "/", "-", "{", "", "}", "").Replace(op.ID)}
	item := doc.Paths.Find(op.Path)
	if item == nil {
		return d
	}
	o := item.GetOperation(op.Method)
	if o == nil {
		return d
	}
	d.Description, d.Deprecated = o.Description, o.Deprecated
	params := append(openapi3.Parameters{}, item.Parameters...)
	params = append(params, o.Parameters...)
	for _, pr := range params {
		if pr == nil || pr.Value == nil {
			continue
		}
		p := pr.Value
		d.Parameters = append(d.Parameters, paramDoc{Name: p.Name, In: p.In, Required: p.Required, Description: p.Description,
			Type: schemaType(p.Schema), Example: example(p.Example, p.Schema)})
	}
	if o.RequestBody != nil && o.RequestBody.Value != nil {
		for _, mt := range slices.Sorted(maps.Keys(o.RequestBody.Value.Content)) {
			media := o.RequestBody.Value.Content[mt]
			d.BodyType = mt
			d.Body = fields(media.Schema, "", 0, true)
			ex := media.Example
			if ex == nil {
				ex = specs.Generate(media.Schema, 1)
			}
			if b, err := json.MarshalIndent(ex, "", "  "); err == nil {
				d.ExampleBody = string(b)
			}
			break
		}
	}
	if o.Responses != nil {
		codes := o.Responses.Map()
		keys := make([]string, 0, len(codes))
		for k := range codes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, code := range keys {
			r := codes[code]
			if r == nil || r.Value == nil {
				continue
			}
			rd := responseDoc{Status: code}
			if r.Value.Description != nil {
				rd.Description = *r.Value.Description
			}
			for _, mt := range slices.Sorted(maps.Keys(r.Value.Content)) {
				rd.MediaType = mt
				rd.Fields = fields(r.Value.Content[mt].Schema, "", 0, true)
				break
			}
			d.Responses = append(d.Responses, rd)
		}
	}
	return d
}

func schemaType(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return ""
	}
	s := ref.Value
	t := strings.Join(s.Type.Slice(), "|")
	switch {
	case t == "array" && s.Items != nil:
		t = schemaType(s.Items) + "[]"
	case t == "" && len(s.OneOf) > 0:
		t = "one of"
	case t == "" && len(s.AllOf) > 0:
		t = "all of"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if len(s.Enum) > 0 {
		var vals []string
		for _, e := range s.Enum {
			vals = append(vals, fmt.Sprint(e))
		}
		t += ": " + strings.Join(vals, ", ")
	}
	if ref.Ref != "" {
		t += " → " + ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
	}
	return t
}

func example(v any, schema *openapi3.SchemaRef) string {
	if v == nil && schema != nil && schema.Value != nil {
		v = schema.Value.Example
	}
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// fields flattens an object schema's properties, two levels deep, for a table.
func fields(ref *openapi3.SchemaRef, prefix string, depth int, top bool) []fieldDoc {
	if ref == nil || ref.Value == nil || depth > 2 {
		return nil
	}
	s := ref.Value
	if s.Type.Is("array") && s.Items != nil {
		if top {
			return append([]fieldDoc{{Name: "(array)", Type: schemaType(ref), Description: s.Description}}, fields(s.Items, "[]", depth+1, false)...)
		}
		return fields(s.Items, prefix+"[]", depth, false)
	}
	if len(s.Properties) == 0 {
		if top {
			return []fieldDoc{{Name: "(body)", Type: schemaType(ref), Description: s.Description, Example: example(nil, ref)}}
		}
		return nil
	}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []fieldDoc
	for _, n := range names {
		p := s.Properties[n]
		name := n
		if prefix != "" {
			name = strings.TrimPrefix(prefix+"."+n, ".")
		}
		desc := ""
		if p.Value != nil {
			desc = p.Value.Description
		}
		out = append(out, fieldDoc{Name: name, Type: schemaType(p), Required: required[n], Description: desc, Example: example(nil, p), Depth: depth})
		out = append(out, fields(p, name, depth+1, false)...)
	}
	return out
}
