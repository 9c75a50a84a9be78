package partners_test

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/partners"
	"github.com/onramp-dev/onramp/production/productiontest"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// plans knows the standard plan and records assignments.
type plans struct{ applied, removed []string }

func (p *plans) CheckPlan(_ context.Context, name string) error {
	if name != "standard" {
		return onramp.Errorf(onramp.EINVALID, "there is no plan %q", name)
	}
	return nil
}
func (p *plans) ApplyPlan(_ context.Context, orgID, _ string) error {
	p.applied = append(p.applied, orgID)
	return nil
}
func (p *plans) RemoveOrganization(_ context.Context, orgID string) error {
	p.removed = append(p.removed, orgID)
	return nil
}

// invitations records what would start; fail makes starting fail.
type invitations struct {
	fail               bool
	started, withdrawn []string
}

func (i *invitations) InvitePartner(_ context.Context, o onramp.Organization) error {
	if i.fail {
		return onramp.Errorf(onramp.EUNAVAILABLE, "temporal is down")
	}
	i.started = append(i.started, o.ID)
	return nil
}
func (i *invitations) ResendInvitation(context.Context, onramp.Organization) error { return nil }
func (i *invitations) ContactSignedIn(context.Context, string, time.Time) error    { return nil }
func (i *invitations) CancelInvitation(_ context.Context, id string) error {
	i.withdrawn = append(i.withdrawn, id)
	return nil
}

type providers struct{ synced int }

func (p *providers) SyncProviders(context.Context, []onramp.Organization) error {
	p.synced++
	return nil
}

type fixture struct {
	svc   *partners.Service
	store *teamtest.Memory
	plans *plans
	inv   *invitations
	sso   *providers
}

func mustFixture(tb testing.TB, js ...onramp.Journey) *fixture {
	tb.Helper()
	f := &fixture{store: teamtest.NewMemory(), plans: &plans{}, inv: &invitations{}, sso: &providers{}}
	onboarding := productiontest.NewMemory()
	for _, j := range js {
		for st, at := range j.Stages {
			if err := onboarding.ReachStage(tb.Context(), j.OrgID, st, at); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var err error
	f.svc, err = partners.New(partners.Config{Organizations: f.store, Team: f.store, Invitations: f.inv, Plans: f.plans, SSOProviders: f.sso,
		Onboarding: onboarding, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

var admin = onramp.ProviderActor("ana@provider.example")

func TestInviteValidatesAndStarts(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	for _, in := range []partners.Invitation{
		{Name: "A", ContactEmail: "a@x.example", Tier: "standard"},
		{Name: "Acme", ContactEmail: "not an address", Tier: "standard"},
		{Name: "Acme", ContactEmail: "a@x.example", Tier: "gold"},
	} {
		if _, err := f.svc.Invite(ctx, admin, in); onramp.ErrorCode(err) != onramp.EINVALID {
			t.Errorf("invite %+v = %v, want EINVALID", in, err)
		}
	}
	sso := &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s3cret", Domains: []string{"acme.example"}}
	o, err := f.svc.Invite(ctx, admin, partners.Invitation{Name: "Acme", ContactEmail: "cto@acme.example", Tier: "standard", SSO: sso})
	if err != nil || o.SSO == nil || o.SSO.ClientSecret != "" || o.Status != onramp.OrgInvited {
		t.Fatalf("invite = %+v, %v; want invited, shown without its secret", o, err)
	}
	if len(f.plans.applied) != 1 || f.sso.synced != 1 || len(f.inv.started) != 1 {
		t.Errorf("plan applied %v, SSO synced %d, invitations started %v; want one each", f.plans.applied, f.sso.synced, f.inv.started)
	}
	stored, _ := f.store.FindOrganization(ctx, o.ID)
	if stored.SSO.ClientSecret != "s3cret" {
		t.Error("the store did not get the secret Kratos needs")
	}
	taken := &onramp.SSOConfig{Issuer: "https://idp2.example", ClientID: "c", ClientSecret: "s", Domains: []string{"acme.example"}}
	if _, err := f.svc.Invite(ctx, admin, partners.Invitation{Name: "Impostor", ContactEmail: "x@acme.example", Tier: "standard", SSO: taken}); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("another partner's SSO domain = %v, want ECONFLICT", err)
	}
	if _, err := f.svc.Invite(ctx, onramp.Actor{Email: "dev@partner.example"}, partners.Invitation{Name: "Acme", ContactEmail: "a@x.example", Tier: "standard"}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner inviting = %v, want EFORBIDDEN", err)
	}
}

// A failed start leaves nothing: the organisation and its assignments are removed again.
func TestInvitationThatCannotStartIsUndone(t *testing.T) {
	f := mustFixture(t)
	f.inv.fail = true
	_, err := f.svc.Invite(t.Context(), admin, partners.Invitation{Name: "Acme", ContactEmail: "a@x.example", Tier: "standard"})
	if onramp.ErrorCode(err) != onramp.EUNAVAILABLE {
		t.Fatalf("invite = %v, want the workflow's error", err)
	}
	if left, _ := f.store.ListOrganizations(t.Context(), onramp.OrgQuery{}); len(left.Items) != 0 || len(f.plans.removed) != 1 || f.plans.removed[0] != f.plans.applied[0] {
		t.Errorf("left %+v, assignments removed for %v (applied %v)", left.Items, f.plans.removed, f.plans.applied)
	}
}

func TestWithdrawOnlyAWaitingInvitation(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	o, _ := f.svc.Invite(ctx, admin, partners.Invitation{Name: "Acme", ContactEmail: "a@x.example", Tier: "standard"})
	if _, err := f.svc.Withdraw(ctx, admin, o.ID); err != nil || len(f.inv.withdrawn) != 1 {
		t.Fatalf("withdraw = %v (%v)", err, f.inv.withdrawn)
	}
	for _, status := range []string{onramp.OrgExpired, onramp.OrgActive} {
		_ = f.store.SetOrganizationStatus(ctx, o.ID, status, nil)
		if _, err := f.svc.Withdraw(ctx, admin, o.ID); onramp.ErrorCode(err) != onramp.ECONFLICT {
			t.Errorf("withdrawing an %s organisation = %v, want ECONFLICT", status, err)
		}
	}
	if _, err := f.svc.Withdraw(ctx, admin, "org_missing"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("withdrawing an unknown organisation = %v", err)
	}
}

func TestCredentialPolicyBounds(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	o, _ := f.svc.Invite(ctx, admin, partners.Invitation{Name: "Acme", ContactEmail: "a@x.example", Tier: "standard"})
	for maxAge, ok := range map[string]bool{"": true, "24h": true, "87600h": true, "23h59m": false, "87601h": false, "a while": false} {
		_, err := f.svc.SetCredentialPolicy(ctx, admin, o.ID, maxAge)
		if (err == nil) != ok {
			t.Errorf("max age %q: %v, want accepted %v", maxAge, err, ok)
		}
	}
	got, _ := f.svc.SetCredentialPolicy(ctx, admin, o.ID, "2160h")
	if stored, _ := f.store.FindOrganization(ctx, o.ID); got.MaxCredentialAge != "2160h" || stored.MaxCredentialAge != "2160h" || stored.Name != "Acme" {
		t.Errorf("stored = %+v, want the policy and everything else kept", stored)
	}
	if audit, _ := f.store.Audit(ctx, o.ID, onramp.PageRequest{}); len(audit.Items) == 0 || audit.Items[0].Actor != admin.Email {
		t.Errorf("audit = %+v, want the change under the admin's name", audit.Items)
	}
}

func TestFunnelMedians(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	j := func(id string, signIn, prod time.Duration) onramp.Journey {
		st := map[string]time.Time{onramp.StageInvited: t0, onramp.StageFirstSignIn: t0.Add(signIn)}
		if prod > 0 {
			st[onramp.StageFirstProductionCall] = t0.Add(prod)
		}
		return onramp.Journey{OrgID: id, Stages: st}
	}
	f := mustFixture(t, j("org_a", time.Hour, 0), j("org_b", 3*time.Hour, 48*time.Hour), j("org_c", 2*time.Hour, 0), j("org_d", 4*time.Hour, 0))
	for _, o := range []string{"org_a", "org_b"} {
		if err := f.store.CreateOrganization(t.Context(), onramp.Organization{ID: o, Name: "Name of " + o, Tier: "standard", Status: onramp.OrgActive, ContactEmail: "a@x.example", InvitedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	fu, err := f.svc.Funnel(t.Context(), admin, onramp.PageRequest{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if fu.Stages[0].Count != 4 || fu.Stages[1].Count != 4 {
		t.Errorf("stages = %+v", fu.Stages)
	}
	// Even count: the mean of the middle two, each read at its histogram bucket (±4.5 %).
	if m := fu.Medians[0]; m.From != onramp.StageInvited || m.Journeys != 4 || math.Abs(m.MedianSeconds-2.5*3600)/(2.5*3600) > 0.045 {
		t.Errorf("invited → first sign-in median = %+v, want 2.5 h of 4 journeys", m)
	}
	if len(fu.Partners.Items) != 3 || fu.Partners.Next == "" || fu.Partners.Items[0].Name != "Name of org_a" || fu.Partners.Items[2].Name != "" {
		t.Errorf("first page of journeys = %+v, want 3 (named where the organisation exists) and more", fu.Partners)
	}
	var withProd int
	for _, p := range fu.Partners.Items {
		if p.InvitationToProduction != nil {
			withProd++
			if *p.InvitationToProduction != 48*3600 {
				t.Errorf("invitation to production = %v", *p.InvitationToProduction)
			}
		}
	}
	if withProd != 1 {
		t.Errorf("%d partners with a production call, want 1", withProd)
	}
	if _, err := f.svc.Funnel(t.Context(), admin, onramp.PageRequest{Limit: 500}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a page of 500 journeys = %v, want EINVALID", err)
	}
}

// The partner list is the provider's, validated, and shows no client secret.
func TestListPagesSearchesAndHidesSecrets(t *testing.T) {
	f := mustFixture(t)
	ctx := t.Context()
	sso := &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s3cret", Domains: []string{"acme.example"}}
	if _, err := f.svc.Invite(ctx, admin, partners.Invitation{Name: "Acme Payments", ContactEmail: "cto@acme.example", Tier: "standard", SSO: sso}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Invite(ctx, admin, partners.Invitation{Name: "Globex", ContactEmail: "dev@globex.example", Tier: "standard"}); err != nil {
		t.Fatal(err)
	}
	found, err := f.svc.List(ctx, admin, onramp.OrgQuery{Search: "acme"})
	if err != nil || len(found.Items) != 1 || found.Items[0].Name != "Acme Payments" || found.Items[0].SSO.ClientSecret != "" {
		t.Fatalf("search = %+v, %v; want Acme without its secret", found.Items, err)
	}
	if p, _ := f.svc.List(ctx, admin, onramp.OrgQuery{Status: onramp.OrgActive}); len(p.Items) != 0 {
		t.Errorf("active partners = %+v, want none", p.Items)
	}
	for _, q := range []onramp.OrgQuery{{Status: "sleeping"}, {Page: onramp.PageRequest{Limit: 201}}, {Page: onramp.PageRequest{Cursor: "x"}}} {
		if _, err := f.svc.List(ctx, admin, q); onramp.ErrorCode(err) != onramp.EINVALID {
			t.Errorf("list %+v = %v, want EINVALID", q, err)
		}
	}
	if _, err := f.svc.List(ctx, onramp.Actor{Email: "dev@partner.example"}, onramp.OrgQuery{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner listing partners = %v, want EFORBIDDEN", err)
	}
}
