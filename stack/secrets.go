package stack

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// weakSecret says why a configured secret must not be used, or "": a sample value (from
// .env.example or the docs), or key bytes that are one repeated value (such as all zeros).
// Anyone who read the sample could forge tokens, reveal keys or sign in as the admin.
func weakSecret(value string) string {
	lower := strings.ToLower(value)
	for _, sample := range []string{"replace-with", "replace-me", "placeholder", "changeme", "change-me"} {
		if strings.Contains(lower, sample) {
			return "it is the sample value"
		}
	}
	if distinct(value) < 8 {
		return "it has fewer than 8 distinct characters"
	}
	return ""
}

// weakKeyring says why a "<id>:<base64>[,…]" key list holds a placeholder key, or "".
func weakKeyring(spec string) string {
	for _, part := range strings.Split(spec, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			continue // malformed: the parser says what is wrong
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			raw, err = base64.RawURLEncoding.DecodeString(b64)
		}
		if err == nil && len(raw) > 0 && distinct(string(raw)) < 4 {
			return fmt.Sprintf("key %q is not random (its bytes repeat one value, like the sample's zeros)", id)
		}
	}
	return ""
}

func distinct(s string) int {
	seen := map[byte]bool{}
	for i := 0; i < len(s); i++ {
		seen[s[i]] = true
	}
	return len(seen)
}

// checkSecrets refuses to start with a sample or non-random secret, saying how to make a real one.
func checkSecrets(cfg Config) error {
	gen := "generate one with `openssl rand -hex 32`"
	for _, s := range []struct{ name, value string }{{"ADMIN_TOKEN", cfg.AdminToken}, {"KRATOS_HOOK_TOKEN", cfg.KratosHookToken}} {
		if s.value == "" {
			continue
		}
		if why := weakSecret(s.value); why != "" {
			return fmt.Errorf("%s cannot be used: %s; %s", s.name, why, gen)
		}
	}
	keyGen := "generate each key with `openssl rand -base64 32` and write <key id>:<base64>"
	for _, s := range []struct{ name, value string }{{"CREDENTIAL_KEYS", cfg.CredentialKeys}, {"TOKEN_SIGNING_KEY", cfg.TokenSigningKey}} {
		if why := weakKeyring(s.value); why != "" {
			return fmt.Errorf("%s cannot be used: %s; %s", s.name, why, keyGen)
		}
	}
	return nil
}
