package mongo_test

import (
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/mongo"
)

func TestOrganizations(t *testing.T) {
	s := mongo.NewOrganizations(MustOpen(t))
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
	s := mongo.NewOrganizations(db)
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

func TestMembers(t *testing.T) {
	s := mongo.NewOrganizations(MustOpen(t))
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
