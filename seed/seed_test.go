package seed_test

import (
	"context"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/production/productiontest"
	"github.com/onramp-dev/onramp/seed"
	"github.com/onramp-dev/onramp/specs"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// The fakes with the bulk writes the seed needs, one write at a time.
type orgs struct{ *teamtest.Memory }

func (s orgs) ImportOrganizations(ctx context.Context, os []onramp.Organization) error {
	for _, o := range os {
		if err := s.CreateOrganization(ctx, o); err != nil {
			return err
		}
	}
	return nil
}
func (s orgs) ImportMembers(ctx context.Context, ms []onramp.Member) error {
	for _, m := range ms {
		if err := s.SaveMember(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
func (s orgs) ImportAudit(ctx context.Context, es []onramp.AuditEvent) error {
	for _, e := range es {
		if err := s.AppendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

type cat struct{ *catalogtest.Memory }

func (s cat) ImportAssignments(ctx context.Context, as []onramp.Assignment) error {
	for _, a := range as {
		if err := s.SaveAssignment(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

type creds struct{ *credentialstest.Memory }

func (s creds) ImportCredentials(ctx context.Context, cs []onramp.Credential) error {
	for _, c := range cs {
		if err := s.CreateCredential(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

type onboarding struct{ *productiontest.Memory }

func (s onboarding) ImportJourneys(ctx context.Context, js []onramp.Journey) error {
	for _, j := range js {
		stages := make([]string, 0, len(j.Stages))
		for st := range j.Stages {
			stages = append(stages, st)
		}
		sort.Slice(stages, func(a, b int) bool { return j.Stages[stages[a]].Before(j.Stages[stages[b]]) })
		for _, st := range stages {
			if err := s.ReachStage(ctx, j.OrgID, st, j.Stages[st]); err != nil {
				return err
			}
		}
	}
	return nil
}
func (s onboarding) ImportProductionRequests(ctx context.Context, rs []onramp.ProductionRequest) error {
	for _, r := range rs {
		if err := s.SaveProductionRequest(ctx, r); err != nil {
			return err
		}
	}
	return nil
}
func (s onboarding) ImportNotifications(ctx context.Context, ns []onramp.Notification) error {
	for _, n := range ns {
		if err := s.Notify(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

type usage struct{ *credentialstest.Memory }

func (s usage) ImportUsage(ctx context.Context, node string, fs []onramp.UsageFlush) error {
	for _, f := range fs {
		if err := s.SaveUsage(ctx, node, f); err != nil {
			return err
		}
	}
	return nil
}

// Fakes are the seed's stores on memory.
type Fakes struct {
	Orgs       orgs
	Catalog    cat
	Creds      creds
	Onboarding onboarding
	Rotations  *credentialstest.Rotations
	Usage      usage
}

func mustSeeder(tb testing.TB) (*seed.Seeder, Fakes, onramp.Policy) {
	tb.Helper()
	f := Fakes{orgs{teamtest.NewMemory()}, cat{catalogtest.NewMemory()}, creds{credentialstest.NewMemory()}, onboarding{productiontest.NewMemory()},
		credentialstest.NewRotations(), usage{credentialstest.NewMemory()}}
	kr, err := credentials.ParseKeyring("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		tb.Fatal(err)
	}
	policy, err := policies.New(context.Background(), policies.Embedded())
	if err != nil {
		tb.Fatal(err)
	}
	s, err := seed.New(seed.Config{Orgs: f.Orgs, Catalog: f.Catalog, Credentials: f.Creds, Onboarding: f.Onboarding, Rotations: f.Rotations, Usage: f.Usage,
		Keys: kr, Policy: policy, Progress: io.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	return s, f, policy
}

// A small seed builds what it was asked for, through the services: the products' versions have
// a changelog with breaking and non-breaking changes, the partners their plan's products and
// keys, the funnel and the call history their counts.
func TestSeedBuildsWhatItIsAskedFor(t *testing.T) {
	s, f, policy := mustSeeder(t)
	ctx := t.Context()
	size := seed.Size{Products: 7, Versions: 4, Operations: 12, Orgs: 60, KeysPerOrg: 2, Calls: 900}
	r, err := s.Run(ctx, size)
	if err != nil {
		t.Fatal(err)
	}
	if r.Products != 7 || r.Versions != 28 || r.Plans != 2 || r.Orgs != 60 || r.Calls != 900 || r.Keys == 0 || r.Keys%2 != 0 {
		t.Fatalf("report = %+v", r)
	}
	c, err := catalog.New(catalog.Config{Store: f.Catalog, Assignments: f.Catalog, Policy: policy, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://s", ProductionURL: "http://p"})
	if err != nil {
		t.Fatal(err)
	}
	vs, _ := f.Catalog.ListVersions(ctx, seed.ProductSlug(3))
	if len(vs) != 4 || len(vs[0].Operations) != 12 || vs[0].Status != onramp.VersionDeprecated || vs[3].Status != onramp.VersionCurrent {
		t.Fatalf("versions of %s = %d, first with %d operations (%s)", seed.ProductSlug(3), len(vs), len(vs[0].Operations), vs[0].Status)
	}
	for v, wantBreaking := range map[string]bool{"v2": true, "v3": true} {
		changes, prev, err := c.Changelog(ctx, vs, v)
		if err != nil || prev == "" || len(changes) < 2 || specs.HasBreaking(changes) != wantBreaking || !slices.ContainsFunc(changes, func(ch specs.Change) bool { return ch.Level != specs.Breaking }) {
			t.Errorf("changelog of %s: %d changes (breaking %v), %v; want both kinds", v, len(changes), specs.HasBreaking(changes), err)
		}
	}
	all, _ := f.Orgs.ListOrganizations(ctx, onramp.OrgQuery{Page: onramp.PageRequest{Limit: onramp.MaxPageLimit}})
	active, _ := f.Orgs.ListOrganizations(ctx, onramp.OrgQuery{Status: onramp.OrgActive, Page: onramp.PageRequest{Limit: onramp.MaxPageLimit}})
	if len(all.Items) != 60 || len(active.Items) < 20 || len(active.Items)*2 != r.Keys {
		t.Errorf("%d partners, %d active, %d keys; want 60, most active, 2 keys each", len(all.Items), len(active.Items), r.Keys)
	}
	o := active.Items[0]
	as, _ := f.Catalog.AssignmentsOf(ctx, o.ID)
	keys, _ := f.Creds.CredentialsOf(ctx, o.ID)
	members, _ := f.Orgs.MembersOf(ctx, o.ID)
	if len(as) == 0 || len(keys) != 2 || len(members) == 0 || members[0].Role != onramp.RoleOwner || !strings.HasPrefix(o.Tier, "seed-") {
		t.Errorf("%s: %d assignments, %d keys, members %+v", o.ID, len(as), len(keys), members)
	}
	funnel, _ := f.Onboarding.FunnelStats(ctx)
	if funnel.Reached[onramp.StageInvited] != 60 || funnel.Reached[onramp.StageFirstSignIn] != int64(len(active.Items)) {
		t.Errorf("funnel = %v, want 60 invited and every active partner signed in", funnel.Reached)
	}
	calls, _ := f.Usage.Calls(ctx, "", onramp.CallFilter{})
	_ = calls
	var total int
	for _, o := range active.Items {
		cs, _ := f.Usage.Calls(ctx, o.ID, onramp.CallFilter{})
		total += len(cs)
		for _, e := range cs {
			if e.At.After(time.Now()) || e.CredentialID == "" || e.Product == "" {
				t.Fatalf("call %+v", e)
			}
		}
	}
	if total != 900 {
		t.Errorf("%d calls across the active partners, want 900", total)
	}
	if _, err := s.Run(ctx, seed.Size{Orgs: 1}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("partners without products = %v, want EINVALID", err)
	}
}
