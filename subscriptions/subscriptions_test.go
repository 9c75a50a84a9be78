package subscriptions_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/subscriptions"
	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
	"github.com/onramp-dev/onramp/team/teamtest"
)

var policy = func() *policies.Engine {
	e, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		panic(err)
	}
	return e
}()

// fixture is the service on fakes: the demo catalog (standard: accounts and payments; premium:
// also insights), organisations and members in the team fake, and a clock tests move.
type fixture struct {
	svc     *subscriptions.Service
	catalog *catalog.Catalog
	store   *catalogtest.Memory
	team    *teamtest.Memory
	subs    *subscriptionstest.Memory
	now     time.Time
}

const portal = "https://portal.example"

func mustFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{store: catalogtest.NewMemory(), team: teamtest.NewMemory(), subs: subscriptionstest.NewMemory(), now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	var err error
	f.catalog, err = catalog.New(catalog.Config{Store: f.store, Assignments: f.store, Policy: policy, Announcements: &catalogtest.Announcements{},
		SandboxURL: "http://sandbox.test", ProductionURL: "http://prod.test", Now: clock})
	if err != nil {
		tb.Fatal(err)
	}
	files, _ := fs.Sub(deploy.Catalog, "catalog")
	if _, err := f.catalog.LoadFiles(context.Background(), files); err != nil {
		tb.Fatal(err)
	}
	f.svc, err = subscriptions.New(subscriptions.Config{Catalog: f.catalog, Versions: f.store, Policy: policy, Organizations: f.team, Members: f.team,
		Team: f.team, Subscriptions: f.subs, Tokens: f.subs, PortalURL: portal, Now: clock})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func (f *fixture) mustOrg(tb testing.TB, id, plan string) onramp.Organization {
	tb.Helper()
	o := onramp.Organization{ID: id, Name: "Org " + id, Tier: plan, Status: onramp.OrgActive, ContactEmail: "owner@" + id + ".example", InvitedAt: f.now}
	if err := f.team.CreateOrganization(context.Background(), o); err != nil {
		tb.Fatal(err)
	}
	if err := f.catalog.ApplyPlan(context.Background(), id, plan); err != nil {
		tb.Fatal(err)
	}
	return o
}

// mustMember adds identity to org with role and returns them as an actor of that organisation.
func (f *fixture) mustMember(tb testing.TB, org onramp.Organization, identity, role string) onramp.Actor {
	tb.Helper()
	email := identity + "@" + org.ID + ".example"
	if err := f.team.SaveMember(context.Background(), onramp.Member{OrgID: org.ID, IdentityID: identity, Email: email, Role: role, JoinedAt: f.now}); err != nil {
		tb.Fatal(err)
	}
	return f.actor(tb, identity)
}

func (f *fixture) actor(tb testing.TB, identity string) onramp.Actor {
	tb.Helper()
	ms, err := f.team.MembershipsOf(context.Background(), identity)
	if err != nil {
		tb.Fatal(err)
	}
	a := onramp.Actor{IdentityID: identity}
	for _, m := range ms {
		o, _ := f.team.FindOrganization(context.Background(), m.OrgID)
		a.Email = m.Email
		a.Memberships = append(a.Memberships, onramp.Membership{Organization: o, Role: m.Role})
	}
	return a
}

func mustSubscribe(tb testing.TB, f *fixture, a onramp.Actor, orgID, product, level string) {
	tb.Helper()
	if _, err := f.svc.Subscribe(context.Background(), a, orgID, product, level); err != nil {
		tb.Fatalf("Subscribe(%s, %q, %s): %v", orgID, product, level, err)
	}
}

func levels(s subscriptions.Settings) string {
	var out []string
	for _, p := range s.Products {
		out = append(out, p.Product+"="+p.Effective)
	}
	return s.Default + " " + strings.Join(out, ",")
}

// A member's subscriptions are their own: a default, products that override it, and only the
// products their organisation sees.
func TestSettingsAreTheMembersOwn(t *testing.T) {
	f := mustFixture(t)
	org := f.mustOrg(t, "org_1", "standard")
	ana, bo := f.mustMember(t, org, "ana", onramp.RoleOwner), f.mustMember(t, org, "bo", onramp.RoleViewer)
	ctx := t.Context()

	s, err := f.svc.Settings(ctx, ana, org.ID)
	if err != nil || levels(s) != "none accounts=none,payments=none" || s.FeedToken != nil || s.Feed != portal+"/feeds/org_1/catalog.atom" {
		t.Fatalf("nothing chosen: %s %+v, %v; want none everywhere (opt-in), no token", levels(s), s, err)
	}
	mustSubscribe(t, f, ana, org.ID, "", onramp.SubscribeBreaking)
	mustSubscribe(t, f, ana, org.ID, "payments", onramp.SubscribeAll)
	s, _ = f.svc.Settings(ctx, ana, org.ID)
	if levels(s) != "breaking accounts=breaking,payments=all" || s.Products[1].Level != onramp.SubscribeAll || s.Products[0].Level != "" ||
		s.Products[1].Feed != portal+"/feeds/org_1/products/payments.atom" {
		t.Errorf("ana: %s %+v", levels(s), s.Products)
	}
	// Following the default again.
	mustSubscribe(t, f, ana, org.ID, "payments", subscriptions.FollowDefault)
	if s, _ = f.svc.Settings(ctx, ana, org.ID); levels(s) != "breaking accounts=breaking,payments=breaking" {
		t.Errorf("after payments follows the default: %s", levels(s))
	}
	// A colleague's stay as they were; a viewer may keep their own.
	if s, _ = f.svc.Settings(ctx, bo, org.ID); levels(s) != "none accounts=none,payments=none" {
		t.Errorf("bo after ana's changes: %s", levels(s))
	}
	mustSubscribe(t, f, bo, org.ID, "accounts", onramp.SubscribeAll)
	if got, err := f.svc.ProductSetting(ctx, bo, org.ID, "accounts"); err != nil || got.Effective != onramp.SubscribeAll || got.Name != "Accounts" {
		t.Errorf("bo's accounts: %+v, %v", got, err)
	}
	for _, bad := range []struct{ product, level string }{{"", ""}, {"", "default"}, {"", "everything"}, {"payments", "ALL"}} {
		if _, err := f.svc.Subscribe(ctx, ana, org.ID, bad.product, bad.level); onramp.ErrorCode(err) != onramp.EINVALID {
			t.Errorf("Subscribe(%q, %q) = %v, want EINVALID", bad.product, bad.level, err)
		}
	}
}

// Another organisation's subscriptions cannot be read or set, and a product the organisation does
// not see cannot be subscribed to: both answer as what does not exist, and nothing changes.
func TestSubscriptionsOfOthersAndHiddenProductsDoNotExist(t *testing.T) {
	f := mustFixture(t)
	std, prem := f.mustOrg(t, "org_std", "standard"), f.mustOrg(t, "org_prem", "premium")
	ana := f.mustMember(t, std, "ana", onramp.RoleOwner)
	carl := f.mustMember(t, prem, "carl", onramp.RoleOwner)
	ctx := t.Context()
	mustSubscribe(t, f, carl, prem.ID, "insights", onramp.SubscribeAll)
	before, _ := f.svc.Settings(ctx, carl, prem.ID)

	_, errTheirs := f.svc.Subscribe(ctx, ana, prem.ID, "", onramp.SubscribeNone)
	_, errMadeUp := f.svc.Subscribe(ctx, ana, "org_madeup", "", onramp.SubscribeNone)
	if onramp.ErrorCode(errTheirs) != onramp.ENOTFOUND || strings.ReplaceAll(onramp.ErrorMessage(errTheirs), prem.ID, "X") != strings.ReplaceAll(onramp.ErrorMessage(errMadeUp), "org_madeup", "X") {
		t.Errorf("another organisation: %v; a made-up one: %v", errTheirs, errMadeUp)
	}
	if _, err := f.svc.Settings(ctx, ana, prem.ID); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("reading another organisation's: %v", err)
	}
	if after, _ := f.svc.Settings(ctx, carl, prem.ID); levels(after) != levels(before) {
		t.Errorf("carl's settings changed: %s → %s", levels(before), levels(after))
	}
	_, errHidden := f.svc.Subscribe(ctx, ana, std.ID, "insights", onramp.SubscribeAll)
	_, errGhost := f.svc.Subscribe(ctx, ana, std.ID, "ghost", onramp.SubscribeAll)
	if onramp.ErrorCode(errHidden) != onramp.ENOTFOUND || strings.ReplaceAll(onramp.ErrorMessage(errHidden), "insights", "X") != strings.ReplaceAll(onramp.ErrorMessage(errGhost), "ghost", "X") {
		t.Errorf("a product outside the plan: %v; one that does not exist: %v", errHidden, errGhost)
	}
	if got, _ := f.subs.Subscriptions(ctx, onramp.MemberID(std.ID, "ana")); len(got.Products) != 0 || got.Default != "" {
		t.Errorf("refused changes were stored: %+v", got)
	}
}

func mustToken(tb testing.TB, f *fixture, a onramp.Actor, orgID string) subscriptions.IssuedToken {
	tb.Helper()
	tok, err := f.svc.RotateFeedToken(context.Background(), a, orgID)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// Rotating ends the old token at once, revoking ends the current one; the store keeps hashes only.
func TestFeedTokenRotationEndsTheOldOneAtOnce(t *testing.T) {
	f := mustFixture(t)
	org := f.mustOrg(t, "org_1", "standard")
	ana := f.mustMember(t, org, "ana", onramp.RoleDeveloper)
	ctx := t.Context()
	first := mustToken(t, f, ana, org.ID)
	if !onramp.WellFormedFeedToken(first.Token) || first.Feed != portal+"/feeds/org_1/catalog.atom?token="+first.Token ||
		first.Products["payments"] != portal+"/feeds/org_1/products/payments.atom?token="+first.Token || len(first.Products) != 2 {
		t.Fatalf("issued %+v", first)
	}
	if _, err := f.svc.Feed(ctx, first.Token, org.ID, "payments"); err != nil {
		t.Fatalf("reading with the token: %v", err)
	}
	stored, _ := f.subs.FeedTokenOf(ctx, onramp.MemberID(org.ID, "ana"))
	if stored.Hash != onramp.FeedTokenHash(first.Token) || strings.Contains(stored.Hash, first.Token) {
		t.Errorf("stored %+v: want the hash only", stored)
	}
	if s, _ := f.svc.Settings(ctx, ana, org.ID); s.FeedToken == nil || !s.FeedToken.CreatedAt.Equal(f.now) {
		t.Errorf("settings show token %+v", s.FeedToken)
	}
	f.now = f.now.Add(time.Minute)
	second := mustToken(t, f, ana, org.ID)
	if _, err := f.svc.Feed(ctx, first.Token, org.ID, "payments"); onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
		t.Errorf("the rotated-out token: %v, want EUNAUTHORIZED", err)
	}
	if _, err := f.svc.Feed(ctx, second.Token, org.ID, ""); err != nil {
		t.Errorf("the new token: %v", err)
	}
	if err := f.svc.RevokeFeedToken(ctx, ana, org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Feed(ctx, second.Token, org.ID, ""); onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
		t.Errorf("a revoked token: %v, want EUNAUTHORIZED", err)
	}
	if s, _ := f.svc.Settings(ctx, ana, org.ID); s.FeedToken != nil {
		t.Errorf("settings after revoking: %+v", s.FeedToken)
	}
}

// Every way a token does not fit the feed gets the same refusal, which names nothing.
func TestFeedTokensAreRefusedAlikeOutsideTheirFeed(t *testing.T) {
	f := mustFixture(t)
	org1, org2 := f.mustOrg(t, "org_1", "standard"), f.mustOrg(t, "org_2", "standard")
	ana := f.mustMember(t, org1, "ana", onramp.RoleAdmin)
	bo := f.mustMember(t, org2, "bo", onramp.RoleOwner)
	f.mustMember(t, org1, "owner1", onramp.RoleOwner)
	ctx := t.Context()
	tok := mustToken(t, f, ana, org1.ID).Token
	theirs := mustToken(t, f, bo, org2.ID).Token
	_, want := f.svc.Feed(ctx, "nonsense", org1.ID, "payments")
	if onramp.ErrorCode(want) != onramp.EUNAUTHORIZED {
		t.Fatalf("a malformed token: %v", want)
	}
	for name, c := range map[string]struct{ token, org, product string }{
		"another organisation's token":                 {theirs, org1.ID, "payments"},
		"the token on another organisation's feed":     {tok, org2.ID, "payments"},
		"the token on a made-up organisation":          {tok, "org_madeup", ""},
		"an API key":                                   {onramp.SandboxKeyPrefix + strings.Repeat("a", 52), org1.ID, ""},
		"a well-formed token nobody holds":             {onramp.FeedTokenPrefix + strings.Repeat("b", 52), org1.ID, ""},
		"a session token":                              {"ory_st_0123456789abcdef", org1.ID, ""},
		"the token with a character changed":           {tok[:len(tok)-1] + map[bool]string{true: "b", false: "a"}[tok[len(tok)-1] == 'a'], org1.ID, ""},
		"a bad token on a product that does not exist": {tok[:len(tok)-1] + "!", org1.ID, "ghost"},
	} {
		_, err := f.svc.Feed(ctx, c.token, c.org, c.product)
		if onramp.ErrorCode(err) != onramp.EUNAUTHORIZED || onramp.ErrorMessage(err) != onramp.ErrorMessage(want) {
			t.Errorf("%s: %v, want the same refusal as a malformed token", name, err)
		}
		for _, leak := range []string{org2.Name, org1.Name, "bo@", "ana@"} {
			if strings.Contains(onramp.ErrorMessage(err), leak) {
				t.Errorf("%s: the refusal names %q", name, leak)
			}
		}
	}
	// A member who leaves takes no feed with them, even if they are invited again later.
	if err := f.team.DeleteMember(ctx, onramp.MemberID(org1.ID, "ana")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Feed(ctx, tok, org1.ID, ""); onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
		t.Errorf("after leaving: %v, want EUNAUTHORIZED", err)
	}
	f.now = f.now.Add(time.Hour)
	f.mustMember(t, org1, "ana", onramp.RoleDeveloper)
	if _, err := f.svc.Feed(ctx, tok, org1.ID, ""); onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
		t.Errorf("the old token after joining again: %v, want EUNAUTHORIZED", err)
	}
	// Only the holder's own organisation's feeds: a token is per membership.
	if _, err := f.svc.RotateFeedToken(ctx, ana, org2.ID); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("a token for an organisation one is not in: %v, want ENOTFOUND", err)
	}
}

// The feed shows exactly what the catalog shows the organisation: a product outside its plan, or
// one withheld by policy, does not exist — the catalog's own answer for an unknown product.
func TestFeedIsScopedExactlyLikeTheCatalog(t *testing.T) {
	f := mustFixture(t)
	std, prem := f.mustOrg(t, "org_std", "standard"), f.mustOrg(t, "org_prem", "premium")
	stdTok := mustToken(t, f, f.mustMember(t, std, "ana", onramp.RoleViewer), std.ID).Token
	premTok := mustToken(t, f, f.mustMember(t, prem, "carl", onramp.RoleOwner), prem.ID).Token
	ctx := t.Context()
	_, errHidden := f.svc.Feed(ctx, stdTok, std.ID, "insights")
	_, errGhost := f.svc.Feed(ctx, stdTok, std.ID, "ghost")
	_, errCatalog := f.catalog.Product(ctx, std, "ghost", "")
	if onramp.ErrorCode(errHidden) != onramp.ENOTFOUND || strings.ReplaceAll(onramp.ErrorMessage(errHidden), "insights", "ghost") != onramp.ErrorMessage(errGhost) ||
		onramp.ErrorMessage(errGhost) != onramp.ErrorMessage(errCatalog) {
		t.Errorf("outside the plan: %v\nunknown: %v\nthe catalog's unknown: %v", errHidden, errGhost, errCatalog)
	}
	products := func(feed subscriptions.Feed) string {
		var out []string
		for _, e := range feed.Entries {
			out = append(out, e.Product+"/"+e.Version)
		}
		return strings.Join(out, ",")
	}
	all, err := f.svc.Feed(ctx, stdTok, std.ID, "")
	got := strings.Split(products(all), ",")
	slices.Sort(got) // the demo versions share one publication time: their order is free
	if err != nil || strings.Join(got, ",") != "accounts/v1,payments/v1,payments/v2" {
		t.Errorf("standard's feed of everything: %s, %v", products(all), err)
	}
	if premAll, _ := f.svc.Feed(ctx, premTok, prem.ID, ""); !strings.Contains(products(premAll), "insights/v1") {
		t.Errorf("premium's feed of everything lacks insights: %s", products(premAll))
	}
	// A retired product (every version past its sunset) stays listed by the catalog, as retired,
	// so partners find its successor: its feed stays too, exactly as the catalog shows it.
	past := f.now.Add(-time.Hour)
	if _, err := f.catalog.UpdateVersion(ctx, "accounts", "v1", onramp.VersionDeprecated, &past, ""); err != nil {
		t.Fatal(err)
	}
	_, errCatalogRetired := f.catalog.Product(ctx, std, "accounts", "")
	_, errRetired := f.svc.Feed(ctx, stdTok, std.ID, "accounts")
	if errCatalogRetired != nil || errRetired != nil {
		t.Errorf("a retired product: the catalog says %v, the feed %v; want both to show it", errCatalogRetired, errRetired)
	}
}

const breakingV3 = "        - name: limit\n          in: query\n          required: true\n"

// v3 of payments from v2: breaking makes the limit parameter required, otherwise only a
// description changes.
func paymentsV3(tb testing.TB, breaking bool) []byte {
	tb.Helper()
	files, _ := fs.Sub(deploy.Catalog, "catalog")
	v2, err := fs.ReadFile(files, "products/payments/v2.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	if breaking {
		return []byte(strings.Replace(string(v2), "        - name: limit\n          in: query\n", breakingV3, 1))
	}
	return []byte(strings.Replace(string(v2), "description: Card and bank payments.", "description: Card and bank payments, now with more words.", 1))
}

func (f *fixture) mustPublish(tb testing.TB, version string, spec []byte) catalog.Published {
	tb.Helper()
	f.now = f.now.Add(time.Hour)
	out, err := f.catalog.Publish(context.Background(), catalog.Publish{Product: "payments", Version: version, Spec: spec, ReleaseNotes: "Notes of " + version + "."})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Entries keep their ids when versions are added, so readers never show one twice; the newest
// comes first and says whether it breaks.
func TestFeedEntriesAreStable(t *testing.T) {
	f := mustFixture(t)
	org := f.mustOrg(t, "org_1", "standard")
	tok := mustToken(t, f, f.mustMember(t, org, "ana", onramp.RoleDeveloper), org.ID).Token
	ctx := t.Context()
	before, err := f.svc.Feed(ctx, tok, org.ID, "payments")
	if err != nil || len(before.Entries) != 2 || before.Entries[0].Version != "v2" || !before.Entries[0].Breaking || before.Entries[1].Previous != "" {
		t.Fatalf("payments feed: %+v, %v", before, err)
	}
	f.mustPublish(t, "v3", paymentsV3(t, true))
	after, err := f.svc.Feed(ctx, tok, org.ID, "payments")
	if err != nil || len(after.Entries) != 3 || after.Entries[0].Version != "v3" || !after.Entries[0].Breaking || after.Entries[0].Previous != "v2" {
		t.Fatalf("after publishing v3: %+v, %v", after.Entries, err)
	}
	if after.ID != before.ID || after.Entries[1].ID != before.Entries[0].ID || after.Entries[2].ID != before.Entries[1].ID {
		t.Errorf("ids changed: feed %s → %s, entries %s,%s → %s,%s", before.ID, after.ID, before.Entries[0].ID, before.Entries[1].ID, after.Entries[1].ID, after.Entries[2].ID)
	}
	if want := "tag:portal.example,2026:onramp/products/payments/versions/v3"; after.Entries[0].ID != want {
		t.Errorf("entry id %s, want %s", after.Entries[0].ID, want)
	}
	if !after.Updated.Equal(after.Entries[0].Published) || after.Entries[0].Title != "Payments v3: 1 breaking change since v2" {
		t.Errorf("feed updated %s (newest entry %s), title %q", after.Updated, after.Entries[0].Published, after.Entries[0].Title)
	}
	// The same version in the feed of every product has the same id.
	all, _ := f.svc.Feed(ctx, tok, org.ID, "")
	if all.Entries[0].ID != after.Entries[0].ID || all.ID == after.ID {
		t.Errorf("the feed of everything: newest %s, feed id %s", all.Entries[0].ID, all.ID)
	}
}

// denying is the real policy, except that members may never take action.
type denying struct {
	onramp.Policy
	action onramp.Action
}

func (d denying) Decide(ctx context.Context, decision string, input any) (onramp.Decision, error) {
	if in, ok := input.(map[string]any); ok && decision == onramp.DecisionMembers && in["action"] == string(d.action) {
		return onramp.Decision{Reasons: []string{"the security team turned " + string(d.action) + " off"}}, nil
	}
	return d.Policy.Decide(ctx, decision, input)
}

// What policies/members refuses, the feeds and the mails refuse too: a token already issued stops
// reading once its holder may no longer view the catalog, and nobody who may not keep
// subscriptions is mailed.
func TestPolicyDecidesFeedsAndMails(t *testing.T) {
	f := mustFixture(t)
	org := f.mustOrg(t, "org_1", "standard")
	ana := f.mustMember(t, org, "ana", onramp.RoleOwner)
	tok := mustToken(t, f, ana, org.ID).Token
	mustSubscribe(t, f, ana, org.ID, "", onramp.SubscribeAll)
	ctx := t.Context()
	for _, action := range []onramp.Action{onramp.ActionCatalogView, onramp.ActionFeedRead, onramp.ActionSubscriptionManage} {
		svc, err := subscriptions.New(subscriptions.Config{Catalog: f.catalog, Versions: f.store, Policy: denying{policy, action}, Organizations: f.team,
			Members: f.team, Team: f.team, Subscriptions: f.subs, Tokens: f.subs, PortalURL: portal})
		if err != nil {
			t.Fatal(err)
		}
		_, feedErr := svc.Feed(ctx, tok, org.ID, "payments")
		ids, err := svc.Recipients(ctx, provider, "payments", "v2")
		if err != nil {
			t.Fatal(err)
		}
		switch action {
		case onramp.ActionSubscriptionManage:
			if feedErr != nil || len(ids) != 0 {
				t.Errorf("%s off: feed %v, recipients %v; want the feed and no mail", action, feedErr, ids)
			}
			if _, err := svc.Subscribe(ctx, ana, org.ID, "", onramp.SubscribeNone); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
				t.Errorf("%s off: Subscribe = %v, want EFORBIDDEN", action, err)
			}
		default:
			if onramp.ErrorCode(feedErr) != onramp.EFORBIDDEN || !strings.Contains(onramp.ErrorMessage(feedErr), "turned "+string(action)+" off") {
				t.Errorf("%s off: feed %v, want EFORBIDDEN with the policy's reason", action, feedErr)
			}
			if want := map[onramp.Action]int{onramp.ActionCatalogView: 0, onramp.ActionFeedRead: 1}[action]; len(ids) != want {
				t.Errorf("%s off: recipients %v, want %d", action, ids, want)
			}
		}
	}
}
