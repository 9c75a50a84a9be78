package credentials_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
)

func key(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func MustService(tb testing.TB, keys string) (*credentials.Service, *credentialstest.Memory, *catalogtest.Memory) {
	tb.Helper()
	kr, err := credentials.ParseKeyring(keys)
	if err != nil {
		tb.Fatal(err)
	}
	store, assignments := credentialstest.NewMemory(), catalogtest.NewMemory()
	grant := onramp.Grant{Scopes: []string{"payments:read", "payments:write"}, Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 10, Period: "day"}}
	if err := assignments.SaveAssignment(tb.Context(), onramp.Assignment{OrgID: "org_1", Product: "payments", Plan: "standard", Grant: grant}); err != nil {
		tb.Fatal(err)
	}
	svc, err := credentials.New(credentials.Config{Store: store, Assignments: assignments, Keys: kr, PortalURL: "http://portal.test"})
	if err != nil {
		tb.Fatal(err)
	}
	return svc, store, assignments
}

func TestParseKeyringRefusesBadKeys(t *testing.T) {
	for _, spec := range []string{"", "nokid", "k1:" + base64.StdEncoding.EncodeToString([]byte("short")), "k1:" + key(1) + ",k1:" + key(2), ":" + key(1)} {
		if _, err := credentials.ParseKeyring(spec); err == nil {
			t.Errorf("ParseKeyring(%q) accepted", spec)
		}
	}
}

func TestIssueRevealLookupRevoke(t *testing.T) {
	svc, store, _ := MustService(t, "k1:"+key(1))
	ctx := t.Context()
	c, k, err := svc.Issue(ctx, credentials.Request{OrgID: "org_1", Environment: onramp.Sandbox, Label: "CI"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k, "onr_test_") || len(k) < len("onr_test_")+52 || c.Last4 != k[len(k)-4:] || strings.Join(c.Scopes, ",") != "payments:read,payments:write" {
		t.Fatalf("issued %+v with key of %d characters", c, len(k))
	}
	stored, _ := store.FindCredential(ctx, c.ID)
	if bytes.Contains(stored.Sealed, []byte(k)) || stored.Hash != onramp.KeyHash(k) {
		t.Fatal("the key is stored in clear, or not by its hash")
	}
	if got, err := svc.Reveal(ctx, "org_1", c.ID); err != nil || got != k {
		t.Fatalf("Reveal = %q, %v", got, err)
	}
	if _, err := svc.Reveal(ctx, "org_2", c.ID); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("another organisation revealing: %v, want ENOTFOUND", err)
	}
	if got, err := svc.Lookup(ctx, k); err != nil || got.ID != c.ID {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if _, err := svc.Lookup(ctx, k+"x"); onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
		t.Errorf("Lookup(wrong) = %v, want EUNAUTHORIZED", err)
	}
	if _, err := svc.Revoke(ctx, "org_1", c.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Lookup(ctx, k); got.Refusal(time.Now()) != "revoked" {
		t.Errorf("after revoking, refusal = %q", got.Refusal(time.Now()))
	}
	if _, err := svc.Reveal(ctx, "org_1", c.ID); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("revealing a revoked key: %v, want ECONFLICT", err)
	}
}

func TestIssueChecksTheGrant(t *testing.T) {
	svc, _, _ := MustService(t, "k1:"+key(1))
	ctx := t.Context()
	if c, _, err := svc.Issue(ctx, credentials.Request{OrgID: "org_1", Environment: onramp.Sandbox, Scopes: []string{"payments:read"}}); err != nil || strings.Join(c.Scopes, ",") != "payments:read" {
		t.Errorf("read-only key = %+v, %v", c.Scopes, err)
	}
	if _, _, err := svc.Issue(ctx, credentials.Request{OrgID: "org_1", Environment: onramp.Sandbox, Scopes: []string{"payments:refund"}}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a scope outside the grant: %v, want EINVALID", err)
	}
	_, _, err := svc.Issue(ctx, credentials.Request{OrgID: "org_1", Environment: onramp.Production})
	if onramp.ErrorCode(err) != onramp.EFORBIDDEN || !strings.Contains(onramp.ErrorMessage(err), "production access") {
		t.Errorf("production before approval: %v, want EFORBIDDEN naming production access", err)
	}
}

func TestFirstSandboxIsIssuedOnce(t *testing.T) {
	svc, store, _ := MustService(t, "k1:"+key(1))
	a, err := svc.IssueFirstSandbox(t.Context(), "org_1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.IssueFirstSandbox(t.Context(), "org_1")
	if err != nil || a.ID != b.ID || a.Hash != b.Hash {
		t.Fatalf("second run = %+v, %v; want the first credential", b, err)
	}
	if all, _ := store.CredentialsOf(t.Context(), "org_1"); len(all) != 1 {
		t.Errorf("%d credentials, want 1", len(all))
	}
}

func TestKeysRotate(t *testing.T) {
	old, store, assignments := MustService(t, "k1:"+key(1))
	c, k, err := old.Issue(t.Context(), credentials.Request{OrgID: "org_1", Environment: onramp.Sandbox})
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := credentials.ParseKeyring("k2:" + key(2) + ",k1:" + key(1))
	rotated, _ := credentials.New(credentials.Config{Store: store, Assignments: assignments, Keys: kr, PortalURL: "http://portal.test"})
	if got, err := rotated.Reveal(t.Context(), "org_1", c.ID); err != nil || got != k {
		t.Fatalf("old credential after adding k2: %q, %v", got, err)
	}
	c2, _, _ := rotated.Issue(t.Context(), credentials.Request{OrgID: "org_1", Environment: onramp.Sandbox})
	if c2.KeyID != "k2" {
		t.Errorf("new credential sealed with %q, want k2", c2.KeyID)
	}
	if _, err := old.Reveal(t.Context(), "org_1", c2.ID); err == nil {
		t.Error("a keyring without k2 opened a k2 credential")
	}
}
