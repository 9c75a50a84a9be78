package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/stack"
	"github.com/onramp-dev/onramp/workflows"
)

func mustRotation(tb testing.TB, st *stack.Stack, org onramp.Organization, token, id string) onramp.Rotation {
	tb.Helper()
	var list struct {
		Rotations []struct {
			onramp.Rotation
			OldKeyCalls int64 `json:"old_key_calls_last_hour"`
		} `json:"rotations"`
	}
	MustGetJSON(tb, st.PortalURL+"/api/v1/orgs/"+org.ID+"/rotations", http.StatusOK, &list, "X-Session-Token", token)
	for _, r := range list.Rotations {
		if r.ID == id {
			return r.Rotation
		}
	}
	tb.Fatalf("no rotation %s in %+v", id, list.Rotations)
	return onramp.Rotation{}
}

func mustReveal(tb testing.TB, st *stack.Stack, org onramp.Organization, token, credID string) string {
	tb.Helper()
	var revealed struct{ Key string }
	MustDo(tb, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+credID+"/reveal", nil, http.StatusOK, &revealed, "X-Session-Token", token)
	return revealed.Key
}

// A rotation with a short overlap: both keys work during it; the worker is down when it ends,
// and the gateway still refuses the old key on time; after the restart the workflow completes,
// the old credential shows revoked and the organisation is told.
func TestE2ERotationOverlapEndsOnTimeWithTheWorkerDown(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Rotator", "standard")
	oldCred, oldKey := MustFirstSandboxKey(t, st, org, token)
	var r onramp.Rotation
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+oldCred.ID+"/rotate", map[string]string{"overlap": "4s"}, http.StatusAccepted, &r, "X-Session-Token", token)
	waitFor(t, 10*time.Second, "the new key and the overlap", func() bool {
		r = mustRotation(t, st, org, token, r.ID)
		return r.Status == onramp.RotationOverlapping && r.ExpiresAt != nil && r.NewCredentialID != ""
	})
	newKey := mustReveal(t, st, org, token, r.NewCredentialID)
	for name, key := range map[string]string{"old": oldKey, "new": newKey} {
		if status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/accounts/v1/accounts", key, ""); status != 200 {
			t.Fatalf("%s key during the overlap = %d %s", name, status, body)
		}
	}
	var list struct {
		Rotations []struct {
			ID          string `json:"id"`
			OldKeyCalls int64  `json:"old_key_calls_last_hour"`
		} `json:"rotations"`
	}
	waitFor(t, 5*time.Second, "the old key's use to be counted", func() bool {
		MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/rotations", http.StatusOK, &list, "X-Session-Token", token)
		return len(list.Rotations) > 0 && list.Rotations[0].OldKeyCalls >= 1
	})

	st.StopWorker()
	restarted := false
	defer func() {
		if !restarted {
			_ = st.StartWorker()
		}
	}()
	time.Sleep(time.Until(*r.ExpiresAt))
	at := time.Now()
	for {
		status, header, body := gatewayCall(t, "GET", st.SandboxURL+"/accounts/v1/accounts", oldKey, "")
		if status == 401 {
			mustGatewayProblem(t, status, header, body, 401, "expired-credential")
			break
		}
		if time.Since(at) > 2*time.Second {
			t.Fatalf("the old key still answers %d %s after its overlap, with the worker down", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("old key refused %s after expires_at, worker down", time.Since(*r.ExpiresAt).Round(time.Millisecond))
	if status, _, _ := gatewayCall(t, "GET", st.SandboxURL+"/accounts/v1/accounts", newKey, ""); status != 200 {
		t.Errorf("the new key answers %d", status)
	}
	if got := mustRotation(t, st, org, token, r.ID); got.Status != onramp.RotationOverlapping {
		t.Errorf("with no worker the rotation became %s", got.Status)
	}

	if err := st.StartWorker(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitFor(t, 15*time.Second, "the rotation to complete", func() bool {
		return mustRotation(t, st, org, token, r.ID).Status == onramp.RotationCompleted
	})
	var creds struct {
		Credentials []credentialBody `json:"credentials"`
	}
	MustGetJSON(t, st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", http.StatusOK, &creds, "X-Session-Token", token)
	for _, c := range creds.Credentials {
		if c.ID == oldCred.ID && c.Status != onramp.CredentialRevoked {
			t.Errorf("old credential = %+v, want revoked", c)
		}
	}
	MustWaitForMail(t, st.PortalURL, org.ContactEmail, func(m mailMessage) bool { return strings.HasPrefix(m.Subject, "Old key revoked") }, 10*time.Second)
	MustReplayLiveHistory(t, st.Temporal, workflows.RotationWorkflowID(r), "credential_rotation_completed.json")
}

// Rotating a production key that can write waits for the security review; an approval sent as a
// Temporal signal (as from the Web UI) lets it proceed. Revoke-old-now ends the overlap at once.
func TestE2ERotationElevatedWaitsForReview(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Elevated", "standard")
	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	MustDo(t, "PUT", st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments/payments",
		map[string]any{"plan": "standard", "scopes": []string{"payments:read", "payments:write"}, "environments": []string{"sandbox", "production"}, "quota": map[string]any{"limit": 1000, "period": "month"}},
		http.StatusOK, nil, admin...)
	var created struct {
		Credential credentialBody `json:"credential"`
		Key        string         `json:"key"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": "production", "label": "live writer"}, http.StatusCreated, &created, "X-Session-Token", token)
	var r onramp.Rotation
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+created.Credential.ID+"/rotate", map[string]string{"overlap": "1h"}, http.StatusAccepted, &r, "X-Session-Token", token)
	if r.Status != onramp.RotationPendingReview || !r.ReviewRequired || len(r.ReviewReasons) == 0 {
		t.Fatalf("rotation = %+v, want it pending the security review with the reason", r)
	}
	var queue struct {
		Rotations []onramp.Rotation `json:"rotations"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/rotations", http.StatusOK, &queue, admin...)
	found := false
	for _, q := range queue.Rotations {
		found = found || q.ID == r.ID
	}
	if !found {
		t.Errorf("the admin's rotation queue lacks %s", r.ID)
	}
	// Revoke-old-now is not possible before the new key exists.
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/rotations/"+r.ID+"/revoke-old-now", map[string]string{}, http.StatusConflict, nil, "X-Session-Token", token)

	if err := st.Temporal.SignalWorkflow(t.Context(), workflows.RotationWorkflowID(r), "", workflows.RotationApprove, onramp.RotationAction{By: "sec@provider.example"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the approved rotation to issue the new key", func() bool {
		r = mustRotation(t, st, org, token, r.ID)
		return r.Status == onramp.RotationOverlapping
	})
	if r.Reviewer != "sec@provider.example" {
		t.Errorf("reviewer = %q", r.Reviewer)
	}
	newKey := mustReveal(t, st, org, token, r.NewCredentialID)
	if status, _, _ := gatewayCall(t, "GET", st.ProductionURL+"/payments/v2/payments", newKey, ""); status != 200 {
		t.Errorf("the new production key answers %d", status)
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/rotations/"+r.ID+"/revoke-old-now", map[string]string{}, http.StatusOK, &r, "X-Session-Token", token)
	if r.Status != onramp.RotationCompleted {
		t.Errorf("after revoke-old-now: %s", r.Status)
	}
	waitFor(t, 3*time.Second, "the old key to be refused", func() bool {
		status, _, _ := gatewayCall(t, "GET", st.ProductionURL+"/payments/v2/payments", created.Key, "")
		return status == 401
	})
}

// Rotate from the credentials page: both keys are listed, the rotation shows its countdown.
func TestE2ERotationBrowser(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Browser Rotator")
	ctx := MustBrowser(t)
	MustBrowserSignIn(t, st, ctx, org.ContactEmail)
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/credentials?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS(`form.rotate input[name="overlap"]`)),
		chromedp.SetValue(chromedp.CSS(`form.rotate input[name="overlap"]`), "2h"),
		chromedp.Click(chromedp.CSS(`form.rotate button`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-rotation] .countdown`)),
	)
	if err != nil {
		t.Fatalf("rotating from the page: %v", err)
	}
	maybeScreenshot(t, ctx, "rotation")
	rows := MustRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('table[aria-label="Credentials"] tbody tr')].map(r => r.innerText)`))
	if len(rows) != 2 || !strings.Contains(strings.Join(rows, "\n"), "(rotated)") || !strings.Contains(strings.Join(rows, "\n"), "expiring") {
		t.Errorf("credential rows = %q, want the old key expiring and the rotated one", rows)
	}
	countdown := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`tr[data-rotation] .countdown`)))
	if !strings.HasSuffix(countdown, "s left") {
		t.Errorf("countdown = %q", countdown)
	}
}

// mustKeyAge is how long after its creation the organisation's newest key must be rotated (its
// rotate_by), or 0 when no maximum age applies.
func mustKeyAge(tb testing.TB, st *stack.Stack, org onramp.Organization, token string) time.Duration {
	tb.Helper()
	var list struct {
		Credentials []struct {
			CreatedAt   time.Time  `json:"created_at"`
			RotateBy    *time.Time `json:"rotate_by"`
			AgeReminder string     `json:"age_reminder"`
		} `json:"credentials"`
	}
	MustGetJSON(tb, st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", http.StatusOK, &list, "X-Session-Token", token)
	if len(list.Credentials) == 0 {
		tb.Fatalf("%s has no key", org.Name)
	}
	c := list.Credentials[0]
	if c.AgeReminder != "" {
		tb.Errorf("a new key nags already: %q", c.AgeReminder)
	}
	if c.RotateBy == nil {
		return 0
	}
	return c.RotateBy.Sub(c.CreatedAt)
}

// The standard plan rotates keys at least quarterly: every active key says by when. The provider
// can give one organisation its own maximum age; clearing it falls back to the plan's.
func TestE2ERotationMaxAgeShown(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Quarterly", "standard")
	MustFirstSandboxKey(t, st, org, token)
	if age := mustKeyAge(t, st, org, token); age != 90*24*time.Hour {
		t.Errorf("standard key: rotate_by %s after creation, want 90 days", age)
	}
	premium, premiumToken := MustPartnerSession(t, st, "No Age Limit", "premium")
	MustFirstSandboxKey(t, st, premium, premiumToken)
	if age := mustKeyAge(t, st, premium, premiumToken); age != 0 {
		t.Errorf("premium (no maximum age) key: rotate_by %s after creation, want none", age)
	}

	admin := []string{"Authorization", "Bearer " + MustAdminToken(t, st)}
	policy := st.PortalURL + "/admin/api/v1/partners/" + premium.ID + "/credential-policy"
	MustDo(t, "PUT", policy, map[string]string{"max_credential_age": "5m"}, http.StatusBadRequest, nil, admin...)
	MustDo(t, "PUT", policy, map[string]string{"max_credential_age": "720h"}, http.StatusOK, nil, admin...)
	if age := mustKeyAge(t, st, premium, premiumToken); age != 30*24*time.Hour {
		t.Errorf("with the organisation's 720h: rotate_by %s after creation, want 30 days", age)
	}
	MustDo(t, "PUT", policy, map[string]string{"max_credential_age": ""}, http.StatusOK, nil, admin...)
	if age := mustKeyAge(t, st, premium, premiumToken); age != 0 {
		t.Errorf("cleared: rotate_by %s after creation, want the premium plan's (none)", age)
	}
}
