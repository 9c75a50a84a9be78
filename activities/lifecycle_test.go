package activities_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/mail"
	"github.com/onramp-dev/onramp/production/productiontest"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// countingMailer delivers into a mailbox, counts each delivery per recipient, and fails the
// sends whose number (1-based) is in fail.
type countingMailer struct {
	mu   sync.Mutex
	box  *mail.Memory
	n    int
	fail map[int]bool
	sent map[string]int
}

func (m *countingMailer) Send(ctx context.Context, msg onramp.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	if m.fail[m.n] {
		return onramp.Errorf(onramp.EUNAVAILABLE, "relay down")
	}
	m.sent[msg.To]++
	return m.box.Send(ctx, msg)
}

type lifecycleFixture struct {
	acts    *activities.Activities
	catalog *catalogtest.Memory
	orgs    *teamtest.Memory
	inbox   *productiontest.Memory
	mailer  *countingMailer
	window  onramp.BrownoutWindow
	notice  activities.BrownoutNotice
}

// newLifecycleFixture: payments v1 deprecated with one window two days ahead, v2 current; org_a
// is assigned payments (an owner, an admin, a developer, a viewer), org_b is not.
func newLifecycleFixture(t *testing.T) *lifecycleFixture {
	t.Helper()
	ctx := t.Context()
	f := &lifecycleFixture{catalog: catalogtest.NewMemory(), orgs: teamtest.NewMemory(), inbox: productiontest.NewMemory(),
		mailer: &countingMailer{box: mail.NewMemory(), fail: map[int]bool{}, sent: map[string]int{}}}
	f.acts = &activities.Activities{Plans: f.catalog, Assignments: f.catalog, Brownouts: f.catalog, Notices: catalogtest.NewNotices(),
		Organizations: f.orgs, Team: f.orgs, Onboarding: f.inbox, Mailer: f.mailer}
	now := time.Now().UTC().Truncate(time.Second)
	sunset := now.AddDate(0, 1, 0)
	f.window = onramp.BrownoutWindow{Start: now.Add(48 * time.Hour), End: now.Add(48*time.Hour + 15*time.Minute)}
	for i, v := range []onramp.ProductVersion{
		{Product: "payments", Version: "v1", Number: 1, Status: onramp.VersionDeprecated, Sunset: &sunset, Brownouts: []onramp.BrownoutWindow{f.window}},
		{Product: "payments", Version: "v2", Number: 2, Status: onramp.VersionCurrent},
	} {
		v.PublishedAt = now.Add(time.Duration(i) * time.Hour)
		if err := f.catalog.PublishVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []string{"org_a", "org_b"} {
		if err := f.orgs.CreateOrganization(ctx, onramp.Organization{ID: o, Name: o, Tier: "standard", Status: onramp.OrgActive}); err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{onramp.RoleOwner, onramp.RoleAdmin, onramp.RoleDeveloper, onramp.RoleViewer} {
			if err := f.orgs.SaveMember(ctx, onramp.Member{ID: onramp.MemberID(o, o+"-"+role), OrgID: o, IdentityID: o + "-" + role, Email: role + "@" + o + ".test", Role: role}); err != nil {
				t.Fatal(err)
			}
		}
	}
	grant := onramp.Grant{Scopes: []string{"payments:read"}, Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 10, Period: "day"}}
	if err := f.catalog.SaveAssignment(ctx, onramp.Assignment{OrgID: "org_a", Product: "payments", Plan: "standard", Grant: grant}); err != nil {
		t.Fatal(err)
	}
	f.notice = activities.BrownoutNotice{Product: "payments", Version: "v1", Window: f.window, Number: 1, Count: 1, PortalURL: "http://portal.test"}
	return f
}

func TestNotifyBrownoutTellsTheAssignedOnceEach(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := t.Context()
	for range 2 { // the second run is a retry: nothing new goes out
		if err := f.acts.NotifyBrownout(ctx, f.notice); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"owner@org_a.test": 1, "admin@org_a.test": 1, "developer@org_a.test": 1}
	if len(f.mailer.sent) != len(want) {
		t.Fatalf("sent = %v, want %v (org_a's owner, admin and developer once; no viewer, nobody of org_b)", f.mailer.sent, want)
	}
	for to, n := range want {
		if f.mailer.sent[to] != n {
			t.Errorf("%s got %d e-mails, want %d", to, f.mailer.sent[to], n)
		}
	}
	msgs, _ := f.mailer.box.List(ctx, "developer@org_a.test", 10)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "Brownout of payments v1") || !strings.Contains(msgs[0].Text, "410 Gone") ||
		!strings.Contains(msgs[0].Text, "Move to v2") || !strings.Contains(msgs[0].Text, "http://portal.test/catalog/payments?version=v1#lifecycle") ||
		!strings.Contains(msgs[0].Text, f.window.Start.Format(time.RFC3339)) {
		t.Errorf("e-mail = %+v, want the window, the 410, the successor and the migration page", msgs)
	}
	notes, _ := f.inbox.NotificationsOf(ctx, "org_a", onramp.PageRequest{Limit: 10})
	if len(notes.Items) != 1 || notes.Items[0].Link != "http://portal.test/catalog/payments?version=v1#lifecycle" {
		t.Errorf("org_a's notifications = %+v, want one linking the migration page", notes)
	}
	if notes, _ := f.inbox.NotificationsOf(ctx, "org_b", onramp.PageRequest{Limit: 10}); len(notes.Items) != 0 {
		t.Errorf("org_b (not assigned payments) was notified: %+v", notes)
	}
}

func TestNotifyBrownoutRetriesOnlyWhatFailed(t *testing.T) {
	f := newLifecycleFixture(t)
	f.mailer.fail[2] = true
	if err := f.acts.NotifyBrownout(t.Context(), f.notice); err == nil {
		t.Fatal("a failed delivery did not fail the activity (Temporal would not retry it)")
	}
	if err := f.acts.NotifyBrownout(t.Context(), f.notice); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"owner@org_a.test", "admin@org_a.test", "developer@org_a.test"} {
		if f.mailer.sent[to] != 1 {
			t.Errorf("%s got %d e-mails after a retry, want exactly 1", to, f.mailer.sent[to])
		}
	}
}

func TestNotifyBrownoutSkipsWhatNoLongerApplies(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := t.Context()
	other := f.notice
	other.Window.Start = other.Window.Start.Add(time.Minute) // not the stored window (cancelled, rescheduled)
	if err := f.acts.NotifyBrownout(ctx, other); err != nil {
		t.Fatal(err)
	}
	v1, _ := f.catalog.FindVersion(ctx, "payments", "v1")
	v1.Status = onramp.VersionCurrent
	if err := f.catalog.UpdateVersion(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if err := f.acts.NotifyBrownout(ctx, f.notice); err != nil {
		t.Fatal(err)
	}
	if len(f.mailer.sent) != 0 {
		t.Errorf("sent = %v, want nothing for a window no longer scheduled or a version no longer deprecated", f.mailer.sent)
	}
}

func TestStoreBrownoutsKeepsHistoryAndIsIdempotent(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := t.Context()
	past := onramp.BrownoutWindow{Start: f.window.Start.AddDate(0, 0, -7), End: f.window.End.AddDate(0, 0, -7)}
	if err := f.catalog.SetBrownouts(ctx, "payments", "v1", []onramp.BrownoutWindow{past, f.window}); err != nil {
		t.Fatal(err)
	}
	next := onramp.BrownoutWindow{Start: f.window.Start.AddDate(0, 0, 7), End: f.window.End.AddDate(0, 0, 7)}
	ch := activities.BrownoutChange{Product: "payments", Version: "v1", At: past.End.Add(time.Hour), Windows: []onramp.BrownoutWindow{next}}
	for range 2 {
		if err := f.acts.StoreBrownouts(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	v1, _ := f.catalog.FindVersion(ctx, "payments", "v1")
	if len(v1.Brownouts) != 2 || v1.Brownouts[0] != past || v1.Brownouts[1] != next {
		t.Errorf("windows = %+v, want the past one kept and the new one, once", v1.Brownouts)
	}
	if err := f.acts.StoreBrownouts(ctx, activities.BrownoutChange{Product: "payments", Version: "v9", At: ch.At}); err == nil {
		t.Error("storing windows of an unknown version succeeded")
	}
}
