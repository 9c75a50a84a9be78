package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/api"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/stack"
)

// From the code before the fix: a product the security team withholds (policies/catalog) left the
// catalog but stayed callable through both gateways.
func TestE2ESecurityWithheldProductIsRefusedByBothGateways(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Withheld Gateways", "standard")
	slug, up, live := mustEchoProduct(t, st, org, token)
	var created struct {
		Key string `json:"key"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": onramp.Sandbox, "label": "echo sandbox"}, http.StatusCreated, &created, "X-Session-Token", token)
	calls := map[string][2]string{onramp.Sandbox: {st.SandboxURL, created.Key}, onramp.Production: {st.ProductionURL, live}}
	for env, c := range calls {
		if status, _, body := gatewayCall(t, "GET", c[0]+"/"+slug+"/v1/items", c[1], ""); status != 200 {
			t.Fatalf("%s before the rule = %d %s", env, status, body)
		}
	}
	up.got()

	file := filepath.Join(shared.dir, "policies", "catalog", "withhold_"+strings.ReplaceAll(slug, "-", "_")+".rego")
	t.Cleanup(func() { os.Remove(file) })
	rule := fmt.Sprintf("package catalog\n\nimport rego.v1\n\nwithheld contains %q if input.organization.id == %q\n", slug, org.ID)
	if err := os.WriteFile(file, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the catalog to withhold "+slug, func() bool {
		return !strings.Contains(mustCatalog(t, st, org, token, "").slugs(), slug)
	})
	for env, c := range calls {
		// The gateways follow a policy change within their cache TTL (500 ms).
		waitFor(t, 3*time.Second, env+" to refuse the withheld product", func() bool {
			status, _, _ := gatewayCall(t, "GET", c[0]+"/"+slug+"/v1/items", c[1], "")
			return status == http.StatusNotFound
		})
	}
	for up.got() != nil { // calls made before the gateways caught up
	}
	for _, c := range calls {
		status, header, body := gatewayCall(t, "GET", c[0]+"/"+slug+"/v1/items", c[1], "")
		mustGatewayProblem(t, status, header, body, 404, "no-such-product")
	}
	if r := up.got(); r != nil {
		t.Errorf("the upstream got %s while the product was withheld", r.URL)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the product to come back", func() bool {
		status, _, _ := gatewayCall(t, "GET", st.SandboxURL+"/"+slug+"/v1/items", created.Key, "")
		return status == 200
	})
}

// From the code before the fix: two concurrent rotations of one key passed the same "is it
// already rotating" read and made two rotations (and two new keys).
func TestE2ESecurityConcurrentRotationsOfOneKeyMakeOne(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Double Rotate", "standard")
	cred, _ := MustFirstSandboxKey(t, st, org, token)
	statuses := make([]int, 8)
	start := make(chan struct{}) // all at once, not as fast as goroutines happen to start
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], _ = send(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+cred.ID+"/rotate", map[string]string{"overlap": "1h"}, "X-Session-Token", token)
		}()
	}
	close(start)
	wg.Wait()
	sort.Ints(statuses)
	if fmt.Sprint(statuses) != "[202 409 409 409 409 409 409 409]" {
		t.Errorf("statuses of 8 concurrent rotations = %v, want one 202 and the rest 409", statuses)
	}
	var rs struct {
		Rotations []onramp.Rotation `json:"rotations"`
	}
	var creds struct {
		Credentials []credentialBody `json:"credentials"`
	}
	waitFor(t, 10*time.Second, "the rotation's new key", func() bool {
		MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", http.StatusOK, &creds, "X-Session-Token", token)
		return len(creds.Credentials) >= 2
	})
	time.Sleep(time.Second) // a second rotation, were there one, would have issued its key by now
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/rotations", http.StatusOK, &rs, "X-Session-Token", token)
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", http.StatusOK, &creds, "X-Session-Token", token)
	running := 0
	for _, r := range rs.Rotations {
		if r.Status != onramp.RotationCancelled {
			running++
		}
	}
	if running != 1 || len(creds.Credentials) != 2 {
		t.Errorf("%d rotations went ahead and the organisation has %d keys; want one rotation and one new key", running, len(creds.Credentials))
	}
}

// From the code before the fix: two owners demoting each other at the same moment both passed
// the "is there another owner" read and left the organisation without one.
func TestE2ESecurityConcurrentDemotionsKeepAnOwner(t *testing.T) {
	st := MustSharedStack(t)
	org, first := MustPartnerSession(t, st, "Two Owners", "standard")
	base := st.PortalURL + "/api/v1/orgs/" + org.ID
	n := time.Now().UnixNano()
	var ids, tokens []string
	for i := range 2 {
		email := fmt.Sprintf("owner%d-%d@twoowners.example", i, n)
		MustDo(t, "POST", base+"/invitations", map[string]string{"email": email, "role": "admin"}, http.StatusCreated, nil, "X-Session-Token", first)
		MustWaitForMail(t, st.PortalURL, email, func(m mailMessage) bool { return strings.Contains(m.Subject, "invited") }, 10*time.Second)
		tok := MustAPISignIn(t, st, email)
		tokens, ids = append(tokens, tok), append(ids, mustMe(t, st, tok).IdentityID)
	}
	// The first owner hands ownership to both (two transfers at once: both become owners).
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(t, "POST", base+"/transfer-ownership", map[string]string{"identity_id": id}, "X-Session-Token", first)
		}()
	}
	wg.Wait()
	if owners := countOwners(t, st, org.ID); owners != 2 {
		t.Fatalf("after two transfers: %d owners, want 2", owners)
	}
	statuses := make([]int, 2)
	start := make(chan struct{})
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], _ = send(t, "PATCH", base+"/members/"+ids[1-i], map[string]string{"role": "admin"}, "X-Session-Token", tokens[i])
		}()
	}
	close(start)
	wg.Wait()
	sort.Ints(statuses)
	// The loser is refused either because it would leave no owner (409) or because, demoted
	// first, it is no longer an owner (403); never do both changes go through.
	if (fmt.Sprint(statuses) != "[204 409]" && fmt.Sprint(statuses) != "[204 403]") || countOwners(t, st, org.ID) != 1 {
		t.Errorf("two owners demoting each other: %v, %d owners left; want one change refused and one owner", statuses, countOwners(t, st, org.ID))
	}
}

func countOwners(tb testing.TB, st *stack.Stack, orgID string) int {
	tb.Helper()
	n := 0
	for _, m := range mustPartnerMembers(tb, st, orgID) {
		if m.Role == onramp.RoleOwner {
			n++
		}
	}
	return n
}

// From the code before the fix: a call's history id was the caller's X-Request-Id, so reusing one
// id hid calls from the organisation's own history and totals.
func TestE2ESecurityRequestIDsCannotHideCalls(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Hidden Calls", "standard")
	_, key := MustFirstSandboxKey(t, st, org, token)
	for range 3 {
		if status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", key, "", "X-Request-Id", "same-id-every-time"); status != 200 {
			t.Fatalf("call = %d %s", status, body)
		}
	}
	var calls struct {
		Calls []onramp.UsageEvent `json:"calls"`
	}
	waitFor(t, 10*time.Second, "the three calls in the history", func() bool {
		MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/calls", http.StatusOK, &calls, "X-Session-Token", token)
		return len(calls.Calls) >= 3
	})
	seen := map[string]bool{}
	for _, c := range calls.Calls {
		if c.RequestID != "same-id-every-time" || seen[c.ID] {
			t.Errorf("call %+v: want the caller's request id kept beside a distinct id of the gateway's own", c)
		}
		seen[c.ID] = true
	}
	if len(calls.Calls) != 3 {
		t.Errorf("%d calls in the history, want 3", len(calls.Calls))
	}
}

// tenantFixture is an organisation with something of each kind the partner API addresses by id.
type tenantFixture struct {
	org        onramp.Organization
	token      string
	identity   string
	credential string
	invitation string
	request    string
	rotation   string
}

func mustTenant(tb testing.TB, st *stack.Stack, name string) tenantFixture {
	tb.Helper()
	org, token := MustPartnerSession(tb, st, name, "standard")
	f := tenantFixture{org: org, token: token, identity: mustMe(tb, st, token).IdentityID}
	base := st.PortalURL + "/api/v1/orgs/" + org.ID
	session := []string{"X-Session-Token", token}
	cred, _ := MustFirstSandboxKey(tb, st, org, token)
	f.credential = cred.ID
	var inv onramp.MemberInvitation
	MustDo(tb, "POST", base+"/invitations", map[string]string{"email": fmt.Sprintf("colleague%d@%s.example", time.Now().UnixNano(), strings.ToLower(strings.ReplaceAll(name, " ", ""))), "role": "viewer"}, http.StatusCreated, &inv, session...)
	f.invitation = inv.ID
	var pr onramp.ProductionRequest
	MustDo(tb, "POST", base+"/production-requests", requestForm(org), http.StatusCreated, &pr, session...)
	f.request = pr.ID
	var rot onramp.Rotation
	MustDo(tb, "POST", base+"/credentials/"+cred.ID+"/rotate", map[string]string{"overlap": "1h"}, http.StatusAccepted, &rot, session...)
	f.rotation = rot.ID
	return f
}

// snapshot is everything the partner API shows an organisation about itself.
func (f tenantFixture) snapshot(tb testing.TB, st *stack.Stack) string {
	tb.Helper()
	var b strings.Builder
	for _, list := range []string{"members", "invitations", "credentials", "rotations", "production-requests", "quota-requests", "audit", "notifications", "calls"} {
		raw, _ := MustFetch(tb, st.PortalURL+"/api/v1/orgs/"+f.org.ID+"/"+list, f.token, http.StatusOK)
		b.WriteString(list + ": " + volatileFields.ReplaceAllString(string(raw), "") + "\n")
	}
	return b.String()
}

// volatileFields change by themselves (countdowns, usage in the last hour).
var volatileFields = regexp.MustCompile(`"(seconds_left|old_key_calls_last_hour|updated_at|status|expires_at|new_credential_id|last_used_at)":[^,}]*`)

// partnerRoutes are the /api/v1/orgs/{org}/… operations api/openapi.yaml documents.
func partnerRoutes(tb testing.TB) [][2]string {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][2]string
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/api/v1/orgs/{org}") {
			continue
		}
		for method := range item.Operations() {
			out = append(out, [2]string{method, path})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1]+out[i][0] < out[j][1]+out[j][0] })
	return out
}

// fill puts ids into a documented path: the org, then each other parameter from ids.
func fill(path, org string, ids map[string]string) string {
	out := strings.ReplaceAll(path, "{org}", org)
	for k, v := range map[string]string{"{identity}": ids["identity"], "{product}": "payments", "{version}": "v2", "{file}": "openapi.json", "{action}": "cancel"} {
		out = strings.ReplaceAll(out, k, v)
	}
	switch {
	case strings.Contains(out, "/credentials/{id}"):
		out = strings.ReplaceAll(out, "{id}", ids["credential"])
	case strings.Contains(out, "/invitations/{id}"):
		out = strings.ReplaceAll(out, "{id}", ids["invitation"])
	case strings.Contains(out, "/production-requests/{id}"):
		out = strings.ReplaceAll(out, "{id}", ids["request"])
	case strings.Contains(out, "/rotations/{id}"):
		out = strings.ReplaceAll(out, "{id}", ids["rotation"])
	}
	return out
}

// bodyWith is a request body naming the other tenant's objects where the route takes ids.
func bodyWith(path string, ids map[string]string) any {
	switch {
	case strings.HasSuffix(path, "/tryit"):
		return map[string]any{"credential_id": ids["credential"], "operation": "listPayments"}
	case strings.HasSuffix(path, "/transfer-ownership"):
		return map[string]any{"identity_id": ids["identity"]}
	case strings.HasSuffix(path, "/members/{identity}"):
		return map[string]any{"role": "viewer"}
	case strings.HasSuffix(path, "/rotate"), strings.Contains(path, "/rotations/"):
		return map[string]any{"overlap": "1h"}
	case strings.HasSuffix(path, "/invitations"):
		return map[string]any{"email": "intruder@evil.example", "role": "admin"}
	case strings.HasSuffix(path, "/credentials"):
		return map[string]any{"environment": "sandbox"}
	case strings.HasSuffix(path, "/quota-requests"):
		return map[string]any{"product": "payments", "new_limit": 99999, "justification": "take"}
	case strings.Contains(path, "/production-requests"):
		return requestFormFor("Intruder")
	}
	return map[string]any{}
}

func requestFormFor(name string) map[string]any { return requestForm(onramp.Organization{Name: name}) }

// answer is what a refusal looks like, minus the ids it names.
func answer(status int, raw []byte, ids ...string) string {
	var p problem.Problem
	_ = json.Unmarshal(raw, &p)
	detail := p.Detail
	for _, id := range ids {
		detail = strings.ReplaceAll(detail, id, "<id>")
	}
	return fmt.Sprintf("%d %s %s %s", status, p.Type, p.Title, detail)
}

// Every partner route, as organisation A with organisation B's ids in the path, the body or the
// query: nothing of B is read or changed, and each answer is the one a made-up id gets.
func TestE2ESecurityCrossTenantMatrix(t *testing.T) {
	st := MustSharedStack(t)
	a, b := mustTenant(t, st, "Tenant One"), mustTenant(t, st, "Tenant Two")
	before := b.snapshot(t, st)
	theirs := map[string]string{"identity": b.identity, "credential": b.credential, "invitation": b.invitation, "request": b.request, "rotation": b.rotation}
	madeUp := map[string]string{"identity": "00000000-0000-4000-8000-000000000000", "credential": "cred_0000000000000000", "invitation": "inv_0000000000000000",
		"request": "pr_0000000000000000", "rotation": "rot_0000000000000000"}
	all := append(func() []string {
		var v []string
		for _, id := range theirs {
			v = append(v, id)
		}
		return v
	}(), b.org.ID)
	for _, id := range madeUp {
		all = append(all, id)
	}
	all = append(all, "org_0000000000000000")
	routes := partnerRoutes(t)
	if len(routes) < 25 {
		t.Fatalf("only %d partner routes in api/openapi.yaml", len(routes))
	}
	for _, r := range routes {
		method, path := r[0], r[1]
		t.Run(method+" "+path, func(t *testing.T) {
			var body any
			if method != "GET" && method != "DELETE" {
				body = bodyWith(path, theirs)
			}
			// B's organisation in the path is an organisation that does not exist.
			s1, raw1 := send(t, method, st.PortalURL+fill(path, b.org.ID, theirs), body, "X-Session-Token", a.token)
			s2, raw2 := send(t, method, st.PortalURL+fill(path, "org_0000000000000000", madeUp), body, "X-Session-Token", a.token)
			if s1 != http.StatusNotFound || answer(s1, raw1, all...) != answer(s2, raw2, all...) {
				t.Errorf("with B's organisation: %s\nwith a made-up one: %s", answer(s1, raw1, all...), answer(s2, raw2, all...))
			}
			// A's organisation with B's object ids (path or body) answers like made-up ids.
			if !strings.Contains(path, "{id}") && !strings.Contains(path, "{identity}") && !strings.HasSuffix(path, "/tryit") && !strings.HasSuffix(path, "/transfer-ownership") {
				return
			}
			s3, raw3 := send(t, method, st.PortalURL+fill(path, a.org.ID, theirs), body, "X-Session-Token", a.token)
			s4, raw4 := send(t, method, st.PortalURL+fill(path, a.org.ID, madeUp), bodyWith(path, madeUp), "X-Session-Token", a.token)
			if s3 < 400 || answer(s3, raw3, all...) != answer(s4, raw4, all...) {
				t.Errorf("B's ids under A: %s\nmade-up ids under A: %s", answer(s3, raw3, all...), answer(s4, raw4, all...))
			}
			if strings.Contains(string(raw3), b.org.ID) || strings.Contains(string(raw3), b.org.ContactEmail) {
				t.Errorf("the answer names B: %s", raw3)
			}
		})
	}
	// A's call history filtered by B's key shows nothing of B's.
	var calls struct {
		Calls []onramp.UsageEvent `json:"calls"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+a.org.ID+"/calls?credential="+b.credential, http.StatusOK, &calls, "X-Session-Token", a.token)
	if len(calls.Calls) != 0 {
		t.Errorf("A's history filtered by B's key = %+v", calls.Calls)
	}
	t.Run("pages", func(t *testing.T) { crossTenantPages(t, st, a, b, theirs) })
	if after := b.snapshot(t, st); after != before {
		t.Errorf("B changed:\nbefore %s\nafter  %s", before, after)
	}
}

// crossTenantPages: every partner page, as A's browser session with ?org= (or a form's org) of B,
// answers like an organisation that does not exist.
func crossTenantPages(t *testing.T, st *stack.Stack, a, b tenantFixture, theirs map[string]string) {
	ctx := MustBrowser(t)
	MustBrowserSignIn(t, st, ctx, a.org.ContactEmail)
	cookies, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{st.PortalURL}})
		return res.Cookies, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var jar []string
	for _, c := range cookies {
		jar = append(jar, c.Name+"="+c.Value)
	}
	cookie := strings.Join(jar, "; ")
	pages := []string{"/catalog?org=%s", "/catalog/payments?org=%s", "/catalog/payments/versions/v2/openapi.json?org=%s", "/credentials?org=%s",
		"/usage?org=%s", "/usage/data.json?org=%s", "/usage/calls.csv?org=%s", "/team?org=%s", "/production?org=%s"}
	for _, p := range pages {
		s1, raw1, _ := fetchPage(t, st.PortalURL+fmt.Sprintf(p, b.org.ID), cookie)
		s2, raw2, _ := fetchPage(t, st.PortalURL+fmt.Sprintf(p, "org_0000000000000000"), cookie)
		if s1 != http.StatusNotFound || s1 != s2 || strings.Contains(string(raw1), b.org.Name) {
			t.Errorf("%s: B's organisation %d, a made-up one %d (B named: %v)", p, s1, s2, strings.Contains(string(raw1), b.org.Name))
		}
		_ = raw2
	}
	forms := map[string]string{
		"/team/invite": "org=%s&email=intruder%40evil.example&role=admin",
		"/team/members/" + theirs["identity"] + "/remove":         "org=%s",
		"/team/invitations/" + theirs["invitation"] + "/cancel":   "org=%s",
		"/credentials?org=%s":                                     "environment=sandbox",
		"/credentials/" + theirs["credential"] + "/reveal?org=%s": "",
		"/credentials/" + theirs["credential"] + "/revoke?org=%s": "",
		"/credentials/" + theirs["credential"] + "/rotate?org=%s": "overlap=1h",
		"/production?org=%s":                                      "legal_name=x",
		"/usage/quota-requests?org=%s":                            "product=payments&new_limit=99999&justification=take",
	}
	for path, form := range forms {
		status := postForm(t, st.PortalURL+strings.ReplaceAll(path, "%s", b.org.ID), strings.ReplaceAll(form, "%s", b.org.ID), cookie)
		if status < 400 {
			t.Errorf("POST %s with B's organisation = %d, want a refusal", path, status)
		}
	}
}

func postForm(tb testing.TB, url, form, cookie string) int {
	tb.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(form))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Accept", "text/html")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
