package workflows_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/worker"
	"github.com/onramp-dev/onramp/workflows"
)

type announcementEnv struct {
	env      *testsuite.TestWorkflowEnvironment
	mu       sync.Mutex
	lists    int      // calls of the recipients' list
	attempts []string // member ids, one per send attempt
}

// newAnnouncementEnv answers the recipients' list with "not stored yet" notYet times, then with
// recipients; send decides each attempt's outcome.
func newAnnouncementEnv(notYet int, recipients []string, send func(member string, attempt int) (bool, error)) *announcementEnv {
	var s testsuite.WorkflowTestSuite
	e := &announcementEnv{env: s.NewTestWorkflowEnvironment()}
	var a *activities.Activities
	worker.Register(e.env, &activities.Activities{})
	e.env.OnActivity(a.AnnouncementRecipients, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AnnouncementInput) ([]string, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.lists++
		if e.lists <= notYet {
			return nil, temporal.NewApplicationError("not stored yet", "version-not-stored")
		}
		return recipients, nil
	})
	// The version breaks nothing (version_impact_test.go alarms).
	e.env.OnActivity(a.PlanImpact, mock.Anything, mock.Anything).Return(onramp.ImpactPlan{}, nil)
	e.env.OnActivity(a.SendAnnouncement, mock.Anything, mock.Anything).Return(func(_ context.Context, d activities.AnnouncementDelivery) (bool, error) {
		e.mu.Lock()
		e.attempts = append(e.attempts, d.MemberID)
		n := 0
		for _, m := range e.attempts {
			if m == d.MemberID {
				n++
			}
		}
		e.mu.Unlock()
		return send(d.MemberID, n)
	})
	return e
}

func (e *announcementEnv) run(t *testing.T) workflows.VersionAnnouncementResult {
	t.Helper()
	e.env.ExecuteWorkflow(workflows.VersionAnnouncementWorkflowName, workflows.VersionAnnouncementInput{Product: "payments", Version: "v3"})
	if !e.env.IsWorkflowCompleted() || e.env.GetWorkflowError() != nil {
		t.Fatalf("completed=%v err=%v", e.env.IsWorkflowCompleted(), e.env.GetWorkflowError())
	}
	var r workflows.VersionAnnouncementResult
	if err := e.env.GetWorkflowResult(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// The announcement waits for the version its publication is about to store, then mails each
// recipient in an activity of its own: a failed attempt is retried for that recipient only.
func TestVersionAnnouncementWaitsForTheVersionAndRetriesOneRecipientAlone(t *testing.T) {
	members := []string{"org_1:a", "org_1:b", "org_2:c", "org_2:d", "org_3:e", "org_3:f", "org_4:g", "org_4:h", "org_5:i", "org_5:j", "org_6:k", "org_6:l"}
	e := newAnnouncementEnv(2, members, func(member string, attempt int) (bool, error) {
		switch {
		case member == "org_2:c" && attempt == 1:
			return false, errors.New("the mail relay is down")
		case member == "org_4:g":
			return false, nil // already delivered, or no longer wanted
		}
		return true, nil
	})
	r := e.run(t)
	if e.lists != 3 || r.Recipients != 12 || r.Sent != 11 || r.Skipped != 1 || len(r.Failed) != 0 {
		t.Fatalf("lists %d, result %+v", e.lists, r)
	}
	per := map[string]int{}
	for _, m := range e.attempts {
		per[m]++
	}
	for _, m := range members {
		if want := map[bool]int{true: 2, false: 1}[m == "org_2:c"]; per[m] != want {
			t.Errorf("%s: %d attempts, want %d", m, per[m], want)
		}
	}
}

// A recipient whose mail can never go (an invalid address) does not stop the others.
func TestVersionAnnouncementGoesOnPastAFailedRecipient(t *testing.T) {
	e := newAnnouncementEnv(0, []string{"org_1:a", "org_1:bad", "org_1:c"}, func(member string, _ int) (bool, error) {
		if member == "org_1:bad" {
			return false, temporal.NewNonRetryableApplicationError("recipient is not a plain e-mail address", "invalid", nil)
		}
		return true, nil
	})
	r := e.run(t)
	if r.Sent != 2 || !slices.Equal(r.Failed, []string{"org_1:bad"}) {
		t.Fatalf("result %+v", r)
	}
}

// Nobody subscribed: nothing is sent, and the run completes.
func TestVersionAnnouncementWithoutRecipients(t *testing.T) {
	e := newAnnouncementEnv(0, []string{}, func(string, int) (bool, error) { return true, nil })
	if r := e.run(t); r.Recipients != 0 || len(e.attempts) != 0 {
		t.Fatalf("result %+v, attempts %v", r, e.attempts)
	}
}

// A version that is never stored (its publication failed after starting the announcement) is
// announced to nobody: the run fails after its wait, which lets a retried publication start anew.
func TestVersionAnnouncementOfAVersionNeverStoredFails(t *testing.T) {
	e := newAnnouncementEnv(1<<30, []string{"org_1:a"}, func(string, int) (bool, error) { return true, nil })
	e.env.ExecuteWorkflow(workflows.VersionAnnouncementWorkflowName, workflows.VersionAnnouncementInput{Product: "payments", Version: "v3"})
	if !e.env.IsWorkflowCompleted() || e.env.GetWorkflowError() == nil || len(e.attempts) != 0 {
		t.Fatalf("completed=%v err=%v attempts=%v; want a failed run that mailed nobody", e.env.IsWorkflowCompleted(), e.env.GetWorkflowError(), e.attempts)
	}
	if e.lists < 5 {
		t.Errorf("asked %d times in 15 minutes, want it to keep waiting", e.lists)
	}
}
