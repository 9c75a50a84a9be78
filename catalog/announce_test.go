package catalog_test

import (
	"errors"
	"io/fs"
	"slices"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/policies"
)

func mustAnnouncingCatalog(t *testing.T) (*catalog.Catalog, *catalogtest.Memory, *catalogtest.Announcements) {
	t.Helper()
	engine, err := policies.New(t.Context(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	store := catalogtest.NewMemory()
	ann := &catalogtest.Announcements{Store: store}
	c, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: ann, SandboxURL: "http://s", ProductionURL: "http://p"})
	if err != nil {
		t.Fatal(err)
	}
	return c, store, ann
}

// Every stored version is announced, once, and asked for before it is stored (so a crash between
// the two cannot leave a version nobody hears of); dry runs and refusals announce nothing.
func TestPublishAnnouncesEachVersionBeforeStoringIt(t *testing.T) {
	c, _, ann := mustAnnouncingCatalog(t)
	if _, err := c.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	asked := ann.Asked()
	slices.Sort(asked)
	if want := []string{"accounts/v1", "insights/v1", "payments/v1", "payments/v2"}; !slices.Equal(asked, want) {
		t.Fatalf("announced %v, want %v", asked, want)
	}
	if _, err := c.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	good, _ := fs.ReadFile(demoFS(t), "products/accounts/v1.yaml")
	if _, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v2", Spec: good, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v1", Spec: good}); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Fatalf("republishing v1: %v", err)
	}
	if _, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v2", Spec: good}); err != nil {
		t.Fatal(err)
	}
	if got := ann.Asked(); len(got) != 5 || got[4] != "accounts/v2" {
		t.Errorf("after reloading, a dry run, a conflict and one publication: %v, want accounts/v2 added once", got)
	}
	if first := ann.StoredFirst(); len(first) != 0 {
		t.Errorf("stored before their announcement was scheduled: %v", first)
	}
}

func TestPublishThatCannotBeAnnouncedStoresNothing(t *testing.T) {
	c, store, ann := mustAnnouncingCatalog(t)
	if _, err := c.LoadFiles(t.Context(), demoFS(t)); err != nil {
		t.Fatal(err)
	}
	ann.Fail = errors.New("temporal is down")
	good, _ := fs.ReadFile(demoFS(t), "products/accounts/v1.yaml")
	if _, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v2", Spec: good}); err == nil {
		t.Fatal("published without an announcement")
	}
	if _, err := store.FindVersion(t.Context(), "accounts", "v2"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("the version was stored anyway: %v", err)
	}
	ann.Fail = nil
	if _, err := c.Publish(t.Context(), catalog.Publish{Product: "accounts", Version: "v2", Spec: good}); err != nil {
		t.Errorf("publishing again once it can be announced: %v", err)
	}
}
