package team_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/team"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// people is an identity provider on memory: identities by id, created on demand by address.
type people struct {
	mu    sync.Mutex
	byID  map[string]onramp.Identity
	email map[string]string
}

func newPeople() *people {
	return &people{byID: map[string]onramp.Identity{}, email: map[string]string{}}
}

func (p *people) EnsureIdentity(_ context.Context, email string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.email[email]; ok {
		return id, nil
	}
	id := "id-" + email
	p.byID[id], p.email[email] = onramp.Identity{ID: id, Email: email}, id
	return id, nil
}

func (p *people) FindIdentity(_ context.Context, id string) (onramp.Identity, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.byID[id]
	if !ok {
		return i, onramp.Errorf(onramp.ENOTFOUND, "no identity %q", id)
	}
	return i, nil
}

// add puts an identity in as a sign-up through SSO (or anything else) would.
func (p *people) add(i onramp.Identity) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byID[i.ID], p.email[i.Email] = i, i.ID
}

// lifecycles records what the service asks of Temporal and Kratos sessions.
type lifecycles struct {
	mu                           sync.Mutex
	invited, cancelled, accepted []string
	signedIn, revoked, disabled  []string
	failInvite                   bool
}

func (l *lifecycles) note(list *[]string, v string) {
	l.mu.Lock()
	*list = append(*list, v)
	l.mu.Unlock()
}

func (l *lifecycles) InviteMember(_ context.Context, inv onramp.MemberInvitation, _ string) error {
	if l.failInvite {
		return onramp.Errorf(onramp.EUNAVAILABLE, "temporal is down")
	}
	l.note(&l.invited, inv.ID)
	return nil
}
func (l *lifecycles) ResendMemberInvitation(context.Context, onramp.MemberInvitation) error {
	return nil
}
func (l *lifecycles) CancelMemberInvitation(_ context.Context, inv onramp.MemberInvitation) error {
	l.note(&l.cancelled, inv.ID)
	return nil
}
func (l *lifecycles) MemberAccepted(_ context.Context, id string) error {
	l.note(&l.accepted, id)
	return nil
}
func (l *lifecycles) InvitePartner(context.Context, onramp.Organization) error    { return nil }
func (l *lifecycles) ResendInvitation(context.Context, onramp.Organization) error { return nil }
func (l *lifecycles) CancelInvitation(context.Context, string) error              { return nil }
func (l *lifecycles) ContactSignedIn(_ context.Context, orgID string, _ time.Time) error {
	l.note(&l.signedIn, orgID)
	return nil
}
func (l *lifecycles) RevokeSessions(_ context.Context, id string) error {
	l.note(&l.revoked, id)
	return nil
}
func (l *lifecycles) SetIdentityActive(_ context.Context, id string, active bool) error {
	if !active {
		l.note(&l.disabled, id)
	}
	return nil
}

type fixture struct {
	svc    *team.Service
	store  *teamtest.Memory
	people *people
	life   *lifecycles
	now    time.Time
}

func mustFixture(tb testing.TB) *fixture {
	tb.Helper()
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{store: teamtest.NewMemory(), people: newPeople(), life: &lifecycles{}, now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	f.svc, err = team.New(team.Config{Policy: engine, Identities: f.people, Sessions: f.life, Organizations: f.store, Members: f.store, Team: f.store,
		Invitations: f.life, MemberInvitations: f.life, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return f.now }})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// mustOrg creates an organisation whose owner is ownerEmail, and returns the owner as actor.
func (f *fixture) mustOrg(tb testing.TB, id, ownerEmail string, sso *onramp.SSOConfig) onramp.Actor {
	tb.Helper()
	ctx := tb.Context()
	if err := f.store.CreateOrganization(ctx, onramp.Organization{ID: id, Name: "Org " + id, Tier: "standard", Status: onramp.OrgActive, ContactEmail: ownerEmail, InvitedAt: f.now, SSO: sso}); err != nil {
		tb.Fatal(err)
	}
	idOwner, _ := f.people.EnsureIdentity(ctx, ownerEmail)
	if err := f.store.SaveMember(ctx, onramp.Member{OrgID: id, IdentityID: idOwner, Email: ownerEmail, Role: onramp.RoleOwner, JoinedAt: f.now}); err != nil {
		tb.Fatal(err)
	}
	return f.actor(tb, idOwner)
}

// actor is identityID with the memberships the service reads for them.
func (f *fixture) actor(tb testing.TB, identityID string) onramp.Actor {
	tb.Helper()
	i, _ := f.people.FindIdentity(tb.Context(), identityID)
	ms, err := f.svc.Memberships(tb.Context(), identityID)
	if err != nil {
		tb.Fatal(err)
	}
	return onramp.Actor{IdentityID: identityID, Email: i.Email, Memberships: ms}
}

func roleIn(ms []onramp.Membership, orgID string) string {
	for _, m := range ms {
		if m.Organization.ID == orgID {
			return m.Role
		}
	}
	return ""
}

// An invitation binds to the identity created for its address: that identity accepts it at its
// sign-in; another identity that claims the address (as an e-mail change would) does not.
func TestInvitationsAreAcceptedOnlyByTheirIdentity(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	owner := f.mustOrg(t, "org_a", "owner@a.example", nil)
	inv, err := f.svc.Invite(ctx, owner, "org_a", "New@A.example", onramp.RoleDeveloper)
	if err != nil || inv.IdentityID != "id-new@a.example" || !slices.Contains(f.life.invited, inv.ID) {
		t.Fatalf("invite = %+v, %v; want it bound to the new identity and its workflow started", inv, err)
	}
	f.people.add(onramp.Identity{ID: "id-impostor", Email: "new@a.example"})
	if err := f.svc.CompleteSignIn(ctx, "id-impostor"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := f.svc.Memberships(ctx, "id-impostor"); len(ms) != 0 {
		t.Errorf("another identity with the address got %+v", ms)
	}
	if err := f.svc.CompleteSignIn(ctx, "id-new@a.example"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := f.svc.Memberships(ctx, "id-new@a.example"); roleIn(ms, "org_a") != onramp.RoleDeveloper {
		t.Errorf("the invited identity's memberships = %+v, want developer of org_a", ms)
	}
	if got, _ := f.store.FindInvitation(ctx, inv.ID); got.Status != onramp.InvitationAccepted || !slices.Contains(f.life.accepted, inv.ID) {
		t.Errorf("invitation after acceptance = %s (workflow told: %v)", got.Status, f.life.accepted)
	}
	if _, err := f.svc.Invite(ctx, owner, "org_a", "new@a.example", onramp.RoleViewer); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("inviting a member again = %v, want ECONFLICT", err)
	}
}

// An address of a partner's SSO domain has no identity before its first SSO sign-in: only an
// identity that signed in through that partner's identity provider may accept the invitation.
func TestSSOInvitationsNeedThePartnersIdentityProvider(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	f.mustOrg(t, "org_sso", "admin@plain.example", &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", Domains: []string{"corp.example"}})
	inv := onramp.MemberInvitation{ID: "contact-org_sso", OrgID: "org_sso", Email: "cto@corp.example", Role: onramp.RoleOwner, InvitedBy: "provider",
		Status: onramp.InvitationPending, CreatedAt: f.now, ExpiresAt: f.now.Add(24 * time.Hour)}
	if err := f.store.SaveInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	f.people.add(onramp.Identity{ID: "id-code", Email: "cto@corp.example"})                                               // a code sign-in claiming the address
	f.people.add(onramp.Identity{ID: "id-other-idp", Email: "cto@corp.example", SSOProviders: []string{"org_elsewhere"}}) // another tenant's IdP
	for _, id := range []string{"id-code", "id-other-idp"} {
		if err := f.svc.CompleteSignIn(ctx, id); err != nil {
			t.Fatal(err)
		}
		if ms, _ := f.svc.Memberships(ctx, id); len(ms) != 0 {
			t.Errorf("%s joined: %+v", id, ms)
		}
	}
	f.people.add(onramp.Identity{ID: "id-sso", Email: "cto@corp.example", SSOProviders: []string{"org_sso"}})
	if err := f.svc.CompleteSignIn(ctx, "id-sso"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := f.svc.Memberships(ctx, "id-sso"); roleIn(ms, "org_sso") != onramp.RoleOwner {
		t.Errorf("the partner's IdP-vouched identity got %+v, want owner", ms)
	}
	if !slices.Contains(f.life.signedIn, "org_sso") {
		t.Errorf("the owner's first sign-in did not complete the partner invitation: %v", f.life.signedIn)
	}
}

// Past its expiry an invitation is not accepted, even before its workflow marks it.
func TestExpiredInvitationsAreNotAccepted(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	owner := f.mustOrg(t, "org_a", "owner@a.example", nil)
	inv, err := f.svc.Invite(ctx, owner, "org_a", "late@a.example", onramp.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	inv.ExpiresAt = f.now.Add(time.Hour)
	_ = f.store.SaveInvitation(ctx, inv)
	f.now = f.now.Add(2 * time.Hour)
	_ = f.svc.CompleteSignIn(ctx, inv.IdentityID)
	if ms, _ := f.svc.Memberships(ctx, inv.IdentityID); len(ms) != 0 {
		t.Errorf("an expired invitation made %+v", ms)
	}
}

// Domain sign-up follows the identity provider the person signed in with, not the address.
func TestDomainSignupFollowsTheIdentityProvider(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	open := &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", Domains: []string{"open.example"}, AllowDomainSignup: true}
	f.mustOrg(t, "org_open", "lead@plain.example", open)
	f.people.add(onramp.Identity{ID: "id-code", Email: "dev@open.example"})
	f.people.add(onramp.Identity{ID: "id-sso", Email: "dev2@open.example", SSOProviders: []string{"org_open"}})
	for id, want := range map[string]string{"id-code": "", "id-sso": onramp.RoleDeveloper} {
		if err := f.svc.CompleteSignIn(ctx, id); err != nil {
			t.Fatal(err)
		}
		if ms, _ := f.svc.Memberships(ctx, id); roleIn(ms, "org_open") != want {
			t.Errorf("%s in org_open = %q, want %q", id, roleIn(ms, "org_open"), want)
		}
	}
}

// The last owner is never removed or demoted; removal ends the person's access and cancels the
// invitations they sent; ownership moves by transfer.
func TestOwnersRemovalAndTransfer(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	owner := f.mustOrg(t, "org_a", "owner@a.example", nil)
	if err := f.svc.ChangeRole(ctx, owner, "org_a", owner.IdentityID, onramp.RoleAdmin); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("demoting the only owner = %v, want ECONFLICT", err)
	}
	if err := f.svc.Remove(ctx, owner, "org_a", owner.IdentityID); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("removing the only owner = %v, want ECONFLICT", err)
	}
	inv, _ := f.svc.Invite(ctx, owner, "org_a", "admin@a.example", onramp.RoleAdmin)
	_ = f.svc.CompleteSignIn(ctx, inv.IdentityID)
	admin := f.actor(t, inv.IdentityID)
	sent, err := f.svc.Invite(ctx, admin, "org_a", "friend@a.example", onramp.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Remove(ctx, admin, "org_a", owner.IdentityID); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("an admin removing the owner = %v, want EFORBIDDEN", err)
	}
	if err := f.svc.ChangeRole(ctx, owner, "org_a", admin.IdentityID, onramp.RoleOwner); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("making an owner by role change = %v, want EFORBIDDEN (transfer instead)", err)
	}
	if err := f.svc.ChangeRole(ctx, owner, "org_a", admin.IdentityID, "superuser"); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("an unknown role = %v, want EINVALID", err)
	}
	if err := f.svc.Remove(ctx, owner, "org_a", admin.IdentityID); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(f.life.revoked, admin.IdentityID) || !slices.Contains(f.life.disabled, admin.IdentityID) {
		t.Errorf("removal did not end access: revoked %v, disabled %v", f.life.revoked, f.life.disabled)
	}
	if got, _ := f.store.FindInvitation(ctx, sent.ID); got.Status != onramp.InvitationCancelled {
		t.Errorf("the removed admin's invitation is %s, want cancelled", got.Status)
	}
	dev, _ := f.svc.Invite(ctx, owner, "org_a", "dev@a.example", onramp.RoleDeveloper)
	_ = f.svc.CompleteSignIn(ctx, dev.IdentityID)
	if err := f.svc.TransferOwnership(ctx, owner, "org_a", owner.IdentityID); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("transferring to oneself = %v, want EINVALID", err)
	}
	if err := f.svc.TransferOwnership(ctx, owner, "org_a", dev.IdentityID); err != nil {
		t.Fatal(err)
	}
	if ms, _ := f.svc.Memberships(ctx, owner.IdentityID); roleIn(ms, "org_a") != onramp.RoleAdmin {
		t.Errorf("the old owner is %q, want admin", roleIn(ms, "org_a"))
	}
}

// Another organisation does not exist for someone who is not in it, whatever its ids.
func TestAnotherOrganisationDoesNotExist(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	a := f.mustOrg(t, "org_a", "owner@a.example", nil)
	b := f.mustOrg(t, "org_b", "owner@b.example", nil)
	inv, _ := f.svc.Invite(ctx, b, "org_b", "x@b.example", onramp.RoleViewer)
	for name, err := range map[string]error{
		"members":  func() error { _, err := f.svc.Members(ctx, a, "org_b", onramp.PageRequest{}); return err }(),
		"role":     f.svc.ChangeRole(ctx, a, "org_b", b.IdentityID, onramp.RoleViewer),
		"remove":   f.svc.Remove(ctx, a, "org_b", b.IdentityID),
		"cancel":   f.svc.CancelInvitation(ctx, a, "org_b", inv.ID),
		"transfer": f.svc.TransferOwnership(ctx, a, "org_b", b.IdentityID),
	} {
		if onramp.ErrorCode(err) != onramp.ENOTFOUND {
			t.Errorf("%s across organisations = %v, want ENOTFOUND", name, err)
		}
	}
	if err := f.svc.CancelInvitation(ctx, a, "org_a", inv.ID); onramp.ErrorMessage(err) != `no invitation "`+inv.ID+`" in your organisation` {
		t.Errorf("another's invitation = %q, want the words of one that does not exist", onramp.ErrorMessage(err))
	}
}

// An invitation whose workflow cannot start is recorded cancelled: it never blocks a retry.
func TestInvitationThatCannotStartIsCancelled(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	owner := f.mustOrg(t, "org_a", "owner@a.example", nil)
	f.life.failInvite = true
	inv, err := f.svc.Invite(ctx, owner, "org_a", "later@a.example", onramp.RoleViewer)
	if onramp.ErrorCode(err) != onramp.EUNAVAILABLE {
		t.Fatalf("invite = %v, want the workflow's error", err)
	}
	if got, _ := f.store.FindInvitation(ctx, inv.ID); got.Status != onramp.InvitationCancelled {
		t.Errorf("status = %s, want cancelled", got.Status)
	}
	f.life.failInvite = false
	if _, err := f.svc.Invite(ctx, owner, "org_a", "later@a.example", onramp.RoleViewer); err != nil {
		t.Errorf("retry = %v", err)
	}
}
