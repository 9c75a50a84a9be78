package api_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/api"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/impact"
	"github.com/onramp-dev/onramp/partners"
	"github.com/onramp-dev/onramp/production"
	"github.com/onramp-dev/onramp/production/productiontest"
	"github.com/onramp-dev/onramp/quota"
	"github.com/onramp-dev/onramp/subscriptions"
	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
	"github.com/onramp-dev/onramp/team"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// fakes are the portal's dependencies on memory: stores that pass their contract suites, and
// lifecycles that record what they are asked (workflows run against the real Temporal in e2e).
type fakes struct {
	orgs       *teamtest.Memory
	catalog    *catalogtest.Memory
	onboarding *productiontest.Memory
	rotations  *credentialstest.Rotations
	life       *lifecycles
	subs       *subscriptionstest.Memory
	usage      *credentialstest.Memory // the gateways' usage (and the credentials impact names)
}

// lifecycles stands in for Temporal and Kratos's sessions: it records starts and signals, and
// fails partner invitations when failInvite is set.
type lifecycles struct {
	mu         sync.Mutex
	failInvite bool
	started    []string
	failed     []string // organisations whose invitation failed to start
}

func (l *lifecycles) note(s string) { l.mu.Lock(); l.started = append(l.started, s); l.mu.Unlock() }

func (l *lifecycles) InvitePartner(_ context.Context, o onramp.Organization) error {
	if l.failInvite {
		l.mu.Lock()
		l.failed = append(l.failed, o.ID)
		l.mu.Unlock()
		return onramp.Errorf(onramp.EINTERNAL, "temporal is down")
	}
	l.note("invite " + o.ID)
	return nil
}
func (l *lifecycles) ResendInvitation(_ context.Context, o onramp.Organization) error {
	l.note("resend " + o.ID)
	return nil
}
func (l *lifecycles) ContactSignedIn(context.Context, string, time.Time) error { return nil }
func (l *lifecycles) CancelInvitation(_ context.Context, id string) error {
	l.note("cancel " + id)
	return nil
}
func (l *lifecycles) InviteMember(_ context.Context, inv onramp.MemberInvitation, _ string) error {
	l.note("invite member " + inv.ID)
	return nil
}
func (l *lifecycles) ResendMemberInvitation(context.Context, onramp.MemberInvitation) error {
	return nil
}
func (l *lifecycles) CancelMemberInvitation(context.Context, onramp.MemberInvitation) error {
	return nil
}
func (l *lifecycles) MemberAccepted(context.Context, string) error          { return nil }
func (l *lifecycles) RevokeSessions(context.Context, string) error          { return nil }
func (l *lifecycles) SetIdentityActive(context.Context, string, bool) error { return nil }

// noProviders installs nothing.
type noProviders struct{}

func (noProviders) SyncProviders(context.Context, []onramp.Organization) error { return nil }

// testConfig is a portal on fakes; tests change what they look at.
func testConfig(tb testing.TB, f *fakes) api.Config {
	tb.Helper()
	if f.orgs == nil {
		f.orgs, f.catalog, f.onboarding, f.life = teamtest.NewMemory(), catalogtest.NewMemory(), productiontest.NewMemory(), &lifecycles{}
		f.usage, f.rotations = credentialstest.NewMemory(), credentialstest.NewRotations()
		f.subs = subscriptionstest.NewMemory()
	}
	log := slog.New(slog.DiscardHandler)
	policy := MustPolicy(tb)
	cat := MustCatalog(tb, f.catalog)
	teamSvc, err := team.New(team.Config{Policy: policy, Identities: noIdentities{}, Sessions: f.life, Organizations: f.orgs, Members: f.orgs, Team: f.orgs,
		Invitations: f.life, MemberInvitations: f.life, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	partnerSvc, err := partners.New(partners.Config{Organizations: f.orgs, Team: f.orgs, Invitations: f.life, Plans: cat, SSOProviders: noProviders{},
		Onboarding: f.onboarding, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	productionSvc, err := production.New(production.Config{Policy: policy, Requests: f.onboarding, Reviews: noOnboarding{}, Plans: cat,
		Organizations: f.orgs, Onboarding: f.onboarding})
	if err != nil {
		tb.Fatal(err)
	}
	keys := MustCredentials(tb, f.catalog)
	usage := f.usage
	creds, err := credentials.NewManager(credentials.ManagerConfig{Keys: keys, Policy: policy, Plans: cat, Audit: f.orgs,
		Rotations: noOnboarding{}, RotationStore: f.rotations, Usage: usage, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	tryIt, err := catalog.NewTryIt(catalog.TryItConfig{Catalog: cat, Keys: keys, Policy: policy, PortalURL: base})
	if err != nil {
		tb.Fatal(err)
	}
	subs, err := subscriptions.New(subscriptions.Config{Catalog: cat, Versions: f.catalog, Policy: policy, Organizations: f.orgs, Members: f.orgs,
		Team: f.orgs, Subscriptions: f.subs, Tokens: f.subs, PortalURL: base})
	if err != nil {
		tb.Fatal(err)
	}
	impacts, err := impact.New(impact.Config{Catalog: cat, Versions: f.catalog, Assignments: f.catalog, Usage: usage, Credentials: usage, Organizations: f.orgs,
		Team: f.orgs, Subscriptions: f.subs, Policy: policy, Notifications: f.onboarding, PortalURL: base})
	if err != nil {
		tb.Fatal(err)
	}
	quotaSvc, err := quota.New(quota.Config{Policy: policy, Assignments: cat, Usage: usage, Requests: f.onboarding, Reviews: noOnboarding{},
		Notifications: f.onboarding, Audit: f.orgs, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	return api.Config{
		Logger: log, AdminToken: adminToken, Registry: prometheus.NewRegistry(), PortalURL: base, KratosPublicURL: "http://127.0.0.1:1",
		Identity: signedOut{}, Organizations: f.orgs, TeamService: teamSvc, Partners: partnerSvc, Production: productionSvc,
		Policies: policy, Catalog: cat, Credentials: creds, Subscriptions: subs, Impact: impacts, Keys: keys, TryIt: tryIt, Quota: quotaSvc,
	}
}

// mustServer builds the portal of cfg.
func mustServer(tb testing.TB, cfg api.Config) *api.Server {
	tb.Helper()
	srv, err := api.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

var errNoStore = errors.New("no store in this test")
