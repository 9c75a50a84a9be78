package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/workflows"
)

// impactSpec is v1 (limit optional) or v2 (limit required: breaking for listEntries) of a ledger
// whose getBalance no version changes.
func impactSpec(limitRequired bool) string {
	return fmt.Sprintf("openapi: 3.0.3\ninfo: {title: Ledger, version: '1'}\npaths:\n"+
		"  /entries:\n    get:\n      operationId: listEntries\n"+
		"      parameters:\n        - {name: limit, in: query, required: %v, schema: {type: integer}}\n"+
		"      responses: {'200': {description: ok, content: {application/json: {schema: {type: object}}}}}\n"+
		"  /balance:\n    get:\n      operationId: getBalance\n"+
		"      responses: {'200': {description: ok, content: {application/json: {schema: {type: object}}}}}\n", limitRequired)
}

// impactPartner is an organisation assigned the product in the sandbox, with a key of its own and
// its owner subscribed to breaking changes.
type impactPartner struct {
	org   onramp.Organization
	token string
	key   string
	keyID string
	label string
}

func mustImpactPartner(t *testing.T, st *stack.Stack, admin []string, name, slug string) impactPartner {
	t.Helper()
	p := impactPartner{label: "ledger key of " + name}
	p.org, p.token = MustPartnerSession(t, st, name, "standard")
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+p.org.ID+"/assignments/"+slug,
		map[string]any{"plan": "standard", "scopes": []string{slug + ":read"}, "environments": []string{onramp.Sandbox}, "quota": map[string]any{"limit": 1000, "period": "day"}},
		http.StatusOK, nil, admin...)
	MustDo(t, "PUT", st.PortalURL+"/api/v1/orgs/"+p.org.ID+"/subscriptions/"+slug, map[string]string{"level": "breaking"}, http.StatusOK, nil, "X-Session-Token", p.token)
	var created struct {
		Key        string `json:"key"`
		Credential struct {
			ID string `json:"id"`
		} `json:"credential"`
	}
	waitFor(t, 5*time.Second, "a sandbox key for "+slug, func() bool {
		status, raw := send(t, "POST", st.PortalURL+"/api/v1/orgs/"+p.org.ID+"/credentials", map[string]any{"environment": onramp.Sandbox, "label": p.label}, "X-Session-Token", p.token)
		return status == http.StatusCreated && json.Unmarshal(raw, &created) == nil && created.Key != ""
	})
	p.key, p.keyID = created.Key, created.Credential.ID
	return p
}

// mustCall calls path n times through the sandbox gateway, each answered 200.
func (p impactPartner) mustCall(t *testing.T, st *stack.Stack, path string, n int) {
	t.Helper()
	for range n {
		if status, _, body := gatewayCall(t, "GET", st.SandboxURL+path, p.key, ""); status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, status, body)
		}
	}
}

// mustSeeCalls waits until the organisation's usage of slug counts n calls (the gateways flush
// their totals once a second).
func (p impactPartner) mustSeeCalls(t *testing.T, st *stack.Stack, slug string, n int64) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d calls of %s in %s's usage", n, slug, p.org.Name), func() bool {
		var u struct {
			Usage []struct {
				Product     string `json:"product"`
				Environment string `json:"environment"`
				Calls       int64  `json:"calls"`
			} `json:"usage"`
		}
		MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+p.org.ID+"/usage", http.StatusOK, &u, "X-Session-Token", p.token)
		for _, l := range u.Usage {
			if l.Product == slug && l.Environment == onramp.Sandbox && l.Calls == n {
				return true
			}
		}
		return false
	})
}

// notifications lists the organisation's notifications whose id starts with prefix.
func (p impactPartner) notifications(t *testing.T, st *stack.Stack, prefix string) []onramp.Notification {
	t.Helper()
	var ns struct {
		Notifications []onramp.Notification `json:"notifications"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+p.org.ID+"/notifications", http.StatusOK, &ns, "X-Session-Token", p.token)
	var out []onramp.Notification
	for _, n := range ns.Notifications {
		if strings.HasPrefix(n.ID, prefix) {
			out = append(out, n)
		}
	}
	return out
}

func mustWorkflowResult[T any](t *testing.T, st *stack.Stack, id string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var res T
	if err := st.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatalf("workflow %s: %v", id, err)
	}
	return res
}

// Two organisations on the same product: one calls the operation a new version breaks, the other
// only an operation it leaves alone. Publishing the breaking version alarms the first — its
// notification centre and its owner's mail name that operation, its count and its key — and not
// the second, which still gets the changelog mail it subscribed to. Deprecating v1 then alarms
// each with its own calls only (and saving the same sunset again alarms nobody twice); the
// partner's API and the provider's migration dashboard count the same calls.
func TestE2EImpactBreakingVersionAlarmsOnlyTheOrganisationThatCallsTheBrokenOperation(t *testing.T) {
	st := MustSharedStack(t)
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	slug := "impact-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	name := "Ledger " + slug[len(slug)-5:]
	products := st.PortalURL + "/admin/api/v1/products/" + slug
	MustDo(t, "PUT", products, map[string]any{"name": name, "summary": "Entries and balance"}, http.StatusOK, nil, admin...)
	MustDo(t, "POST", products+"/versions", map[string]any{"version": "v1", "spec": impactSpec(false)}, http.StatusCreated, nil, admin...)

	caller := mustImpactPartner(t, st, admin, "Impact Caller", slug)
	bystander := mustImpactPartner(t, st, admin, "Impact Bystander", slug)
	caller.mustCall(t, st, "/"+slug+"/v1/entries?limit=2", 3)
	bystander.mustCall(t, st, "/"+slug+"/v1/balance", 2)
	caller.mustSeeCalls(t, st, slug, 3)
	bystander.mustSeeCalls(t, st, slug, 2)

	var pub struct {
		Breaking bool `json:"breaking"`
	}
	MustDo(t, "POST", products+"/versions", map[string]any{"version": "v2", "spec": impactSpec(true), "release_notes": "limit is required now."}, http.StatusCreated, &pub, admin...)
	if !pub.Breaking {
		t.Fatal("v2 was not seen as breaking")
	}
	id := workflows.VersionAnnouncementID(slug, "v2")
	res := mustWorkflowResult[workflows.VersionAnnouncementResult](t, st, id)
	if res.Impact == nil || res.Impact.Operations != 1 || res.Impact.Organizations != 2 || res.Impact.Alarmed != 1 || res.Impact.Mailed != 1 || res.Sent != 2 {
		t.Fatalf("announcement = %+v (impact %+v); want listEntries affected, 2 organisations assessed, 1 alarmed and mailed, both owners sent the changelog", res, res.Impact)
	}
	MustReplayLiveHistory(t, st.Temporal, id, "version_announcement_impact.json")

	// The caller: one alarm in its notification centre and one mail, with the operation, its count and its key.
	alarms := caller.notifications(t, st, "impact-")
	if len(alarms) != 1 || alarms[0].ID != "impact-"+slug+"@v2-breaking-"+caller.org.ID {
		t.Fatalf("the caller's impact notifications = %+v, want the one of v2", alarms)
	}
	subject := name + " v2 breaks 1 operation your organisation called 3 times in the last 30 days"
	if alarms[0].Title != subject || !strings.Contains(alarms[0].Link, "/catalog/"+slug+"?org="+caller.org.ID+"&version=v2#changelog") {
		t.Errorf("the caller's alarm = %+v", alarms[0])
	}
	mail := MustWaitForMail(t, st.PortalURL, caller.org.ContactEmail, func(m mailMessage) bool { return m.Subject == subject }, 30*time.Second)
	got := mailsAbout(t, st, caller.org.ContactEmail, subject)
	if len(got) != 1 {
		t.Fatalf("the caller's owner got %d alarm mails (%s), want 1", len(got), mail.ID)
	}
	for _, text := range []string{alarms[0].Body, got[0].Text} {
		for _, want := range []string{"listEntries (GET /entries): 3 calls", `"` + caller.label + `" (sandbox, ` + caller.keyID + `)`, "`limit` became required"} {
			if !strings.Contains(text, want) {
				t.Errorf("the alarm lacks %q:\n%s", want, text)
			}
		}
		for _, leak := range []string{"getBalance", bystander.org.ID, bystander.keyID, bystander.label} {
			if strings.Contains(text, leak) {
				t.Errorf("the caller's alarm names %q:\n%s", leak, text)
			}
		}
	}
	// The bystander: the changelog it subscribed to, no alarm.
	if n := bystander.notifications(t, st, "impact-"); len(n) != 0 {
		t.Errorf("the bystander got impact notifications: %+v", n)
	}
	if n := len(mailsAbout(t, st, bystander.org.ContactEmail, name+" v2 is published")); n != 1 {
		t.Errorf("the bystander got %d changelog mails about v2, want 1", n)
	}
	if n := len(mailsAbout(t, st, bystander.org.ContactEmail, " breaks ")); n != 0 {
		t.Errorf("the bystander got %d alarm mails, want none", n)
	}

	// Deprecating v1 alarms each organisation with its own calls of v1, once however often it is saved.
	sunset := time.Now().UTC().AddDate(0, 3, 0).Truncate(24 * time.Hour)
	for range 2 {
		MustDo(t, "PATCH", products+"/versions/v1", map[string]any{"status": "deprecated", "sunset": sunset.Format(time.DateOnly)}, http.StatusOK, nil, admin...)
	}
	event := onramp.ImpactEvent{Kind: onramp.ImpactDeprecated, Product: slug, Version: "v1", Sunset: &sunset}
	dep := mustWorkflowResult[workflows.VersionImpactResult](t, st, workflows.VersionImpactID(event))
	if dep.Operations != 2 || dep.Organizations != 2 || dep.Alarmed != 2 || dep.Mailed != 2 {
		t.Fatalf("deprecation alarms = %+v, want both organisations alarmed and mailed", dep)
	}
	MustReplayLiveHistory(t, st.Temporal, workflows.VersionImpactID(event), "version_impact.json")
	for _, c := range []struct {
		p          impactPartner
		own, other string
	}{{caller, "listEntries (GET /entries): 3 calls", "getBalance"}, {bystander, "getBalance (GET /balance): 2 calls", "listEntries"}} {
		ns := c.p.notifications(t, st, event.Key())
		if len(ns) != 1 || !strings.Contains(ns[0].Body, c.own) || strings.Contains(ns[0].Body, c.other) || !strings.Contains(ns[0].Body, "410 Gone") {
			t.Errorf("%s's deprecation alarms = %+v, want one naming %q only", c.p.org.Name, ns, c.own)
		}
		if n := len(mailsAbout(t, st, c.p.org.ContactEmail, name+" v1 is deprecated")); n != 1 {
			t.Errorf("%s's owner got %d deprecation mails, want 1", c.p.org.Name, n)
		}
	}

	// The caller's own view of its calls to deprecated operations, and the provider's dashboard.
	var own struct {
		Versions []struct {
			Version    string `json:"version"`
			Calls      int64  `json:"calls"`
			Operations []struct {
				Operation string `json:"operation"`
			} `json:"operations"`
		} `json:"versions"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+caller.org.ID+"/catalog/"+slug+"/deprecated-calls", http.StatusOK, &own, "X-Session-Token", caller.token)
	if len(own.Versions) != 1 || own.Versions[0].Calls != 3 || len(own.Versions[0].Operations) != 1 || own.Versions[0].Operations[0].Operation != "listEntries" {
		t.Errorf("the caller's deprecated calls = %+v, want its 3 calls of v1 listEntries", own)
	}
	MustDo(t, "GET", st.PortalURL+"/api/v1/orgs/"+bystander.org.ID+"/catalog/"+slug+"/deprecated-calls", nil, http.StatusNotFound, nil, "X-Session-Token", caller.token)
	var dash struct {
		Total   int   `json:"total"`
		Calls   int64 `json:"calls"`
		Callers []struct {
			OrgID string `json:"org_id"`
			Calls int64  `json:"calls"`
		} `json:"callers"`
	}
	MustGetJSON(t, products+"/versions/v1/callers", http.StatusOK, &dash, admin...)
	if dash.Total != 2 || dash.Calls != 5 || dash.Callers[0].OrgID != caller.org.ID || dash.Callers[0].Calls != 3 || dash.Callers[1].OrgID != bystander.org.ID {
		t.Errorf("who still calls v1 = %+v, want the caller's 3 calls, then the bystander's 2", dash)
	}
	MustDoInvalid(t, "GET", products+"/versions/v1/callers", nil, http.StatusUnauthorized, nil, "X-Session-Token", caller.token)
}
