// Package credentialstest holds the contracts that the MongoDB credential and usage stores and
// their in-memory fakes all pass, and the fakes.
package credentialstest

import (
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// RunCredentialStoreContract runs the contract against stores from newStore (each one empty).
func RunCredentialStoreContract(t *testing.T, newStore func(t *testing.T) onramp.CredentialStore) {
	s := newStore(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	a := onramp.Credential{ID: "cred_a", OrgID: "org_1", Environment: onramp.Sandbox, Hash: "hash-a", Status: onramp.CredentialActive, CreatedAt: t0, Scopes: []string{"p:read"}, Sealed: []byte{1, 2, 3}, KeyID: "k1"}
	b := onramp.Credential{ID: "cred_b", OrgID: "org_1", Environment: onramp.Production, Hash: "hash-b", Status: onramp.CredentialActive, CreatedAt: t0.Add(time.Hour)}
	other := onramp.Credential{ID: "cred_c", OrgID: "org_2", Environment: onramp.Sandbox, Hash: "hash-c", Status: onramp.CredentialActive, CreatedAt: t0}
	for _, c := range []onramp.Credential{a, b, other} {
		if err := s.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	dup := a
	dup.Hash = "hash-a2"
	if err := s.CreateCredential(ctx, dup); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Fatalf("creating cred_a again = %v, want ECONFLICT", err)
	}
	if _, err := s.CredentialByHash(ctx, "hash-a2"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("the refused duplicate's hash finds a credential: %v", err)
	}
	got, err := s.CredentialByHash(ctx, "hash-a")
	if err != nil || got.ID != "cred_a" || string(got.Sealed) != "\x01\x02\x03" || got.KeyID != "k1" || len(got.Scopes) != 1 {
		t.Fatalf("CredentialByHash = %+v, %v", got, err)
	}
	if _, err := s.FindCredential(ctx, "cred_x"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("FindCredential(unknown) = %v, want ENOTFOUND", err)
	}
	list, err := s.CredentialsOf(ctx, "org_1")
	if err != nil || len(list) != 2 || list[0].ID != "cred_b" {
		t.Fatalf("CredentialsOf = %+v, %v; want cred_b (newest) then cred_a", list, err)
	}
	if err := s.RevokeCredential(ctx, "cred_a", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeCredential(ctx, "cred_a", t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeCredential(ctx, "cred_x", t0); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("RevokeCredential(unknown) = %v, want ENOTFOUND", err)
	}
	got, _ = s.FindCredential(ctx, "cred_a")
	if got.Status != onramp.CredentialRevoked || got.RevokedAt == nil || !got.RevokedAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("after revoking twice: %+v, want revoked at the first time", got)
	}
	if err := s.ExpireCredential(ctx, "cred_b", t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindCredential(ctx, "cred_b"); got.Status != onramp.CredentialExpiring || got.ExpiresAt == nil || !got.ExpiresAt.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("after ExpireCredential: %+v", got)
	}
	if err := s.ExpireCredential(ctx, "cred_a", t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindCredential(ctx, "cred_a"); got.Status != onramp.CredentialRevoked {
		t.Errorf("expiring a revoked credential un-revoked it: %+v", got)
	}
	if err := s.ExpireCredential(ctx, "cred_x", t0); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("ExpireCredential(unknown) = %v, want ENOTFOUND", err)
	}
}
