package e2e

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real `onramp dev` binary: it reaches ready, serves /readyz, and Ctrl-C (SIGINT) stops it
// and every child process (devstack, Kratos) cleanly.
func TestE2EFoundationCLIDevStopsCleanly(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Join(root, "bin", "onramp")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not built: run `make test` (it builds bin/onramp first)", bin)
	}
	// A relative data directory, as `make dev`'s default .onramp is.
	cwd := t.TempDir()
	data := filepath.Join(cwd, "onramp-data")
	cmd := exec.Command(bin, "dev", "--data", "onramp-data", "--bin", filepath.Join(root, "bin"),
		"--portal-addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0", "--production-addr", "127.0.0.1:0",
		"--temporal-port", "0", "--temporal-ui-port", "0", "--mongo-port", "0",
		"--kratos-public-port", "0", "--kratos-admin-port", "0", "--log-level", "warn")
	cmd.Dir = cwd
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	portal := make(chan string, 1)
	var out bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`^\s+Portal\s+(http://\S+)`)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				portal <- m[1]
			}
		}
		close(portal)
	}()
	var url string
	select {
	case url = <-portal:
	case <-time.After(2 * time.Minute):
		t.Fatalf("onramp dev did not print its summary within 2 minutes\nstderr: %s", stderr.String())
	}
	if url == "" {
		t.Fatalf("onramp dev exited before ready\nstderr: %s", stderr.String())
	}
	portalAt(url)
	MustGetJSON(t, url+"/readyz", http.StatusOK, nil)
	if _, err := os.Stat(filepath.Join(data, "admin-token")); err != nil {
		t.Errorf("no admin token written: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("onramp dev exited with %v after Ctrl-C\nstderr: %s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("onramp dev did not stop within a minute of Ctrl-C")
	}
	if !strings.Contains(out.String(), "Stopped.") {
		t.Errorf("stdout lacks the stop message:\n%s", out.String())
	}
	// No child may outlive it: look for any process still using this run's data directory.
	if left := processesMentioning(t, data); len(left) > 0 {
		t.Errorf("processes left running after Ctrl-C: %v", left)
	}
}

func processesMentioning(t *testing.T, needle string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(args, needle) && !strings.Contains(args, ".test") {
			found = append(found, e.Name()+": "+args)
		}
	}
	return found
}
