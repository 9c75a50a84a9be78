package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/worker"
	"github.com/onramp-dev/onramp/workflows"
)

type impactEnv struct {
	env     *testsuite.TestWorkflowEnvironment
	mu      sync.Mutex
	plans   int
	batches [][]string // org ids, one per attempt
}

func orgIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("org_%04d", i)
	}
	return out
}

// newImpactEnv answers the plan with "not stored yet" notYet times, then with ops affected and
// orgs assigned; alarm decides each batch attempt (the batch, its attempt number).
func newImpactEnv(notYet int, ops int, orgs []string, alarm func(b []string, attempt int) (activities.ImpactBatchResult, error)) *impactEnv {
	var s testsuite.WorkflowTestSuite
	e := &impactEnv{env: s.NewTestWorkflowEnvironment()}
	var a *activities.Activities
	worker.Register(e.env, &activities.Activities{})
	e.env.OnActivity(a.PlanImpact, mock.Anything, mock.Anything).Return(func(_ context.Context, ev onramp.ImpactEvent) (onramp.ImpactPlan, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.plans++
		if e.plans <= notYet {
			return onramp.ImpactPlan{}, temporal.NewApplicationError("not stored yet", "version-not-stored")
		}
		p := onramp.ImpactPlan{Event: ev, Called: ev.Version, At: time.Date(2027, 3, 31, 15, 0, 0, 0, time.UTC), Organizations: orgs}
		for i := range ops {
			p.Operations = append(p.Operations, onramp.AffectedOperation{Operation: fmt.Sprintf("op%d", i)})
		}
		return p, nil
	})
	e.env.OnActivity(a.AlarmImpact, mock.Anything, mock.Anything).Return(func(_ context.Context, b activities.ImpactBatch) (activities.ImpactBatchResult, error) {
		if b.Plan.Organizations != nil || len(b.Plan.Operations) != ops || b.Plan.At.IsZero() {
			return activities.ImpactBatchResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the batch's plan = %+v", b.Plan), "test", nil)
		}
		e.mu.Lock()
		e.batches = append(e.batches, b.OrgIDs)
		n := 0
		for _, prev := range e.batches {
			if prev[0] == b.OrgIDs[0] {
				n++
			}
		}
		e.mu.Unlock()
		return alarm(b.OrgIDs, n)
	})
	return e
}

func (e *impactEnv) run(t *testing.T) workflows.VersionImpactResult {
	t.Helper()
	sunset := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	e.env.ExecuteWorkflow(workflows.VersionImpactWorkflowName, workflows.VersionImpactInput{Event: onramp.ImpactEvent{Kind: onramp.ImpactDeprecated, Product: "payments", Version: "v1", Sunset: &sunset}})
	if !e.env.IsWorkflowCompleted() || e.env.GetWorkflowError() != nil {
		t.Fatalf("completed=%v err=%v", e.env.IsWorkflowCompleted(), e.env.GetWorkflowError())
	}
	var r workflows.VersionImpactResult
	if err := e.env.GetWorkflowResult(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// 250 organisations are assessed in 3 batches of at most 100; a batch that fails once is retried
// alone, and every organisation is in exactly one batch that succeeded.
func TestVersionImpactAlarmsInBatchesAndRetriesABatchAlone(t *testing.T) {
	orgs := orgIDs(250)
	e := newImpactEnv(2, 3, orgs, func(b []string, attempt int) (activities.ImpactBatchResult, error) {
		if b[0] == "org_0100" && attempt == 1 {
			return activities.ImpactBatchResult{}, errors.New("the store is away")
		}
		return activities.ImpactBatchResult{Alarmed: len(b) / 10, Mailed: len(b) / 5}, nil
	})
	r := e.run(t)
	if e.plans != 3 || r.Operations != 3 || r.Organizations != 250 || r.Alarmed != 25 || r.Mailed != 50 || len(r.Failed) != 0 {
		t.Fatalf("plans %d, result %+v", e.plans, r)
	}
	if len(e.batches) != 4 {
		t.Fatalf("%d batch attempts, want 3 and one retry", len(e.batches))
	}
	var seen []string
	for _, b := range e.batches {
		if len(b) > 100 {
			t.Errorf("a batch of %d organisations", len(b))
		}
		if b[0] == "org_0100" && len(seen) > 0 && slices.Contains(seen, "org_0100") {
			continue // the retry
		}
		seen = append(seen, b...)
	}
	slices.Sort(seen)
	if !slices.Equal(seen, orgs) {
		t.Errorf("assessed %d organisations, want each of the 250 once", len(seen))
	}
}

// A batch that fails for good is reported with its organisations; the others are alarmed.
func TestVersionImpactGoesOnPastAFailedBatch(t *testing.T) {
	e := newImpactEnv(0, 1, orgIDs(150), func(b []string, _ int) (activities.ImpactBatchResult, error) {
		if b[0] == "org_0000" {
			return activities.ImpactBatchResult{}, temporal.NewNonRetryableApplicationError("bad plan", "invalid", nil)
		}
		return activities.ImpactBatchResult{Alarmed: 1, Mailed: 2}, nil
	})
	r := e.run(t)
	if r.Alarmed != 1 || r.Mailed != 2 || len(r.Failed) != 100 || r.Failed[0] != "org_0000" {
		t.Fatalf("result %+v", r)
	}
}

// Nothing affected (no breaking change, or a sunset since moved again): no batch runs.
func TestVersionImpactOfNothingAffected(t *testing.T) {
	e := newImpactEnv(0, 0, nil, func([]string, int) (activities.ImpactBatchResult, error) {
		return activities.ImpactBatchResult{Alarmed: 1}, nil
	})
	if r := e.run(t); r.Operations != 0 || r.Alarmed != 0 || len(e.batches) != 0 {
		t.Fatalf("result %+v, batches %v", r, e.batches)
	}
}

// A published version's announcement alarms the organisations its breaking changes hit once the
// version is stored, then mails its subscribers; an alarm that fails leaves the mails alone.
func TestVersionAnnouncementAlarmsTheImpactOfItsBreakingChanges(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("alarm fails: %v", fail), func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			var a *activities.Activities
			worker.Register(env, &activities.Activities{})
			var order []string
			var mu sync.Mutex
			note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
			env.OnActivity(a.AnnouncementRecipients, mock.Anything, mock.Anything).Return(func(context.Context, activities.AnnouncementInput) ([]string, error) {
				note("recipients")
				return []string{"org_1:a"}, nil
			})
			env.OnActivity(a.PlanImpact, mock.Anything, mock.Anything).Return(func(_ context.Context, ev onramp.ImpactEvent) (onramp.ImpactPlan, error) {
				note("plan " + ev.Kind + " " + ev.Product + " " + ev.Version)
				return onramp.ImpactPlan{Event: ev, Called: "v2", At: time.Now(), Operations: []onramp.AffectedOperation{{Operation: "listPayments"}}, Organizations: []string{"org_1", "org_2"}}, nil
			})
			env.OnActivity(a.AlarmImpact, mock.Anything, mock.Anything).Return(func(_ context.Context, b activities.ImpactBatch) (activities.ImpactBatchResult, error) {
				note("alarm " + strings.Join(b.OrgIDs, ","))
				if fail {
					return activities.ImpactBatchResult{}, temporal.NewNonRetryableApplicationError("down", "test", nil)
				}
				return activities.ImpactBatchResult{Alarmed: 1, Mailed: 1}, nil
			})
			env.OnActivity(a.SendAnnouncement, mock.Anything, mock.Anything).Return(func(context.Context, activities.AnnouncementDelivery) (bool, error) {
				note("mail")
				return true, nil
			})
			env.ExecuteWorkflow(workflows.VersionAnnouncementWorkflowName, workflows.VersionAnnouncementInput{Product: "payments", Version: "v3"})
			if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
				t.Fatalf("completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
			}
			var r workflows.VersionAnnouncementResult
			if err := env.GetWorkflowResult(&r); err != nil {
				t.Fatal(err)
			}
			if want := "recipients,plan breaking payments v3,alarm org_1,org_2,mail"; strings.Join(order, ",") != want {
				t.Errorf("order = %v, want %s", order, want)
			}
			want := workflows.VersionImpactResult{Operations: 1, Organizations: 2, Alarmed: 1, Mailed: 1}
			if fail {
				want = workflows.VersionImpactResult{Operations: 1, Organizations: 2, Failed: []string{"org_1", "org_2"}}
			}
			if r.Sent != 1 || r.Impact == nil || fmt.Sprint(*r.Impact) != fmt.Sprint(want) {
				t.Errorf("result %+v impact %+v, want the mail sent and impact %+v", r, r.Impact, want)
			}
		})
	}
}
