package devenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLoadSecretsPersistsAndProtects(t *testing.T) {
	dir := t.TempDir()
	s1, err := LoadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s1.KratosCipher) != 32 {
		t.Errorf("cipher secret has %d characters, Kratos needs exactly 32", len(s1.KratosCipher))
	}
	if len(s1.AdminToken) < 32 || len(s1.CourierToken) < 32 || len(s1.KratosCookie) < 32 {
		t.Errorf("secrets too short: %+v", s1)
	}
	s2, err := LoadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s1 != s2 {
		t.Error("secrets changed between loads of the same directory")
	}
	for _, f := range []string{"secrets.json", "admin-token"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, err %v; want 0600", f, info.Mode().Perm(), err)
		}
	}
	if other, _ := LoadSecrets(t.TempDir()); other.AdminToken == s1.AdminToken {
		t.Error("two data directories got the same admin token")
	}
}

func TestRenderKratosConfig(t *testing.T) {
	dir := t.TempDir()
	secrets, _ := LoadSecrets(dir)
	path, err := renderKratosConfig(dir, KratosOptions{Host: "127.0.0.1", PublicPort: 14433, AdminPort: 14434,
		PortalURL: "http://127.0.0.1:14000/", Secrets: secrets}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "PLACEHOLDER") || strings.Contains(string(raw), "/etc/config") {
		t.Errorf("rendered config keeps a template value:\n%s", raw)
	}
	var cfg struct {
		DSN   string `yaml:"dsn"`
		Serve struct {
			Public struct {
				Port int `yaml:"port"`
			} `yaml:"public"`
		} `yaml:"serve"`
		Selfservice struct {
			Flows struct {
				Login struct {
					UIURL string `yaml:"ui_url"`
				} `yaml:"login"`
			} `yaml:"flows"`
		} `yaml:"selfservice"`
		Secrets struct {
			Cipher []string `yaml:"cipher"`
		} `yaml:"secrets"`
		Courier struct {
			HTTP struct {
				RequestConfig struct {
					URL string `yaml:"url"`
				} `yaml:"request_config"`
			} `yaml:"http"`
		} `yaml:"courier"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Serve.Public.Port != 14433 || !strings.HasPrefix(cfg.DSN, "sqlite://"+dir) ||
		cfg.Selfservice.Flows.Login.UIURL != "http://127.0.0.1:14000/login" ||
		cfg.Courier.HTTP.RequestConfig.URL != "http://127.0.0.1:14000/dev/mail/courier" ||
		len(cfg.Secrets.Cipher) != 1 || cfg.Secrets.Cipher[0] != secrets.KratosCipher {
		t.Errorf("rendered config = %+v", cfg)
	}
	if !strings.Contains(string(raw), "http://127.0.0.1:14000/hooks/kratos/registration") || !strings.Contains(string(raw), "Bearer "+secrets.HookToken) {
		t.Errorf("rendered config lacks the registration gate with its token")
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("rendered config mode %v holds secrets; want 0600", info.Mode().Perm())
	}
}

func TestSetPathRefusesUnknownKeys(t *testing.T) {
	m := map[string]any{"serve": map[string]any{"public": map[string]any{"port": 1}}}
	if err := setPath(m, "serve.public.port", 2); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"serve.public.prot", "serve.pubic.port", "nothing"} {
		if err := setPath(m, p, 3); err == nil {
			t.Errorf("setPath(%q) succeeded on a key the template lacks", p)
		}
	}
}
