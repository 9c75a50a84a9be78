package activities_test

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/mail"
	"github.com/onramp-dev/onramp/production/productiontest"
)

// fixedImpacts answers every batch with the same alarms.
type fixedImpacts struct{ alarms []onramp.ImpactAlarm }

func (f fixedImpacts) Plan(context.Context, onramp.Actor, onramp.ImpactEvent) (onramp.ImpactPlan, error) {
	return onramp.ImpactPlan{}, onramp.Errorf(onramp.ENOTFOUND, "not stored yet")
}

func (f fixedImpacts) Alarms(_ context.Context, a onramp.Actor, _ onramp.ImpactPlan, _ []string) ([]onramp.ImpactAlarm, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return nil, err
	}
	return f.alarms, nil
}

func alarm(org string, to ...string) onramp.ImpactAlarm {
	imp := onramp.Impact{OrgID: org, Event: onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: "payments", Version: "v3"}}
	al := onramp.ImpactAlarm{Impact: imp, Notification: onramp.Notification{ID: imp.NoticeID(), OrgID: org, Title: "Payments v3 breaks 1 operation", Body: "listPayments: 4 calls"}}
	for _, addr := range to {
		al.Mails = append(al.Mails, onramp.Message{ID: imp.NoticeID() + "-" + addr, To: addr, Subject: al.Notification.Title, Text: al.Notification.Body})
	}
	return al
}

// A batch's alarms notify each organisation once and mail each member once, whatever is
// retried: a relay failure fails the batch, and its retry sends only what had not gone.
func TestAlarmImpactNotifiesAndMailsOnceAcrossRetries(t *testing.T) {
	inbox := productiontest.NewMemory()
	mailer := &countingMailer{box: mail.NewMemory(), fail: map[int]bool{2: true}, sent: map[string]int{}}
	acts := &activities.Activities{Impacts: fixedImpacts{alarms: []onramp.ImpactAlarm{alarm("org_a", "owner@a.example", "dev@a.example"), alarm("org_b", "owner@b.example")}},
		Onboarding: inbox, Notices: catalogtest.NewNotices(), Mailer: mailer}
	ctx := t.Context()
	batch := activities.ImpactBatch{OrgIDs: []string{"org_a", "org_b", "org_c"}}
	if _, err := acts.AlarmImpact(ctx, batch); err == nil {
		t.Fatal("the relay failed the second mail, want the batch to fail (and be retried)")
	}
	res, err := acts.AlarmImpact(ctx, batch)
	if err != nil || res.Alarmed != 2 || res.Mailed != 2 {
		t.Fatalf("retry = %+v, %v; want both alarmed, the two mails not sent before", res, err)
	}
	again, err := acts.AlarmImpact(ctx, batch)
	if err != nil || again.Mailed != 0 {
		t.Fatalf("a re-run = %+v, %v; want no mail sent again", again, err)
	}
	for _, to := range []string{"owner@a.example", "dev@a.example", "owner@b.example"} {
		if mailer.sent[to] != 1 {
			t.Errorf("%s got %d mails, want 1", to, mailer.sent[to])
		}
	}
	for _, org := range []string{"org_a", "org_b"} {
		if ns, _ := inbox.NotificationsOf(ctx, org, onramp.PageRequest{Limit: 10}); len(ns.Items) != 1 || ns.Items[0].ID != "impact-payments@v3-breaking-"+org {
			t.Errorf("%s's notifications = %+v, want its alarm once", org, ns)
		}
	}
	if ns, _ := inbox.NotificationsOf(ctx, "org_c", onramp.PageRequest{Limit: 10}); len(ns.Items) != 0 {
		t.Errorf("org_c, not affected, got %+v", ns)
	}
}

// While the version is not stored yet, planning fails retryably (the workflow waits for it).
func TestPlanImpactWaitsForTheVersion(t *testing.T) {
	acts := &activities.Activities{Impacts: fixedImpacts{}}
	_, err := acts.PlanImpact(t.Context(), onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: "payments", Version: "v3"})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.Type() != "version-not-stored" {
		t.Errorf("PlanImpact before the version is stored = %v, want a retryable error", err)
	}
}
