package teamtest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// Words partner names are made of, so searches find some and miss others.
var nameWords = []string{"Acme", "Globex", "Initech", "Umbrella", "Müller", "Stark", "Wayne", "Tyrell", "Acmeline", "Soylent"}

// MustWalk follows Next from the first page of q and returns every item, checking each page
// against want's reference pagination (items, and whether there are Next and Prev pages).
func MustWalk(t *testing.T, s Store, q onramp.OrgQuery, want []onramp.Organization) []onramp.Organization {
	t.Helper()
	ctx := t.Context()
	pos := onramp.Organization.Position
	if term := q.ScanTerm(); term != "" {
		pos = func(o onramp.Organization) onramp.Position { return o.SearchPosition(term) }
	}
	var seen []onramp.Organization
	var last onramp.Page[onramp.Organization]
	for {
		got, err := s.ListOrganizations(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := onramp.PageOf(want, pos, q.Page)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(orgIDs(got.Items), orgIDs(ref.Items)) || (got.Next == "") != (ref.Next == "") || (got.Prev == "") != (ref.Prev == "") {
			t.Fatalf("%+v: page = %v (next %v, prev %v), want %v (next %v, prev %v)", q, orgIDs(got.Items), got.Next != "", got.Prev != "",
				orgIDs(ref.Items), ref.Next != "", ref.Prev != "")
		}
		seen, last = append(seen, got.Items...), got
		if got.Next == "" {
			break
		}
		q.Page.Cursor = got.Next
	}
	// And back from the last page to the first.
	var back []string
	for q.Page.Cursor = last.Prev; q.Page.Cursor != ""; {
		got, err := s.ListOrganizations(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		back = append(orgIDs(got.Items), back...)
		q.Page.Cursor = got.Prev
	}
	if n := len(seen) - len(last.Items); !slices.Equal(back, orgIDs(seen[:n])) {
		t.Fatalf("%+v: walking back gave %d organisations, want the %d before the last page", q, len(back), n)
	}
	return seen
}

func orgIDs(os []onramp.Organization) []string {
	out := []string{}
	for _, o := range os {
		out = append(out, o.ID)
	}
	return out
}

// createPartners creates 150 organisations of every status, names and e-mail domains to search.
func createPartners(t *testing.T, s Store) []onramp.Organization {
	ctx := t.Context()
	var all []onramp.Organization
	statuses := []string{onramp.OrgInvited, onramp.OrgActive, onramp.OrgActive, onramp.OrgExpired}
	for i := range 150 {
		o := org(fmt.Sprintf("org_p%03d", i), t0.Add(time.Duration(i%50)*time.Minute)) // ties in time: ids decide
		o.Name = nameWords[i%len(nameWords)] + " " + nameWords[(i/len(nameWords))%len(nameWords)] + fmt.Sprintf(" %d", i)
		o.ContactEmail = fmt.Sprintf("dev%d@%s.example", i, []string{"acme", "initech", "wayne"}[i%3])
		if err := s.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		if st := statuses[i%len(statuses)]; st != onramp.OrgInvited {
			if err := s.SetOrganizationStatus(ctx, o.ID, st, nil); err != nil {
				t.Fatal(err)
			}
			o.Status = st
		}
		all = append(all, o)
	}
	return all
}

func runPartnerPages(t *testing.T, s Store) {
	ctx := t.Context()
	all := createPartners(t, s)
	for limit, ok := range map[int]bool{-1: false, 0: true, 1: true, onramp.MaxPageLimit: true, onramp.MaxPageLimit + 1: false} {
		p, err := s.ListOrganizations(ctx, onramp.OrgQuery{Page: onramp.PageRequest{Limit: limit}})
		if ok != (err == nil) || (!ok && onramp.ErrorCode(err) != onramp.EINVALID) {
			t.Errorf("limit %d = %v, want ok=%v", limit, err, ok)
		}
		if want := map[int]int{0: onramp.DefaultPageLimit, 1: 1, onramp.MaxPageLimit: 150}[limit]; ok && len(p.Items) != want {
			t.Errorf("limit %d gave %d organisations, want %d", limit, len(p.Items), want)
		}
	}
	if _, err := s.ListOrganizations(ctx, onramp.OrgQuery{Status: "gone"}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("an unknown status = %v, want EINVALID", err)
	}
	if _, err := s.ListOrganizations(ctx, onramp.OrgQuery{Page: onramp.PageRequest{Cursor: "bogus"}}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a made-up cursor = %v, want EINVALID", err)
	}
	matching := func(q onramp.OrgQuery) []onramp.Organization {
		var out []onramp.Organization
		for _, o := range all {
			if q.Matches(o) {
				out = append(out, o)
			}
		}
		return out
	}
	for _, q := range []onramp.OrgQuery{
		{Page: onramp.PageRequest{Limit: 40}},
		{Status: onramp.OrgActive, Page: onramp.PageRequest{Limit: 30}},
		{Status: onramp.OrgExpired},
		{Search: "acme", Page: onramp.PageRequest{Limit: 25}}, // names (Acme, Acmeline) and e-mail domains
		{Search: "MÜLLER wayne", Page: onramp.PageRequest{Limit: 7}},
		{Search: "dev1", Status: onramp.OrgActive, Page: onramp.PageRequest{Limit: 10}},
		{Search: "nobody"},
	} {
		want := matching(q)
		got := MustWalk(t, s, q, want)
		if len(got) != len(want) {
			t.Errorf("%+v found %d, want %d", q, len(got), len(want))
		}
	}

	all = checkCursorKeepsPlace(t, s, all)

	// A status change moves an organisation between the status lists (and its search results).
	moved := all[0]
	if err := s.SetOrganizationStatus(ctx, moved.ID, onramp.OrgExpired, nil); err != nil {
		t.Fatal(err)
	}
	all[0].Status = onramp.OrgExpired
	for _, q := range []onramp.OrgQuery{{Status: onramp.OrgInvited, Page: onramp.PageRequest{Limit: 200}}, {Status: onramp.OrgExpired, Page: onramp.PageRequest{Limit: 200}},
		{Search: moved.Name, Page: onramp.PageRequest{Limit: 200}}} {
		MustWalk(t, s, q, matching(q))
	}
	if err := s.DeleteOrganization(ctx, all[1].ID); err != nil {
		t.Fatal(err)
	}
	all = slices.Delete(all, 1, 2)
	MustWalk(t, s, onramp.OrgQuery{Page: onramp.PageRequest{Limit: onramp.MaxPageLimit}}, all)

	sso := org("org_ssop", t0)
	sso.SSO = &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s3cret", Domains: []string{"pages.example"}}
	if err := s.CreateOrganization(ctx, sso); err != nil {
		t.Fatal(err)
	}
	withSSO, err := s.SSOOrganizations(ctx)
	if err != nil || len(withSSO) != 1 || withSSO[0].ID != "org_ssop" || withSSO[0].SSO.ClientSecret != "s3cret" {
		t.Errorf("SSOOrganizations = %+v, %v; want org_ssop with its secret", withSSO, err)
	}
	if p, _ := s.ListOrganizations(ctx, onramp.OrgQuery{Search: "org_ssop"}); len(p.Items) != 1 || p.Items[0].SSO == nil || p.Items[0].SSO.ClientSecret != "" {
		t.Errorf("searching the SSO organisation = %+v, want it without its client secret", p.Items)
	}
}

// checkCursorKeepsPlace checks that a cursor keeps its place while organisations are invited:
// the new ones (newest, so first) do not push the second page back onto the first. It returns
// all with the new ones.
func checkCursorKeepsPlace(t *testing.T, s Store, all []onramp.Organization) []onramp.Organization {
	ctx := t.Context()
	first, _ := s.ListOrganizations(ctx, onramp.OrgQuery{Page: onramp.PageRequest{Limit: 20}})
	for i := range 5 {
		o := org(fmt.Sprintf("org_new%d", i), t0.Add(time.Hour+time.Duration(i)*time.Minute))
		if err := s.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		all = append(all, o)
	}
	second, err := s.ListOrganizations(ctx, onramp.OrgQuery{Page: onramp.PageRequest{Cursor: first.Next, Limit: 20}})
	if err != nil {
		t.Fatal(err)
	}
	ordered := sortedBy(slices.Clone(all), onramp.Organization.Position)
	i := slices.IndexFunc(ordered, func(o onramp.Organization) bool { return o.ID == first.Items[19].ID })
	if !slices.Equal(orgIDs(second.Items), orgIDs(ordered[i+1:i+21])) {
		t.Errorf("after 5 invitations the second page is %v, want the 20 after %s", orgIDs(second.Items), first.Items[19].ID)
	}
	back, _ := s.ListOrganizations(ctx, onramp.OrgQuery{Page: onramp.PageRequest{Cursor: second.Prev, Limit: 20}})
	if !slices.Equal(orgIDs(back.Items), orgIDs(ordered[i-19:i+1])) || back.Prev == "" {
		t.Errorf("back from the second page: %v (prev %v), want the first page as seen, the new ones before it", orgIDs(back.Items), back.Prev != "")
	}
	return all
}

func runTeamPages(t *testing.T, s Store) {
	ctx := t.Context()
	for i := range 7 {
		m := onramp.Member{OrgID: "org_t", IdentityID: fmt.Sprintf("id-%d", i), Email: fmt.Sprintf("m%d@x.example", i), Role: onramp.RoleDeveloper, JoinedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.SaveMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		inv := onramp.MemberInvitation{ID: fmt.Sprintf("inv_t%d", i), OrgID: "org_t", Email: m.Email, Role: onramp.RoleViewer, Status: onramp.InvitationPending, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.SaveInvitation(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	members, err := s.MemberPage(ctx, "org_t", onramp.PageRequest{Limit: 3})
	if err != nil || len(members.Items) != 3 || members.Items[0].IdentityID != "id-0" || members.Next == "" || members.Prev != "" {
		t.Fatalf("first page of members = %+v, %v; want the 3 longest-standing and a next page", members, err)
	}
	more, _ := s.MemberPage(ctx, "org_t", onramp.PageRequest{Cursor: members.Next, Limit: 3})
	if len(more.Items) != 3 || more.Items[0].IdentityID != "id-3" || more.Prev == "" {
		t.Errorf("second page of members = %+v", more)
	}
	invs, _ := s.InvitationPage(ctx, "org_t", "", onramp.PageRequest{Limit: 5})
	if len(invs.Items) != 5 || invs.Items[0].ID != "inv_t6" || invs.Next == "" {
		t.Fatalf("first page of invitations = %+v, want the newest 5", invs)
	}
	if err := s.SetInvitationStatus(ctx, "inv_t6", onramp.InvitationAccepted); err != nil {
		t.Fatal(err)
	}
	again, _ := s.InvitationPage(ctx, "org_t", "", onramp.PageRequest{Limit: 1})
	if again.Items[0].Status != onramp.InvitationAccepted {
		t.Errorf("the page shows inv_t6 %s, want accepted", again.Items[0].Status)
	}
	pending, _ := s.InvitationPage(ctx, "org_t", onramp.InvitationPending, onramp.PageRequest{Limit: 10})
	if len(pending.Items) != 6 || pending.Items[0].ID != "inv_t5" {
		t.Errorf("pending invitations = %d from %+v, want the 6 still pending, newest first", len(pending.Items), pending.Items)
	}
	if pending, _ := s.PendingInvitationsFor(ctx, "m6@x.example"); len(pending) != 0 {
		t.Errorf("pending for m6 after acceptance = %+v", pending)
	}
	if _, err := s.MemberPage(ctx, "org_t", onramp.PageRequest{Limit: onramp.MaxPageLimit + 1}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a page of %d members = %v, want EINVALID", onramp.MaxPageLimit+1, err)
	}
}
