package mongo_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/mongo"
)

// MustOpenTwice connects two clients, each with a pool of its own, to one fresh database: two
// gateway nodes, as FerretDB sees them.
func MustOpenTwice(tb testing.TB) (*mongo.DB, *mongo.DB) {
	tb.Helper()
	first := MustOpen(tb)
	u, err := url.Parse(serverURI)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + first.Name()
	second, err := mongo.OpenWith(context.Background(), u.String(), mongo.Options{AppName: "second", MaxPoolSize: 4, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { second.Close(context.Background()) })
	return first, second
}

// Two nodes on two clients (FerretDB loses concurrent updates of one document across
// connections): each node's documents have one writer, so no increment is lost.
func TestQuotaCountsConcurrentlyFromTwoClients(t *testing.T) {
	credentialstest.RunQuotaCountsConcurrently(t, func(t *testing.T) (onramp.UsageStore, onramp.UsageStore) {
		a, b := MustOpenTwice(t)
		return mongo.NewUsage(a), mongo.NewUsage(b)
	})
}

// A counter written by the shared $inc of earlier versions still counts, so an upgrade in the
// middle of a quota window does not hand out the quota again.
func TestSharedCountersBeforePerNodeCountingStillCount(t *testing.T) {
	db := MustOpen(t)
	u := mongo.NewUsage(db)
	ctx := t.Context()
	now := time.Now().UTC()
	id := onramp.CounterID("org_1", "payments", onramp.Sandbox, now.Truncate(24*time.Hour))
	if _, err := db.Collection("usage_counters").InsertOne(ctx, bson.M{"_id": id, "count": 7}); err != nil {
		t.Fatal(err)
	}
	if err := u.SaveNode(ctx, onramp.GatewayNode{ID: "gw-a", StartedAt: now, SeenAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := u.SaveQuotaCounts(ctx, "gw-a", map[string]int64{id: 2}); err != nil {
		t.Fatal(err)
	}
	if got, err := u.QuotaCounts(ctx, []string{id}, []string{"gw-a", onramp.LegacyNode}); err != nil || got[id] != 9 {
		t.Errorf("QuotaCounts = %v, %v; want 7 before the upgrade + 2 since", got, err)
	}
	if got, err := u.QuotaCounts(ctx, []string{id}, []string{onramp.LegacyNode}); err != nil || got[id] != 7 {
		t.Errorf("QuotaCounts(legacy only) = %v, %v; want the 7 before the upgrade", got, err)
	}
	if got, err := u.QuotaCounts(ctx, []string{id}, []string{"gw-a"}); err != nil || got[id] != 2 {
		t.Errorf("QuotaCounts(gw-a only) = %v, %v; want gw-a's 2", got, err)
	}
	if got, err := u.Counters(ctx, []string{id}); err != nil || got[id] != 9 {
		t.Errorf("Counters = %v, %v; want 9", got, err)
	}
}

// Documents written before bodies (their values inline, as a data directory of an earlier build
// holds them) read as they are.
func TestUsageWrittenInlineStillReads(t *testing.T) {
	db := MustOpen(t)
	u := mongo.NewUsage(db)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	ym := now.Format("200601")
	if err := u.SaveNode(ctx, onramp.GatewayNode{ID: "gw-old", StartedAt: now, SeenAt: now}); err != nil {
		t.Fatal(err)
	}
	call := onramp.UsageEvent{ID: "ev_1", OrgID: "org_1", Product: "payments", Environment: onramp.Sandbox, Method: "GET", Path: "/payments", Status: 200, At: now, CredentialID: "cred_1"}
	ref := onramp.CallPageRef{Open: true, Hour: now.Truncate(time.Hour), Count: 1, First: now, Last: now}
	inline := map[string]bson.M{
		u.UsageCollection("usage_months_"+ym, "org_1"): {"_id": "org_1@gw-old", "node": "gw-old", "org_id": "org_1", "month": monthStart, "lines": bson.A{
			bson.M{"product": "payments", "environment": onramp.Sandbox, "days": bson.A{bson.M{"hour": now.Truncate(24 * time.Hour), "calls": 3, "errors": 1}}}}},
		u.UsageCollection("usage_heads_"+ym, "org_1"): {"_id": "org_1@gw-old", "node": "gw-old", "org_id": "org_1", "updated_at": now,
			"credentials": bson.A{bson.M{"credential_id": "cred_1", "last_used_at": now}}, "pages": bson.A{ref}},
		u.UsageCollection("usage_open_"+ym, "org_1"): {"_id": "org_1@gw-old#ok", "org_id": "org_1", "node": "gw-old", "ref": ref, "calls": bson.A{call}},
	}
	for coll, doc := range inline {
		if _, err := db.Collection(coll).InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	got, err := u.UsageTotals(ctx, "org_1", "payments", onramp.Sandbox, monthStart, now.Add(time.Hour))
	if err != nil || len(got.Days) != 1 || got.Days[0].Calls != 3 || got.Days[0].Errors != 1 {
		t.Errorf("UsageTotals = %+v, %v; want the inline month's day of 3 calls, 1 error", got, err)
	}
	if last, err := u.LastUsed(ctx, "org_1"); err != nil || !last["cred_1"].Equal(now) {
		t.Errorf("LastUsed = %v, %v; want cred_1 at %s from the inline head", last, err, now)
	}
	if calls, err := u.Calls(ctx, "org_1", onramp.CallFilter{Limit: 10}); err != nil || len(calls) != 1 || calls[0].ID != "ev_1" {
		t.Errorf("Calls = %+v, %v; want ev_1 from the inline open page", calls, err)
	}
}

// Every write the gateways cache records a change, in whichever process it happens.
func TestWritesRecordChanges(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	since := time.Now().Add(-time.Second)
	creds, cat, orgs := mongo.NewCredentials(db), mongo.NewCatalog(db), mongo.NewOrganizations(db, MustKeyring(t))
	if err := creds.CreateCredential(ctx, onramp.Credential{ID: "cred_1", OrgID: "org_1", Hash: "h1", Status: onramp.CredentialActive}); err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return creds.RevokeCredential(ctx, "cred_1", time.Now()) },
		func() error { return creds.ExpireCredential(ctx, "cred_1", time.Now()) },
		func() error { return cat.SaveAssignment(ctx, onramp.Assignment{OrgID: "org_1", Product: "payments"}) },
		func() error { return cat.DeleteAssignment(ctx, "org_1", "payments") },
		func() error { return cat.SaveProduct(ctx, onramp.Product{Slug: "payments"}) },
		func() error {
			return cat.PublishVersion(ctx, onramp.ProductVersion{Product: "payments", Version: "v1", Status: onramp.VersionDeprecated})
		},
		func() error {
			return cat.SetBrownouts(ctx, "payments", "v1", []onramp.BrownoutWindow{{Start: time.Now().Add(time.Hour), End: time.Now().Add(2 * time.Hour)}})
		},
		func() error { return orgs.CreateOrganization(ctx, onramp.Organization{ID: "org_1"}) },
		func() error {
			_, err := orgs.UpdateOrganization(ctx, "org_1", func(o *onramp.Organization) error { o.Name = "One"; return nil })
			return err
		},
		func() error { return orgs.SetOrganizationStatus(ctx, "org_1", onramp.OrgActive, nil) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	got, err := mongo.NewChanges(db).Changes(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range got {
		kinds = append(kinds, c.Kind+":"+c.Key)
	}
	want := []string{"credential:cred_1", "credential:cred_1", "assignments:org_1", "assignments:org_1", "product:payments", "product:payments", "product:payments", "organization:org_1", "organization:org_1", "organization:org_1"}
	if len(kinds) != len(want) {
		t.Fatalf("changes = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Errorf("change %d = %s, want %s (all: %v)", i, kinds[i], want[i], kinds)
		}
	}
	if later, err := mongo.NewChanges(db).Changes(ctx, time.Now().Add(time.Minute)); err != nil || len(later) != 0 {
		t.Errorf("changes from a minute ahead = %v, %v; want none", later, err)
	}
}
