package devenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// KratosVersion is the Kratos release the dev stack builds and runs.
const KratosVersion = "v1.3.1"

// EnsureBinaries builds bin/devstack (when missing or older than devstack/'s sources) and
// bin/kratos (when missing or not KratosVersion), printing progress to w: the first builds take
// minutes and must not look like a hang. srcDir is the repository root.
func EnsureBinaries(ctx context.Context, srcDir, binDir string, w io.Writer) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	binDir, err := filepath.Abs(binDir)
	if err != nil {
		return err
	}
	if err := ensureDevstack(ctx, filepath.Join(srcDir, "devstack"), filepath.Join(binDir, "devstack"), w); err != nil {
		return err
	}
	return ensureKratos(ctx, filepath.Join(binDir, "kratos"), w)
}

func ensureDevstack(ctx context.Context, src, bin string, w io.Writer) error {
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		if _, berr := os.Stat(bin); berr == nil {
			return nil // an installed binary without sources (e.g. a release): use it as it is
		}
		return fmt.Errorf("%s is missing and there is no devstack/ source to build it from", bin)
	}
	if fresh, err := newerThanSources(bin, src); err != nil || fresh {
		return err
	}
	fmt.Fprintln(w, "==> Building the dev infrastructure (Temporal server + Web UI + FerretDB) — first time ≈10 minutes on 2 cores")
	cmd := exec.CommandContext(ctx, "go", "build", "-v", "-ldflags", "-s -w", "-o", bin, ".")
	cmd.Dir = src
	if err := runWithProgress(cmd, w); err != nil {
		return fmt.Errorf("build devstack: %w", err)
	}
	fmt.Fprintln(w, "==> bin/devstack built")
	return nil
}

func ensureKratos(ctx context.Context, bin string, w io.Writer) error {
	if out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput(); err == nil && strings.Contains(string(out), KratosVersion) {
		return nil
	}
	fmt.Fprintf(w, "==> Building Ory Kratos %s from its Go module — first time only, 4–10 minutes on 2 cores\n", KratosVersion)
	mod := "github.com/ory/kratos@" + KratosVersion
	tmp, err := os.MkdirTemp("", "kratos-download-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// Downloaded outside any module so this repository's go.mod is left alone.
	dl := exec.CommandContext(ctx, "go", "mod", "download", "-json", mod)
	dl.Dir = tmp
	out, err := dl.Output()
	if err != nil {
		return fmt.Errorf("download %s: %w", mod, err)
	}
	var dir string
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && k == `"Dir"` {
			dir = strings.Trim(strings.TrimSpace(v), `",`)
		}
	}
	if dir == "" {
		return fmt.Errorf("download %s: no module directory in go's answer", mod)
	}
	// Kratos's go.mod has replace directives, so `go install` refuses it: build inside the module.
	cmd := exec.CommandContext(ctx, "go", "build", "-v", "-tags", "sqlite",
		"-ldflags", "-s -w -X github.com/ory/kratos/driver/config.Version="+KratosVersion, "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if err := runWithProgress(cmd, w); err != nil {
		return fmt.Errorf("build kratos: %w", err)
	}
	fmt.Fprintln(w, "==> bin/kratos built")
	return nil
}

// newerThanSources reports whether bin exists and is newer than every file in src.
func newerThanSources(bin, src string) (bool, error) {
	info, err := os.Stat(bin)
	if os.IsNotExist(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	built := info.ModTime()
	newer := false
	err = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if fi, err := d.Info(); err == nil && fi.ModTime().After(built) {
			newer = true
		}
		return nil
	})
	return !newer, err
}

// runWithProgress runs a `go build -v`, printing a running package count and every line that is
// not a package path (compiler errors) as it comes.
func runWithProgress(cmd *exec.Cmd, w io.Writer) error {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		n, last := 0, time.Now()
		for sc.Scan() {
			line := sc.Text()
			if line != "" && !strings.ContainsAny(line, " :") {
				n++
				if time.Since(last) > 15*time.Second {
					fmt.Fprintf(w, "    … %d packages compiled\n", n)
					last = time.Now()
				}
				continue
			}
			fmt.Fprintln(w, line)
		}
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	return err
}
