package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/workflows"
)

// lifecycleProduct is a product of its own (v1 and v2 of the echo spec, production upstream a
// local server) assigned to a fresh organisation in both environments, with a key of each.
type lifecycleProduct struct {
	st       *stack.Stack
	slug     string
	org      onramp.Organization
	token    string
	admin    []string
	keys     map[string]string // environment → key
	keyIDs   map[string]string // environment → credential id
	gateways map[string]string // environment → base URL
	upstream chan string
}

func mustLifecycleProduct(t *testing.T) *lifecycleProduct {
	t.Helper()
	st := MustSharedStack(t)
	lp := &lifecycleProduct{st: st, admin: []string{"Authorization", "Bearer " + MustAdminToken(t, st)}, keys: map[string]string{}, keyIDs: map[string]string{},
		gateways: map[string]string{onramp.Sandbox: st.SandboxURL, onramp.Production: st.ProductionURL}, upstream: make(chan string, 1000)}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case lp.upstream <- r.URL.Path:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(up.Close)
	lp.org, lp.token = MustPartnerSession(t, st, "Lifecycle Partner", "standard")
	lp.slug = "life-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	products := st.PortalURL + "/admin/api/v1/products/" + lp.slug
	MustDo(t, "PUT", products, map[string]any{"name": "Lifecycle", "summary": "Versions that go", "upstreams": map[string]string{onramp.Production: up.URL}}, http.StatusOK, nil, lp.admin...)
	for _, v := range []string{"v1", "v2"} {
		MustDo(t, "POST", products+"/versions", map[string]any{"version": v, "spec": echoSpec}, http.StatusCreated, nil, lp.admin...)
	}
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+lp.org.ID+"/assignments/"+lp.slug,
		map[string]any{"plan": "standard", "scopes": []string{lp.slug + ":read"}, "environments": onramp.Environments, "quota": map[string]any{"limit": 1000, "period": "day"}},
		http.StatusOK, nil, lp.admin...)
	for _, env := range onramp.Environments {
		var created struct {
			Key        string `json:"key"`
			Credential struct {
				ID string `json:"id"`
			} `json:"credential"`
		}
		waitFor(t, 5*time.Second, "a "+env+" key for "+lp.slug, func() bool {
			status, raw := send(t, "POST", st.PortalURL+"/api/v1/orgs/"+lp.org.ID+"/credentials", map[string]any{"environment": env, "label": "lifecycle " + env}, "X-Session-Token", lp.token)
			return status == http.StatusCreated && json.Unmarshal(raw, &created) == nil && created.Key != ""
		})
		lp.keys[env], lp.keyIDs[env] = created.Key, created.Credential.ID
	}
	return lp
}

func (lp *lifecycleProduct) call(t *testing.T, env, version string) (int, http.Header, []byte) {
	t.Helper()
	return gatewayCall(t, "GET", lp.gateways[env]+"/"+lp.slug+"/"+version+"/items", lp.keys[env], "")
}

func (lp *lifecycleProduct) version(t *testing.T, path string, body any, wantStatus int, out any) {
	t.Helper()
	MustDo(t, "POST", lp.st.PortalURL+"/admin/api/v1/products/"+lp.slug+"/versions/"+path, body, wantStatus, out, lp.admin...)
}

func (lp *lifecycleProduct) migration() string {
	return lp.st.PortalURL + "/catalog/" + lp.slug + "?version=v1#lifecycle"
}

// mustHeaders checks v1's deprecation headers on an answer.
func (lp *lifecycleProduct) mustHeaders(t *testing.T, what string, h http.Header, deprecatedAt time.Time, sunset time.Time) {
	t.Helper()
	links := strings.Join(h.Values("Link"), ", ")
	if got, want := h.Get("Deprecation"), "@"+strconv.FormatInt(deprecatedAt.Unix(), 10); got != want {
		t.Errorf("%s: Deprecation = %q, want %q", what, got, want)
	}
	if got, want := h.Get("Sunset"), sunset.UTC().Format(http.TimeFormat); got != want {
		t.Errorf("%s: Sunset = %q, want %q", what, got, want)
	}
	for _, want := range []string{"<" + lp.migration() + `>; rel="deprecation"`, "<" + lp.migration() + `>; rel="sunset"`, "</" + lp.slug + `/v2>; rel="successor-version"`} {
		if !strings.Contains(links, want) {
			t.Errorf("%s: Link = %q, want %s", what, links, want)
		}
	}
}

type versionState struct {
	Phase        string                  `json:"phase"`
	DeprecatedAt string                  `json:"deprecated_at"`
	SunsetAt     string                  `json:"sunset_at"`
	Successor    string                  `json:"successor"`
	Brownouts    []onramp.BrownoutWindow `json:"brownouts"`
}

// sample is one call of a brownout's watch: when it left, when its answer came, what it was.
type sample struct {
	sent, got time.Time
	env       string
	status    int
	body      string
}

// TestE2ELifecycleDeprecationBrownoutAndSunset: a deprecated version answers with Deprecation,
// Sunset and Link in sandbox and production; a brownout window of a few seconds answers 410 in
// both and ends on time (the partners are e-mailed at once, the window being sooner than the
// notice); a cancelled brownout stops within the gateway's cache TTL; past its sunset the version
// answers 410 in both, never reaching the upstream, and the catalog lists it as retired.
func TestE2ELifecycleDeprecationBrownoutAndSunset(t *testing.T) {
	lp := mustLifecycleProduct(t)
	st := lp.st

	// Deprecated: the headers, in both environments, on success and on errors alike.
	sunset := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	var v1 versionState
	MustDo(t, "PATCH", st.PortalURL+"/admin/api/v1/products/"+lp.slug+"/versions/v1", map[string]any{"status": "deprecated", "sunset": sunset.Format(time.RFC3339)}, http.StatusOK, &v1, lp.admin...)
	deprecatedAt, err := time.Parse(time.RFC3339, v1.DeprecatedAt)
	if err != nil || v1.Phase != "deprecated" || v1.Successor != "v2" {
		t.Fatalf("v1 deprecated = %+v (%v)", v1, err)
	}
	for _, env := range onramp.Environments {
		status, h, body := lp.call(t, env, "v1")
		if status != http.StatusOK {
			t.Fatalf("%s: deprecated v1 = %d %s, want 200", env, status, body)
		}
		lp.mustHeaders(t, env+" 200", h, deprecatedAt, sunset)
		status, h, body = gatewayCall(t, "GET", lp.gateways[env]+"/"+lp.slug+"/v1/nowhere", lp.keys[env], "")
		mustGatewayProblem(t, status, h, body, http.StatusNotFound, "no-such-operation")
		lp.mustHeaders(t, env+" 404", h, deprecatedAt, sunset)
		if _, h, _ := lp.call(t, env, "v2"); h.Get("Deprecation") != "" || h.Get("Sunset") != "" {
			t.Errorf("%s: current v2 carries %v", env, h)
		}
	}

	// A brownout of 4 s, starting 7 s from now (the gateways cache a version for up to 5 s).
	window := onramp.BrownoutWindow{Start: time.Now().Add(7 * time.Second).UTC().Truncate(time.Second), End: time.Time{}}
	window.End = window.Start.Add(4 * time.Second)
	var scheduled struct {
		Windows []onramp.BrownoutWindow `json:"windows"`
		Notice  string                  `json:"notice"`
	}
	lp.version(t, "v1/brownouts", map[string]any{"windows": []onramp.BrownoutWindow{window}}, http.StatusCreated, &scheduled)
	if len(scheduled.Windows) != 1 || !scheduled.Windows[0].Start.Equal(window.Start) || scheduled.Notice != "24h0m0s" {
		t.Fatalf("scheduled = %+v", scheduled)
	}
	// The window is sooner than the 24 h notice: the contact is e-mailed at once.
	mail := MustWaitForMail(t, st.PortalURL, lp.org.ContactEmail, func(m mailMessage) bool { return strings.Contains(m.Subject, "Brownout of "+lp.slug+" v1") }, 5*time.Second)
	if !strings.Contains(mail.Subject, window.Start.Format("15:04:05")) {
		t.Errorf("notice subject = %q, want the window's start", mail.Subject)
	}
	var samples []sample
	for time.Now().Before(window.End.Add(1500 * time.Millisecond)) {
		for _, env := range onramp.Environments {
			s := sample{sent: time.Now(), env: env}
			var body []byte
			s.status, _, body = lp.call(t, env, "v1")
			s.got, s.body = time.Now(), string(body)
			samples = append(samples, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var before, during, after int
	for _, s := range samples {
		switch {
		case s.got.Before(window.Start):
			before++
			if s.status != http.StatusOK {
				t.Errorf("%s at %s, before the window: %d %s", s.env, s.got.Format(time.StampMilli), s.status, s.body)
			}
		case !s.sent.Before(window.Start) && s.got.Before(window.End):
			during++
			if s.status != http.StatusGone || !strings.Contains(s.body, "brownout until "+window.End.Format(time.RFC3339)) || !strings.Contains(s.body, `"successor":"v2"`) {
				t.Errorf("%s at %s, inside the window: %d %s", s.env, s.sent.Format(time.StampMilli), s.status, s.body)
			}
		case !s.sent.Before(window.End):
			after++
			if s.status != http.StatusOK {
				t.Errorf("%s at %s, after the window: %d %s", s.env, s.sent.Format(time.StampMilli), s.status, s.body)
			}
		}
	}
	if before < 4 || during < 10 || after < 4 {
		t.Fatalf("samples before/during/after the window = %d/%d/%d, too few to judge", before, during, after)
	}
	// The schedule ends after its last window; its live history replays against today's code.
	if state := mustScheduleEnded(t, st, lp.slug, workflows.BrownoutCompleted, ""); state.Notified != 1 || state.Ended != 1 {
		t.Fatalf("schedule = %+v, want completed after one notice and one window", state)
	}
	MustReplayLiveHistory(t, st.Temporal, workflows.BrownoutScheduleID(lp.slug, "v1"), "brownout_schedule_completed.json")

	// A second schedule, cancelled while its window runs: the version answers again within the
	// gateways' cache TTL, and the catalog keeps the part that ran as history.
	long := onramp.BrownoutWindow{Start: time.Now().Add(6 * time.Second).UTC().Truncate(time.Second)}
	long.End = long.Start.Add(time.Minute)
	lp.version(t, "v1/brownouts", map[string]any{"windows": []onramp.BrownoutWindow{long}}, http.StatusCreated, nil)
	waitFor(t, 10*time.Second, "the second brownout", func() bool { s, _, _ := lp.call(t, onramp.Production, "v1"); return s == http.StatusGone })
	var cancelled versionState
	lp.version(t, "v1/brownouts/cancel", nil, http.StatusOK, &cancelled)
	if len(cancelled.Brownouts) != 2 || !cancelled.Brownouts[1].End.Before(long.End) {
		t.Errorf("after the cancel the windows are %+v, want the first and the cut second", cancelled.Brownouts)
	}
	cancelledAt := time.Now()
	waitFor(t, 7*time.Second, "the cancelled brownout to end", func() bool {
		s1, _, _ := lp.call(t, onramp.Sandbox, "v1")
		s2, _, _ := lp.call(t, onramp.Production, "v1")
		return s1 == http.StatusOK && s2 == http.StatusOK
	})
	if took := time.Since(cancelledAt); took > 6*time.Second {
		t.Errorf("the brownout went on %s after the cancel, want within the 5 s cache TTL", took)
	}
	lp.version(t, "v1/brownouts/cancel", nil, http.StatusConflict, nil)
	mustScheduleEnded(t, st, lp.slug, workflows.BrownoutCancelled, "provider admin")
	MustReplayLiveHistory(t, st.Temporal, workflows.BrownoutScheduleID(lp.slug, "v1"), "brownout_schedule_cancelled.json")

	// A third, cancelled from the Temporal Web UI: its signal (sent with the Go client exactly as
	// the UI sends it) has the same effect.
	third := onramp.BrownoutWindow{Start: time.Now().Add(30 * time.Second).UTC().Truncate(time.Second)}
	third.End = third.Start.Add(time.Minute)
	lp.version(t, "v1/brownouts", map[string]any{"windows": []onramp.BrownoutWindow{third}}, http.StatusCreated, nil)
	if err := st.Temporal.SignalWorkflow(t.Context(), workflows.BrownoutScheduleID(lp.slug, "v1"), "", workflows.BrownoutCancel, workflows.BrownoutAction{By: "ops@provider.example"}); err != nil {
		t.Fatal(err)
	}
	mustScheduleEnded(t, st, lp.slug, workflows.BrownoutCancelled, "ops@provider.example")
	var pa struct {
		Versions []versionState `json:"versions"`
	}
	// The worker stored the windows; the portal's catalog follows the change feed (≤ 1 s).
	deadline := time.Now().Add(2 * time.Second)
	for {
		MustGetJSON(t, st.PortalURL+"/admin/api/v1/products/"+lp.slug, http.StatusOK, &pa, lp.admin...)
		if len(pa.Versions[0].Brownouts) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(pa.Versions[0].Brownouts) != 2 {
		t.Errorf("2 s after the signal the windows are %+v, want only the two that ran", pa.Versions[0].Brownouts)
	}
	MustReplayLiveHistory(t, st.Temporal, workflows.BrownoutScheduleID(lp.slug, "v1"), "brownout_schedule_signal_cancelled.json")

	// Past its sunset: 410 in both environments, naming the successor and the migration page,
	// without reaching the upstream; recorded as calls with status 410.
	sunset = time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	MustDo(t, "PATCH", st.PortalURL+"/admin/api/v1/products/"+lp.slug+"/versions/v1", map[string]any{"sunset": sunset.Format(time.RFC3339)}, http.StatusOK, &v1, lp.admin...)
	time.Sleep(time.Until(sunset))
	waitFor(t, 7*time.Second, "v1 to be retired in both environments", func() bool {
		s1, _, _ := lp.call(t, onramp.Sandbox, "v1")
		s2, _, _ := lp.call(t, onramp.Production, "v1")
		return s1 == http.StatusGone && s2 == http.StatusGone
	})
	for len(lp.upstream) > 0 {
		<-lp.upstream
	}
	var details []string
	for _, env := range onramp.Environments {
		status, h, body := lp.call(t, env, "v1")
		p := mustGatewayProblem(t, status, h, body, http.StatusGone, "version-gone")
		lp.mustHeaders(t, env+" 410", h, deprecatedAt, sunset)
		var gone struct {
			Successor    string `json:"successor"`
			MigrationURL string `json:"migration_url"`
		}
		_ = json.Unmarshal(body, &gone)
		if gone.Successor != "v2" || gone.MigrationURL != lp.migration() || !strings.Contains(p.Detail, "was retired at its sunset") {
			t.Errorf("%s: 410 = %s", env, body)
		}
		details = append(details, p.Detail)
	}
	if details[0] != details[1] {
		t.Errorf("sandbox and production differ:\n%s\n%s", details[0], details[1])
	}
	select {
	case p := <-lp.upstream:
		t.Errorf("a retired version reached the upstream: %s", p)
	case <-time.After(300 * time.Millisecond):
	}
	var product struct {
		Version versionState `json:"version"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+lp.org.ID+"/catalog/"+lp.slug+"?version=v1", http.StatusOK, &product, "X-Session-Token", lp.token)
	if product.Version.Phase != onramp.PhaseRetired || product.Version.Successor != "v2" {
		t.Errorf("the catalog says v1 is %+v, want retired with successor v2", product.Version)
	}
	// Try-it predicts the 410 from the same rule, and gets it.
	var tried tryItAnswer
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+lp.org.ID+"/catalog/"+lp.slug+"/tryit", map[string]any{"credential_id": lp.keyIDs[onramp.Sandbox],
		"operation": "listItems", "version": "v1"}, http.StatusOK, &tried, "X-Session-Token", lp.token)
	if tried.Prediction.Allowed || !strings.Contains(tried.Prediction.Message, "410 Gone") || tried.Response.Status != http.StatusGone {
		t.Errorf("try-it on retired v1 = %+v, want the 410 predicted and answered", tried)
	}
	var calls struct {
		Calls []onramp.UsageEvent `json:"calls"`
	}
	waitFor(t, 5*time.Second, "the 410 calls in the history", func() bool {
		MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+lp.org.ID+"/calls?status=4xx", http.StatusOK, &calls, "X-Session-Token", lp.token)
		gone := map[string]bool{}
		for _, c := range calls.Calls {
			if c.Status == http.StatusGone && c.Version == "v1" && c.Operation == "listItems" {
				gone[c.Environment] = true
			}
		}
		return gone[onramp.Sandbox] && gone[onramp.Production]
	})
}

// mustScheduleEnded waits for the latest brownout schedule of product v1 to end with status.
func mustScheduleEnded(t *testing.T, st *stack.Stack, product, status, by string) workflows.BrownoutState {
	t.Helper()
	var state workflows.BrownoutState
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := st.Temporal.GetWorkflow(ctx, workflows.BrownoutScheduleID(product, "v1"), "").Get(ctx, &state); err != nil || state.Status != status || state.CancelledBy != by {
		t.Fatalf("schedule = %+v, %v; want %s (cancelled by %q)", state, err, status, by)
	}
	return state
}
