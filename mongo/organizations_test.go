package mongo_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/mongo"
)

func TestOrganizations(t *testing.T) {
	s := mongo.NewOrganizations(MustOpen(t), MustKeyring(t))
	ctx := t.Context()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"org_a", "org_b"} {
		o := onramp.Organization{ID: id, Name: "Org " + id, Tier: "standard", Status: onramp.OrgInvited,
			ContactEmail: id + "@x.example", InvitedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.SaveOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListOrganizations(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "org_b" {
		t.Fatalf("list = %+v, %v; want org_b (newest) first", list, err)
	}
	if _, err := s.FindOrganization(ctx, "org_missing"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("Find(missing) error = %v, want ENOTFOUND", err)
	}
	if err := s.SetOrganizationStatus(ctx, "org_missing", onramp.OrgActive, nil); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("SetStatus(missing) error = %v, want ENOTFOUND", err)
	}

	first, second := t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	if err := s.SetOrganizationStatus(ctx, "org_a", onramp.OrgActive, &first); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOrganizationStatus(ctx, "org_a", onramp.OrgActive, &second); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindOrganization(ctx, "org_a")
	if err != nil || got.Status != onramp.OrgActive || got.FirstSignInAt == nil || !got.FirstSignInAt.Equal(first) {
		t.Fatalf("org_a = %+v, %v; want active with the first sign-in time kept", got, err)
	}
	if err := s.DeleteOrganization(ctx, "org_b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindOrganization(ctx, "org_b"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("after delete: %v, want ENOTFOUND", err)
	}
}

func TestSSOOrganizationByDomain(t *testing.T) {
	db := MustOpen(t)
	for i := 0; i < 2; i++ { // the second call finds them all present
		if err := db.EnsureIndexes(t.Context()); err != nil {
			t.Fatalf("EnsureIndexes #%d: %v", i+1, err)
		}
	}
	s := mongo.NewOrganizations(db, MustKeyring(t))
	o := onramp.Organization{ID: "org_sso", Name: "SSO", Tier: "standard", ContactEmail: "a@one.example", InvitedAt: time.Now(),
		SSO: &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", Domains: []string{"one.example", "two.example"}}}
	if err := s.SaveOrganization(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	for domain, want := range map[string]bool{"two.example": true, "one.example": true, "three.example": false} {
		got, found, err := s.SSOOrganization(t.Context(), domain)
		if err != nil || found != want || (want && (got.ID != "org_sso" || got.SSO.ClientSecret != "s")) {
			t.Errorf("SSOOrganization(%s) = %+v, %v, %v; want found=%v", domain, got.ID, found, err, want)
		}
	}
}

// MustKeyring is a credential keyring with one test key.
func MustKeyring(tb testing.TB) *credentials.Keyring {
	tb.Helper()
	k, err := credentials.ParseKeyring("test:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// A partner's SSO client secret never reaches the database in plaintext: what is stored is sealed
// (bound to the organisation), and reading gives the secret back.
func TestSSOClientSecretIsSealedAtRest(t *testing.T) {
	db := MustOpen(t)
	s := mongo.NewOrganizations(db, MustKeyring(t))
	secret := "idp-client-secret-9f8e7d6c5b4a"
	o := onramp.Organization{ID: "org_sealed", Name: "Sealed", Tier: "standard", ContactEmail: "a@sealed.example", InvitedAt: time.Now(),
		SSO: &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: secret, Domains: []string{"sealed.example"}}}
	if err := s.SaveOrganization(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	var raw bson.M
	if err := db.Collection("organizations").FindOne(t.Context(), bson.M{"_id": "org_sealed"}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	dump, _ := bson.MarshalExtJSON(raw, false, false)
	if strings.Contains(string(dump), secret) || !strings.Contains(string(dump), `"client_secret_sealed":{"$binary"`) {
		t.Fatalf("stored document %s: want the secret sealed, not in plaintext", dump)
	}
	if o.SSO.ClientSecret != secret {
		t.Errorf("saving changed the caller's organisation: %q", o.SSO.ClientSecret)
	}
	for name, read := range map[string]func() (onramp.Organization, error){
		"find": func() (onramp.Organization, error) { return s.FindOrganization(t.Context(), "org_sealed") },
		"list": func() (onramp.Organization, error) { l, err := s.ListOrganizations(t.Context()); return l[0], err },
		"sso": func() (onramp.Organization, error) {
			got, _, err := s.SSOOrganization(t.Context(), "sealed.example")
			return got, err
		},
	} {
		got, err := read()
		if err != nil || got.SSO == nil || got.SSO.ClientSecret != secret || got.SSO.SealedSecret != nil {
			t.Errorf("%s: %+v, %v; want the secret opened", name, got.SSO, err)
		}
	}
	other, _ := credentials.ParseKeyring("other:" + base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210")))
	if _, err := mongo.NewOrganizations(db, other).FindOrganization(t.Context(), "org_sealed"); err == nil {
		t.Error("a keyring without the sealing key opened the secret")
	}
}

func TestMembers(t *testing.T) {
	s := mongo.NewOrganizations(MustOpen(t), MustKeyring(t))
	ctx := t.Context()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for _, org := range []string{"org_a", "org_b"} {
		m := onramp.Member{OrgID: org, IdentityID: "id-1", Email: "dev@x.example", Role: onramp.RoleOwner, JoinedAt: t0}
		if err := s.SaveMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveMember(ctx, m); err != nil { // idempotent
			t.Fatal(err)
		}
	}
	ms, err := s.MembershipsOf(ctx, "id-1")
	if err != nil || len(ms) != 2 {
		t.Fatalf("memberships = %+v, %v; want one per organisation", ms, err)
	}
	if other, _ := s.MembershipsOf(ctx, "id-2"); len(other) != 0 {
		t.Errorf("someone else's memberships = %+v", other)
	}
	id := onramp.MemberID("org_a", "id-1")
	if ok, err := s.MarkFirstSignIn(ctx, id, t0); err != nil || !ok {
		t.Fatalf("first MarkFirstSignIn = %v, %v; want recorded", ok, err)
	}
	if ok, err := s.MarkFirstSignIn(ctx, id, t0.Add(time.Hour)); err != nil || ok {
		t.Fatalf("second MarkFirstSignIn = %v, %v; want not recorded again", ok, err)
	}
}

// Two portal nodes (two clients) demote an organisation's two owners at the same moment: one
// change wins, the other is refused, and the organisation keeps exactly one owner. The same for
// two removals. (FerretDB loses concurrent updates of one document, so the invariant must not rest
// on a read before a write.)
func TestTeamKeepsAnOwnerUnderConcurrentChanges(t *testing.T) {
	dbs := MustOpenClients(t, 2)
	nodes := []*mongo.Organizations{mongo.NewOrganizations(dbs[0], MustKeyring(t)), mongo.NewOrganizations(dbs[1], MustKeyring(t))}
	ctx := t.Context()
	for round, change := range []func(s *mongo.Organizations, memberID string) error{
		func(s *mongo.Organizations, id string) error { return s.SetMemberRole(ctx, id, onramp.RoleAdmin) },
		func(s *mongo.Organizations, id string) error { return s.DeleteMember(ctx, id) },
	} {
		org := fmt.Sprintf("org_race%d", round)
		var ids []string
		for _, who := range []string{"id-a", "id-b"} {
			m := onramp.Member{OrgID: org, IdentityID: who, Email: who + "@x.example", Role: onramp.RoleOwner, JoinedAt: time.Now()}
			if err := nodes[0].SaveMember(ctx, m); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, onramp.MemberID(org, who))
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = change(nodes[i], ids[i]) }()
		}
		wg.Wait()
		conflicts := 0
		for _, err := range errs {
			switch onramp.ErrorCode(err) {
			case "":
			case onramp.ECONFLICT:
				conflicts++
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		members, err := nodes[0].MembersOf(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		owners := 0
		for _, m := range members {
			if m.Role == onramp.RoleOwner {
				owners++
			}
		}
		if conflicts != 1 || owners != 1 {
			t.Errorf("round %d: %d refused, %d owners left (%+v); want exactly one refused and one owner", round, conflicts, owners, members)
		}
	}
}
