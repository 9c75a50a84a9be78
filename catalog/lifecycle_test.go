package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/policies"
)

// schedules is a BrownoutSchedules that stores the plan's windows itself, as the workflow's
// first step does, and records what it is asked.
type schedules struct {
	mu        sync.Mutex
	store     *catalogtest.Memory
	started   []onramp.BrownoutPlan
	cancelled []string
	running   bool
}

func (s *schedules) StartBrownouts(ctx context.Context, p onramp.BrownoutPlan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return onramp.Errorf(onramp.ECONFLICT, "a brownout schedule of %s %s is running", p.Product, p.Version)
	}
	s.running, s.started = true, append(s.started, p)
	return s.store.SetBrownouts(ctx, p.Product, p.Version, p.Windows)
}

func (s *schedules) CancelBrownouts(ctx context.Context, product, version, by string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return onramp.Errorf(onramp.ECONFLICT, "no brownout schedule of %s %s runs", product, version)
	}
	s.running, s.cancelled = false, append(s.cancelled, by)
	return s.store.SetBrownouts(ctx, product, version, nil)
}

// clockCatalog is the demo catalog on a clock the test moves, with a recording scheduler.
func clockCatalog(t *testing.T) (*catalog.Catalog, *catalogtest.Memory, *schedules, *time.Time) {
	t.Helper()
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store := catalogtest.NewMemory()
	now := time.Date(2027, 1, 4, 9, 30, 0, 0, time.UTC)
	sched := &schedules{store: store}
	c, err := catalog.New(catalog.Config{Announcements: &catalogtest.Announcements{}, Store: store, Assignments: store, Policy: engine, SandboxURL: "http://sandbox.test", ProductionURL: "http://prod.test",
		Brownouts: sched, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	return c, store, sched, &now
}

var admin = onramp.ProviderActor("ana@provider.example")

func TestDeprecationIsRecordedOnceAndForgottenWhenUndone(t *testing.T) {
	c, store, _, now := clockCatalog(t)
	loaded := *now
	v1, _ := store.FindVersion(t.Context(), "payments", "v1")
	if v1.DeprecatedAt == nil || !v1.DeprecatedAt.Equal(loaded) {
		t.Fatalf("v1 published deprecated: DeprecatedAt = %v, want its publication %s", v1.DeprecatedAt, loaded)
	}
	sunset := time.Date(2027, 9, 30, 12, 0, 0, 500, time.UTC)
	*now = now.Add(48 * time.Hour)
	v1, err := c.UpdateVersion(t.Context(), "payments", "v1", onramp.VersionDeprecated, &sunset, "later sunset")
	if err != nil || !v1.DeprecatedAt.Equal(loaded) || !v1.Sunset.Equal(sunset.Truncate(time.Second)) || v1.Phase != onramp.VersionDeprecated {
		t.Fatalf("moving the sunset = %+v, %v; want the deprecation date kept, the sunset to the second, phase deprecated", v1, err)
	}
	if _, err := c.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	if v1, _ = store.FindVersion(t.Context(), "payments", "v1"); !v1.DeprecatedAt.Equal(loaded) {
		t.Errorf("reloading the files moved the deprecation date to %s", v1.DeprecatedAt)
	}
	v2, err := c.UpdateVersion(t.Context(), "payments", "v2", onramp.VersionDeprecated, &sunset, "")
	if err != nil || v2.DeprecatedAt == nil || !v2.DeprecatedAt.Equal(*now) {
		t.Fatalf("deprecating v2 = %+v, %v; want deprecated at %s", v2, err, *now)
	}
	v2, err = c.UpdateVersion(t.Context(), "payments", "v2", onramp.VersionCurrent, nil, "")
	if err != nil || v2.DeprecatedAt != nil {
		t.Fatalf("un-deprecating v2 = %+v, %v; want no deprecation date", v2, err)
	}
}

func TestRetiredVersionStaysListedWithNothingCallable(t *testing.T) {
	c, _, _, now := clockCatalog(t)
	org := MustOrg(t, c, "org_std", "standard")
	*now = time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)
	v1, err := c.Product(t.Context(), org, "payments", "v1")
	if err != nil || v1.Version.Phase != onramp.VersionDeprecated || v1.Successor != "v2" {
		t.Fatalf("v1 1 ns before its sunset = %+v, %v; want deprecated, successor v2", v1.Version, err)
	}
	for _, op := range v1.Operations {
		if !op.Allowed {
			t.Errorf("1 ns before the sunset %s is not callable: %v", op.ID, op.Reasons)
		}
	}
	*now = now.Add(time.Nanosecond)
	v1, err = c.Product(t.Context(), org, "payments", "v1")
	if err != nil || v1.Version.Phase != onramp.PhaseRetired || v1.Retired {
		t.Fatalf("v1 at its sunset = %+v (product retired %v), %v; want v1 retired, the product not", v1.Version, v1.Retired, err)
	}
	for _, op := range v1.Operations {
		if op.Allowed || len(op.Reasons) != 1 || !strings.Contains(op.Reasons[0], "retired") {
			t.Errorf("at the sunset %s = allowed %v %v, want not callable because retired", op.ID, op.Allowed, op.Reasons)
		}
	}
	entries, err := c.List(t.Context(), org, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Product.Slug != "payments" {
			continue
		}
		if e.Versions[0].Phase != onramp.PhaseRetired || e.Versions[1].Phase != onramp.VersionCurrent || e.Latest.Version != "v2" {
			t.Errorf("payments in the list = %+v, want v1 retired, v2 current and latest", e.Versions)
		}
	}
	if _, _, err := c.Download(t.Context(), org, "payments", "v1", "yaml"); err != nil {
		t.Errorf("a retired version's page and download are gone: %v", err)
	}
}

func TestWhollyRetiredProductIsListedAsRetired(t *testing.T) {
	c, _, _, now := clockCatalog(t)
	org := MustOrg(t, c, "org_std", "standard")
	sunset := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := c.UpdateVersion(t.Context(), "payments", "v2", onramp.VersionDeprecated, &sunset, ""); err != nil {
		t.Fatal(err)
	}
	*now = time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)
	view, err := c.Product(t.Context(), org, "payments", "")
	if err != nil || !view.Retired || view.Successor != "" {
		t.Fatalf("payments with every version retired = %+v, %v; want it listed, retired, without a successor", view.Entry, err)
	}
}

func TestScheduleBrownouts(t *testing.T) {
	c, _, sched, now := clockCatalog(t)
	sunset := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	weekly := onramp.BrownoutSpec{Weekly: &onramp.WeeklyBrownouts{Start: time.Date(2027, 6, 1, 10, 0, 0, 0, time.UTC), Duration: "15m", Count: 4}, Notice: "48h"}

	partner := onramp.Actor{Email: "dev@partner.test", Memberships: []onramp.Membership{{Organization: onramp.Organization{ID: "org_std"}, Role: onramp.RoleOwner}}}
	if _, _, err := c.ScheduleBrownouts(t.Context(), partner, "payments", "v1", weekly); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner schedules: %v, want EFORBIDDEN", err)
	}
	if _, _, err := c.ScheduleBrownouts(t.Context(), admin, "payments", "v2", weekly); onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(err.Error(), "deprecate it") {
		t.Errorf("brownouts of the current v2: %v, want EINVALID asking to deprecate it", err)
	}
	if _, _, err := c.ScheduleBrownouts(t.Context(), admin, "payments", "v9", weekly); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("unknown version: %v, want ENOTFOUND", err)
	}
	p, v1, err := c.ScheduleBrownouts(t.Context(), admin, "payments", "v1", weekly)
	if err != nil || len(p.Windows) != 4 || p.Notice != 48*time.Hour || p.By != admin.Email || len(v1.Brownouts) != 4 || v1.Phase != onramp.VersionDeprecated {
		t.Fatalf("schedule = %+v, %+v, %v", p, v1, err)
	}
	if _, _, err := c.ScheduleBrownouts(t.Context(), admin, "payments", "v1", weekly); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("a second schedule: %v, want ECONFLICT", err)
	}
	*now = p.Windows[0].Start
	if v, _ := c.Version(t.Context(), "payments", "v1"); v.Phase != onramp.PhaseBrownout {
		t.Errorf("phase inside the first window = %q, want brownout", v.Phase)
	}
	*now = sunset
	if v, _ := c.Version(t.Context(), "payments", "v1"); v.Phase != onramp.PhaseRetired {
		t.Errorf("phase at the sunset = %q, want retired", v.Phase)
	}
	if _, err := c.CancelBrownouts(t.Context(), partner, "payments", "v1"); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner cancels: %v, want EFORBIDDEN", err)
	}
	if v, err := c.CancelBrownouts(t.Context(), admin, "payments", "v1"); err != nil || len(v.Brownouts) != 0 || len(sched.cancelled) != 1 {
		t.Fatalf("cancel = %+v, %v", v.Brownouts, err)
	}
	if _, err := c.CancelBrownouts(t.Context(), admin, "payments", "v1"); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("cancelling again: %v, want ECONFLICT", err)
	}
}

func TestUndeprecatingCancelsTheSchedule(t *testing.T) {
	c, _, sched, _ := clockCatalog(t)
	spec := onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{{Start: time.Date(2027, 6, 1, 10, 0, 0, 0, time.UTC), End: time.Date(2027, 6, 1, 11, 0, 0, 0, time.UTC)}}}
	if _, _, err := c.ScheduleBrownouts(t.Context(), admin, "payments", "v1", spec); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateVersion(t.Context(), "payments", "v1", onramp.VersionCurrent, nil, ""); err != nil {
		t.Fatal(err)
	}
	if len(sched.cancelled) != 1 || !strings.Contains(sched.cancelled[0], "current again") {
		t.Errorf("cancelled = %v, want the schedule cancelled as v1 became current", sched.cancelled)
	}
}

func TestBrownoutsNeedAScheduler(t *testing.T) {
	c, _ := MustDemoCatalog(t)
	if _, _, err := c.ScheduleBrownouts(t.Context(), admin, "payments", "v1", onramp.BrownoutSpec{}); onramp.ErrorCode(err) != onramp.EUNAVAILABLE {
		t.Errorf("without a scheduler: %v, want EUNAVAILABLE", err)
	}
}

// Storing a deprecated version alarms the organisations that call it of its sunset: deprecating
// it, moving its sunset and saving it again each ask (the alarms are once per sunset); a version
// that is not deprecated asks for none. An alarm that cannot be scheduled fails the update after
// the version is stored, so saving it again retries.
func TestStoringADeprecatedVersionAsksForItsImpactAlarms(t *testing.T) {
	engine, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store := catalogtest.NewMemory()
	ann := &catalogtest.Announcements{}
	c, err := catalog.New(catalog.Config{Announcements: ann, Store: store, Assignments: store, Policy: engine, SandboxURL: "http://s", ProductionURL: "http://p"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	s1, s2 := time.Date(2027, 9, 30, 0, 0, 0, 0, time.UTC), time.Date(2027, 10, 31, 0, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		status string
		sunset *time.Time
	}{{onramp.VersionDeprecated, &s1}, {onramp.VersionDeprecated, &s2}, {onramp.VersionDeprecated, &s2}, {onramp.VersionCurrent, nil}} {
		if _, err := c.UpdateVersion(t.Context(), "payments", "v2", step.status, step.sunset, ""); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, e := range ann.Alarms() {
		got = append(got, e.Kind+" "+e.Product+" "+e.Version+" "+e.Sunset.Format(time.DateOnly))
	}
	want := "[deprecated payments v2 2027-09-30 sunset payments v2 2027-10-31 sunset payments v2 2027-10-31]"
	if fmt.Sprint(got) != want {
		t.Errorf("alarms = %v, want %s", got, want)
	}
	ann.Fail = onramp.Errorf(onramp.EUNAVAILABLE, "temporal is away")
	if _, err := c.UpdateVersion(t.Context(), "payments", "v2", onramp.VersionDeprecated, &s1, ""); onramp.ErrorCode(err) != onramp.EUNAVAILABLE {
		t.Errorf("update without alarms = %v, want EUNAVAILABLE", err)
	}
	if v, _ := store.FindVersion(t.Context(), "payments", "v2"); v.Status != onramp.VersionDeprecated || !v.Sunset.Equal(s1) {
		t.Errorf("v2 = %s %v, want stored deprecated anyway", v.Status, v.Sunset)
	}
}
