package specs

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/onramp-dev/onramp"
)

// A multi-file description's $refs resolve inside it and nowhere else: never the network, never a
// file outside the bundle (or the catalog directory) it came with.

// source reads one file of a multi-file description by its slash-separated path relative to the
// description's root; nil for a single document, which may not refer to other files at all.
type source func(name string) ([]byte, error)

// read is the kin-openapi loader's only way to reach a file: it refuses anything that is not a
// relative path inside the source (checkExternalRefs has already refused those with their
// locations; this keeps the loader from ever reaching further).
func (src source) read(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
	if src == nil {
		return nil, fmt.Errorf("%s: a single document cannot refer to other files", u)
	}
	name, why := insidePath(".", u)
	if why != "" {
		return nil, fmt.Errorf("%s %s", u, why)
	}
	return src(name)
}

// externalRef is a $ref that names another file or a URL, with where it is written.
type externalRef struct {
	location, ref string // location: a dotted path inside its file, e.g. paths./pets.get.responses.200.$ref
}

// mayReferOutside is a cheap first look for a $ref whose value does not start with '#'; a
// document without one is never walked.
var mayReferOutside = regexp.MustCompile(`\$ref["']?\s*:\s*["']?[^"'\s#]`)

// checkExternalRefs follows every $ref to another file from the root, breadth first, and returns
// the files reached (the root first). EINVALID lists every $ref that names a URL, an absolute
// path, a path leaving the source, or a missing file, each with its location.
func checkExternalRefs(src source, rootName string, data []byte) ([]string, error) {
	if src == nil && !mayReferOutside.Match(data) {
		return nil, nil
	}
	queue, contents := []string{rootName}, map[string][]byte{rootName: data}
	var problems []onramp.ErrorDetail
	for i := 0; i < len(queue); i++ {
		name := queue[i]
		refs, err := externalRefsIn(contents[name])
		if err != nil {
			problems = append(problems, onramp.ErrorDetail{Location: name, Message: "the file is neither YAML nor JSON: " + err.Error()})
			continue
		}
		for _, r := range refs {
			target, why := resolveRef(src, name, r.ref)
			if why == "" && contents[target] == nil {
				if contents[target], err = src(target); err != nil {
					why = "names " + target + ", which is not in the bundle (or catalog directory) it came in"
				} else {
					queue = append(queue, target)
				}
			}
			if why != "" {
				problems = append(problems, onramp.ErrorDetail{Location: fileLocation(src, name, r.location), Message: fmt.Sprintf("$ref %q %s", r.ref, why)})
			}
		}
	}
	if len(problems) > 0 {
		return nil, &onramp.Error{Code: onramp.EINVALID, Details: problems,
			Message: fmt.Sprintf("%d $ref(s) point outside what was uploaded; each is listed with its location: Onramp resolves references only inside the uploaded bundle", len(problems))}
	}
	return queue, nil
}

// resolveRef returns the file a $ref written in file names, or why it may not be followed.
func resolveRef(src source, file, ref string) (target, why string) {
	u, err := url.Parse(ref)
	switch {
	case err != nil:
		return "", "is not a valid reference"
	case u.Scheme != "" || u.Host != "" || strings.HasPrefix(ref, "//"):
		return "", "points to a URL; Onramp never fetches documents from the network: put the file in the bundle and refer to it by a relative path"
	case src == nil:
		return "", "refers to another file; a single document cannot: publish a zip or tar.gz bundle holding every file it refers to"
	}
	return insidePath(path.Dir(file), u)
}

// insidePath resolves u's path against dir, or says why it leaves the source.
func insidePath(dir string, u *url.URL) (string, string) {
	p := u.Path
	switch {
	case u.Scheme != "" || u.Host != "":
		return "", "points to a URL; Onramp never fetches documents from the network"
	case p == "":
		return "", "names no file"
	case path.IsAbs(p) || strings.Contains(p, `\`) || hasDriveLetter(p):
		return "", "is an absolute path; refer to files inside the bundle by relative paths"
	}
	p = path.Join(dir, p)
	if p == ".." || strings.HasPrefix(p, "../") || !fs.ValidPath(p) {
		return "", "leaves the bundle (or catalog directory) it came in: refer only to files inside it"
	}
	return p, ""
}

func hasDriveLetter(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}

// fileLocation prefixes a location with its file when the description has several.
func fileLocation(src source, file, location string) string {
	if src == nil {
		return location
	}
	return file + ":" + location
}

// valueKeys hold data, not references: a "$ref" inside an example or a default is just data.
var valueKeys = map[string]bool{"example": true, "default": true, "enum": true, "const": true, "value": true}

// nameMaps are the keys whose mappings are keyed by names (a property, a response code, a
// component) rather than keywords: a property named "default" is no default value.
var nameMaps = map[string]bool{"properties": true, "patternProperties": true, "$defs": true, "definitions": true, "paths": true, "webhooks": true,
	"callbacks": true, "responses": true, "schemas": true, "parameters": true, "headers": true, "requestBodies": true, "examples": true,
	"links": true, "securitySchemes": true, "pathItems": true, "content": true, "encoding": true, "variables": true}

// externalRefsIn lists the $refs of a YAML or JSON file that do not start with '#'.
func externalRefsIn(data []byte) ([]externalRef, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	w := refWalker{}
	w.walk(&root, nil, false)
	return w.refs, nil
}

type refWalker struct{ refs []externalRef }

// walk visits n at loc; names says n's keys are names, not keywords.
func (w *refWalker) walk(n *yaml.Node, loc []string, names bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, loc, false)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			w.walk(c, append(loc, strconv.Itoa(i)), false)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i].Value, n.Content[i+1]
			switch {
			case !names && key == "$ref" && value.Kind == yaml.ScalarNode:
				if !strings.HasPrefix(value.Value, "#") {
					w.refs = append(w.refs, externalRef{location: strings.Join(append(loc, "$ref"), "."), ref: value.Value})
				}
			case !names && (valueKeys[key] || strings.HasPrefix(key, "x-")):
			default:
				w.walk(value, append(loc, key), !names && nameMaps[key])
			}
		}
	}
}
