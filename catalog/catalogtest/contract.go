// Package catalogtest holds the catalog store contract that the MongoDB adapter and the in-memory
// fake both pass, and the fake itself.
package catalogtest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// Store is what the catalog keeps its data in.
type Store interface {
	onramp.CatalogStore
	onramp.AssignmentStore
	onramp.BrownoutStore
	AllVersions(ctx context.Context) ([]onramp.ProductVersion, error) // catalog.AllVersions
}

// RunStoreContract runs the contract against stores from newStore (each one empty).
func RunStoreContract(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("products and versions", func(t *testing.T) { testProductsAndVersions(t, newStore(t)) })
	t.Run("plans and assignments", func(t *testing.T) { testPlansAndAssignments(t, newStore(t)) })
	t.Run("deprecation and brownouts", func(t *testing.T) { testLifecycle(t, newStore(t)) })
	t.Run("every version in one read", func(t *testing.T) { testAllVersions(t, newStore(t)) })
}

// AllVersions holds exactly what ListVersions gives for each product, in the same order.
func testAllVersions(t *testing.T, s Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i, pv := range []onramp.ProductVersion{
		{Product: "payments", Version: "v2", Number: 2}, {Product: "accounts", Version: "v1", Number: 1},
		{Product: "payments", Version: "v1", Number: 1}, {Product: "payments", Version: "v3", Number: 3},
	} {
		pv.Status, pv.Spec, pv.PublishedAt = onramp.VersionCurrent, `{"openapi":"3.0.3"}`, t0.Add(time.Duration(i)*time.Minute)
		if err := s.PublishVersion(ctx, pv); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.AllVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range all {
		got = append(got, v.Product+"@"+v.Version)
	}
	if strings.Join(got, ",") != "accounts@v1,payments@v1,payments@v2,payments@v3" {
		t.Errorf("AllVersions = %v, want each product's versions in publication order", got)
	}
}

func testLifecycle(t *testing.T, s Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	pv := onramp.ProductVersion{Product: "payments", Version: "v1", Number: 1, Status: onramp.VersionCurrent, Spec: `{"openapi":"3.0.3"}`, PublishedAt: t0}
	if err := s.PublishVersion(ctx, pv); err != nil {
		t.Fatal(err)
	}
	sunset, deprecated := t0.AddDate(0, 6, 0), t0.Add(time.Hour)
	pv.Status, pv.Sunset, pv.DeprecatedAt = onramp.VersionDeprecated, &sunset, &deprecated
	if err := s.UpdateVersion(ctx, pv); err != nil {
		t.Fatal(err)
	}
	windows := []onramp.BrownoutWindow{{Start: t0.AddDate(0, 5, 0), End: t0.AddDate(0, 5, 0).Add(15 * time.Minute)}, {Start: t0.AddDate(0, 5, 7), End: t0.AddDate(0, 5, 7).Add(time.Hour)}}
	if err := s.SetBrownouts(ctx, "payments", "v1", windows); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindVersion(ctx, "payments", "v1")
	if err != nil || got.DeprecatedAt == nil || !got.DeprecatedAt.Equal(deprecated) || len(got.Brownouts) != 2 ||
		!got.Brownouts[1].Start.Equal(windows[1].Start) || !got.Brownouts[1].End.Equal(windows[1].End) {
		t.Fatalf("v1 = %+v, %v; want deprecated at %s with both windows", got, err, deprecated)
	}
	// Changing the status keeps the windows (the workflow owns them); un-deprecating clears the date.
	pv.Status, pv.DeprecatedAt = onramp.VersionCurrent, nil
	if err := s.UpdateVersion(ctx, pv); err != nil {
		t.Fatal(err)
	}
	if got, err = s.FindVersion(ctx, "payments", "v1"); err != nil || got.DeprecatedAt != nil || len(got.Brownouts) != 2 {
		t.Fatalf("v1 un-deprecated = %+v, %v; want no deprecation date and the windows kept", got, err)
	}
	if err := s.SetBrownouts(ctx, "payments", "v1", nil); err != nil {
		t.Fatal(err)
	}
	if got, err = s.FindVersion(ctx, "payments", "v1"); err != nil || len(got.Brownouts) != 0 {
		t.Fatalf("v1 after clearing = %+v, %v; want no windows", got.Brownouts, err)
	}
	if err := s.SetBrownouts(ctx, "payments", "v9", windows); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("SetBrownouts(missing) = %v, want ENOTFOUND", err)
	}
}

// RunNoticeLogContract runs the notice log contract against logs from newLog (each one empty),
// including 20 deliveries of one notice at once, of which exactly one may send it.
func RunNoticeLogContract(t *testing.T, newLog func(t *testing.T) onramp.NoticeLog) {
	t.Run("claim once", func(t *testing.T) {
		ctx, l := t.Context(), newLog(t)
		at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		if ok, err := l.ClaimNotice(ctx, "n1", at); err != nil || !ok {
			t.Fatalf("first claim = %v, %v", ok, err)
		}
		if ok, err := l.ClaimNotice(ctx, "n1", at); err != nil || ok {
			t.Fatalf("second claim = %v, %v; want false", ok, err)
		}
		if ok, err := l.ClaimNotice(ctx, "n2", at); err != nil || !ok {
			t.Fatalf("another id = %v, %v", ok, err)
		}
		if err := l.ReleaseNotice(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		if ok, err := l.ClaimNotice(ctx, "n1", at); err != nil || !ok {
			t.Fatalf("claim after release = %v, %v; want true", ok, err)
		}
	})
	t.Run("concurrent claims", func(t *testing.T) {
		ctx, l := t.Context(), newLog(t)
		var wg sync.WaitGroup
		var won atomic.Int32
		start := make(chan struct{})
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if ok, err := l.ClaimNotice(ctx, "same", time.Now()); err != nil {
					t.Error(err)
				} else if ok {
					won.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if won.Load() != 1 {
			t.Errorf("%d of 20 concurrent claims won, want exactly 1", won.Load())
		}
	})
}

func testProductsAndVersions(t *testing.T, s Store) {
	ctx := t.Context()
	p := onramp.Product{Slug: "payments", Name: "Payments", Tags: []string{"money"}, Upstreams: map[string]string{"production": "https://up.example"}}
	if err := s.SaveProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindProduct(ctx, "payments"); err != nil || got.Name != "Payments" || got.Upstreams["production"] != "https://up.example" {
		t.Fatalf("FindProduct = %+v, %v", got, err)
	}
	if _, err := s.FindProduct(ctx, "nope"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("FindProduct(missing) = %v, want ENOTFOUND", err)
	}
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i, v := range []string{"v1", "v2"} {
		pv := onramp.ProductVersion{Product: "payments", Version: v, Number: i + 1, Status: onramp.VersionCurrent, Spec: `{"openapi":"3.0.3"}`, PublishedAt: t0,
			Operations: []onramp.Operation{{ID: "list", Method: "GET", Path: "/payments", Scope: "payments:read"}},
			Findings:   []onramp.Finding{{Rule: "example-invalid", Severity: onramp.SeverityWarning, Location: "components.schemas.Payment", Message: "invalid example"}}}
		if err := s.PublishVersion(ctx, pv); err != nil {
			t.Fatal(err)
		}
	}
	dup := onramp.ProductVersion{Product: "payments", Version: "v1", Number: 3, Status: onramp.VersionBeta, Spec: "{}"}
	if err := s.PublishVersion(ctx, dup); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Fatalf("publishing v1 again = %v, want ECONFLICT", err)
	}
	list, err := s.ListVersions(ctx, "payments")
	if err != nil || len(list) != 2 || list[0].Version != "v1" || list[1].Version != "v2" || list[0].Status != onramp.VersionCurrent {
		t.Fatalf("ListVersions = %+v, %v; want v1 (unchanged) then v2", list, err)
	}
	sunset := t0.AddDate(0, 6, 0)
	if err := s.UpdateVersion(ctx, onramp.ProductVersion{Product: "payments", Version: "v1", Status: onramp.VersionDeprecated, Sunset: &sunset, ReleaseNotes: "use v2"}); err != nil {
		t.Fatal(err)
	}
	v1, err := s.FindVersion(ctx, "payments", "v1")
	if err != nil || v1.Status != onramp.VersionDeprecated || v1.Sunset == nil || !v1.Sunset.Equal(sunset) || v1.Spec != `{"openapi":"3.0.3"}` || len(v1.Operations) != 1 {
		t.Fatalf("v1 after update = %+v, %v", v1, err)
	}
	if len(v1.Findings) != 1 || v1.Findings[0] != list[0].Findings[0] || v1.Findings[0].Location != "components.schemas.Payment" || v1.Findings[0].Severity != onramp.SeverityWarning {
		t.Errorf("v1 findings after update = %+v, want the one published, kept", v1.Findings)
	}
	if err := s.UpdateVersion(ctx, onramp.ProductVersion{Product: "payments", Version: "v9", Status: onramp.VersionBeta}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("UpdateVersion(missing) = %v, want ENOTFOUND", err)
	}
}

func testPlansAndAssignments(t *testing.T, s Store) {
	ctx := t.Context()
	grant := onramp.Grant{Scopes: []string{"payments:read"}, Environments: []string{"sandbox"}, Quota: onramp.Quota{Limit: 1000, Period: "day"}}
	if err := s.SavePlan(ctx, onramp.Plan{Name: "standard", Title: "Standard", Products: map[string]onramp.Grant{"payments": grant}}); err != nil {
		t.Fatal(err)
	}
	plans, err := s.ListPlans(ctx)
	if err != nil || len(plans) != 1 || plans[0].Products["payments"].Quota.Limit != 1000 {
		t.Fatalf("ListPlans = %+v, %v", plans, err)
	}
	for _, a := range []onramp.Assignment{
		{OrgID: "org_a", Product: "payments", Plan: "standard", Grant: grant},
		{OrgID: "org_a", Product: "accounts", Plan: "standard", Grant: grant},
		{OrgID: "org_b", Product: "payments", Plan: "premium", Grant: grant},
	} {
		if err := s.SaveAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	grant.Scopes = []string{"payments:read", "payments:write"}
	if err := s.SaveAssignment(ctx, onramp.Assignment{OrgID: "org_a", Product: "payments", Plan: "premium", Grant: grant}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AssignmentsOf(ctx, "org_a")
	if err != nil || len(got) != 2 || got[0].Product != "accounts" || got[1].Plan != "premium" || len(got[1].Scopes) != 2 {
		t.Fatalf("AssignmentsOf(org_a) = %+v, %v; want accounts, then payments updated to premium", got, err)
	}
	if got, err := s.AssignedTo(ctx, "payments"); err != nil || strings.Join(got, " ") != "org_a org_b" {
		t.Errorf("AssignedTo(payments) = %v, %v; want org_a org_b", got, err)
	}
	if got, err := s.AssignedTo(ctx, "ghost"); err != nil || len(got) != 0 {
		t.Errorf("AssignedTo(ghost) = %v, %v; want none", got, err)
	}
	if err := s.DeleteAssignment(ctx, "org_a", "accounts"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAssignment(ctx, "org_a", "accounts"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("second delete = %v, want ENOTFOUND", err)
	}
	if err := s.DeleteAssignments(ctx, "org_a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AssignmentsOf(ctx, "org_a"); len(got) != 0 {
		t.Errorf("after DeleteAssignments: %+v", got)
	}
	if got, _ := s.AssignmentsOf(ctx, "org_b"); len(got) != 1 {
		t.Errorf("org_b lost its assignment: %+v", got)
	}
}
