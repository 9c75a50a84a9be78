// Package speccheck checks OpenAPI documents with tools independent of the kin-openapi Onramp
// uses: @apidevtools/swagger-parser (npm, under .cache/npm) validates them, and oapi-codegen
// (bin/oapi-codegen) generates a Go client that must compile. `make test-deps` installs both;
// a missing tool fails the test (never skips it), since `make test` installs them first.
package speccheck

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// The generated clients import it; requiring it here keeps it in go.mod, so they compile
	// offline inside this module.
	_ "github.com/oapi-codegen/runtime"
)

// RepoRoot returns the directory of the go.mod above the test's working directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// MustSwaggerParse fails tb unless swagger-parser validates file.
func MustSwaggerParse(tb testing.TB, file string) {
	tb.Helper()
	root := RepoRoot(tb)
	modules := filepath.Join(root, ".cache", "npm", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@apidevtools", "swagger-parser")); err != nil {
		tb.Fatalf("swagger-parser is not installed (%v): run `make test-deps`", err)
	}
	cmd := exec.Command("node", filepath.Join(root, "internal", "speccheck", "validate-openapi.cjs"), file)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "valid:") {
		tb.Fatalf("swagger-parser refuses %s: %v\n%.4000s", filepath.Base(file), err, out)
	}
}

// codegenConfig generates types and a client; real documents name schemas the way oapi-codegen
// names its response wrappers (Ory's batchPatchIdentitiesResponse), so collisions are renamed,
// as a partner generating a client would configure it.
const codegenConfig = `package: client
generate:
  models: true
  client: true
output: client.go
output-options:
  resolve-type-name-collisions: true
`

// MustGenerateGoClient fails tb unless oapi-codegen generates a client (types and client) from
// file that compiles inside this module, offline.
func MustGenerateGoClient(tb testing.TB, file string) {
	tb.Helper()
	root := RepoRoot(tb)
	codegen := filepath.Join(root, "bin", "oapi-codegen")
	if _, err := os.Stat(codegen); err != nil {
		tb.Fatalf("oapi-codegen is not built (%v): run `make test-deps`", err)
	}
	work := filepath.Join(root, "internal", "speccheck", "testdata")
	if err := os.MkdirAll(work, 0o755); err != nil {
		tb.Fatal(err)
	}
	pkgDir, err := os.MkdirTemp(work, "client-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(pkgDir) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	config := filepath.Join(pkgDir, "oapi-codegen.yaml")
	if err := os.WriteFile(config, []byte(codegenConfig), 0o644); err != nil {
		tb.Fatal(err)
	}
	gen := exec.CommandContext(ctx, codegen, "-config", config, file)
	gen.Dir = pkgDir
	out, err := gen.CombinedOutput()
	if err != nil {
		tb.Fatalf("oapi-codegen refuses %s: %v\n%.4000s", filepath.Base(file), err, out)
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", os.DevNull, "./"+filepath.Base(pkgDir))
	build.Dir = work
	build.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	if out, err := build.CombinedOutput(); err != nil {
		src, _ := os.ReadFile(filepath.Join(pkgDir, "client.go"))
		tb.Fatalf("the client generated from %s does not compile: %v\n%.4000s\n%.2000s", filepath.Base(file), err, out, src)
	}
}
