package gateway

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

func TestTokensRoundTripExpiryAndTampering(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))
	tokens, err := NewTokens("k1", key, time.Minute, "onramp", func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	c := onramp.Credential{ID: "cred_1", OrgID: "org_1", Environment: onramp.Sandbox, ClientID: "onr_client_x"}
	tok, exp, err := tokens.issue(c, []string{"payments:read"})
	if err != nil || !exp.Equal(now.Add(time.Minute)) || !looksLikeJWT(tok) {
		t.Fatalf("issue = %q %s %v", tok, exp, err)
	}
	cl, err := tokens.verify(tok, onramp.Sandbox)
	if err != nil || cl.Subject != "cred_1" || cl.Scope != "payments:read" || cl.OrgID != "org_1" {
		t.Fatalf("verify = %+v %v", cl, err)
	}
	if _, err := tokens.verify(tok, onramp.Production); err == nil {
		t.Error("a sandbox token verified for production")
	}
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	if _, err := tokens.verify(tampered, onramp.Sandbox); err == nil {
		t.Error("a tampered token verified")
	}
	other, _ := NewTokens("k2", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{6}, 32)), time.Minute, "onramp", func() time.Time { return now })
	if _, err := other.verify(tok, onramp.Sandbox); err == nil {
		t.Error("a token verified with another key")
	}
	now = now.Add(2 * time.Minute)
	if _, err := tokens.verify(tok, onramp.Sandbox); !errors.Is(err, errExpiredToken) {
		t.Errorf("after expiry: %v, want errExpiredToken", err)
	}
	if len(tokens.JWKS().Keys) != 1 || tokens.JWKS().Keys[0].KeyID != "k1" {
		t.Errorf("JWKS = %+v", tokens.JWKS())
	}
	for _, bad := range []string{"", "k1", "k1:short", ":" + strings.Repeat("A", 44)} {
		if _, _, err := ParseTokenKey(bad); err == nil {
			t.Errorf("ParseTokenKey(%q) accepted", bad)
		}
	}
}
