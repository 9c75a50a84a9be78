// Package policies compiles Onramp's Rego policies (one directory per decision, each with its
// tests) and evaluates them in-process with OPA. The portal and the gateway evaluate the same
// bundle. Each decision's entry point is data.<decision>.decision, an object {"allow", "reasons"};
// an undefined result is an error, never an allow.
package policies

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/onramp-dev/onramp"
)

// Decisions the bundle must define.
const (
	Members = "members"
)

var required = []string{Members}

//go:embed */*.rego
var embedded embed.FS

// Embedded returns the policies compiled into the binary.
func Embedded() fs.FS { return embedded }

// Decision is a policy's answer.
type Decision = onramp.Decision

var _ onramp.Policy = (*Engine)(nil)

// Engine evaluates prepared queries; Load swaps in a new bundle only when all of it compiles.
type Engine struct {
	mu      sync.RWMutex
	queries map[string]rego.PreparedEvalQuery
}

// New compiles the policies in fsys (e.g. Embedded()); it fails when a policy does not compile
// or a required decision is missing.
func New(ctx context.Context, fsys fs.FS) (*Engine, error) {
	e := &Engine{}
	if err := e.Load(ctx, fsys); err != nil {
		return nil, err
	}
	return e, nil
}

// Load compiles every non-test .rego file of fsys and, only if all compile and every required
// decision is defined, replaces the running policies. On error the running policies stay.
func (e *Engine) Load(ctx context.Context, fsys fs.FS) error {
	modules, err := ReadModules(fsys, false)
	if err != nil {
		return err
	}
	compiler := ast.NewCompiler()
	if compiler.Compile(modules); compiler.Failed() {
		return fmt.Errorf("policies do not compile: %v", compiler.Errors)
	}
	queries := map[string]rego.PreparedEvalQuery{}
	for _, name := range required {
		if !definesDecision(modules, name) {
			return fmt.Errorf("policies define no data.%s.decision", name)
		}
		q, err := rego.New(rego.Query("data."+name+".decision"), rego.Compiler(compiler)).PrepareForEval(ctx)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", name, err)
		}
		queries[name] = q
	}
	e.mu.Lock()
	e.queries = queries
	e.mu.Unlock()
	return nil
}

// Decide evaluates one decision for input. It returns EINTERNAL when the decision is unknown or
// its result is undefined or malformed: a broken policy denies, loudly.
func (e *Engine) Decide(ctx context.Context, decision string, input any) (Decision, error) {
	e.mu.RLock()
	q, ok := e.queries[decision]
	e.mu.RUnlock()
	if !ok {
		return Decision{}, onramp.Errorf(onramp.EINTERNAL, "no policy decision %q", decision)
	}
	rs, err := q.Eval(ctx, rego.EvalInput(input))
	if err != nil {
		return Decision{}, fmt.Errorf("evaluate %s: %w", decision, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, fmt.Errorf("policy %s: undefined result", decision)
	}
	obj, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Decision{}, fmt.Errorf("policy %s: result is %T, want an object", decision, rs[0].Expressions[0].Value)
	}
	allow, ok := obj["allow"].(bool)
	if !ok {
		return Decision{}, fmt.Errorf("policy %s: result has no boolean allow", decision)
	}
	d := Decision{Allow: allow, Reasons: []string{}}
	if rs, ok := obj["reasons"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				d.Reasons = append(d.Reasons, s)
			}
		}
	}
	sort.Strings(d.Reasons)
	return d, nil
}

// ReadModules parses the .rego files of fsys, with or without the _test.rego files.
func ReadModules(fsys fs.FS, withTests bool) (map[string]*ast.Module, error) {
	modules := map[string]*ast.Module{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".rego" {
			return err
		}
		if !withTests && strings.HasSuffix(p, "_test.rego") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		modules[p] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	return modules, nil
}

func definesDecision(modules map[string]*ast.Module, pkg string) bool {
	for _, m := range modules {
		if m.Package.Path.String() != "data."+pkg {
			continue
		}
		for _, r := range m.Rules {
			if r.Head.Name.String() == "decision" {
				return true
			}
		}
	}
	return false
}
