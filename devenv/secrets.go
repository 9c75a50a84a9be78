package devenv

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Secrets are the development secrets, generated once per data directory and kept in
// secrets.json (mode 0600) so sessions and encrypted data survive a restart.
type Secrets struct {
	KratosCookie string `json:"kratos_cookie"`
	KratosCipher string `json:"kratos_cipher"` // exactly 32 characters, as Kratos requires
	CourierToken string `json:"courier_token"` // Kratos's courier authenticates to the dev mailbox with it
	HookToken    string `json:"hook_token"`    // Kratos's registration gate web hook authenticates with it
	// CredentialKeys seal API keys for reveal ("<key id>:<base64 32 bytes>", as CREDENTIAL_KEYS).
	CredentialKeys string `json:"credential_keys"`
	// TokenSigningKey signs OAuth access tokens ("<key id>:<base64 32-byte seed>", as TOKEN_SIGNING_KEY).
	TokenSigningKey string `json:"token_signing_key"`
	AdminToken      string `json:"-"` // kept in admin-token, where the README says it is
}

// LoadSecrets reads dir/secrets.json and dir/admin-token, creating whatever is missing.
func LoadSecrets(dir string) (Secrets, error) {
	var s Secrets
	path := filepath.Join(dir, "secrets.json")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil {
			return s, fmt.Errorf("%s is corrupt (%v); delete it to generate new secrets", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return s, err
	}
	changed := false
	for _, f := range []struct {
		v *string
		n int
	}{{&s.KratosCookie, 32}, {&s.CourierToken, 32}, {&s.HookToken, 32}} {
		if *f.v == "" {
			*f.v = randomString(f.n)
			changed = true
		}
	}
	if s.CredentialKeys == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return s, err
		}
		s.CredentialKeys = "dev1:" + base64.StdEncoding.EncodeToString(b)
		changed = true
	}
	if s.TokenSigningKey == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return s, err
		}
		s.TokenSigningKey = "dev1:" + base64.StdEncoding.EncodeToString(b)
		changed = true
	}
	if len(s.KratosCipher) != 32 {
		s.KratosCipher = randomString(24)[:32]
		changed = true
	}
	if changed {
		b, _ := json.MarshalIndent(s, "", "  ")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return s, err
		}
	}

	tokenPath := filepath.Join(dir, "admin-token")
	tb, err := os.ReadFile(tokenPath)
	switch {
	case err == nil && len(strings.TrimSpace(string(tb))) >= 32:
		s.AdminToken = strings.TrimSpace(string(tb))
	case err == nil || errors.Is(err, os.ErrNotExist):
		s.AdminToken = "onr_admin_" + randomString(32)
		if err := os.WriteFile(tokenPath, []byte(s.AdminToken+"\n"), 0o600); err != nil {
			return s, err
		}
	default:
		return s, err
	}
	return s, nil
}

// randomString returns n random bytes, base64url-encoded (4n/3 characters).
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
