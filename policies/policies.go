// Package policies compiles Onramp's Rego policies (one directory per decision, each with its
// tests) and evaluates them in-process with OPA. The portal and the gateway evaluate the same
// bundle. Each decision's entry point is data.<decision>.decision, an object {"allow", "reasons"};
// an undefined result is an error, never an allow.
package policies

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/onramp-dev/onramp"
)

// noMetrics skips OPA's per-evaluation timers, which cost more than a small decision itself.
var noMetrics = metrics.NoOp()

// Decisions the bundle must define.
const (
	Members  = onramp.DecisionMembers
	Catalog  = onramp.DecisionCatalog
	Gateway  = onramp.DecisionGateway
	Rotation = onramp.DecisionRotation
)

var required = []string{Members, Catalog, Gateway, Rotation}

//go:embed */*.rego
var embedded embed.FS

// Embedded returns the policies compiled into the binary.
func Embedded() fs.FS { return embedded }

// Decision is a policy's answer.
type Decision = onramp.Decision

var _ onramp.Policy = (*Engine)(nil)

// Engine evaluates prepared queries; Load swaps in a new bundle only when all of it compiles and
// every Rego test beside it passes.
type Engine struct {
	mu      sync.RWMutex
	queries map[string]rego.PreparedEvalQuery
	status  Status
	log     *slog.Logger
	sample  float64 // fraction of decisions logged
}

// Status is the running policies' state (onramp.PolicyStatus).
type Status = onramp.PolicyStatus

// New compiles the policies in fsys (e.g. Embedded()); it fails when a policy does not compile,
// a Rego test fails or a required decision is missing.
func New(ctx context.Context, fsys fs.FS) (*Engine, error) {
	return NewFrom(ctx, fsys, "embedded")
}

// NewFrom is New naming where fsys comes from (shown in Status).
func NewFrom(ctx context.Context, fsys fs.FS, source string) (*Engine, error) {
	e := &Engine{status: Status{Source: source}}
	if err := e.Load(ctx, fsys); err != nil {
		return nil, err
	}
	return e, nil
}

// Load compiles every non-test .rego file of fsys and, only if all compile and every required
// decision is defined, replaces the running policies. On error the running policies stay.
func (e *Engine) Load(ctx context.Context, fsys fs.FS) error {
	version, err := Version(fsys)
	if err != nil {
		return err
	}
	if err := e.install(ctx, fsys, version); err != nil {
		now := time.Now().UTC()
		e.mu.Lock()
		e.status.LastError, e.status.LastErrorAt, e.status.LastErrorVersion = err.Error(), &now, version
		e.mu.Unlock()
		return err
	}
	return nil
}

func (e *Engine) install(ctx context.Context, fsys fs.FS, version string) error {
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
	passed, err := RunTests(ctx, fsys)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.queries = queries
	e.status = Status{Source: e.status.Source, Version: version, LoadedAt: time.Now().UTC(), Decisions: slices.Clone(required), Tests: passed}
	e.mu.Unlock()
	return nil
}

// RunTests runs every *_test.rego of fsys against its policies and returns how many passed; it
// fails when any fails or errs, naming each.
func RunTests(ctx context.Context, fsys fs.FS) (int, error) {
	modules, err := ReadModules(fsys, true)
	if err != nil {
		return 0, err
	}
	ch, err := tester.NewRunner().SetModules(modules).RunTests(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("run policy tests: %w", err)
	}
	passed := 0
	var failed []string
	for r := range ch {
		switch {
		case r.Error != nil:
			failed = append(failed, fmt.Sprintf("%s.%s: %v", r.Package, r.Name, r.Error))
		case r.Fail:
			failed = append(failed, r.Package+"."+r.Name+" failed")
		case !r.Skip:
			passed++
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return passed, fmt.Errorf("policy tests fail: %s", strings.Join(failed, "; "))
	}
	return passed, nil
}

// Version is the SHA-256 over the names and contents of fsys's .rego files.
func Version(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".rego" {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read policies: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Status returns the running policies' version and the last refused load.
func (e *Engine) Status() Status {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := e.status
	st.Decisions = slices.Clone(st.Decisions)
	return st
}

// Version is the running policies' version (Status().Version): caches of decisions follow it.
func (e *Engine) Version() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.status.Version
}

// LogDecisions logs the given fraction (0–1) of decisions to log, for audit. Inputs carry
// organisations, roles and scopes, never a secret.
func (e *Engine) LogDecisions(log *slog.Logger, fraction float64) {
	e.mu.Lock()
	e.log, e.sample = log, fraction
	e.mu.Unlock()
}

// Watch reloads the policies from dir whenever its .rego files change, polling every interval,
// until ctx ends. A refused load is logged and kept in Status; the running policies stay.
func (e *Engine) Watch(ctx context.Context, dir string, interval time.Duration, log *slog.Logger) {
	fsys := os.DirFS(dir)
	last := e.Status().Version
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := Version(fsys)
		if err != nil || v == last {
			continue
		}
		last = v
		if err := e.Load(ctx, fsys); err != nil {
			log.Error("policy change refused; the running policies stay", "dir", dir, "version", v, "error", err)
			continue
		}
		log.Info("policies reloaded", "dir", dir, "version", v)
	}
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
	rs, err := q.Eval(ctx, rego.EvalParsedInput(toValue(input)), rego.EvalMetrics(noMetrics), rego.EvalExternalCancel(&ctxCancel{ctx: ctx}), rego.EvalGenerateJSON(asAST))
	if err != nil {
		return Decision{}, fmt.Errorf("evaluate %s: %w", decision, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, fmt.Errorf("policy %s: undefined result", decision)
	}
	obj, ok := rs[0].Expressions[0].Value.(ast.Object)
	if !ok {
		return Decision{}, fmt.Errorf("policy %s: result is %v, want an object", decision, rs[0].Expressions[0].Value)
	}
	d, err := decisionOf(obj)
	if err != nil {
		return Decision{}, fmt.Errorf("policy %s: %w", decision, err)
	}
	if t := obj.Get(operationsKey); t != nil {
		if ops, ok := t.Value.(ast.Object); ok {
			d.Operations = make(map[string]Decision, ops.Len())
			err = ops.Iter(func(k, v *ast.Term) error {
				id, ok := k.Value.(ast.String)
				if !ok {
					return fmt.Errorf("operation %v: the key is not a string", k)
				}
				o, _ := v.Value.(ast.Object)
				if d.Operations[string(id)], err = decisionOf(o); err != nil {
					return fmt.Errorf("operation %s: %w", id, err)
				}
				return nil
			})
			if err != nil {
				return Decision{}, fmt.Errorf("policy %s, %w", decision, err)
			}
		}
	}
	e.mu.RLock()
	log, sample := e.log, e.sample
	e.mu.RUnlock()
	if log != nil && sample > 0 && rand.Float64() < sample {
		log.Info("policy decision", "decision", decision, "allow", d.Allow, "reasons", d.Reasons, "input", input)
	}
	return d, nil
}

// ctxCancel stops an evaluation when its context ends, checked at each expression, instead of
// the goroutine OPA starts per evaluation to watch ctx, which cost more than a small decision.
type ctxCancel struct {
	ctx       context.Context
	cancelled atomic.Bool
}

func (c *ctxCancel) Cancel()         { c.cancelled.Store(true) }
func (c *ctxCancel) Cancelled() bool { return c.cancelled.Load() || c.ctx.Err() != nil }

// asAST keeps an evaluation's result in OPA's AST: decisionOf reads the few fields it needs
// from it, instead of OPA converting all of it to Go maps and slices first.
func asAST(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }

var allowKey, reasonsKey, operationsKey = ast.StringTerm("allow"), ast.StringTerm("reasons"), ast.StringTerm("operations")

// decisionOf reads {"allow": bool, "reasons": set or array of strings}; other reasons are dropped.
func decisionOf(obj ast.Object) (Decision, error) {
	var allow ast.Value
	if obj != nil {
		if t := obj.Get(allowKey); t != nil {
			allow = t.Value
		}
	}
	b, ok := allow.(ast.Boolean)
	if !ok {
		return Decision{}, errors.New("result has no boolean allow")
	}
	d := Decision{Allow: bool(b), Reasons: []string{}}
	if t := obj.Get(reasonsKey); t != nil {
		d.Reasons = stringsOf(t.Value)
	}
	return d, nil
}

// stringsOf returns the strings of a set or an array, sorted; it allocates nothing for an empty
// one, an allowed decision's reasons.
func stringsOf(v ast.Value) []string {
	switch c := v.(type) {
	case ast.Set:
		if c.Len() > 0 {
			return sortedStrings(c.Foreach)
		}
	case *ast.Array:
		if c.Len() > 0 {
			return sortedStrings(c.Foreach)
		}
	}
	return []string{}
}

func sortedStrings(foreach func(func(*ast.Term))) []string {
	var out []string
	foreach(func(t *ast.Term) {
		if s, ok := t.Value.(ast.String); ok {
			out = append(out, string(s))
		}
	})
	if out == nil {
		return []string{}
	}
	slices.Sort(out)
	return out
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

// toValue converts the plain Go values Onramp builds inputs from into OPA's AST without OPA's
// reflection-and-JSON round trip, which dominated a decision's cost; anything else takes OPA's
// general conversion.
func toValue(v any) ast.Value {
	switch x := v.(type) {
	case nil:
		return ast.NullValue
	case string:
		return ast.String(x)
	case bool:
		return ast.InternedTerm(x).Value
	case int:
		return ast.IntNumberTerm(x).Value
	case int64:
		return ast.IntNumberTerm(int(x)).Value
	case float64:
		return ast.FloatNumberTerm(x).Value
	case []string:
		terms := make([]*ast.Term, len(x))
		for i, s := range x {
			terms[i] = ast.StringTerm(s)
		}
		return ast.NewArray(terms...)
	case []any:
		terms := make([]*ast.Term, len(x))
		for i, e := range x {
			terms[i] = ast.NewTerm(toValue(e))
		}
		return ast.NewArray(terms...)
	case map[string]any:
		return objectOf(x)
	case ast.Value:
		return x
	}
	if val, err := ast.InterfaceToValue(v); err == nil {
		return val
	}
	return ast.NullValue
}

// objectOf converts x with a handful of allocations whatever its size: the pairs stay on the
// stack and the values that need a new term share one slice of them.
func objectOf(x map[string]any) ast.Object {
	var buf [8][2]*ast.Term
	pairs := buf[:0]
	if len(x) > len(buf) {
		pairs = make([][2]*ast.Term, 0, len(x))
	}
	n := 0
	for _, e := range x {
		if _, ok := e.(bool); !ok {
			n++
		}
	}
	terms := make([]ast.Term, n)
	for k, e := range x {
		var t *ast.Term
		if b, ok := e.(bool); ok {
			t = ast.InternedTerm(b)
		} else {
			t, terms = &terms[0], terms[1:]
			t.Value = toValue(e)
		}
		pairs = append(pairs, [2]*ast.Term{keyTerm(k), t})
	}
	return ast.NewObject(pairs...)
}

// keyTerms interns object keys (field names, scopes, environments: a small, bounded vocabulary);
// terms are immutable, so one can serve every evaluation.
var keyTerms sync.Map

func keyTerm(k string) *ast.Term {
	if t, ok := keyTerms.Load(k); ok {
		return t.(*ast.Term)
	}
	t := ast.StringTerm(k)
	if len(k) <= 64 {
		keyTerms.Store(k, t)
	}
	return t
}
