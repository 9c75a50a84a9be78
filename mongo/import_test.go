package mongo_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/mongo"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/seed"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// The seed's bulk writes leave the stores as their single writes would: the lists page, search and
// count the same, the counters add up, and single writes go on from there.
func TestSeedThroughTheBulkWrites(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	orgs, onboarding := mongo.NewOrganizations(db, MustKeyring(t)), mongo.NewOnboarding(db)
	policy, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	s, err := seed.New(seed.Config{Orgs: orgs, Catalog: mongo.NewCatalog(db), Credentials: mongo.NewCredentials(db), Onboarding: onboarding,
		Rotations: mongo.NewCredentials(db), Usage: mongo.NewUsage(db), Keys: MustKeyring(t), Policy: policy, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(ctx, seed.Size{Products: 3, Versions: 2, Operations: 8, Orgs: 260, KeysPerOrg: 2, Calls: 300})
	if err != nil {
		t.Fatal(err)
	}
	var want []onramp.Organization
	for _, o := range s.Orgs {
		want = append(want, o.Org)
	}
	teamtest.MustWalk(t, orgs, onramp.OrgQuery{Page: onramp.PageRequest{Limit: onramp.MaxPageLimit}}, want)
	q := onramp.OrgQuery{Search: "acme", Page: onramp.PageRequest{Limit: 30}}
	var found []onramp.Organization
	for _, o := range want {
		if q.Matches(o) {
			found = append(found, o)
		}
	}
	if got := teamtest.MustWalk(t, orgs, q, found); len(got) == 0 {
		t.Error("no Acme among the seeded partners")
	}
	active := 0
	for _, o := range want {
		if o.Status == onramp.OrgActive {
			active++
		}
	}
	f, _ := onboarding.FunnelStats(ctx)
	if f.Reached[onramp.StageInvited] != 260 || f.Reached[onramp.StageFirstSignIn] != int64(active) || r.Keys != 2*active {
		t.Errorf("funnel %v, %d active, %d keys", f.Reached, active, r.Keys)
	}
	sla, _ := onboarding.SLACompliance(ctx)
	decided, _ := onboarding.ProductionRequests(ctx, onramp.DecidedRequestStatuses, onramp.PageRequest{Limit: onramp.MaxPageLimit})
	if sla.Decided != int64(len(decided.Items)) {
		t.Errorf("compliance counts %d decided, the queue lists %d", sla.Decided, len(decided.Items))
	}
	// The calls read back as gateways' calls do: every one in its partner's history, its totals and
	// this month's quota counters.
	usage := mongo.NewUsage(db)
	var logged, counted int64
	for _, sd := range s.Orgs {
		calls, err := usage.Calls(ctx, sd.Org.ID, onramp.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		logged += int64(len(calls))
		for _, p := range sd.Products {
			totals, err := usage.UsageTotals(ctx, sd.Org.ID, p, onramp.Sandbox, time.Now().AddDate(0, 0, -8), time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range totals.Days {
				counted += d.Calls
			}
		}
	}
	if logged != int64(r.Calls) || counted != int64(r.Calls) || r.Calls != 300 {
		t.Errorf("%d calls seeded; %d in the histories, %d in the daily totals", r.Calls, logged, counted)
	}
	// A single write after the bulk ones goes into the same lists.
	o := s.Orgs[len(s.Orgs)-1].Org
	if err := orgs.SetOrganizationStatus(ctx, o.ID, onramp.OrgExpired, nil); err != nil {
		t.Fatal(err)
	}
	expired, _ := orgs.ListOrganizations(ctx, onramp.OrgQuery{Status: onramp.OrgExpired, Page: onramp.PageRequest{Limit: 1}})
	if len(expired.Items) != 1 || expired.Items[0].ID != o.ID {
		t.Errorf("after expiring the newest partner the expired list starts with %+v", expired.Items)
	}
}
