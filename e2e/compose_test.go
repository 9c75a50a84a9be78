package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// docker-compose.yml cannot run here (no Docker engine), so it is validated with Debian's
// docker-compose: it must parse with the example environment, and refuse to start without secrets.
func TestComposeConfig(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Fatal("docker-compose not found: install Debian's docker-compose (done by `make test`)")
	}
	root := repoRoot(t)
	cmd := exec.Command(bin, "--env-file", ".env.example", "config", "-q")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config with .env.example: %v\n%s", err, out)
	}

	empty, err := os.CreateTemp(t.TempDir(), "env")
	if err != nil {
		t.Fatal(err)
	}
	empty.Close()
	cmd = exec.Command(bin, "--env-file", empty.Name(), "config", "-q")
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), ".env.example") {
		t.Fatalf("docker-compose config without secrets: err %v, output %s; want a refusal that points at .env.example", err, out)
	}
}
