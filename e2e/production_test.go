package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/workflows"
)

func requestForm(org onramp.Organization) map[string]any {
	return map[string]any{
		"legal_name": org.Name + " GmbH", "country": "DE", "website": "https://partner.example",
		"technical_contact": "tech@partner.example", "security_contact": "security@partner.example",
		"products":     []map[string]any{{"product": "payments", "plan": "standard", "monthly_volume": 50000}},
		"webhook_urls": []string{"https://partner.example/hooks/payments"},
		"use_case":     "Checkout payments for our online shop customers.",
	}
}

// MustSubmitRequest creates and submits a complete production request, returning it received.
func MustSubmitRequest(tb testing.TB, st *stack.Stack, org onramp.Organization, token string) onramp.ProductionRequest {
	tb.Helper()
	base := st.PortalURL + "/api/v1/orgs/" + org.ID + "/production-requests"
	var r onramp.ProductionRequest
	MustDo(tb, "POST", base, requestForm(org), http.StatusCreated, &r, "X-Session-Token", token)
	MustDo(tb, "POST", base+"/"+r.ID+"/submit", nil, http.StatusAccepted, &r, "X-Session-Token", token)
	if r.Status != onramp.RequestReceived || r.SLADue == nil || len(r.History) != 1 {
		tb.Fatalf("submitted request = %+v, want received with an SLA due time", r)
	}
	return r
}

func mustRequest(tb testing.TB, st *stack.Stack, org onramp.Organization, token, id string) onramp.ProductionRequest {
	tb.Helper()
	var r onramp.ProductionRequest
	MustGetJSON(tb, st.PortalURL+"/api/v1/orgs/"+org.ID+"/production-requests/"+id, http.StatusOK, &r, "X-Session-Token", token)
	return r
}

func waitForStatus(tb testing.TB, st *stack.Stack, org onramp.Organization, token, id, status string) onramp.ProductionRequest {
	tb.Helper()
	var r onramp.ProductionRequest
	waitFor(tb, 15*time.Second, "request "+id+" to be "+status, func() bool {
		r = mustRequest(tb, st, org, token, id)
		return r.Status == status
	})
	return r
}

// mustProductionKey reveals the production key the approval issued.
func mustProductionKey(tb testing.TB, st *stack.Stack, org onramp.Organization, token string) string {
	tb.Helper()
	var revealed struct{ Key string }
	MustDo(tb, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+credentials.FirstProductionID(org.ID)+"/reveal", nil, http.StatusOK, &revealed, "X-Session-Token", token)
	if !strings.HasPrefix(revealed.Key, onramp.ProductionKeyPrefix) {
		tb.Fatalf("production key lacks its prefix")
	}
	return revealed.Key
}

// The whole journey: sandbox call, an incomplete request refused field by field, a complete one
// received with its SLA, claimed and approved in the portal (a second approval refused), the
// production key issued and working through the production gateway, and the funnel showing it all.
func TestE2EProductionApprovedInThePortal(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Prod Journey", "standard")
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	_, sandboxKey := MustFirstSandboxKey(t, st, org, token)
	if status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", sandboxKey, ""); status != 200 {
		t.Fatalf("sandbox call = %d %s", status, body)
	}

	base := st.PortalURL + "/api/v1/orgs/" + org.ID + "/production-requests"
	var draft onramp.ProductionRequest
	MustDo(t, "POST", base, map[string]any{"legal_name": "Prod Journey GmbH", "webhook_urls": []string{"http://insecure.example/hook"}}, http.StatusCreated, &draft, "X-Session-Token", token)
	var p problem.Problem
	MustDo(t, "POST", base+"/"+draft.ID+"/submit", nil, http.StatusBadRequest, &p, "X-Session-Token", token)
	locs := map[string]bool{}
	for _, e := range p.Errors {
		locs[e.Location] = true
	}
	for _, want := range []string{"country", "website", "security_contact", "products", "webhook_urls[0]", "use_case"} {
		if !locs[want] {
			t.Errorf("the refusal does not name %s: %+v", want, p.Errors)
		}
	}
	MustDo(t, "PUT", base+"/"+draft.ID, requestForm(org), http.StatusOK, nil, "X-Session-Token", token)
	var r onramp.ProductionRequest
	MustDo(t, "POST", base+"/"+draft.ID+"/submit", nil, http.StatusAccepted, &r, "X-Session-Token", token)
	if r.Status != onramp.RequestReceived || r.SLADue == nil || !r.SLADue.After(*r.SubmittedAt) {
		t.Fatalf("submitted = %+v", r)
	}

	// The provider's queue lists it with its countdown; the reviewer claims and approves it.
	var queue struct {
		Requests []struct {
			ID    string `json:"id"`
			DueIn string `json:"due_in"`
		} `json:"requests"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/production-requests", http.StatusOK, &queue, admin...)
	if !slices.ContainsFunc(queue.Requests, func(q struct {
		ID    string `json:"id"`
		DueIn string `json:"due_in"`
	}) bool {
		return q.ID == r.ID && strings.HasPrefix(q.DueIn, "due in")
	}) {
		t.Errorf("the queue lacks %s with its countdown: %+v", r.ID, queue.Requests)
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/production-requests/"+r.ID+"/claim", map[string]string{"by": "ana@provider.example"}, http.StatusOK, &r, admin...)
	if r.Status != onramp.RequestInReview || r.Reviewer != "ana@provider.example" {
		t.Fatalf("after claiming: %+v", r)
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/production-requests/"+r.ID+"/approve", map[string]string{"by": "ana@provider.example"}, http.StatusOK, &r, admin...)
	if r.Status != onramp.RequestApproved || len(r.History) != 3 || !strings.Contains(r.History[2].Note, "payments on standard") {
		t.Fatalf("after approving: %+v", r)
	}
	MustDo(t, "POST", st.PortalURL+"/admin/api/v1/production-requests/"+r.ID+"/reject", map[string]string{"by": "bo@provider.example", "reason": "late"}, http.StatusConflict, &p, admin...)
	MustReplayLiveHistory(t, st.Temporal, workflows.ProductionReviewID(r.ID), "production_review_portal_approved.json")
	var after struct {
		Compliance struct {
			Decided int `json:"decided"`
			OnTime  int `json:"on_time"`
		} `json:"sla_compliance"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/production-requests", http.StatusOK, &after, admin...)
	if after.Compliance.Decided < 1 || after.Compliance.OnTime < 1 {
		t.Errorf("SLA compliance = %+v, want this on-time decision counted", after.Compliance)
	}

	// Every member sees it; the production key works through the production gateway.
	var notes struct {
		Notifications []onramp.Notification `json:"notifications"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/notifications", http.StatusOK, &notes, "X-Session-Token", token)
	if len(notes.Notifications) < 3 || notes.Notifications[0].Title != "Production access approved" {
		t.Errorf("notifications = %+v", notes.Notifications)
	}
	MustWaitForMail(t, st.PortalURL, org.ContactEmail, func(m mailMessage) bool { return m.Subject == "Production access approved" }, 10*time.Second)
	live := mustProductionKey(t, st, org, token)
	status, header, body := gatewayCall(t, "GET", st.ProductionURL+"/payments/v2/payments", live, "")
	if status != 200 || header.Get("X-Example-Upstream") == "" {
		t.Fatalf("production call = %d %s", status, body)
	}

	// The funnel has the whole journey, in order. Its journeys are paged by organisation id, and
	// the shared stack holds every test's partners: follow the pages to this one's.
	var funnel struct {
		Partners []struct {
			OrgID        string               `json:"org_id"`
			Stages       map[string]time.Time `json:"stages"`
			InvitationTo *float64             `json:"invitation_to_first_production_call_seconds"`
		} `json:"partners"`
		Next string `json:"next_cursor"`
	}
	waitFor(t, 5*time.Second, "the funnel to show the first production call", func() bool {
		for page := st.PortalURL + "/admin/api/v1/funnel?limit=200"; ; page = st.PortalURL + "/admin/api/v1/funnel?limit=200&cursor=" + url.QueryEscape(funnel.Next) {
			funnel.Next = ""
			MustGetJSON(t, page, http.StatusOK, &funnel, admin...)
			for _, p := range funnel.Partners {
				if p.OrgID == org.ID {
					return p.InvitationTo != nil
				}
			}
			if funnel.Next == "" {
				return false
			}
		}
	})
	for _, p := range funnel.Partners {
		if p.OrgID != org.ID {
			continue
		}
		prev := time.Time{}
		for _, stage := range onramp.FunnelStages {
			at, ok := p.Stages[stage]
			if !ok || at.Before(prev) {
				t.Errorf("stage %s = %v (previous %v): want every stage, in order; %+v", stage, at, prev, p.Stages)
			}
			prev = at
		}
		if *p.InvitationTo <= 0 || *p.InvitationTo > 600 {
			t.Errorf("invitation → first production call = %.1fs, want a plausible time", *p.InvitationTo)
		}
	}
}

// An operator approves from the Temporal Web UI: a signal with the same payload, sent with the Go
// client exactly as the UI sends it, has the portal's effect.
func TestE2EProductionApprovedBySignal(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Signal Approved", "standard")
	r := MustSubmitRequest(t, st, org, token)
	// Narrower than asked: read-only payments in production.
	approve := workflows.ReviewAction{By: "ops@provider.example", Grants: []onramp.ApprovedProduct{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}}}
	if err := st.Temporal.SignalWorkflow(t.Context(), workflows.ProductionReviewID(r.ID), "", workflows.ReviewApprove, approve); err != nil {
		t.Fatal(err)
	}
	r = waitForStatus(t, st, org, token, r.ID, onramp.RequestApproved)
	if r.Reviewer != "ops@provider.example" || len(r.Approved) != 1 || strings.Join(r.Approved[0].Scopes, ",") != "payments:read" {
		t.Errorf("approved = %+v by %q", r.Approved, r.Reviewer)
	}
	MustReplayLiveHistory(t, st.Temporal, workflows.ProductionReviewID(r.ID), "production_review_signal_approved.json")
	live := mustProductionKey(t, st, org, token)
	if status, _, body := gatewayCall(t, "GET", st.ProductionURL+"/payments/v2/payments", live, ""); status != 200 {
		t.Errorf("production read after a signal approval = %d %s", status, body)
	}
	status, header, body := gatewayCall(t, "POST", st.ProductionURL+"/payments/v2/payments", live, `{"amount":1,"currency":"EUR","description":"x"}`, "Idempotency-Key", "order-0001")
	if p := mustGatewayProblem(t, status, header, body, 403, "access-denied"); !strings.Contains(p.Detail, "payments:write") {
		t.Errorf("a write beyond the narrowed grant: %q", p.Detail)
	}
}

// A signal skips the portal, so the review holds its grants to the portal's rule: a richer plan
// and a quota of nothing are each refused (nothing granted or recorded, state.refused names the
// field, the review still waiting), and a correct approval afterwards approves. Its history is the
// recorded one of a refused grant (ONRAMP_RECORD_HISTORY=1) that the offline replay test keeps.
func TestE2EProductionWiderSignalIsRefused(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Signal Widened", "standard")
	r := MustSubmitRequest(t, st, org, token)
	id := workflows.ProductionReviewID(r.ID)
	for _, w := range []struct {
		grant onramp.ApprovedProduct
		field string
	}{
		{onramp.ApprovedProduct{Product: "payments", Plan: "premium"}, "grants[0]: payments on premium was not requested"},
		{onramp.ApprovedProduct{Product: "payments", Plan: "standard", Quota: &onramp.Quota{Limit: 0, Period: "month"}}, "grants[0].quota: "},
	} {
		if err := st.Temporal.SignalWorkflow(t.Context(), id, "", workflows.ReviewApprove, workflows.ReviewAction{By: "ops@provider.example", Grants: []onramp.ApprovedProduct{w.grant}}); err != nil {
			t.Fatal(err)
		}
		var state workflows.ReviewState
		waitFor(t, 15*time.Second, "the review to refuse "+w.field, func() bool {
			v, err := st.Temporal.QueryWorkflow(t.Context(), id, "", workflows.QueryReviewState)
			if err != nil {
				t.Fatalf("query state: %v", err)
			}
			if err := v.Get(&state); err != nil {
				t.Fatal(err)
			}
			return state.Refused != nil && strings.Contains(state.Refused.Reason, w.field)
		})
		if got := mustRequest(t, st, org, token, r.ID); state.Status != onramp.RequestReceived || got.Status != onramp.RequestReceived || len(got.Approved) != 0 || len(got.History) != 1 {
			t.Fatalf("after a refused %+v: state %+v, request %s approved %+v", w.grant, state, got.Status, got.Approved)
		}
	}
	approve := workflows.ReviewAction{By: "ops@provider.example", Grants: []onramp.ApprovedProduct{{Product: "payments", Plan: "standard", Scopes: []string{"payments:read"}}}}
	if err := st.Temporal.SignalWorkflow(t.Context(), id, "", workflows.ReviewApprove, approve); err != nil {
		t.Fatal(err)
	}
	r = waitForStatus(t, st, org, token, r.ID, onramp.RequestApproved)
	if len(r.Approved) != 1 || r.Approved[0].Plan != "standard" || strings.Join(r.Approved[0].Scopes, ",") != "payments:read" || r.Approved[0].Quota == nil || r.Approved[0].Quota.Limit != 10000 {
		t.Errorf("approved = %+v, want payments:read on standard at the plan's quota", r.Approved)
	}
	MustReplayLiveHistory(t, st.Temporal, id, "production_review_signal_refused.json")
}

// Changes requested: the partner edits and resubmits (received again); a rejection shows its
// reason, and a new request can be submitted after it.
func TestE2EProductionChangesRejectAndResubmit(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Resubmitter", "standard")
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	r := MustSubmitRequest(t, st, org, token)
	act := st.PortalURL + "/admin/api/v1/production-requests/" + r.ID + "/"
	var p problem.Problem
	MustDo(t, "POST", act+"reject", map[string]string{"by": "ana@provider.example"}, http.StatusConflict, &p, admin...)
	if !strings.Contains(p.Detail, "reason") {
		t.Errorf("a rejection without reason: %q", p.Detail)
	}
	MustDo(t, "POST", act+"request-changes", map[string]string{"by": "ana@provider.example", "changes": "Name a security contact at your company."}, http.StatusOK, &r, admin...)
	if r.Status != onramp.RequestChangesRequested {
		t.Fatalf("after requesting changes: %+v", r)
	}
	form := requestForm(org)
	form["security_contact"] = "ciso@partner.example"
	base := st.PortalURL + "/api/v1/orgs/" + org.ID + "/production-requests/" + r.ID
	MustDo(t, "PUT", base, form, http.StatusOK, nil, "X-Session-Token", token)
	MustDo(t, "POST", base+"/submit", nil, http.StatusAccepted, &r, "X-Session-Token", token)
	statuses := []string{}
	for _, h := range r.History {
		statuses = append(statuses, h.Status)
	}
	if r.Status != onramp.RequestReceived || strings.Join(statuses, ",") != "received,changes_requested,received" || r.SecurityContact != "ciso@partner.example" {
		t.Fatalf("after resubmitting: %s %v %s", r.Status, statuses, r.SecurityContact)
	}
	MustDo(t, "POST", act+"reject", map[string]string{"by": "ana@provider.example", "reason": "We do not serve this market yet."}, http.StatusOK, &r, admin...)
	if r.Status != onramp.RequestRejected || r.History[len(r.History)-1].Note != "We do not serve this market yet." {
		t.Fatalf("after rejecting: %+v", r)
	}
	MustDo(t, "PUT", base, form, http.StatusConflict, &p, "X-Session-Token", token)
	again := MustSubmitRequest(t, st, org, token)
	if again.ID == r.ID {
		t.Error("the new request reuses the rejected one")
	}
}

// Stopping the worker between submission and approval loses nothing: the approval signal waits in
// Temporal and takes effect when a worker runs again.
func TestE2EProductionSurvivesAWorkerRestart(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Durable Review", "standard")
	r := MustSubmitRequest(t, st, org, token)
	st.StopWorker()
	restarted := false
	defer func() {
		if !restarted {
			_ = st.StartWorker()
		}
	}()
	if err := st.Temporal.SignalWorkflow(t.Context(), workflows.ProductionReviewID(r.ID), "", workflows.ReviewApprove, workflows.ReviewAction{By: "ops@provider.example"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if got := mustRequest(t, st, org, token, r.ID); got.Status != onramp.RequestReceived {
		t.Fatalf("with no worker running the request became %s", got.Status)
	}
	if err := st.StartWorker(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitForStatus(t, st, org, token, r.ID, onramp.RequestApproved)
	mustProductionKey(t, st, org, token)
}

// The partner watches the timeline move from received to approved in the browser.
func TestE2EProductionBrowserTimeline(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Timeline Co")
	ctx := MustBrowser(t)
	MustBrowserSignIn(t, st, ctx, org.ContactEmail)
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/production?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS("#production-form")),
		chromedp.SendKeys(chromedp.CSS(`#production-form input[name="legal_name"]`), "Timeline Co Ltd"),
		chromedp.SendKeys(chromedp.CSS(`#production-form input[name="country"]`), "GB"),
		chromedp.SendKeys(chromedp.CSS(`#production-form input[name="website"]`), "https://timeline.example"),
		chromedp.SendKeys(chromedp.CSS(`#production-form input[name="technical_contact"]`), "tech@timeline.example"),
		chromedp.SendKeys(chromedp.CSS(`#production-form input[name="security_contact"]`), "sec@timeline.example"),
		chromedp.Click(chromedp.CSS(`#production-form input[name="product"][value="payments"]`)),
		chromedp.SendKeys(chromedp.CSS(`#production-form input[name="volume_payments"]`), "20000"),
		chromedp.SendKeys(chromedp.CSS(`#production-form textarea[name="use_case"]`), "Subscriptions billing for our customers."),
		chromedp.Click(chromedp.CSS("#submit-request")),
		chromedp.WaitVisible(chromedp.CSS(`section.request .badge.received`)),
	)
	if err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 600)`))
		t.Fatalf("submitting from the page: %v\n%s", err, page)
	}
	id := MustRun(t, ctx, chromedp.Evaluate[string](`document.querySelector("section.request").dataset.request`))

	// The provider claims and approves it from the review queue, in the same browser.
	row := `tr[data-request="` + id + `"]`
	err = chromedp.Do(ctx,
		AdminSignIn(t, st),
		chromedp.Navigate(st.PortalURL+"/admin/reviews"),
		chromedp.WaitVisible(chromedp.CSS(row+` .countdown`)),
		chromedp.Click(chromedp.CSS(row+` form[action$="/claim"] button`)),
		chromedp.WaitVisible(chromedp.CSS(row+` .badge.in_review`)),
	)
	if err != nil {
		t.Fatalf("claiming from the review queue: %v", err)
	}
	maybeScreenshot(t, ctx, "admin-reviews")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(row+` form[action$="/approve"] input[name="quota_limit"]`), "5000"),
		chromedp.Click(chromedp.CSS(row+` form[action$="/approve"] button`))); err != nil {
		t.Fatalf("approving from the review queue: %v", err)
	}
	MustSeeNotice(t, ctx, "approved")
	if err := chromedp.Do(ctx, chromedp.Navigate(st.PortalURL+"/production?org="+org.ID), chromedp.WaitVisible(chromedp.CSS(`section.request .badge.approved`))); err != nil {
		t.Fatalf("the timeline does not show the approval: %v", err)
	}
	maybeScreenshot(t, ctx, "production-timeline")
	steps := MustRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("section.request li[data-status]")].map(li => li.dataset.status)`))
	if strings.Join(steps, ",") != "received,in_review,approved" {
		t.Errorf("timeline = %v, want received, in review, approved", steps)
	}
	var assigned struct {
		Assignments []onramp.Assignment `json:"assignments"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments", http.StatusOK, &assigned, "Authorization", "Bearer "+MustAdminToken(t, st))
	for _, a := range assigned.Assignments {
		if a.Product == "payments" && (a.Quota.Limit != 5000 || a.Quota.Period != "month" || !slices.Contains(a.Environments, onramp.Production)) {
			t.Errorf("payments after approval = %+v, want production with the 5000/month quota granted in the queue", a)
		}
	}
}
