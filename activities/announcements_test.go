package activities_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
)

// announcementMailer counts every message handed to it; failNext fails that many sends first.
type announcementMailer struct {
	mu       sync.Mutex
	sent     map[string]int
	failNext int
}

func (m *announcementMailer) Send(_ context.Context, msg onramp.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failNext > 0 {
		m.failNext--
		return onramp.Errorf(onramp.EUNAVAILABLE, "the relay is down")
	}
	m.sent[msg.ID]++
	return nil
}

// oneAnnouncement announces to anyone whose id is in wanted.
type oneAnnouncement struct{ wanted map[string]bool }

func (o oneAnnouncement) Recipients(context.Context, onramp.Actor, string, string) ([]string, error) {
	return nil, onramp.Errorf(onramp.ENOTFOUND, "no version")
}

func (o oneAnnouncement) Announcement(_ context.Context, a onramp.Actor, product, version, member string) (onramp.Message, bool, error) {
	if !a.Provider {
		return onramp.Message{}, false, onramp.Errorf(onramp.EFORBIDDEN, "provider only")
	}
	return onramp.Message{ID: "announce-" + member, To: "x@y.example", Subject: product + " " + version}, o.wanted[member], nil
}

func sendOnce(t *testing.T, acts *activities.Activities, member string) (bool, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	v, err := env.ExecuteActivity(acts.SendAnnouncement, activities.AnnouncementDelivery{Product: "payments", Version: "v3", MemberID: member})
	if err != nil {
		return false, err
	}
	var sent bool
	return sent, v.Get(&sent)
}

// However often the activity runs for a recipient (Temporal retries it after a timeout, an
// operator resets the run), the recipient is mailed once.
func TestSendAnnouncementMailsOnceHoweverOftenItRuns(t *testing.T) {
	mailer := &announcementMailer{sent: map[string]int{}}
	log := subscriptionstest.NewMemory()
	acts := &activities.Activities{Mailer: mailer, Announcer: oneAnnouncement{wanted: map[string]bool{"org_1:a": true}}, Deliveries: log}

	for i, want := range []bool{true, false, false} {
		sent, err := sendOnce(t, acts, "org_1:a")
		if err != nil || sent != want {
			t.Fatalf("run %d: sent=%v err=%v, want sent=%v", i+1, sent, err, want)
		}
	}
	if mailer.sent["announce-org_1:a"] != 1 {
		t.Fatalf("sent %v, want once", mailer.sent)
	}
	// Someone who is not (or no longer) to hear of it is skipped, and nothing is logged.
	if sent, err := sendOnce(t, acts, "org_1:gone"); err != nil || sent || mailer.sent["announce-org_1:gone"] != 0 {
		t.Errorf("a recipient no longer wanted: sent=%v err=%v", sent, err)
	}
	if done, _ := log.Delivered(t.Context(), "announce-org_1:gone"); done {
		t.Error("a skipped mail is logged as delivered")
	}
}

// A relay that refuses fails the attempt retryably, so the retry sends it; once the relay took
// it, a delivery log that fails does not fail the attempt (a retry would mail twice).
func TestSendAnnouncementFailuresAndRetries(t *testing.T) {
	mailer := &announcementMailer{sent: map[string]int{}, failNext: 1}
	log := subscriptionstest.NewMemory()
	acts := &activities.Activities{Mailer: mailer, Announcer: oneAnnouncement{wanted: map[string]bool{"org_1:a": true, "org_1:b": true}}, Deliveries: log}
	_, err := sendOnce(t, acts, "org_1:a")
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.NonRetryable() {
		t.Fatalf("relay down: %v, want a retryable failure", err)
	}
	if sent, err := sendOnce(t, acts, "org_1:a"); err != nil || !sent || mailer.sent["announce-org_1:a"] != 1 {
		t.Fatalf("the retry: sent=%v err=%v, %v", sent, err, mailer.sent)
	}
	log.FailMarking = errors.New("mongo is down")
	if sent, err := sendOnce(t, acts, "org_1:b"); err != nil || !sent || mailer.sent["announce-org_1:b"] != 1 {
		t.Fatalf("log down after sending: sent=%v err=%v, want success (no retry)", sent, err)
	}
}
