package subscriptions_test

import (
	"context"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/subscriptions"
)

var provider = onramp.ProviderActor("announcement workflow")

// announcementFixture: org_1 (standard) with ana (breaking only on payments), bo (everything by
// default, but none for payments), cy (a viewer, everything) and dee (never chose); org_2
// (standard) with eve (everything); org_3 (premium without payments) with fay (everything).
func announcementFixture(t *testing.T) *fixture {
	f := mustFixture(t)
	org1, org2, org3 := f.mustOrg(t, "org_1", "standard"), f.mustOrg(t, "org_2", "standard"), f.mustOrg(t, "org_3", "premium")
	if err := f.catalog.Unassign(t.Context(), org3.ID, "payments"); err != nil {
		t.Fatal(err)
	}
	ana, bo := f.mustMember(t, org1, "ana", onramp.RoleAdmin), f.mustMember(t, org1, "bo", onramp.RoleDeveloper)
	cy := f.mustMember(t, org1, "cy", onramp.RoleViewer)
	f.mustMember(t, org1, "dee", onramp.RoleOwner)
	eve, fay := f.mustMember(t, org2, "eve", onramp.RoleOwner), f.mustMember(t, org3, "fay", onramp.RoleOwner)
	mustSubscribe(t, f, ana, org1.ID, "payments", onramp.SubscribeBreaking)
	mustSubscribe(t, f, bo, org1.ID, "", onramp.SubscribeAll)
	mustSubscribe(t, f, bo, org1.ID, "payments", onramp.SubscribeNone)
	mustSubscribe(t, f, cy, org1.ID, "", onramp.SubscribeAll)
	mustSubscribe(t, f, eve, org2.ID, "", onramp.SubscribeAll)
	mustSubscribe(t, f, fay, org3.ID, "", onramp.SubscribeAll)
	return f
}

func mustRecipients(tb testing.TB, f *fixture, version string) string {
	tb.Helper()
	ids, err := f.svc.Recipients(context.Background(), provider, "payments", version)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Join(ids, " ")
}

// A breaking version goes to "breaking" and "all" subscribers, any other version to "all" ones
// only; nobody with "none" (the default included), and nobody whose organisation cannot see it.
func TestRecipientsAreTheSubscribersWhoSeeTheVersion(t *testing.T) {
	f := announcementFixture(t)
	f.mustPublish(t, "v3", paymentsV3(t, true))
	if got, want := mustRecipients(t, f, "v3"), "org_1:ana org_1:cy org_2:eve"; got != want {
		t.Errorf("breaking v3 goes to %q, want %q", got, want)
	}
	f.mustPublish(t, "v4", paymentsV3(t, false))
	if got, want := mustRecipients(t, f, "v4"), "org_1:cy org_2:eve"; got != want {
		t.Errorf("non-breaking v4 goes to %q, want %q", got, want)
	}
	if _, err := f.svc.Recipients(t.Context(), provider, "payments", "v9"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("a version not stored yet: %v, want ENOTFOUND (the workflow waits for it)", err)
	}
	if _, err := f.svc.Recipients(t.Context(), f.actor(t, "ana"), "payments", "v3"); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner asking: %v, want EFORBIDDEN", err)
	}
}

// The mail names the product and version and lists the changes, breaking first, with where to
// read the rest and change the subscription; each condition is checked again at sending time.
func TestAnnouncementMail(t *testing.T) {
	f := announcementFixture(t)
	ctx := t.Context()
	f.mustPublish(t, "v3", paymentsV3(t, true))
	m, ok, err := f.svc.Announcement(ctx, provider, "payments", "v3", "org_1:ana")
	if err != nil || !ok {
		t.Fatalf("ana's announcement: %v, %v", ok, err)
	}
	if m.ID != subscriptions.AnnouncementID("payments", "v3", "org_1:ana") || m.To != "ana@org_1.example" || m.Validate() != nil ||
		m.Subject != "Payments v3 is published: 1 breaking change since v2" {
		t.Errorf("message %+v", m)
	}
	for _, want := range []string{"Payments v3 is published in the API catalog of Org org_1", "Breaking changes: code written for v2 may fail (1)",
		"- GET /payments: the `query` request parameter `limit` became required", "Release notes:\nNotes of v3.",
		portal + "/catalog/payments?org=org_1&version=v3#changelog", `"breaking changes only"`, portal + "/subscriptions?org=org_1"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the text lacks %q:\n%s", want, m.Text)
		}
	}
	// v2 against v1 has breaking and other changes: breaking come first.
	v2, ok, err := f.svc.Announcement(ctx, provider, "payments", "v2", "org_1:cy")
	if b, o := strings.Index(v2.Text, "Breaking changes"), strings.Index(v2.Text, "Other changes"); err != nil || !ok || b < 0 || o < b {
		t.Errorf("v2 to cy (%v, %v): breaking at %d, other at %d:\n%s", ok, err, b, o, v2.Text)
	}
	for member, why := range map[string]string{"org_1:bo": "subscribed to none for payments", "org_1:dee": "never subscribed",
		"org_3:fay": "cannot see payments", "org_9:ghost": "is nobody"} {
		if _, ok, err := f.svc.Announcement(ctx, provider, "payments", "v3", member); err != nil || ok {
			t.Errorf("%s, who %s: %v, %v; want no mail", member, why, ok, err)
		}
	}
	// Between the recipients' list and the sending: ana leaves, eve's organisation loses payments.
	if err := f.team.DeleteMember(ctx, "org_1:ana"); err != nil {
		t.Fatal(err)
	}
	if err := f.catalog.Unassign(ctx, "org_2", "payments"); err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{"org_1:ana", "org_2:eve"} {
		if _, ok, err := f.svc.Announcement(ctx, provider, "payments", "v3", member); err != nil || ok {
			t.Errorf("%s at sending time: %v, %v; want no mail", member, ok, err)
		}
	}
	if got := mustRecipients(t, f, "v3"); got != "org_1:cy" {
		t.Errorf("recipients now %q", got)
	}
	if _, _, err := f.svc.Announcement(ctx, f.actor(t, "cy"), "payments", "v3", "org_1:cy"); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner asking: %v, want EFORBIDDEN", err)
	}
	if a, b := subscriptions.AnnouncementID("payments", "v3", "org_1:cy"), subscriptions.AnnouncementID("payments", "v3", "org_1:ana"); a == b ||
		strings.ContainsAny(a, ":/@") || len(a) != len("announce-")+32 {
		t.Errorf("announcement ids %q %q: want distinct, stable and usable in a Message-ID", a, b)
	}
}
