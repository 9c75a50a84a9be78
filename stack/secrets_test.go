package stack

import (
	"strings"
	"testing"

	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/gateway"
)

// The samples of .env.example (and non-random keys) are refused at start with what to do; real
// secrets pass.
func TestSampleSecretsAreRefused(t *testing.T) {
	real := Config{AdminToken: "4f1c0e9a7b2d8c3e5f6a1b0c9d8e7f6a", KratosHookToken: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
		CredentialKeys: "k1:q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=", TokenSigningKey: "t1:BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY="}
	if err := checkSecrets(real); err != nil {
		t.Fatalf("real secrets refused: %v", err)
	}
	// …and are secrets the stack can use, so the sample is a real one.
	if _, _, err := gateway.ParseTokenKey(real.TokenSigningKey); err != nil {
		t.Fatalf("the real signing key does not parse: %v", err)
	}
	if _, err := credentials.ParseKeyring(real.CredentialKeys); err != nil {
		t.Fatalf("the real credential keys do not parse: %v", err)
	}
	for name, tweak := range map[string]func(*Config){
		"sample admin token":  func(c *Config) { c.AdminToken = "replace-with-at-least-32-random-characters-0000" },
		"sample hook token":   func(c *Config) { c.KratosHookToken = "replace-with-at-least-32-random-characters-1111" },
		"repeated token":      func(c *Config) { c.AdminToken = strings.Repeat("ab", 20) },
		"all-zero credential": func(c *Config) { c.CredentialKeys = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
		"all-zero second key": func(c *Config) {
			c.CredentialKeys = real.CredentialKeys + ",k0:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		},
		"all-zero signing": func(c *Config) { c.TokenSigningKey = "t1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
	} {
		t.Run(name, func(t *testing.T) {
			c := real
			tweak(&c)
			err := checkSecrets(c)
			if err == nil || !strings.Contains(err.Error(), "openssl rand") {
				t.Fatalf("err = %v, want a refusal saying how to generate a real secret", err)
			}
		})
	}
}
