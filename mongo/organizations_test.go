package mongo_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/mongo"
	"github.com/onramp-dev/onramp/production/productiontest"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// The organisation, membership and team store passes the contract its fake passes, concurrent
// cases from two clients included.
func TestOrganizationsContract(t *testing.T) {
	teamtest.RunContract(t, func(t *testing.T, n int) []teamtest.Store {
		out := make([]teamtest.Store, n)
		for i, db := range MustOpenClients(t, n) {
			out[i] = mongo.NewOrganizations(db, MustKeyring(t))
		}
		return out
	})
}

func TestEnsureIndexesTwice(t *testing.T) {
	db := MustOpen(t)
	for i := 0; i < 2; i++ { // the second call finds them all present
		if err := db.EnsureIndexes(t.Context()); err != nil {
			t.Fatalf("EnsureIndexes #%d: %v", i+1, err)
		}
	}
}

// MustKeyring is a credential keyring with one test key.
func MustKeyring(tb testing.TB) *credentials.Keyring {
	tb.Helper()
	k, err := credentials.ParseKeyring("test:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// A partner's SSO client secret never reaches the database in plaintext: what is stored is sealed
// (bound to the organisation), and reading gives the secret back.
func TestSSOClientSecretIsSealedAtRest(t *testing.T) {
	db := MustOpen(t)
	s := mongo.NewOrganizations(db, MustKeyring(t))
	secret := "idp-client-secret-9f8e7d6c5b4a"
	o := onramp.Organization{ID: "org_sealed", Name: "Sealed", Tier: "standard", ContactEmail: "a@sealed.example", InvitedAt: time.Now(),
		SSO: &onramp.SSOConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: secret, Domains: []string{"sealed.example"}}}
	if err := s.CreateOrganization(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	var raw bson.M
	if err := db.Collection("organizations").FindOne(t.Context(), bson.M{"_id": "org_sealed"}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	dump, _ := bson.MarshalExtJSON(raw, false, false)
	if strings.Contains(string(dump), secret) || !strings.Contains(string(dump), `"client_secret_sealed":{"$binary"`) {
		t.Fatalf("stored document %s: want the secret sealed, not in plaintext", dump)
	}
	if o.SSO.ClientSecret != secret {
		t.Errorf("saving changed the caller's organisation: %q", o.SSO.ClientSecret)
	}
	for name, read := range map[string]func() (onramp.Organization, error){
		"find":     func() (onramp.Organization, error) { return s.FindOrganization(t.Context(), "org_sealed") },
		"sso list": func() (onramp.Organization, error) { l, err := s.SSOOrganizations(t.Context()); return l[0], err },
		"sso": func() (onramp.Organization, error) {
			got, _, err := s.SSOOrganization(t.Context(), "sealed.example")
			return got, err
		},
	} {
		got, err := read()
		if err != nil || got.SSO == nil || got.SSO.ClientSecret != secret || got.SSO.SealedSecret != nil {
			t.Errorf("%s: %+v, %v; want the secret opened", name, got.SSO, err)
		}
	}
	// The partner list shows the organisation without its secret, and its lists hold none.
	if l, err := s.ListOrganizations(t.Context(), onramp.OrgQuery{}); err != nil || len(l.Items) != 1 || l.Items[0].SSO.ClientSecret != "" || l.Items[0].SSO.SealedSecret != nil {
		t.Errorf("partner list = %+v, %v; want no secret", l.Items, err)
	}
	cur, err := db.Collection("lists").Find(t.Context(), bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		B []byte `bson:"b"`
	}
	if err := cur.All(t.Context(), &docs); err != nil || len(docs) == 0 {
		t.Fatalf("lists: %d, %v", len(docs), err)
	}
	for _, d := range docs {
		if strings.Contains(string(d.B), secret) || strings.Contains(string(d.B), "client_secret_sealed") {
			t.Errorf("a list document holds the client secret: %q", d.B)
		}
	}
	other, _ := credentials.ParseKeyring("other:" + base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210")))
	if _, err := mongo.NewOrganizations(db, other).FindOrganization(t.Context(), "org_sealed"); err == nil {
		t.Error("a keyring without the sealing key opened the secret")
	}
}

// The production request, onboarding and quota request store passes the contract its fake
// passes, the funnel's counters from two clients at once included.
func TestOnboardingContract(t *testing.T) {
	productiontest.RunContract(t, func(t *testing.T, n int) []productiontest.Store {
		out := make([]productiontest.Store, n)
		for i, db := range MustOpenClients(t, n) {
			out[i] = mongo.NewOnboarding(db)
		}
		return out
	})
}
