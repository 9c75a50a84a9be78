package mongo_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/impact"
	"github.com/onramp-dev/onramp/mongo"
	"github.com/onramp-dev/onramp/policies"
)

const scaleV1 = `openapi: 3.0.3
info: {title: Ledger, version: '1'}
paths:
  /entries:
    get:
      operationId: listEntries
      parameters: [{name: limit, in: query, schema: {type: integer}}]
      responses: {'200': {description: ok}}
  /balance:
    get:
      operationId: getBalance
      responses: {'200': {description: ok}}
`

const scaleV2 = `openapi: 3.0.3
info: {title: Ledger, version: '2'}
paths:
  /entries:
    get:
      operationId: listEntries
      parameters: [{name: limit, in: query, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok}}
  /balance:
    get:
      operationId: getBalance
      responses: {'200': {description: ok}}
`

// The impact computation on the real store (FerretDB in `make test`, MongoDB with
// ONRAMP_TEST_MONGODB_URI), at the scale ONRAMP_IMPACT_ORGS says (default 60): every
// organisation assigned a product, each with a month of aggregates on two gateway nodes, every
// tenth calling the operation a breaking version breaks. It checks that exactly those are
// alarmed, and logs how long planning, assessing in batches of 100 (the workflow's activities,
// one after the other) and the migration dashboard take.
func TestImpactAtScale(t *testing.T) {
	n := 60
	if v := os.Getenv("ONRAMP_IMPACT_ORGS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	db := MustOpen(t)
	engine, err := policies.New(ctx, policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store, usage, orgs, subs := mongo.NewCatalog(db), mongo.NewUsage(db), mongo.NewOrganizations(db, MustKeyring(t)), mongo.NewSubscriptions(db)
	cat, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://s", ProductionURL: "http://p"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.SaveProduct(ctx, onramp.Product{Slug: "ledger", Name: "Ledger"}); err != nil {
		t.Fatal(err)
	}
	for i, spec := range []string{scaleV1, scaleV2} {
		if _, err := cat.Publish(ctx, catalog.Publish{Product: "ledger", Version: "v" + strconv.Itoa(i+1), Spec: []byte(spec)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	setup := time.Now()
	grant := onramp.Grant{Scopes: []string{"ledger:read"}, Environments: []string{onramp.Sandbox}, Quota: onramp.Quota{Limit: 1000, Period: "day"}}
	var assignments []onramp.Assignment
	var members, subscriptions []any
	for i := range n {
		id := fmt.Sprintf("org_%05d", i)
		if err := orgs.CreateOrganization(ctx, onramp.Organization{ID: id, Name: "Org " + id, Tier: "standard", Status: onramp.OrgActive, ContactEmail: "owner@" + id + ".example", InvitedAt: now}); err != nil {
			t.Fatal(err)
		}
		assignments = append(assignments, onramp.Assignment{ID: onramp.AssignmentID(id, "ledger"), OrgID: id, Product: "ledger", Plan: "standard", Grant: grant, UpdatedAt: now})
		for _, role := range []string{onramp.RoleOwner, onramp.RoleDeveloper} {
			m := onramp.Member{ID: onramp.MemberID(id, role+"-"+id), OrgID: id, IdentityID: role + "-" + id, Email: role + "@" + id + ".example", Role: role, JoinedAt: now}
			members = append(members, m)
			subscriptions = append(subscriptions, onramp.Subscriptions{MemberID: m.ID, Default: onramp.SubscribeBreaking, Products: map[string]string{}})
		}
		op := "getBalance"
		if i%10 == 0 {
			op = "listEntries"
		}
		for _, node := range []string{"gw-a", "gw-b"} {
			month := onramp.UsageMonth{OrgID: id, Month: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), Lines: []onramp.UsageLine{{Product: "ledger", Environment: onramp.Sandbox,
				Uses: []onramp.OperationUse{{Version: "v1", Operation: op, Days: []onramp.DayCalls{{Day: now.Truncate(24 * time.Hour), Calls: 5}},
					Credentials: []onramp.CredentialLastUse{{CredentialID: "cred_" + id, LastAt: now}}}}}}}
			if err := usage.SaveUsage(ctx, node, onramp.UsageFlush{Head: onramp.UsageHead{OrgID: id, UpdatedAt: now}, Months: []onramp.UsageMonth{month}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Assignments through the store's bulk write, which lists them by product as well.
	if err := store.ImportAssignments(ctx, assignments); err != nil {
		t.Fatal(err)
	}
	for coll, docs := range map[string][]any{"members": members, "subscriptions": subscriptions} {
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	for _, node := range []string{"gw-a", "gw-b"} {
		if err := usage.SaveNode(ctx, onramp.GatewayNode{ID: node, StartedAt: now, SeenAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d organisations set up in %s", n, time.Since(setup).Round(time.Millisecond))

	svc, err := impact.New(impact.Config{Catalog: cat, Versions: store, Assignments: store, Usage: usage, Credentials: mongo.NewCredentials(db),
		Organizations: orgs, Team: orgs, Subscriptions: subs, Policy: engine, Notifications: mongo.NewOnboarding(db), PortalURL: "https://portal.example"})
	if err != nil {
		t.Fatal(err)
	}
	provider := onramp.ProviderActor("scale test")
	started := time.Now()
	plan, err := svc.Plan(ctx, provider, onramp.ImpactEvent{Kind: onramp.ImpactBreaking, Product: "ledger", Version: "v2"})
	if err != nil || len(plan.Organizations) != n || len(plan.Operations) != 1 {
		t.Fatalf("plan = %d organisations, %d operations, %v", len(plan.Organizations), len(plan.Operations), err)
	}
	planned := time.Since(started)
	alarmed, mails := 0, 0
	started = time.Now()
	for start := 0; start < n; start += 100 {
		as, err := svc.Alarms(ctx, provider, plan, plan.Organizations[start:min(start+100, n)])
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Impact.Operations[0].Calls != 10 || a.Impact.Operations[0].Operation != "listEntries" {
				t.Errorf("%s's impact = %+v, want listEntries' 10 calls (5 on each node)", a.Impact.OrgID, a.Impact.Operations)
			}
			alarmed++
			mails += len(a.Mails)
		}
	}
	assessed := time.Since(started)
	if want := (n + 9) / 10; alarmed != want || mails != 2*want {
		t.Errorf("%d organisations alarmed with %d mails, want %d with %d", alarmed, mails, want, 2*want)
	}
	started = time.Now()
	d, err := svc.WhoCalls(ctx, provider, "ledger", "v1", impact.DashboardQuery{Limit: 50})
	if err != nil || d.Total != n || d.Calls != int64(10*n) {
		t.Fatalf("dashboard = %d callers, %d calls, %v; want every organisation's 10", d.Total, d.Calls, err)
	}
	t.Logf("%d organisations, 2 gateway nodes: plan %s, assessing in %d batches of 100 %s (%d alarmed, %d mails composed), migration dashboard %s",
		n, planned.Round(time.Millisecond), (n+99)/100, assessed.Round(time.Millisecond), alarmed, mails, time.Since(started).Round(time.Millisecond))
}
