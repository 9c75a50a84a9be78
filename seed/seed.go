// Package seed builds a large, realistic dataset through the services the API uses: products
// and their versions published with catalog.Publish (generated OpenAPI documents whose versions
// change in breaking and non-breaking ways), partners invited with partners.Service.Invite and
// given their plan's products by the catalog, keys issued by credentials.Service, calls recorded
// by the usage store. Underneath, the stores are wrapped so that a batch of partners is written
// with a few bulk inserts (the stores' Import methods) instead of a million round trips, and read
// back from memory until then. `onramp seed` and `make bench-portal` run it.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/partners"
)

// OrgStore is the organisation, member and team store with its bulk writes (mongo.Organizations).
type OrgStore interface {
	onramp.OrganizationStore
	onramp.MemberStore
	onramp.TeamStore
	ImportOrganizations(ctx context.Context, orgs []onramp.Organization) error
	ImportMembers(ctx context.Context, ms []onramp.Member) error
	ImportAudit(ctx context.Context, es []onramp.AuditEvent) error
}

// CatalogStore is the catalog and assignment store with its bulk writes (mongo.Catalog).
type CatalogStore interface {
	onramp.CatalogStore
	onramp.AssignmentStore
	ImportAssignments(ctx context.Context, as []onramp.Assignment) error
}

// CredentialStore is the credential store with its bulk writes (mongo.Credentials).
type CredentialStore interface {
	onramp.CredentialStore
	ImportCredentials(ctx context.Context, cs []onramp.Credential) error
}

// UsageStore is what a gateway node writes, with the bulk write of flushes (mongo.Usage).
type UsageStore interface {
	onramp.GatewayUsageStore
	// ImportUsage stores the node's flushes of organisations it has written nothing for yet.
	ImportUsage(ctx context.Context, node string, flushes []onramp.UsageFlush) error
}

// OnboardingStore is the onboarding store with its bulk writes (mongo.Onboarding).
type OnboardingStore interface {
	onramp.OnboardingStore
	onramp.ProductionRequestStore
	onramp.QuotaRequestStore
	ImportJourneys(ctx context.Context, js []onramp.Journey) error
	ImportProductionRequests(ctx context.Context, rs []onramp.ProductionRequest) error
	ImportNotifications(ctx context.Context, ns []onramp.Notification) error
}

// Size is how much to seed.
type Size struct {
	Products, Versions, Operations int
	Orgs, KeysPerOrg               int
	Calls                          int
}

// Validate returns EINVALID for a size that cannot be seeded.
func (s Size) Validate() error {
	switch {
	case s.Products < 0 || s.Orgs < 0 || s.KeysPerOrg < 0 || s.Calls < 0:
		return onramp.Errorf(onramp.EINVALID, "counts must not be negative")
	case s.Products > 0 && (s.Versions < 1 || s.Operations < 1):
		return onramp.Errorf(onramp.EINVALID, "--versions and --operations must be at least 1")
	case s.Products > 9999:
		return onramp.Errorf(onramp.EINVALID, "--products at most 9999")
	case s.Orgs > 0 && s.Products == 0:
		return onramp.Errorf(onramp.EINVALID, "partners need products to be assigned: give --products too")
	}
	return nil
}

// Config holds what the seed writes to and with.
type Config struct {
	Orgs        OrgStore
	Catalog     CatalogStore
	Credentials CredentialStore
	Onboarding  OnboardingStore
	Rotations   onramp.RotationStore
	Usage       UsageStore
	Keys        *credentials.Keyring
	Policy      onramp.Policy
	Progress    io.Writer // progress lines
	Now         func() time.Time
	Rand        *rand.Rand // nil: a fixed seed, so two runs build the same shapes
}

// Seeder seeds; its steps can run one by one (make bench-portal invites its own partner between
// the catalog and the partners).
type Seeder struct {
	cfg Config
	cat *catalog.Catalog
	rnd *rand.Rand
	mu  sync.Mutex // rnd
	// Orgs is every organisation seeded, in order; Plans the seeded plans.
	Orgs  []Seeded
	Plans []onramp.Plan
}

// Seeded is a seeded organisation and what it was given.
type Seeded struct {
	Org      onramp.Organization
	Products []string
	Keys     []onramp.Credential
}

// New fails fast on a missing dependency.
func New(cfg Config) (*Seeder, error) {
	if cfg.Orgs == nil || cfg.Catalog == nil || cfg.Credentials == nil || cfg.Onboarding == nil || cfg.Rotations == nil || cfg.Usage == nil || cfg.Keys == nil || cfg.Policy == nil {
		return nil, errors.New("seed.New: Orgs, Catalog, Credentials, Onboarding, Rotations, Usage, Keys and Policy are required")
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(2026, 17))
	}
	cat, err := newCatalog(cfg.Catalog, cfg.Catalog, cfg.Policy, cfg.Now)
	if err != nil {
		return nil, err
	}
	return &Seeder{cfg: cfg, cat: cat, rnd: cfg.Rand}, nil
}

// Report is what a run built and how long each step took.
type Report struct {
	Products, Versions, Plans, Orgs, Keys, Calls int
	Catalog, Partners, Usage                     time.Duration
}

// Run seeds everything size asks for.
func (s *Seeder) Run(ctx context.Context, size Size) (Report, error) {
	if err := size.Validate(); err != nil {
		return Report{}, err
	}
	var r Report
	start := time.Now()
	if err := s.Catalog(ctx, size, &r); err != nil {
		return r, err
	}
	r.Catalog, start = time.Since(start), time.Now()
	if err := s.Partners(ctx, size, &r); err != nil {
		return r, err
	}
	r.Partners, start = time.Since(start), time.Now()
	err := s.Calls(ctx, size.Calls, "", 0, &r)
	r.Usage = time.Since(start)
	return r, err
}

func (s *Seeder) progress(format string, args ...any) {
	fmt.Fprintf(s.cfg.Progress, format+"\n", args...)
}

func (s *Seeder) intn(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rnd.IntN(n)
}

func (s *Seeder) float() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rnd.Float64()
}

var (
	productWords = []string{"Ledger", "Payouts", "Cards", "Accounts", "Billing", "Identity", "Fraud", "FX", "Lending", "Treasury",
		"Invoices", "Shipping", "Catalog", "Orders", "Loyalty", "Reports", "Webhooks", "Tax", "Payroll", "Insights"}
	companyWords = []string{"Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Soylent", "Hooli",
		"Vandelay", "Müller", "Dupont", "Nakamura", "Okafor", "Silva", "Kowalski", "Lindqvist", "Rossi", "Novak"}
	companyKinds = []string{"Payments", "Logistics", "Retail", "Health", "Travel", "Energy", "Media", "Labs", "Bank", "Insurance"}
	companyForms = []string{"GmbH", "Ltd", "Inc", "SAS", "BV", "AB", "S.p.A.", "Oy", "LLC", "AG"}
)

// ProductSlug is the slug of seeded product i (from 0).
func ProductSlug(i int) string {
	return fmt.Sprintf("%s-%04d", strings.ToLower(productWords[i%len(productWords)]), i+1)
}

// PlanName is the name of the seeded plan that holds product i.
func PlanName(i int) string { return fmt.Sprintf("seed-%03d", i/productsPerPlan+1) }

const productsPerPlan = 5

// Catalog saves the products, publishes every version of each (two products at a time, the
// versions of one in order) and saves a plan per productsPerPlan products.
func (s *Seeder) Catalog(ctx context.Context, size Size, r *Report) error {
	if size.Products == 0 {
		return nil
	}
	start := time.Now()
	now := s.cfg.Now().UTC()
	jobs := make(chan int)
	errc := make(chan error, 2)
	var done, versions int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := s.product(ctx, i, size, now); err != nil {
					errc <- fmt.Errorf("product %s: %w", ProductSlug(i), err)
					return
				}
				mu.Lock()
				done++
				versions += size.Versions
				if done%25 == 0 || done == size.Products {
					s.progress("  products: %d/%d, %d versions published (%.1f versions/s)", done, size.Products, versions, float64(versions)/time.Since(start).Seconds())
				}
				mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for i := range size.Products {
		select {
		case jobs <- i:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err != nil {
		return err
	}
	r.Products, r.Versions = size.Products, versions
	for p := 0; p < size.Products; p += productsPerPlan {
		plan := onramp.Plan{Name: PlanName(p), Title: "Seed plan " + PlanName(p), Description: "Generated by onramp seed.", Products: map[string]onramp.Grant{}}
		for i := p; i < min(p+productsPerPlan, size.Products); i++ {
			slug := ProductSlug(i)
			plan.Products[slug] = onramp.Grant{Scopes: []string{slug + ":read", slug + ":write"}, Environments: []string{onramp.Sandbox, onramp.Production},
				Quota: onramp.Quota{Limit: 100000, Period: "month"}, RateLimit: &onramp.RateLimit{PerSecond: 50, Burst: 100}}
		}
		if err := s.cfg.Catalog.SavePlan(ctx, plan); err != nil {
			return err
		}
		s.Plans = append(s.Plans, plan)
	}
	r.Plans = len(s.Plans)
	s.progress("  plans: %d of %d products each", len(s.Plans), productsPerPlan)
	return nil
}

func (s *Seeder) product(ctx context.Context, i int, size Size, now time.Time) error {
	slug := ProductSlug(i)
	name := fmt.Sprintf("%s %d", productWords[i%len(productWords)], i+1)
	p := onramp.Product{Slug: slug, Name: name, Summary: "The " + name + " API.", Description: "Generated by `onramp seed`: " + name + ".",
		Tags: []string{strings.ToLower(productWords[i%len(productWords)]), "seed"}, Upstreams: map[string]string{}, UpdatedAt: now}
	if err := s.cat.SaveProduct(ctx, p); err != nil {
		return err
	}
	for v := 1; v <= size.Versions; v++ {
		pub := catalog.Publish{Product: slug, Version: fmt.Sprintf("v%d", v), Status: onramp.VersionCurrent,
			ReleaseNotes: fmt.Sprintf("Version %d: one operation and a response field more", v), Spec: Spec(name, slug, v, size.Operations)}
		if v < size.Versions-1 { // the older ones are deprecated, with a sunset to come
			sunset := now.AddDate(1, 0, 0).Truncate(24 * time.Hour)
			pub.Status, pub.Sunset = onramp.VersionDeprecated, &sunset
		}
		if _, err := s.cat.Publish(ctx, pub); onramp.ErrorCode(err) == onramp.ECONFLICT {
			continue // published by an earlier seed: published versions never change
		} else if err != nil {
			return err
		}
	}
	return nil
}

// batchOrgs is how many partners are written at once.
const batchOrgs = 500

// Partners invites the partners batch by batch through partners.Service (their plan's products
// assigned by the catalog), gives each a status, members, a journey, keys, notifications and, for
// some, a production request, rotation or quota request.
func (s *Seeder) Partners(ctx context.Context, size Size, r *Report) error {
	if size.Orgs == 0 {
		return nil
	}
	if len(s.Plans) == 0 {
		plans, err := s.cfg.Catalog.ListPlans(ctx)
		if err != nil {
			return err
		}
		for _, p := range plans {
			if strings.HasPrefix(p.Name, "seed-") {
				s.Plans = append(s.Plans, p)
			}
		}
		if len(s.Plans) == 0 {
			return onramp.Errorf(onramp.EINVALID, "no seeded plan to invite partners on: seed --products first")
		}
	}
	start := time.Now()
	for from := 0; from < size.Orgs; from += batchOrgs {
		if err := s.batch(ctx, from, min(from+batchOrgs, size.Orgs), size.Orgs, size.KeysPerOrg, r); err != nil {
			return err
		}
		s.progress("  partners: %d/%d with %d keys (%.0f partners/s)", min(from+batchOrgs, size.Orgs), size.Orgs, r.Keys, float64(min(from+batchOrgs, size.Orgs))/time.Since(start).Seconds())
	}
	return nil
}

// newCatalog is the catalog service the seed publishes and assigns through. It announces and
// alarms nothing: a dataset is not news to its subscribers (and the seed runs without Temporal).
func newCatalog(store onramp.CatalogStore, assignments onramp.AssignmentStore, policy onramp.Policy, now func() time.Time) (*catalog.Catalog, error) {
	return catalog.New(catalog.Config{Store: store, Assignments: assignments, Policy: policy, Announcements: unannounced{},
		SandboxURL: "http://sandbox.invalid", ProductionURL: "http://production.invalid", Now: now})
}

type unannounced struct{}

func (unannounced) AnnounceVersion(context.Context, string, string) error { return nil }
func (unannounced) AlarmImpact(context.Context, onramp.ImpactEvent) error { return nil }

// batchRun is one batch of partners: the buffered stores they are written to at its end, the
// services they go through, and what is imported after them.
type batchRun struct {
	s           *Seeder
	now         time.Time
	orgs        *orgBuffer
	assignments *assignmentBuffer
	creds       *credentialBuffer
	partners    *partners.Service
	keys        *credentials.Service
	journeys    []onramp.Journey
	requests    []onramp.ProductionRequest
	notes       []onramp.Notification
}

func (s *Seeder) batch(ctx context.Context, from, to, total, keysPerOrg int, r *Report) error {
	b, err := s.newBatch()
	if err != nil {
		return err
	}
	first := len(s.Orgs) - from                        // partners seeded before this run
	step := 60 * 24 * time.Hour / time.Duration(total) // invitations over the last 60 days, the last now
	for i := from; i < to; i++ {
		seeded, err := b.partner(ctx, i, b.now.Add(-time.Duration(total-i)*step), keysPerOrg)
		if err != nil {
			return err
		}
		s.Orgs = append(s.Orgs, seeded)
		r.Orgs++
		r.Keys += len(seeded.Keys)
	}
	if err := b.write(ctx); err != nil {
		return err
	}
	return s.reviews(ctx, first+from, first+to, b.now)
}

func (s *Seeder) newBatch() (*batchRun, error) {
	b := &batchRun{s: s, now: s.cfg.Now().UTC(), orgs: newOrgBuffer(s.cfg.Orgs), assignments: newAssignmentBuffer(s.cfg.Catalog),
		creds: &credentialBuffer{CredentialStore: s.cfg.Credentials}}
	cat, err := newCatalog(&cachedPlans{CatalogStore: b.assignments}, b.assignments, s.cfg.Policy, s.cfg.Now)
	if err != nil {
		return nil, err
	}
	now := func() time.Time { return b.now }
	if b.partners, err = partners.New(partners.Config{Organizations: b.orgs, Team: b.orgs, Invitations: invitations{}, Plans: cat, SSOProviders: invitations{},
		Onboarding: s.cfg.Onboarding, Logger: slog.New(slog.DiscardHandler), Now: now}); err != nil {
		return nil, err
	}
	b.keys, err = credentials.New(credentials.Config{Store: b.creds, Assignments: b.assignments, Keys: s.cfg.Keys, PortalURL: "http://portal.invalid", Now: now})
	return b, err
}

// later returns t moved on by up to limit (at random), unless that is past now.
func (b *batchRun) later(t time.Time, limit time.Duration) (time.Time, bool) {
	t = t.Add(time.Minute + time.Duration(b.s.float()*float64(limit))).Truncate(time.Millisecond)
	return t, !t.After(b.now)
}

// partner invites the i-th partner (invited at invitedAt), then has 60 % of them sign in and 30 %
// wait, the rest expire.
func (b *batchRun) partner(ctx context.Context, i int, invitedAt time.Time, keysPerOrg int) (Seeded, error) {
	s := b.s
	name := fmt.Sprintf("%s %s %s", companyWords[i%len(companyWords)], companyKinds[(i/len(companyWords))%len(companyKinds)], companyForms[(i/7)%len(companyForms)])
	if i >= len(companyWords)*len(companyKinds) {
		name += fmt.Sprintf(" %d", i)
	}
	domain := strings.ToLower(strings.NewReplacer(" ", "", ".", "", "ü", "ue").Replace(companyWords[i%len(companyWords)]+companyKinds[(i/len(companyWords))%len(companyKinds)])) + fmt.Sprintf("%d.example", i)
	plan := s.Plans[i%len(s.Plans)]
	o, err := b.partners.Invite(ctx, onramp.ProviderActor("onramp seed"), partners.Invitation{Name: name, ContactEmail: "contact@" + domain, Tier: plan.Name})
	if err != nil {
		return Seeded{}, fmt.Errorf("invite %s: %w", name, err)
	}
	stored := b.orgs.orgs[o.ID]
	stored.InvitedAt = invitedAt.Truncate(time.Millisecond)
	js := map[string]time.Time{onramp.StageInvited: stored.InvitedAt}
	roll := s.float()
	signIn, signedIn := b.later(stored.InvitedAt, 72*time.Hour)
	switch {
	case roll < 0.6 && signedIn:
		stored.Status, stored.FirstSignInAt = onramp.OrgActive, &signIn
		js[onramp.StageFirstSignIn] = signIn
	case roll < 0.9 || !signedIn:
		exp := stored.InvitedAt.Add(14 * 24 * time.Hour)
		stored.ExpiresAt = &exp
	default:
		stored.Status = onramp.OrgExpired
	}
	seeded := Seeded{Org: *stored}
	for slug := range plan.Products {
		seeded.Products = append(seeded.Products, slug)
	}
	sort.Strings(seeded.Products)
	if stored.Status == onramp.OrgActive {
		if seeded.Keys, err = b.active(ctx, stored, domain, plan, keysPerOrg, js); err != nil {
			return seeded, err
		}
	}
	b.journeys = append(b.journeys, onramp.Journey{OrgID: o.ID, Stages: js})
	return seeded, nil
}

// active gives a partner that signed in its owner and developers, its keys and a welcome, and
// takes it on through the funnel's stages (js) as far as it got.
func (b *batchRun) active(ctx context.Context, o *onramp.Organization, domain string, plan onramp.Plan, keysPerOrg int, js map[string]time.Time) ([]onramp.Credential, error) {
	s := b.s
	b.orgs.members = append(b.orgs.members, onramp.Member{OrgID: o.ID, IdentityID: "seed-" + o.ID, Email: o.ContactEmail, Role: onramp.RoleOwner,
		JoinedAt: *o.FirstSignInAt, FirstSignInAt: o.FirstSignInAt})
	for d := range s.intn(4) {
		b.orgs.members = append(b.orgs.members, onramp.Member{OrgID: o.ID, IdentityID: fmt.Sprintf("seed-%s-%d", o.ID, d), Email: fmt.Sprintf("dev%d@%s", d, domain),
			Role: onramp.RoleDeveloper, JoinedAt: o.FirstSignInAt.Add(time.Duration(d+1) * time.Hour)})
	}
	var keys []onramp.Credential
	for k := range keysPerOrg {
		c, _, err := b.keys.Issue(ctx, credentials.Request{OrgID: o.ID, Environment: onramp.Sandbox, Label: fmt.Sprintf("Sandbox key %d", k+1), CreatedBy: o.ContactEmail})
		if err != nil {
			return keys, fmt.Errorf("issue a key for %s: %w", o.ID, err)
		}
		keys = append(keys, c)
		b.orgs.audit = append(b.orgs.audit, onramp.AuditEvent{ID: onramp.NewAuditID(), OrgID: o.ID, Actor: o.ContactEmail, Action: "credential.created", Target: c.Masked(), Detail: "sandbox · " + c.Label, At: b.now})
	}
	if at, ok := b.later(*o.FirstSignInAt, 48*time.Hour); ok && s.float() < 0.8 {
		js[onramp.StageFirstSandboxCall] = at
		if at, ok := b.later(at, 14*24*time.Hour); ok && s.float() < 0.35 {
			js[onramp.StageProductionRequested] = at
			b.requests = append(b.requests, s.request(o.ID, plan, at, b.now, js))
		}
	}
	b.notes = append(b.notes, onramp.Notification{ID: "seed-welcome-" + o.ID, OrgID: o.ID, Title: "Welcome to the portal", Body: "Your sandbox keys are ready.", Link: "/credentials", At: *o.FirstSignInAt})
	return keys, nil
}

// write stores the batch in the order the portal's activities would: the organisations and what
// refers to them.
func (b *batchRun) write(ctx context.Context) error {
	if err := b.orgs.flush(ctx); err != nil {
		return err
	}
	for _, f := range []func(context.Context) error{b.assignments.flush, b.creds.flush} {
		if err := f(ctx); err != nil {
			return err
		}
	}
	if err := b.s.cfg.Onboarding.ImportJourneys(ctx, b.journeys); err != nil {
		return err
	}
	if len(b.requests) > 0 {
		if err := b.s.cfg.Onboarding.ImportProductionRequests(ctx, b.requests); err != nil {
			return err
		}
	}
	if len(b.notes) > 0 {
		return b.s.cfg.Onboarding.ImportNotifications(ctx, b.notes)
	}
	return nil
}

// request is an organisation's production request, decided (mostly in time) or still open.
func (s *Seeder) request(orgID string, plan onramp.Plan, at, now time.Time, js map[string]time.Time) onramp.ProductionRequest {
	due := at.Add(8 * time.Hour)
	var products []onramp.RequestedProduct
	for slug := range plan.Products {
		products = append(products, onramp.RequestedProduct{Product: slug, Plan: plan.Name, MonthlyVolume: int64(1000 * (1 + s.intn(100)))})
	}
	sort.Slice(products, func(i, j int) bool { return products[i].Product < products[j].Product })
	r := onramp.ProductionRequest{ID: "prq_seed_" + orgID, OrgID: orgID, LegalName: "Seeded " + orgID, Country: "DE", Website: "https://" + orgID + ".example",
		TechnicalContact: "tech@" + orgID + ".example", SecurityContact: "sec@" + orgID + ".example", Products: products, WebhookURLs: []string{},
		UseCase: "Seeded for the portal benchmark.", Status: onramp.RequestReceived, SubmittedAt: &at, SLADue: &due, CreatedAt: at, CreatedBy: "seed",
		History: []onramp.StatusChange{{Status: onramp.RequestReceived, At: at, By: "seed"}}}
	if at.After(now.Add(-48*time.Hour)) || s.float() < 0.15 { // recent ones wait in the queue
		due = now.Add(time.Duration(s.intn(16*60)-4*60) * time.Minute)
		r.SLADue, r.Status = &due, []string{onramp.RequestReceived, onramp.RequestInReview}[s.intn(2)]
		return r
	}
	decided := at.Add(time.Duration(30+s.intn(12*60)) * time.Minute) // some after their 8 h
	if decided.After(now) {
		decided = now
	}
	status := []string{onramp.RequestApproved, onramp.RequestApproved, onramp.RequestApproved, onramp.RequestRejected, onramp.RequestChangesRequested}[s.intn(5)]
	r.Status, r.Reviewer = status, "reviewer@provider.example"
	r.History = append(r.History, onramp.StatusChange{Status: status, At: decided, By: r.Reviewer})
	if status == onramp.RequestApproved {
		js[onramp.StageApproved] = decided
		if first := decided.Add(time.Duration(1+s.intn(7*24*60)) * time.Minute); s.float() < 0.8 && !first.After(now) {
			js[onramp.StageFirstProductionCall] = first
		}
	}
	return r
}

// reviews gives one partner in 200 an elevated rotation and one in 200 a quota request waiting
// for the provider (store by store: they are few).
func (s *Seeder) reviews(ctx context.Context, from, to int, now time.Time) error {
	for i := from; i < to; i++ {
		o := s.Orgs[i]
		if len(o.Keys) == 0 {
			continue
		}
		switch i % 200 {
		case 3:
			r := onramp.Rotation{ID: "rot_seed_" + o.Org.ID, OrgID: o.Org.ID, OldCredentialID: o.Keys[0].ID, Environment: onramp.Sandbox, Label: o.Keys[0].Label,
				Overlap: onramp.DefaultOverlap.String(), Status: onramp.RotationPendingReview, ReviewRequired: true, ReviewReasons: []string{"seeded: a review is required"},
				RequestedBy: o.Org.ContactEmail, CreatedAt: now.Add(-time.Duration(i%90) * time.Minute), UpdatedAt: now}
			if err := s.cfg.Rotations.SaveRotation(ctx, r); err != nil {
				return err
			}
		case 7:
			r := onramp.QuotaRequest{ID: "qr_seed_" + o.Org.ID, OrgID: o.Org.ID, Product: o.Products[0], Period: "month", CurrentLimit: 100000, RequestedLimit: 250000,
				Justification: "Seeded: the launch doubles our traffic.", Status: onramp.QuotaPending, RequestedBy: o.Org.ContactEmail,
				CreatedAt: now.Add(-time.Duration(i%90) * time.Minute), UpdatedAt: now}
			if err := s.cfg.Onboarding.SaveQuotaRequest(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// callBatch is about how many calls are recorded at once (whole partners at a time).
const callBatch = 20000

// caller is a seeded partner that makes calls, and how many.
type caller struct {
	org      string
	keys     []onramp.Credential
	products []string
	calls    int
}

// Calls records n calls over the last seven days, spread over the seeded partners with keys as
// traffic is (the partner of rank k makes calls in proportion to 1/(k+1), mostly to its first
// product); focus, when given with its share (0 to 1), is the organisation whose keys make that
// share of them. The calls are stored as a gateway node that served them stores them (its
// flushes, gateway.UsageFlushes), whole partners at a time in bulk (ImportUsage), with the
// month's quota counters the node would have kept.
func (s *Seeder) Calls(ctx context.Context, n int, focus string, share float64, r *Report) error {
	if n == 0 {
		return nil
	}
	callers, err := s.callers(n, focus, share)
	if err != nil {
		return err
	}
	now := s.cfg.Now().UTC()
	node, run := "seed-"+onramp.RandomHex(4), onramp.RandomHex(4) // another seed's calls are other calls, of another node
	month, _ := onramp.QuotaPeriod(onramp.Quota{Period: "month"}, now)
	start := time.Now()
	counters := map[string]int64{}
	var batch []onramp.UsageEvent
	flush := func() error {
		if err := s.cfg.Usage.ImportUsage(ctx, node, gateway.UsageFlushes(batch, now, 0)); err != nil {
			return err
		}
		before := r.Calls
		r.Calls += len(batch)
		batch = batch[:0]
		if r.Calls/100000 != before/100000 || r.Calls == n {
			s.progress("  calls: %d/%d (%.0f calls/s)", r.Calls, n, float64(r.Calls)/time.Since(start).Seconds())
		}
		return nil
	}
	for _, c := range callers {
		for range c.calls {
			e := s.call(c, now, fmt.Sprintf("%s_%08d", run, r.Calls+len(batch)))
			if !e.At.Before(month) {
				counters[onramp.CounterID(c.org, e.Product, onramp.Sandbox, month)]++
			}
			batch = append(batch, e)
		}
		if len(batch) >= callBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if err := s.cfg.Usage.SaveQuotaCounts(ctx, node, counters); err != nil {
		return err
	}
	return s.cfg.Usage.SaveNode(ctx, onramp.GatewayNode{ID: node, StartedAt: now.Add(-7 * 24 * time.Hour), SeenAt: now})
}

// callers shares n calls among the seeded partners with keys (see Calls).
func (s *Seeder) callers(n int, focus string, share float64) ([]*caller, error) {
	var callers []*caller
	var focused *caller
	for _, o := range s.Orgs {
		if len(o.Keys) == 0 {
			continue
		}
		c := &caller{org: o.Org.ID, keys: o.Keys, products: o.Products}
		if o.Org.ID == focus {
			focused = c
			continue
		}
		callers = append(callers, c)
	}
	if len(callers) == 0 && focused == nil {
		return nil, onramp.Errorf(onramp.EINVALID, "no seeded partner has a key to make calls with: seed --orgs and --keys-per-org too")
	}
	rest := n
	if focused != nil {
		focused.calls = int(float64(n) * share)
		if len(callers) == 0 {
			focused.calls = n
		}
		rest -= focused.calls
	}
	total := 0.0
	for k := range callers {
		total += 1 / float64(k+1)
	}
	given := 0
	for k, c := range callers {
		c.calls = int(float64(rest) / float64(k+1) / total)
		given += c.calls
	}
	for k := 0; given < rest; k = (k + 1) % len(callers) { // what rounding left
		callers[k].calls++
		given++
	}
	if focused != nil {
		callers = append([]*caller{focused}, callers...)
	}
	return callers, nil
}

// call makes up one call of c's in the week before now: more recent calls than old ones, one
// in ten refused or failed.
func (s *Seeder) call(c *caller, now time.Time, id string) onramp.UsageEvent {
	key := c.keys[s.intn(len(c.keys))]
	product := c.products[0]
	if roll := s.float(); roll > 0.7 && len(c.products) > 1 {
		product = c.products[1+int(float64(len(c.products)-1)*(roll-0.7)/0.3)%(len(c.products)-1)]
	}
	at := now.Add(-time.Duration(math.Pow(s.float(), 2) * float64(7*24*time.Hour)))
	status := 200
	switch roll := s.intn(100); {
	case roll < 4:
		status = 404
	case roll < 7:
		status = 403
	case roll < 9:
		status = 429
	case roll < 10:
		status = 502
	}
	op, res := s.intn(4), resourceWords[s.intn(3)]
	return onramp.UsageEvent{ID: "seed_" + id, RequestID: "req-seed-" + id, At: at, OrgID: c.org, CredentialID: key.ID, Label: key.Label,
		Environment: onramp.Sandbox, Product: product, Version: "latest", Operation: []string{"list", "get", "create", "update"}[op] + title(res),
		Method: []string{"GET", "GET", "POST", "PATCH"}[op], Path: "/" + res + "s", Status: status, LatencyMS: 2 + 40*s.float()}
}
