// Package credentialstest holds the contracts that the MongoDB credential and usage stores and
// their in-memory fakes all pass, and the fakes.
package credentialstest

import (
	"strings"
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
	if err := s.TouchCredentials(ctx, map[string]time.Time{"cred_b": t0.Add(4 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindCredential(ctx, "cred_b"); got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("last used = %v", got.LastUsedAt)
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

// RunUsageStoreContract runs the contract against stores from newStore (each one empty).
func RunUsageStoreContract(t *testing.T, newStore func(t *testing.T) onramp.UsageStore) {
	s := newStore(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	events := []onramp.UsageEvent{
		{ID: "req-1", At: t0, OrgID: "org_1", Status: 200, Path: "/p/v1/x"},
		{ID: "req-2", At: t0.Add(time.Second), OrgID: "org_1", Status: 403},
		{ID: "req-3", At: t0, OrgID: "org_2", Status: 200},
	}
	if err := s.RecordUsage(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordUsage(ctx, append(events[:1:1], onramp.UsageEvent{ID: "req-4", At: t0.Add(2 * time.Second), OrgID: "org_1", Status: 400})); err != nil {
		t.Fatalf("a batch with an event already stored: %v", err)
	}
	got, err := s.UsageOf(ctx, "org_1", 10)
	if err != nil || len(got) != 3 || got[0].ID != "req-4" || got[2].ID != "req-1" {
		t.Fatalf("UsageOf = %+v, %v; want req-4, req-2, req-1", got, err)
	}
	totals, err := s.AddToCounters(ctx, map[string]int64{"c1": 3, "c2": 1})
	if err != nil || totals["c1"] != 3 || totals["c2"] != 1 {
		t.Fatalf("AddToCounters = %v, %v", totals, err)
	}
	if totals, _ = s.AddToCounters(ctx, map[string]int64{"c1": 2}); totals["c1"] != 5 {
		t.Errorf("c1 = %d, want 5", totals["c1"])
	}
	if c, err := s.Counters(ctx, []string{"c1", "c9"}); err != nil || c["c1"] != 5 || c["c9"] != 0 {
		t.Errorf("Counters = %v, %v", c, err)
	}
	_ = s.RecordUsage(ctx, []onramp.UsageEvent{{ID: "req-5", At: t0, CredentialID: "cred_a", OrgID: "org_1"}, {ID: "req-6", At: t0.Add(time.Hour), CredentialID: "cred_a", OrgID: "org_1"}})
	if n, err := s.CallsWith(ctx, "cred_a", t0.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("CallsWith = %d, %v; want 1", n, err)
	}
	runCallsAndHours(t, s)
}

// runCallsAndHours checks the call history's filters, the hour totals (each event counted once,
// even when its batch is retried) and the purge.
func runCallsAndHours(t *testing.T, s onramp.UsageStore) {
	ctx := t.Context()
	t0 := time.Date(2026, 11, 28, 23, 30, 0, 0, time.UTC)
	ev := func(id string, after time.Duration, env string, status int, cred, op string) onramp.UsageEvent {
		return onramp.UsageEvent{ID: id, At: t0.Add(after), OrgID: "org_h", Product: "payments", Environment: env, Status: status, CredentialID: cred, Operation: op}
	}
	batch := []onramp.UsageEvent{
		ev("h-1", 0, onramp.Sandbox, 200, "k1", "listPayments"),
		ev("h-2", 10*time.Minute, onramp.Sandbox, 403, "k1", "createPayment"),
		ev("h-3", 40*time.Minute, onramp.Sandbox, 200, "k2", "listPayments"), // the next day, 00:10
		ev("h-4", 50*time.Minute, onramp.Production, 502, "k3", "listPayments"),
		ev("h-5", 55*time.Minute, onramp.Sandbox, 429, "k1", "listPayments"),
	}
	if err := s.RecordUsage(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordUsage(ctx, batch[:2]); err != nil { // a retried batch
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    onramp.CallFilter
		want string
	}{
		{onramp.CallFilter{}, "h-5 h-4 h-3 h-2 h-1"},
		{onramp.CallFilter{Limit: 2}, "h-5 h-4"},
		{onramp.CallFilter{Environment: onramp.Sandbox}, "h-5 h-3 h-2 h-1"},
		{onramp.CallFilter{StatusClass: "4xx"}, "h-5 h-2"},
		{onramp.CallFilter{StatusClass: "5xx"}, "h-4"},
		{onramp.CallFilter{CredentialID: "k1", Operation: "listPayments"}, "h-5 h-1"},
		{onramp.CallFilter{From: t0.Add(10 * time.Minute), To: t0.Add(50 * time.Minute)}, "h-3 h-2"},
	} {
		got, err := s.Calls(ctx, "org_h", c.f)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(got))
		for i, e := range got {
			ids[i] = e.ID
		}
		if strings.Join(ids, " ") != c.want {
			t.Errorf("Calls(%+v) = %v, want %s", c.f, ids, c.want)
		}
	}
	hours, err := s.UsageHours(ctx, "org_h", "payments", onramp.Sandbox, t0.Add(-24*time.Hour), t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []onramp.UsageHour{{Hour: t0.Truncate(time.Hour), Calls: 2, Errors: 1}, {Hour: t0.Add(30 * time.Minute), Calls: 2, Errors: 1}}
	if len(hours) != 2 || !hours[0].Hour.Equal(want[0].Hour) || hours[0].Calls != 2 || hours[0].Errors != 1 || !hours[1].Hour.Equal(want[1].Hour) || hours[1].Calls != 2 || hours[1].Errors != 1 {
		t.Errorf("UsageHours = %+v, want %+v", hours, want)
	}
	if hours, _ := s.UsageHours(ctx, "org_h", "payments", onramp.Sandbox, t0.Add(30*time.Minute), t0.Add(24*time.Hour)); len(hours) != 1 {
		t.Errorf("UsageHours from the next day = %+v, want its one hour", hours)
	}
	n, err := s.PurgeUsage(ctx, t0.Add(30*time.Minute))
	if err != nil || n < 2 {
		t.Fatalf("PurgeUsage = %d, %v; want h-1 and h-2 (and older) gone", n, err)
	}
	if got, _ := s.Calls(ctx, "org_h", onramp.CallFilter{}); len(got) != 3 {
		t.Errorf("after the purge: %d calls, want 3", len(got))
	}
	if hours, _ := s.UsageHours(ctx, "org_h", "payments", onramp.Sandbox, t0.Add(-time.Hour), t0.Add(time.Hour)); len(hours) != 2 {
		t.Errorf("the purge removed hour totals: %+v", hours)
	}
}
