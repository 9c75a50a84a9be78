package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
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

	// The operator ports (Temporal's API and Web UI, which can approve production access; Mailpit,
	// which holds every sign-in code) are published on loopback only.
	cmd = exec.Command(bin, "--env-file", ".env.example", "config")
	cmd.Dir = root
	rendered, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Ports []any `yaml:"ports"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(rendered, &doc); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"temporal", "temporal-ui", "mailpit"} {
		ports := doc.Services[svc].Ports
		if len(ports) == 0 {
			t.Errorf("%s publishes no port; the check would not run", svc)
		}
		for _, p := range ports {
			if s := fmt.Sprint(p); !strings.HasPrefix(s, "127.0.0.1:") && !strings.Contains(s, "host_ip:127.0.0.1") {
				t.Errorf("%s publishes %v beyond loopback", svc, p)
			}
		}
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
