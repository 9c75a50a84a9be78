package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/stack"
)

type partnerPage struct {
	Partners []onramp.Organization `json:"partners"`
	Next     string                `json:"next_cursor"`
	Prev     string                `json:"prev_cursor"`
}

func mustPartners(tb testing.TB, st *stack.Stack, query string) partnerPage {
	tb.Helper()
	var p partnerPage
	MustGetJSON(tb, st.PortalURL+"/admin/api/v1/partners?"+query, http.StatusOK, &p, "Authorization", "Bearer "+MustAdminToken(tb, st))
	return p
}

func names(os []onramp.Organization) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.Name)
	}
	return out
}

// The admin's partner list on the real stack: a search pages by cursor and keeps its place while
// partners are invited, a first sign-in (the invitation workflow's) moves the partner to the active
// list, and the funnel counts the stages as they happen.
func TestE2EPagesPartnerListSearchAndFunnel(t *testing.T) {
	st := MustSharedStack(t)
	word := fmt.Sprintf("Pagetest%d", time.Now().UnixNano()%1_000_000)
	q := "q=" + url.QueryEscape(strings.ToLower(word))
	var before struct {
		Stages []struct {
			Stage string `json:"stage"`
			Count int64  `json:"count"`
		} `json:"stages"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/funnel", http.StatusOK, &before, "Authorization", "Bearer "+MustAdminToken(t, st))

	var invited []onramp.Organization
	for _, n := range []string{"Alpha", "Bravo", "Charlie"} {
		invited = append(invited, MustInvitePartnerOn(t, st, word+" "+n, "standard"))
	}
	first := mustPartners(t, st, q+"&limit=2")
	if got := names(first.Partners); !slices.Equal(got, []string{word + " Charlie", word + " Bravo"}) || first.Next == "" || first.Prev != "" {
		t.Fatalf("first page of the search = %v (next %q, prev %q), want Charlie then Bravo, newest first", got, first.Next, first.Prev)
	}
	MustInvitePartnerOn(t, st, word+" Delta", "standard") // newest: before the cursor
	second := mustPartners(t, st, q+"&limit=2&cursor="+url.QueryEscape(first.Next))
	if got := names(second.Partners); !slices.Equal(got, []string{word + " Alpha"}) || second.Next != "" || second.Prev == "" {
		t.Fatalf("second page = %v (next %q), want Alpha alone", got, second.Next)
	}
	back := mustPartners(t, st, q+"&limit=2&cursor="+url.QueryEscape(second.Prev))
	if got := names(back.Partners); !slices.Equal(got, []string{word + " Charlie", word + " Bravo"}) || back.Prev == "" {
		t.Errorf("back = %v (prev %q), want the first page as it was, with Delta before it", got, back.Prev)
	}
	// The contact's address finds the partner too.
	if p := mustPartners(t, st, "q="+url.QueryEscape(invited[1].ContactEmail)); len(p.Partners) != 1 || p.Partners[0].ID != invited[1].ID {
		t.Errorf("searching %s = %v", invited[1].ContactEmail, names(p.Partners))
	}

	if p := mustPartners(t, st, q+"&status=active"); len(p.Partners) != 0 {
		t.Fatalf("active before any sign-in: %v", names(p.Partners))
	}
	MustAPISignIn(t, st, invited[0].ContactEmail) // the invitation workflow marks the partner active
	waitFor(t, 10*time.Second, "the partner in the active list", func() bool {
		p := mustPartners(t, st, q+"&status=active")
		return len(p.Partners) == 1 && p.Partners[0].ID == invited[0].ID
	})
	if p := mustPartners(t, st, q+"&status=invited"); len(p.Partners) != 3 {
		t.Errorf("still invited: %v, want the other three", names(p.Partners))
	}
	waitFor(t, 10*time.Second, "the funnel counting four invitations and a first sign-in", func() bool {
		var after struct {
			Stages []struct {
				Stage string `json:"stage"`
				Count int64  `json:"count"`
			} `json:"stages"`
		}
		MustGetJSON(t, st.PortalURL+"/admin/api/v1/funnel", http.StatusOK, &after, "Authorization", "Bearer "+MustAdminToken(t, st))
		return after.Stages[0].Count-before.Stages[0].Count >= 4 && after.Stages[1].Count-before.Stages[1].Count >= 1
	})

	// The page: the search form keeps its words, the rows are the search's.
	req, _ := http.NewRequest("GET", st.PortalURL+"/admin/partners?"+q, nil)
	req.AddCookie(&http.Cookie{Name: "onramp_admin", Value: MustAdminToken(t, st)})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	body := string(raw)
	if resp.StatusCode != 200 || strings.Count(body, "<tr data-org=") != 4 || !strings.Contains(body, `value="`+strings.ToLower(word)+`"`) {
		t.Errorf("partners page for the search: %d with %d rows", resp.StatusCode, strings.Count(body, "<tr data-org="))
	}
}

// `onramp seed`, as the README shows it, against the running stack's MongoDB: what it builds is
// on the admin's pages at once.
func TestE2EPagesSeedCommand(t *testing.T) {
	st := MustSharedStack(t)
	bin := MustBuildOnramp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "seed", "--products", "2", "--versions", "3", "--operations", "8", "--orgs", "40", "--keys-per-org", "2", "--calls", "300",
		"--data", filepath.Dir(st.AdminTokenPath))
	cmd.Env = append(cliEnv(), "MONGODB_URI="+st.MongoURI)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Seeded in") {
		t.Fatalf("onramp seed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	var products struct {
		Products []struct {
			Slug     string `json:"slug"`
			Versions []struct {
				Version string `json:"version"`
			} `json:"versions"`
		} `json:"products"`
		Next string `json:"next_cursor"`
	}
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	found := 0
	for cursor := ""; ; {
		MustGetJSON(t, st.PortalURL+"/admin/api/v1/products?limit=200&cursor="+url.QueryEscape(cursor), http.StatusOK, &products, admin...)
		for _, p := range products.Products {
			if strings.HasSuffix(p.Slug, "-0001") || strings.HasSuffix(p.Slug, "-0002") {
				found++
				if len(p.Versions) != 3 {
					t.Errorf("%s has %d versions, want 3", p.Slug, len(p.Versions))
				}
			}
		}
		if cursor = products.Next; cursor == "" {
			break
		}
	}
	if found != 2 {
		t.Errorf("found %d seeded products, want 2", found)
	}
	var changelog struct {
		Changes []struct {
			Level string `json:"level"`
		} `json:"changes"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/products/ledger-0001/versions/v3/changelog", http.StatusOK, &changelog, admin...)
	if !slices.ContainsFunc(changelog.Changes, func(c struct {
		Level string `json:"level"`
	}) bool {
		return c.Level == "breaking"
	}) || len(changelog.Changes) < 2 {
		t.Errorf("v3's changelog = %+v, want a breaking change among others", changelog.Changes)
	}
	seeded := mustPartners(t, st, "q=acme&limit=200")
	if len(seeded.Partners) == 0 {
		t.Errorf("no seeded Acme partner on the admin's list")
	}
}
