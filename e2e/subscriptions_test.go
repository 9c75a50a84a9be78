package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
	"github.com/onramp-dev/onramp/workflows"
)

// Atom feeds are documented as application/atom+xml; the spec check reads them as text.
func init() {
	openapi3filter.RegisterBodyDecoder("application/atom+xml", openapi3filter.PlainBodyDecoder)
}

// mustFeed GETs a feed URL (its token in the query) and returns the body at wantStatus.
func mustFeed(tb testing.TB, rawURL string, wantStatus int) []byte {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	CheckAgainstSpec(tb, req, nil, resp.StatusCode, resp.Header, body)
	if resp.StatusCode != wantStatus {
		tb.Fatalf("GET %s = %d, want %d: %s", req.URL.Path, resp.StatusCode, wantStatus, body)
	}
	return body
}

type fullMail struct {
	ID, Subject, Text string
}

// mailsAbout lists the messages to email whose subject names what.
func mailsAbout(tb testing.TB, st *stack.Stack, email, what string) []fullMail {
	tb.Helper()
	var box struct {
		Messages []fullMail `json:"messages"`
	}
	MustGetJSON(tb, st.PortalURL+"/dev/mail.json?to="+url.QueryEscape(email), http.StatusOK, &box)
	var out []fullMail
	for _, m := range box.Messages {
		if strings.Contains(m.Subject, what) {
			out = append(out, m)
		}
	}
	return out
}

func ledgerSpec(limitRequired bool) string {
	return fmt.Sprintf("openapi: 3.0.3\ninfo: {title: Ledger, version: '1'}\npaths:\n  /entries:\n    get:\n      operationId: listEntries\n"+
		"      parameters:\n        - {name: limit, in: query, required: %v, schema: {type: integer}}\n"+
		"      responses: {'200': {description: ok, content: {application/json: {schema: {type: object}}}}}\n", limitRequired)
}

// A provider publishes a breaking version: the member subscribed to breaking changes gets one
// mail naming the product, the version and the change; the member who chose none, and the member
// of an organisation that cannot see the product, get nothing; the feed shows the new entry
// beside the old one, whose id has not changed. Tokens that are not the feed's current one, and
// the feed of a product the organisation cannot see, are refused.
func TestE2ESubscriptionBreakingVersionMailsSubscribersAndFeeds(t *testing.T) {
	st := MustSharedStack(t)
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	slug := "ledger-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	name := "Ledger " + slug[len(slug)-5:]
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/products/"+slug, map[string]any{"name": name, "summary": "Entries"}, http.StatusOK, nil, admin...)
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/products/"+slug+"/versions", map[string]any{"version": "v1", "spec": ledgerSpec(false)}, http.StatusCreated, nil, admin...)

	org, owner := MustPartnerSession(t, st, "Feed Subscriber", "standard")
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/"+slug,
		map[string]any{"plan": "standard", "scopes": []string{slug + ":read"}, "environments": []string{"sandbox"}, "quota": map[string]any{"limit": 100, "period": "day"}},
		http.StatusOK, nil, admin...)
	devEmail := fmt.Sprintf("dev+%d@feedsubscriber.example", time.Now().UnixNano())
	MustInviteMember(t, st, org.ID, owner, devEmail, onramp.RoleDeveloper)
	dev := MustAPISignIn(t, st, devEmail)
	outsider, outsiderToken := MustPartnerSession(t, st, "Feed Outsider", "standard")

	subs := st.PortalURL + "/api/v1/orgs/" + org.ID + "/subscriptions"
	MustDo(t, "PUT", subs+"/"+slug, map[string]string{"level": "breaking"}, http.StatusOK, nil, "X-Session-Token", owner)
	MustDo(t, "PUT", subs, map[string]string{"default": "all"}, http.StatusOK, nil, "X-Session-Token", dev)
	MustDo(t, "PUT", subs+"/"+slug, map[string]string{"level": "none"}, http.StatusOK, nil, "X-Session-Token", dev)
	MustDo(t, "PUT", st.PortalURL+"/api/v1/orgs/"+outsider.ID+"/subscriptions", map[string]string{"default": "all"}, http.StatusOK, nil, "X-Session-Token", outsiderToken)
	// The outsider cannot subscribe to a product it does not see, nor read its feed.
	MustDo(t, "PUT", st.PortalURL+"/api/v1/orgs/"+outsider.ID+"/subscriptions/"+slug, map[string]string{"level": "all"}, http.StatusNotFound, nil, "X-Session-Token", outsiderToken)

	var old, feedToken struct {
		Token    string            `json:"token"`
		Feed     string            `json:"feed"`
		Products map[string]string `json:"products"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/feed-token", nil, http.StatusCreated, &old, "X-Session-Token", owner)
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/feed-token", nil, http.StatusCreated, &feedToken, "X-Session-Token", owner)
	before := subscriptionstest.CheckAtom(t, mustFeed(t, feedToken.Products[slug], http.StatusOK))
	if len(before.Entries) != 1 || !strings.HasSuffix(before.Entries[0].ID, "/products/"+slug+"/versions/v1") {
		t.Fatalf("feed before v2: %+v", before.Entries)
	}

	var pub struct {
		Breaking bool `json:"breaking"`
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/products/"+slug+"/versions", map[string]any{"version": "v2", "spec": ledgerSpec(true), "release_notes": "limit is required now."},
		http.StatusCreated, &pub, admin...)
	if !pub.Breaking {
		t.Fatal("v2 was not seen as breaking")
	}
	subject := name + " v2 is published"
	MustWaitForMail(t, st.PortalURL, org.ContactEmail, func(m mailMessage) bool { return strings.HasPrefix(m.Subject, subject) }, 30*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	id := workflows.VersionAnnouncementID(slug, "v2")
	var res workflows.VersionAnnouncementResult
	if err := st.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatalf("announcement workflow: %v", err)
	}
	if res.Sent != 1 || len(res.Failed) != 0 {
		t.Errorf("announcement %+v, want the one subscriber mailed", res)
	}
	MustReplayLiveHistory(t, st.Temporal, id, "version_announcement.json")

	got := mailsAbout(t, st, org.ContactEmail, subject)
	if len(got) != 1 {
		t.Fatalf("the breaking-only subscriber got %d mails about v2, want 1", len(got))
	}
	for _, want := range []string{name + " v2 is published in the API catalog of " + org.Name, "Breaking changes: code written for v1 may fail (1)",
		"GET /entries", "`limit` became required", "limit is required now.", "/catalog/" + slug + "?org=" + org.ID + "&version=v2#changelog"} {
		if !strings.Contains(got[0].Text, want) {
			t.Errorf("the mail lacks %q:\n%s", want, got[0].Text)
		}
	}
	if n := len(mailsAbout(t, st, devEmail, name)); n != 0 {
		t.Errorf("the member who chose none got %d mails", n)
	}
	if n := len(mailsAbout(t, st, outsider.ContactEmail, name)); n != 0 {
		t.Errorf("the member of an organisation that cannot see the product got %d mails", n)
	}

	after := subscriptionstest.CheckAtom(t, mustFeed(t, feedToken.Products[slug], http.StatusOK))
	if len(after.Entries) != 2 || !strings.HasSuffix(after.Entries[0].ID, "/versions/v2") || !slices.Contains(after.Entries[0].Categories, "breaking") ||
		after.Entries[1].ID != before.Entries[0].ID {
		t.Fatalf("feed after v2: %+v (before: %+v)", after.Entries, before.Entries)
	}
	all := subscriptionstest.CheckAtom(t, mustFeed(t, feedToken.Feed, http.StatusOK))
	if all.Entries[0].ID != after.Entries[0].ID {
		t.Errorf("the feed of every product starts with %s, want the new version", all.Entries[0].ID)
	}

	// Refusals through the public surface.
	var refused problem.Problem
	for name, u := range map[string]string{
		"the rotated-out token":                  old.Products[slug],
		"the token used on another organisation": strings.Replace(feedToken.Products[slug], "/feeds/"+org.ID+"/", "/feeds/"+outsider.ID+"/", 1),
	} {
		body := mustFeed(t, u, http.StatusUnauthorized)
		if strings.Contains(string(body), name) || strings.Contains(string(body), feedToken.Token) || strings.Contains(string(body), old.Token) {
			t.Errorf("%s: the answer echoes the token: %s", name, body)
		}
	}
	var outsiderFeed struct {
		Token string `json:"token"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+outsider.ID+"/feed-token", nil, http.StatusCreated, &outsiderFeed, "X-Session-Token", outsiderToken)
	theirs := mustFeed(t, st.PortalURL+"/feeds/"+org.ID+"/products/"+slug+".atom?token="+outsiderFeed.Token, http.StatusUnauthorized)
	if strings.Contains(string(theirs), name) {
		t.Errorf("another organisation's token learns the product's name: %s", theirs)
	}
	hidden := mustFeed(t, st.PortalURL+"/feeds/"+outsider.ID+"/products/"+slug+".atom?token="+outsiderFeed.Token, http.StatusNotFound)
	ghost := mustFeed(t, st.PortalURL+"/feeds/"+outsider.ID+"/products/ghost-product.atom?token="+outsiderFeed.Token, http.StatusNotFound)
	if strings.ReplaceAll(answer(404, hidden), slug, "X") != strings.ReplaceAll(answer(404, ghost), "ghost-product", "X") {
		t.Errorf("a product the organisation cannot see: %s\none that does not exist: %s", hidden, ghost)
	}
	// The feed token is nothing but a feed token.
	MustDo(t, "GET", st.PortalURL+"/api/v1/me", nil, http.StatusUnauthorized, &refused, "X-Session-Token", feedToken.Token)
	MustDo(t, "GET", st.PortalURL+"/api/v1/orgs/"+org.ID+"/catalog/"+slug+"/versions/v2/openapi.json", nil, http.StatusUnauthorized, &refused, "X-API-Key", feedToken.Token)
	status, _, _ := gatewayCall(t, "GET", st.SandboxURL+"/"+slug+"/v2/entries?limit=1", feedToken.Token, "")
	if status != http.StatusUnauthorized {
		t.Errorf("the feed token as an API key at the gateway: %d, want 401", status)
	}
}
