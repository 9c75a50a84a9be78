package e2e

import (
	"context"
	"encoding/csv"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/workflows"
)

type usageBody struct {
	Usage         []usageLine           `json:"usage"`
	QuotaRequests []onramp.QuotaRequest `json:"quota_requests"`
	Notifications []onramp.Notification `json:"notifications"`
}

type usageLine = struct {
	Product     string               `json:"product"`
	Environment string               `json:"environment"`
	Limit       int64                `json:"limit"`
	Used        int64                `json:"used"`
	Remaining   int64                `json:"remaining"`
	Percent     float64              `json:"percent"`
	ResetAt     time.Time            `json:"reset_at"`
	Calls       int64                `json:"calls"`
	Errors      int64                `json:"errors"`
	Alert       int                  `json:"alert"`
	Today       []onramp.UsageHour   `json:"today"`
	Daily       []onramp.UsageHour   `json:"daily"`
	Pending     *onramp.QuotaRequest `json:"pending_request"`
}

// usageLineOf is the product's sandbox line.
func usageLineOf(tb testing.TB, u usageBody, product string) usageLine {
	tb.Helper()
	for _, l := range u.Usage {
		if l.Product == product && l.Environment == onramp.Sandbox {
			return l
		}
	}
	tb.Fatalf("no sandbox usage of %s in %+v", product, u.Usage)
	return usageLine{}
}

func mustUsage(tb testing.TB, st *stack.Stack, org onramp.Organization, token string) usageBody {
	tb.Helper()
	var u usageBody
	MustGetJSON(tb, st.PortalURL+"/api/v1/orgs/"+org.ID+"/usage", http.StatusOK, &u, "X-Session-Token", token)
	return u
}

// mustQuotaOf sets the organisation's payments quota in the sandbox and waits until each gateway
// (the shared stack's unless named) applies it: a call to a path payments does not have answers
// 404 with the node's RateLimit-Limit and uses no quota. It returns how many such calls it made;
// each counts on the usage page as a call and an error.
func mustQuotaOf(tb testing.TB, st *stack.Stack, org onramp.Organization, key string, limit int64, gateways ...string) int {
	tb.Helper()
	MustDo(tb, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/payments",
		map[string]any{"plan": "standard", "scopes": []string{"payments:read", "payments:write"}, "environments": []string{"sandbox"}, "quota": map[string]any{"limit": limit, "period": "day"}},
		http.StatusOK, nil, "Authorization", "Bearer "+MustAdminToken(tb, st))
	if len(gateways) == 0 {
		gateways = []string{st.SandboxURL}
	}
	probes := 0
	want := strconv.FormatInt(limit, 10)
	for _, g := range gateways {
		waitFor(tb, 15*time.Second, "the quota of "+want+" applied by "+g, func() bool {
			status, header, _ := gatewayCall(tb, "GET", g+"/payments/v2/nowhere", key, "")
			probes++
			return status == http.StatusNotFound && header.Get("RateLimit-Limit") == want
		})
	}
	return probes
}

func notificationIDs(tb testing.TB, st *stack.Stack, org onramp.Organization, token, prefix string) []string {
	tb.Helper()
	var list struct {
		Notifications []onramp.Notification `json:"notifications"`
	}
	MustGetJSON(tb, st.PortalURL+"/api/v1/orgs/"+org.ID+"/notifications", http.StatusOK, &list, "X-Session-Token", token)
	var out []string
	for _, n := range list.Notifications {
		if strings.HasPrefix(n.ID, prefix) {
			out = append(out, n.ID)
		}
	}
	return out
}

// mustWorkflowDone waits for the workflow's latest run to end, so its whole history replays.
func mustWorkflowDone(tb testing.TB, st *stack.Stack, id string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := st.Temporal.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		tb.Fatalf("workflow %s: %v", id, err)
	}
}

// MustSecondGateway starts another gateway node on the shared stack's MongoDB and Temporal, as a
// second replica behind a load balancer would run.
func MustSecondGateway(tb testing.TB, st *stack.Stack) *stack.Stack {
	tb.Helper()
	cfg := DevConfig(tb, shared.dir) // the same data directory: the same dev secrets (token signing and credential keys)
	cfg.Roles = stack.Roles{Gateway: true}
	cfg.MongoURI, cfg.TemporalAddress = st.MongoURI, st.TemporalAddress
	cfg.KratosPublicURL, cfg.KratosAdminURL = st.KratosPublicURL, st.KratosAdminURL
	cfg.PortalURL = st.PortalURL
	node, err := startStack(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("second gateway node: %v", err)
	}
	tb.Cleanup(func() { _ = node.Stop(context.Background()) })
	return node
}

// quotaBound is the over-admission bound gateway.Quota documents: limit + (nodes − 1) × per-node
// rate × (2 × hot interval + a write and a read round trip), with the hot interval of 25 ms and
// round trips taken as at most 25 ms each on the embedded FerretDB.
func quotaBound(limit int64, nodes int, perNodeRate float64) int64 {
	return limit + int64(math.Ceil(float64(nodes-1)*perNodeRate*(2*0.025+2*0.025)))
}

// Four clients on two gateway nodes push an organisation across 80 % and 95 % of its quota: each
// alert reaches the notification centre and the owner's mailbox exactly once, the nodes admit at
// least the quota and at most the documented bound more, the usage page counts exactly what they
// admitted, and the quota ends in a 429 that says when it resets and where to ask for more.
func TestE2EUsageAlertsOnceAcrossGatewayNodes(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Alerted", "standard")
	_, key := MustFirstSandboxKey(t, st, org, token)
	second := MustSecondGateway(t, st)
	probes := mustQuotaOf(t, st, org, key, 40, st.SandboxURL, second.SandboxURL)

	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var exhausted []string
	for i := range 4 {
		base := st.SandboxURL
		if i%2 == 1 {
			base = second.SandboxURL
		}
		wg.Go(func() {
			for range 15 {
				status, header, body := gatewayCall(t, "GET", base+"/payments/v2/payments", key, "")
				mu.Lock()
				statuses[status]++
				if status == 429 {
					p := mustGatewayProblem(t, status, header, body, 429, "quota-exhausted")
					if header.Get("RateLimit-Remaining") != "0" || header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "resets at") || !strings.Contains(p.Detail, st.PortalURL+"/usage") {
						exhausted = append(exhausted, string(body))
					}
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	// Each node serves two clients that pause 20 ms after each call: at most 100 calls/s.
	bound := quotaBound(40, 2, 100)
	t.Logf("statuses over two nodes: %v (quota 40, bound %d)", statuses, bound)
	if statuses[200] < 40 || int64(statuses[200]) > bound || statuses[429] != 60-statuses[200] {
		t.Errorf("statuses = %v, want at least the quota of 40 and at most %d admitted, the rest 429", statuses, bound)
	}
	if len(exhausted) > 0 {
		t.Errorf("429s without the reset, the usage link or the headers: %v", exhausted[0])
	}
	var ids []string
	waitFor(t, 10*time.Second, "the 80 % and 95 % alerts", func() bool {
		ids = notificationIDs(t, st, org, token, "quota-alert-")
		return len(ids) >= 2
	})
	time.Sleep(2 * time.Second) // a duplicate from the other node would arrive by now
	ids = notificationIDs(t, st, org, token, "quota-alert-")
	slices.Sort(ids)
	if len(ids) != 2 || !strings.HasSuffix(ids[0], "-80") || !strings.HasSuffix(ids[1], "-95") {
		t.Errorf("alert notifications = %v, want exactly one at 80 %% and one at 95 %%", ids)
	}
	for _, threshold := range []string{"80 %", "95 %"} {
		var n int
		var body struct {
			Messages []mailMessage `json:"messages"`
		}
		MustGetJSON(t, st.PortalURL+"/dev/mail.json?to="+url.QueryEscape(org.ContactEmail), http.StatusOK, &body)
		for _, m := range body.Messages {
			if strings.HasPrefix(m.Subject, threshold+" of your payments quota") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d e-mails for the %s alert, want 1", n, threshold)
		}
	}
	var l usageLine
	var u usageBody
	waitFor(t, 3*time.Second, "both nodes' counts on the usage page", func() bool {
		u = mustUsage(t, st, org, token)
		l = usageLineOf(t, u, "payments")
		return l.Used == int64(statuses[200]) && l.Calls == int64(60+probes)
	})
	if l.Alert != 95 || len(u.Notifications) != 2 {
		t.Errorf("payments usage %+v with %d alerts, want 95 %% or more with both alerts", l, len(u.Notifications))
	}
	if len(ids) > 0 {
		mustWorkflowDone(t, st, ids[0])
		MustReplayLiveHistory(t, st.Temporal, ids[0], "quota_alert.json")
	}
}

// A call shows on the usage API within two seconds, and in the call history with its filters and
// its CSV export.
func TestE2EUsageFreshnessAndCallHistory(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Watched", "standard")
	cred, key := MustFirstSandboxKey(t, st, org, token)
	before := mustUsage(t, st, org, token)
	status, header, _ := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", key, "")
	if status != 200 {
		t.Fatalf("call = %d", status)
	}
	sent := time.Now()
	waitFor(t, 2*time.Second, "the call on the usage API", func() bool {
		u := mustUsage(t, st, org, token)
		for _, l := range u.Usage {
			if l.Product == "payments" && l.Environment == onramp.Sandbox && l.Used >= 1 && l.Calls >= 1 {
				return true
			}
		}
		return false
	})
	t.Logf("the call was on the usage API after %s", time.Since(sent).Round(time.Millisecond))
	for _, l := range before.Usage {
		if l.Used != 0 || l.Limit != 10000 || !l.ResetAt.After(time.Now()) {
			t.Errorf("usage before any call = %+v, want nothing used of the plan's 10000", l)
		}
	}
	gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/nowhere", key, "")
	requestID := header.Get("X-Request-Id")

	var calls struct {
		Calls []onramp.UsageEvent `json:"calls"`
	}
	base := st.PortalURL + "/api/v1/orgs/" + org.ID + "/calls"
	waitFor(t, 3*time.Second, "both calls in the history", func() bool {
		MustGetJSON(t, base, http.StatusOK, &calls, "X-Session-Token", token)
		return len(calls.Calls) == 2
	})
	MustGetJSON(t, base+"?status=4xx", http.StatusOK, &calls, "X-Session-Token", token)
	if len(calls.Calls) != 1 || calls.Calls[0].Status != 404 {
		t.Errorf("4xx calls = %+v", calls.Calls)
	}
	MustGetJSON(t, base+"?status=2xx&operation=listPayments&credential="+cred.ID+"&environment=sandbox&from="+url.QueryEscape(sent.Add(-time.Minute).UTC().Format(time.RFC3339)), http.StatusOK, &calls, "X-Session-Token", token)
	if len(calls.Calls) != 1 || calls.Calls[0].RequestID != requestID || calls.Calls[0].Label == "" || calls.Calls[0].LatencyMS <= 0 {
		t.Errorf("the 2xx listPayments call = %+v, want request %s with its key's label and latency", calls.Calls, requestID)
	}
	MustGetJSON(t, base+"?environment=production", http.StatusOK, &calls, "X-Session-Token", token)
	if len(calls.Calls) != 0 {
		t.Errorf("production calls = %+v, want none", calls.Calls)
	}
	MustDoInvalid(t, "GET", base+"?status=200", nil, http.StatusBadRequest, nil, "X-Session-Token", token)
	MustDoInvalid(t, "GET", base+"?from=yesterday", nil, http.StatusBadRequest, nil, "X-Session-Token", token)

	raw, h := MustFetch(t, base+"?format=csv&status=2xx", token, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %v, %s", err, h.Get("Content-Type"))
	}
	if len(rows) != 2 || rows[0][1] != "request_id" || rows[1][1] != requestID || rows[1][6] != "200" {
		t.Errorf("CSV rows = %q, want the header and the 200 call", rows)
	}
	if strings.Contains(string(raw), key) {
		t.Error("the CSV holds the key")
	}
}

// A partner who ran out asks for more; the provider approves a different value in the admin
// API and the gateways follow at once; a second request is rejected by a Temporal signal (as from
// the Web UI). Each step notifies the partner.
func TestE2EUsageQuotaIncrease(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Growing", "standard")
	_, key := MustFirstSandboxKey(t, st, org, token)
	mustQuotaOf(t, st, org, key, 3)
	for range 3 {
		gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", key, "")
	}
	status, header, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", key, "")
	mustGatewayProblem(t, status, header, body, 429, "quota-exhausted")

	reqs := st.PortalURL + "/api/v1/orgs/" + org.ID + "/quota-requests"
	session := []string{"X-Session-Token", token}
	MustDo(t, "POST", reqs, map[string]any{"product": "payments", "new_limit": 2, "justification": "more"}, http.StatusBadRequest, nil, session...)
	MustDoInvalid(t, "POST", reqs, map[string]any{"product": "payments", "new_limit": 20}, http.StatusBadRequest, nil, session...)
	MustDo(t, "POST", reqs, map[string]any{"product": "insights", "new_limit": 20, "justification": "x"}, http.StatusNotFound, nil, session...)
	var r onramp.QuotaRequest
	MustDo(t, "POST", reqs, map[string]any{"product": "payments", "new_limit": 20, "justification": "Launch on Monday: 15 calls a day"}, http.StatusAccepted, &r, session...)
	if r.Status != onramp.QuotaPending || r.CurrentLimit != 3 || r.RequestedLimit != 20 || r.RequestedBy != org.ContactEmail {
		t.Fatalf("request = %+v", r)
	}
	MustDo(t, "POST", reqs, map[string]any{"product": "payments", "new_limit": 30, "justification": "again"}, http.StatusConflict, nil, session...)

	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	var queue struct {
		QuotaRequests []onramp.QuotaRequest `json:"quota_requests"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/quota-requests", http.StatusOK, &queue, admin...)
	found := false
	for _, q := range queue.QuotaRequests {
		found = found || q.ID == r.ID
	}
	if !found {
		t.Fatalf("the admin queue %+v lacks %s", queue.QuotaRequests, r.ID)
	}
	action := st.PortalURL + "/admin/api/v1/quota-requests/" + r.ID + "/"
	MustDo(t, "POST", action+"reject", map[string]any{"by": "ana@provider.example"}, http.StatusBadRequest, nil, admin...)
	MustDoInvalid(t, "POST", action+"approve", map[string]any{"by": "ana@provider.example", "limit": -1}, http.StatusBadRequest, nil, admin...)
	var decided onramp.QuotaRequest
	MustDo(t, "POST", action+"approve", map[string]any{"by": "ana@provider.example", "limit": 8}, http.StatusOK, &decided, admin...)
	if decided.Status != onramp.QuotaApproved || decided.ApprovedLimit != 8 || decided.DecidedBy != "ana@provider.example" {
		t.Errorf("decided = %+v", decided)
	}
	MustDo(t, "POST", action+"approve", map[string]any{"by": "bo@provider.example"}, http.StatusConflict, nil, admin...)
	approved := time.Now()
	waitFor(t, 2*time.Second, "the gateway to admit calls under the new quota", func() bool {
		status, header, _ := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", key, "")
		return status == 200 && header.Get("RateLimit-Limit") == "8"
	})
	t.Logf("the new quota applied %s after the approval, without a restart", time.Since(approved).Round(time.Millisecond))
	MustWaitForMail(t, st.PortalURL, org.ContactEmail, func(m mailMessage) bool { return strings.Contains(m.Subject, "Quota increase on payments approved") }, 10*time.Second)
	mustWorkflowDone(t, st, workflows.QuotaIncreaseReviewID(org.ID, "payments"))
	MustReplayLiveHistory(t, st.Temporal, workflows.QuotaIncreaseReviewID(org.ID, "payments"), "quota_review_approved.json")

	MustDo(t, "POST", reqs, map[string]any{"product": "payments", "new_limit": 1000, "justification": "Black Friday"}, http.StatusAccepted, &r, session...)
	if err := st.Temporal.SignalWorkflow(t.Context(), workflows.QuotaIncreaseReviewID(org.ID, "payments"), "", workflows.QuotaReject,
		onramp.QuotaDecision{By: "ops@provider.example", Reason: "send a traffic forecast first"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the signalled rejection", func() bool {
		var list struct {
			QuotaRequests []onramp.QuotaRequest `json:"quota_requests"`
		}
		MustGetJSON(t, reqs, http.StatusOK, &list, session...)
		return len(list.QuotaRequests) == 2 && list.QuotaRequests[0].ID == r.ID && list.QuotaRequests[0].Status == onramp.QuotaRejected &&
			list.QuotaRequests[0].Reason == "send a traffic forecast first"
	})
	MustWaitForMail(t, st.PortalURL, org.ContactEmail, func(m mailMessage) bool { return strings.Contains(m.Subject, "Quota increase on payments declined") }, 10*time.Second)
	if l := usageLineOf(t, mustUsage(t, st, org, token), "payments"); l.Limit != 8 || l.Pending != nil {
		t.Errorf("payments usage after the rejection = %+v, want the approved 8 and nothing pending", l)
	}
	mustWorkflowDone(t, st, workflows.QuotaIncreaseReviewID(org.ID, "payments"))
	MustReplayLiveHistory(t, st.Temporal, workflows.QuotaIncreaseReviewID(org.ID, "payments"), "quota_review_signal_rejected.json")
}

// In the browser: after traffic the usage page shows the chart and the 80 % alert; the partner
// asks for more from the same page, and the provider approves it from the review queue.
func TestE2EUsageBrowser(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Charted", "standard")
	_, key := MustFirstSandboxKey(t, st, org, token)
	mustQuotaOf(t, st, org, key, 10)
	for range 9 {
		if status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", key, ""); status != 200 {
			t.Fatalf("call = %d %s", status, body)
		}
	}
	ctx := MustBrowser(t)
	MustBrowserSignIn(t, st, ctx, org.ContactEmail)
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/usage?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-line="payments/sandbox"] .alert-banner`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-line="payments/sandbox"] svg[data-chart="today"] rect.bar`)),
		chromedp.WaitVisible(chromedp.CSS(`#usage-alerts .quota-alert`)),
	)
	if err != nil {
		t.Fatalf("the usage page: %v", err)
	}
	maybeScreenshot(t, ctx, "usage")
	banner := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`[data-line="payments/sandbox"] .alert-banner`)))
	used := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`[data-line="payments/sandbox"] [data-field="used"]`)))
	alerts := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`#usage-alerts`)))
	bars := MustRun(t, ctx, chromedp.Evaluate[float64](`[...document.querySelectorAll('[data-line="payments/sandbox"] svg[data-chart="today"] rect.bar')].reduce((n, r) => n + (+r.getAttribute("height") > 0), 0)`))
	if !strings.Contains(banner, "90 %") || used != "9" || !strings.Contains(alerts, "80 % of your payments quota used") || bars < 1 {
		t.Errorf("banner %q, used %q, alerts %q, %v bars; want 90 %%, 9 used, the 80 %% alert and a bar this hour", banner, used, alerts, bars)
	}

	suggested := MustRun(t, ctx, chromedp.Value(chromedp.CSS(`#request-quota select[name="product"]`)))
	if suggested != "payments" {
		t.Errorf("the form suggests %q, want payments (nearest its quota)", suggested)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#request-quota select[name="product"]`), "payments"),
		chromedp.SetValue(chromedp.CSS(`#request-quota input[name="new_limit"]`), "50"),
		chromedp.SendKeys(chromedp.CSS(`#request-quota textarea[name="justification"]`), "Pilot with 40 calls a day"),
		chromedp.Click(chromedp.CSS(`#request-quota button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-quota-request]`)),
	)
	if err != nil {
		t.Fatalf("requesting more from the page: %v", err)
	}
	u := mustUsage(t, st, org, token)
	if len(u.QuotaRequests) != 1 || u.QuotaRequests[0].RequestedLimit != 50 || u.QuotaRequests[0].Status != onramp.QuotaPending {
		t.Fatalf("quota requests = %+v", u.QuotaRequests)
	}
	id := u.QuotaRequests[0].ID

	admin := MustBrowser(t)
	err = chromedp.Do(admin,
		AdminSignIn(t, st),
		chromedp.Navigate(st.PortalURL+"/admin/reviews"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-quota-request="`+id+`"]`)),
	)
	if err != nil {
		t.Fatalf("the review queue: %v", err)
	}
	maybeScreenshot(t, admin, "admin-quota-review")
	err = chromedp.Do(admin,
		chromedp.SetValue(chromedp.CSS(`tr[data-quota-request="`+id+`"] input[name="limit"]`), "30"),
		chromedp.Click(chromedp.CSS(`tr[data-quota-request="`+id+`"] button.approve`)),
	)
	if err != nil {
		t.Fatalf("approving in the review queue: %v", err)
	}
	MustSeeNotice(t, admin, id+" is approved")
	err = chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/usage?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-line="payments/sandbox"] [data-field="limit"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	limit := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`[data-line="payments/sandbox"] [data-field="limit"]`)))
	if limit != strconv.Itoa(30) {
		t.Errorf("the partner's page shows a limit of %q, want the approved 30", limit)
	}
}

// The provider sets a per-key rate limit and the organisation's own maximum key age on the
// partner page; the gateway enforces the rate with its own 429 and the keys show the new age.
func TestE2EUsageBrowserAdminPartnerPage(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Throttled", "standard")
	_, key := MustFirstSandboxKey(t, st, org, token)
	ctx := MustBrowser(t)
	err := chromedp.Do(ctx,
		AdminSignIn(t, st),
		chromedp.Navigate(st.PortalURL+"/admin/partners/"+org.ID),
		chromedp.WaitVisible(chromedp.CSS("#assign-form")),
		chromedp.SetValue(chromedp.CSS(`#assign-form select[name="product"]`), "payments"),
		chromedp.SendKeys(chromedp.CSS(`#assign-form input[name="scopes"]`), "payments:read"),
		chromedp.Click(chromedp.CSS(`#assign-form input[name="environment"][value="production"]`)), // sandbox only
		chromedp.SetValue(chromedp.CSS(`#assign-form input[name="rate_per_second"]`), "0.5"),
		chromedp.SetValue(chromedp.CSS(`#assign-form input[name="rate_burst"]`), "1"),
		chromedp.Click(chromedp.CSS(`#assign-form button[type="submit"]`)),
	)
	if err != nil {
		t.Fatalf("assigning on the partner page: %v", err)
	}
	MustSeeNotice(t, ctx, "Assignment of payments saved")
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#credential-policy-form input[name="max_credential_age"]`), "720h"),
		chromedp.Click(chromedp.CSS(`#credential-policy-form button[type="submit"]`)),
	)
	if err != nil {
		t.Fatalf("setting the key age on the partner page: %v", err)
	}
	MustSeeNotice(t, ctx, "Maximum key age saved")
	maybeScreenshot(t, ctx, "admin-partner")
	row := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`tr[data-product="payments"]`)))
	if !strings.Contains(row, "0.5/s, burst 1") {
		t.Errorf("payments row = %q, want the rate limit", row)
	}
	time.Sleep(600 * time.Millisecond) // the gateway's assignment cache follows
	statuses := []int{}
	var last []byte
	var lastHeader http.Header
	for range 2 {
		status, header, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", key, "")
		statuses, last, lastHeader = append(statuses, status), body, header
	}
	if statuses[0] != 200 || statuses[1] != 429 {
		t.Fatalf("two calls at once = %v, want 200 then 429 rate-limited", statuses)
	}
	mustGatewayProblem(t, 429, lastHeader, last, 429, "rate-limited")
	if lastHeader.Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q, want 2 (one call every 2 s)", lastHeader.Get("Retry-After"))
	}
	if age := mustKeyAge(t, st, org, token); age != 30*24*time.Hour {
		t.Errorf("key: rotate_by %s after creation, want 30 days (the organisation's 720h over the plan's 2160h)", age)
	}
}
