package teamtest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// NewStores returns n stores over the same, empty data: n nodes (clients) of the real store, or
// one fake n times.
type NewStores func(t *testing.T, n int) []Store

// RunContract runs the whole contract.
func RunContract(t *testing.T, newStores NewStores) {
	t.Run("organizations", func(t *testing.T) { runOrganizations(t, newStores(t, 1)[0]) })
	t.Run("concurrent organization updates", func(t *testing.T) { runConcurrentUpdates(t, newStores(t, 2)) })
	t.Run("one organisation per SSO domain, also under concurrent invitations", func(t *testing.T) { runSSODomainsUnique(t, newStores(t, 2)) })
	t.Run("members", func(t *testing.T) { runMembers(t, newStores(t, 1)[0]) })
	t.Run("invitations", func(t *testing.T) { runInvitations(t, newStores(t, 1)[0]) })
	t.Run("an owner is kept", func(t *testing.T) { runOwnerKept(t, newStores(t, 1)[0]) })
	t.Run("an owner is kept under concurrent changes", func(t *testing.T) { runOwnerKeptConcurrently(t, newStores(t, 2)) })
	t.Run("audit", func(t *testing.T) { runAudit(t, newStores(t, 1)[0]) })
	t.Run("partner list pages, filters and search", func(t *testing.T) { runPartnerPages(t, newStores(t, 1)[0]) })
	t.Run("team lists page", func(t *testing.T) { runTeamPages(t, newStores(t, 1)[0]) })
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func org(id string, invited time.Time) onramp.Organization {
	return onramp.Organization{ID: id, Name: "Org " + id, Tier: "standard", Status: onramp.OrgInvited, ContactEmail: id + "@x.example", InvitedAt: invited}
}

func runOrganizations(t *testing.T, s Store) {
	ctx := t.Context()
	for i, id := range []string{"org_a", "org_b"} {
		if err := s.CreateOrganization(ctx, org(id, t0.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateOrganization(ctx, org("org_a", t0)); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("creating org_a again = %v, want ECONFLICT", err)
	}
	page, err := s.ListOrganizations(ctx, onramp.OrgQuery{})
	list := page.Items
	if err != nil || len(list) != 2 || list[0].ID != "org_b" || list[1].ID != "org_a" {
		t.Fatalf("list = %+v, %v; want org_b (newest) then org_a", list, err)
	}
	if _, err := s.FindOrganization(ctx, "org_missing"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("Find(missing) = %v, want ENOTFOUND", err)
	}
	if err := s.SetOrganizationStatus(ctx, "org_missing", onramp.OrgActive, nil); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("SetStatus(missing) = %v, want ENOTFOUND", err)
	}
	first, second := t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	for _, at := range []*time.Time{&first, &second} {
		if err := s.SetOrganizationStatus(ctx, "org_a", onramp.OrgActive, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FindOrganization(ctx, "org_a")
	if err != nil || got.Status != onramp.OrgActive || got.FirstSignInAt == nil || !got.FirstSignInAt.Equal(first) {
		t.Fatalf("org_a = %+v, %v; want active with the first sign-in time kept", got, err)
	}

	updated, err := s.UpdateOrganization(ctx, "org_a", func(o *onramp.Organization) error { o.MaxCredentialAge = "720h"; return nil })
	if err != nil || updated.MaxCredentialAge != "720h" || updated.Status != onramp.OrgActive {
		t.Fatalf("update = %+v, %v; want the change and everything else kept", updated, err)
	}
	refused := onramp.Errorf(onramp.EINVALID, "no")
	if _, err := s.UpdateOrganization(ctx, "org_a", func(o *onramp.Organization) error { o.Name = "changed"; return refused }); err != refused {
		t.Errorf("a refusing change = %v, want its error", err)
	}
	if got, _ := s.FindOrganization(ctx, "org_a"); got.Name != "Org org_a" || got.MaxCredentialAge != "720h" {
		t.Errorf("after a refused change: %+v, want nothing stored", got)
	}
	if _, err := s.UpdateOrganization(ctx, "org_missing", func(*onramp.Organization) error { return nil }); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("update(missing) = %v, want ENOTFOUND", err)
	}

	sso := org("org_sso", t0)
	sso.SSO = &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s3cret", Domains: []string{"one.example", "two.example"}}
	if err := s.CreateOrganization(ctx, sso); err != nil {
		t.Fatal(err)
	}
	for domain, want := range map[string]bool{"two.example": true, "one.example": true, "three.example": false} {
		got, found, err := s.SSOOrganization(ctx, domain)
		if err != nil || found != want || (want && (got.ID != "org_sso" || got.SSO.ClientSecret != "s3cret")) {
			t.Errorf("SSOOrganization(%s) = %s, %v, %v; want found=%v with its secret", domain, got.ID, found, err, want)
		}
	}
	if err := s.DeleteOrganization(ctx, "org_b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindOrganization(ctx, "org_b"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("after delete: %v, want ENOTFOUND", err)
	}
}

// Twenty changes of one organisation from two nodes at once: none is lost.
func runConcurrentUpdates(t *testing.T, nodes []Store) {
	ctx := t.Context()
	if err := nodes[0].CreateOrganization(ctx, org("org_busy", t0)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := nodes[i%len(nodes)].UpdateOrganization(ctx, "org_busy", func(o *onramp.Organization) error { o.Name += "x"; return nil })
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := nodes[1].FindOrganization(ctx, "org_busy")
	if n := strings.Count(got.Name, "x"); n != 20 {
		t.Errorf("after 20 concurrent changes the name has %d of them: %q", n, got.Name)
	}
}

// Eight invitations from two nodes claim one domain at once: exactly one is stored. An update
// cannot claim a taken domain either, and an organisation keeps its own domains when changed.
func runSSODomainsUnique(t *testing.T, nodes []Store) {
	ctx := t.Context()
	withSSO := func(id string, domains ...string) onramp.Organization {
		o := org(id, t0)
		o.SSO = &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", Domains: domains}
		return o
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- nodes[i%len(nodes)].CreateOrganization(ctx, withSSO(fmt.Sprintf("org_claim%d", i), fmt.Sprintf("own%d.example", i), "shared.example"))
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	stored, refused := 0, 0
	for err := range errs {
		switch onramp.ErrorCode(err) {
		case "":
			stored++
		case onramp.ECONFLICT:
			refused++
		default:
			t.Errorf("a claim failed with %v, want success or ECONFLICT", err)
		}
	}
	page, _ := nodes[1].ListOrganizations(ctx, onramp.OrgQuery{})
	all := page.Items
	if stored != 1 || refused != 7 || len(all) != 1 {
		t.Fatalf("%d stored, %d refused, %d organisations: want one claim of shared.example to win", stored, refused, len(all))
	}
	if err := nodes[0].CreateOrganization(ctx, withSSO("org_other", "other.example")); err != nil {
		t.Fatal(err)
	}
	_, err := nodes[1].UpdateOrganization(ctx, "org_other", func(o *onramp.Organization) error {
		o.SSO.Domains = append(o.SSO.Domains, "shared.example")
		return nil
	})
	if onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("an update claiming a taken domain = %v, want ECONFLICT", err)
	}
	if got, _ := nodes[0].FindOrganization(ctx, "org_other"); len(got.SSO.Domains) != 1 {
		t.Errorf("after the refused update its domains are %v, want only other.example", got.SSO.Domains)
	}
	if _, err := nodes[1].UpdateOrganization(ctx, "org_other", func(o *onramp.Organization) error { o.Name = "Renamed"; return nil }); err != nil {
		t.Errorf("a change that keeps its own domains = %v", err)
	}
}

func runMembers(t *testing.T, s Store) {
	ctx := t.Context()
	for _, o := range []string{"org_a", "org_b"} {
		m := onramp.Member{OrgID: o, IdentityID: "id-1", Email: "dev@x.example", Role: onramp.RoleOwner, JoinedAt: t0}
		for range 2 { // idempotent
			if err := s.SaveMember(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	ms, err := s.MembershipsOf(ctx, "id-1")
	if err != nil || len(ms) != 2 || ms[0].ID != onramp.MemberID(ms[0].OrgID, "id-1") {
		t.Fatalf("memberships = %+v, %v; want one per organisation with its id", ms, err)
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
	members, _ := s.MembersOf(ctx, "org_a")
	if len(members) != 1 || members[0].FirstSignInAt == nil || !members[0].FirstSignInAt.Equal(t0) {
		t.Errorf("members of org_a = %+v, want the first sign-in kept", members)
	}
	if err := s.SaveMember(ctx, onramp.Member{OrgID: "org_b", IdentityID: "id-0", Email: "early@x.example", Role: onramp.RoleDeveloper, JoinedAt: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var got []string
	all, err := s.MembersOfAll(ctx, []string{"org_b", "org_a", "org_none"})
	for _, m := range all {
		got = append(got, m.ID)
	}
	if want := []string{"org_a:id-1", "org_b:id-0", "org_b:id-1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("MembersOfAll = %v, %v; want %v (by organisation, then by joining)", got, err, want)
	}
	if none, err := s.MembersOfAll(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("MembersOfAll(none) = %v, %v", none, err)
	}
}

func runInvitations(t *testing.T, s Store) {
	ctx := t.Context()
	for i, id := range []string{"inv_1", "inv_2"} {
		inv := onramp.MemberInvitation{ID: id, OrgID: "org_a", Email: "new@x.example", Role: onramp.RoleDeveloper, IdentityID: "id-new",
			Status: onramp.InvitationPending, CreatedAt: t0.Add(time.Duration(i) * time.Hour), ExpiresAt: t0.Add(24 * time.Hour)}
		if err := s.SaveInvitation(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FindInvitation(ctx, "inv_1")
	if err != nil || got.IdentityID != "id-new" || !got.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("FindInvitation = %+v, %v; want the identity it is bound to kept", got, err)
	}
	if _, err := s.FindInvitation(ctx, "inv_x"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("FindInvitation(unknown) = %v", err)
	}
	pending, _ := s.PendingInvitationsFor(ctx, "new@x.example")
	if len(pending) != 2 || pending[0].ID != "inv_1" {
		t.Fatalf("pending = %+v, want both, oldest first", pending)
	}
	if err := s.SetInvitationStatus(ctx, "inv_1", onramp.InvitationAccepted); err != nil {
		t.Fatal(err)
	}
	if err := s.SetInvitationStatus(ctx, "inv_1", onramp.InvitationAccepted); err != nil {
		t.Errorf("repeating the same status = %v, want nil (a retried activity)", err)
	}
	if err := s.SetInvitationStatus(ctx, "inv_1", onramp.InvitationCancelled); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("cancelling an accepted invitation = %v, want ECONFLICT", err)
	}
	if err := s.SetInvitationStatus(ctx, "inv_x", onramp.InvitationCancelled); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("SetInvitationStatus(unknown) = %v, want ENOTFOUND", err)
	}
	if pending, _ := s.PendingInvitationsFor(ctx, "new@x.example"); len(pending) != 1 || pending[0].ID != "inv_2" {
		t.Errorf("pending after acceptance = %+v, want inv_2 only", pending)
	}
	all, _ := s.Invitations(ctx, "org_a")
	if len(all) != 2 || all[0].ID != "inv_2" {
		t.Errorf("invitations = %+v, want both, newest first", all)
	}
}

func owners(t *testing.T, s Store, orgID string) int {
	t.Helper()
	ms, err := s.MembersOf(t.Context(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.Role == onramp.RoleOwner {
			n++
		}
	}
	return n
}

func runOwnerKept(t *testing.T, s Store) {
	ctx := t.Context()
	m := onramp.Member{OrgID: "org_1", IdentityID: "only", Email: "only@x.example", Role: onramp.RoleOwner, JoinedAt: t0}
	if err := s.SaveMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	id := onramp.MemberID("org_1", "only")
	if err := s.SetMemberRole(ctx, id, onramp.RoleAdmin); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("demoting the only owner = %v, want ECONFLICT", err)
	}
	if err := s.DeleteMember(ctx, id); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("removing the only owner = %v, want ECONFLICT", err)
	}
	if n := owners(t, s, "org_1"); n != 1 {
		t.Fatalf("%d owners left, want 1", n)
	}
	if err := s.SetMemberRole(ctx, "org_1:nobody", onramp.RoleAdmin); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("SetMemberRole(unknown) = %v, want ENOTFOUND", err)
	}
	if err := s.DeleteMember(ctx, "org_1:nobody"); err != nil {
		t.Errorf("DeleteMember(unknown) = %v, want nil", err)
	}
	dev := onramp.Member{OrgID: "org_1", IdentityID: "dev", Email: "dev@x.example", Role: onramp.RoleDeveloper, JoinedAt: t0}
	_ = s.SaveMember(ctx, dev)
	if err := s.SetMemberRole(ctx, onramp.MemberID("org_1", "dev"), onramp.RoleViewer); err != nil {
		t.Errorf("changing a developer = %v", err)
	}
	if err := s.DeleteMember(ctx, onramp.MemberID("org_1", "dev")); err != nil {
		t.Errorf("removing a viewer = %v", err)
	}
}

// Two nodes demote (then remove) an organisation's two owners at the same moment: exactly one
// change goes through and one owner is left.
func runOwnerKeptConcurrently(t *testing.T, nodes []Store) {
	ctx := t.Context()
	for round, change := range []func(s Store, memberID string) error{
		func(s Store, id string) error { return s.SetMemberRole(ctx, id, onramp.RoleAdmin) },
		func(s Store, id string) error { return s.DeleteMember(ctx, id) },
	} {
		orgID := fmt.Sprintf("org_race%d", round)
		var ids []string
		for _, who := range []string{"id-a", "id-b"} {
			m := onramp.Member{OrgID: orgID, IdentityID: who, Email: who + "@x.example", Role: onramp.RoleOwner, JoinedAt: t0}
			if err := nodes[0].SaveMember(ctx, m); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, onramp.MemberID(orgID, who))
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
		if n := owners(t, nodes[1], orgID); conflicts != 1 || n != 1 {
			t.Errorf("round %d: %d refused, %d owners left; want exactly one refused and one owner", round, conflicts, n)
		}
	}
}

func runAudit(t *testing.T, s Store) {
	ctx := t.Context()
	for i := range 5 {
		e := onramp.AuditEvent{ID: fmt.Sprintf("ev_%d", i), OrgID: "org_a", Actor: "a@x.example", Action: "member.invited", Target: "b", At: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	retried := onramp.AuditEvent{ID: "ev_4", OrgID: "org_a", Actor: "a@x.example", Action: "member.invited", Target: "b", At: t0.Add(4 * time.Minute)}
	if err := s.AppendAudit(ctx, retried); err != nil {
		t.Fatal(err)
	}
	_ = s.AppendAudit(ctx, onramp.AuditEvent{OrgID: "org_b", Action: "other", At: t0})
	page, err := s.Audit(ctx, "org_a", onramp.PageRequest{Limit: 3})
	got := page.Items
	if err != nil || len(got) != 3 || got[0].ID != "ev_4" || got[0].Action != "member.invited" || got[2].ID != "ev_2" || page.Next == "" {
		t.Fatalf("audit = %+v, %v; want the newest 3, the retried write counted once, and a next page", got, err)
	}
	rest, _ := s.Audit(ctx, "org_a", onramp.PageRequest{Cursor: page.Next, Limit: 3})
	if len(rest.Items) != 2 || rest.Items[1].ID != "ev_0" || rest.Next != "" || rest.Prev == "" {
		t.Errorf("the rest of org_a's audit = %+v, want ev_1 and ev_0, the end", rest)
	}
}
