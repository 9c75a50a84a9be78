package credentials_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/team/teamtest"
)

// The rules of what members do with credentials, on fakes and the embedded policies.

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type plans []onramp.Plan

func (p plans) Plans(context.Context) ([]onramp.Plan, error) { return p, nil }

// rotations stands in for the rotation workflow: it records its first decision as the workflow
// would (elevated production keys wait for review) and remembers the actions it was sent.
type rotations struct {
	store   onramp.RotationStore
	mu      sync.Mutex
	running map[string]bool
	acts    []string
	refuse  error
}

func (r *rotations) RotationWorkflowID(credID string) string { return "rotation-" + credID }

func (r *rotations) StartRotation(ctx context.Context, rot onramp.Rotation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != nil {
		return r.refuse
	}
	if r.running[rot.WorkflowID] {
		return onramp.Errorf(onramp.ECONFLICT, "%s is already being rotated", rot.Label)
	}
	r.running[rot.WorkflowID] = true
	rot.Status = onramp.RotationOverlapping
	if rot.Environment == onramp.Production {
		rot.Status, rot.ReviewRequired = onramp.RotationPendingReview, true
	}
	return r.store.SaveRotation(ctx, rot)
}

func (r *rotations) Rotate(_ context.Context, rot onramp.Rotation, action string, a onramp.RotationAction) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acts = append(r.acts, rot.ID+" "+action+" by "+a.By)
	return nil
}

type managerHarness struct {
	m         *credentials.Manager
	keys      *credentials.Service
	audit     *teamtest.Memory
	store     *credentialstest.Rotations
	lifecycle *rotations
	usage     *credentialstest.Memory
	clock     time.Time
}

var engine = sync.OnceValues(func() (*policies.Engine, error) {
	return policies.New(context.Background(), policies.Embedded())
})

func mustManager(t *testing.T, org onramp.Organization, plan onramp.Plan) *managerHarness {
	t.Helper()
	policy, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := credentials.ParseKeyring("k1:" + key(1))
	assignments := catalogtest.NewMemory()
	grant := onramp.Grant{Scopes: []string{"payments:read", "payments:write"}, Environments: []string{onramp.Sandbox, onramp.Production}, Quota: onramp.Quota{Limit: 10, Period: "day"}}
	if err := assignments.SaveAssignment(t.Context(), onramp.Assignment{OrgID: org.ID, Product: "payments", Plan: plan.Name, Grant: grant}); err != nil {
		t.Fatal(err)
	}
	h := &managerHarness{audit: teamtest.NewMemory(), store: credentialstest.NewRotations(), usage: credentialstest.NewMemory(), clock: now}
	h.lifecycle = &rotations{store: h.store, running: map[string]bool{}}
	clock := func() time.Time { return h.clock }
	if h.keys, err = credentials.New(credentials.Config{Store: credentialstest.NewMemory(), Assignments: assignments, Keys: kr, PortalURL: "http://portal.test", Now: clock}); err != nil {
		t.Fatal(err)
	}
	h.m, err = credentials.NewManager(credentials.ManagerConfig{Keys: h.keys, Policy: policy, Plans: plans{plan}, Audit: h.audit,
		Rotations: h.lifecycle, RotationStore: h.store, Usage: h.usage, Logger: slog.New(slog.DiscardHandler), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func member(org onramp.Organization, role string) onramp.Actor {
	return onramp.Actor{IdentityID: "id-" + role, Email: role + "@p.example", Memberships: []onramp.Membership{{Organization: org, Role: role}}}
}

var org1 = onramp.Organization{ID: "org_1", Name: "Partner One", Tier: "standard", Status: onramp.OrgActive}

func (h *managerHarness) auditActions(t *testing.T, orgID string) string {
	t.Helper()
	page, err := h.audit.Audit(t.Context(), orgID, onramp.PageRequest{Limit: 100})
	es := page.Items
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action+" by "+e.Actor)
	}
	return strings.Join(out, ", ")
}

func TestNewManagerNamesWhatIsMissing(t *testing.T) {
	_, err := credentials.NewManager(credentials.ManagerConfig{})
	if err == nil || !strings.Contains(err.Error(), "RotationStore") {
		t.Errorf("NewManager(empty) = %v, want the missing dependencies named", err)
	}
}

func TestWhoMayCreateWhere(t *testing.T) {
	h := mustManager(t, org1, onramp.Plan{Name: "standard"})
	for _, c := range []struct {
		role, env string
		want      string
	}{
		{onramp.RoleOwner, onramp.Production, ""}, {onramp.RoleAdmin, onramp.Production, ""},
		{onramp.RoleDeveloper, onramp.Sandbox, ""}, {onramp.RoleDeveloper, onramp.Production, onramp.EFORBIDDEN},
		{onramp.RoleViewer, onramp.Sandbox, onramp.EFORBIDDEN}, {onramp.RoleOwner, "staging", onramp.EINVALID},
	} {
		v, key, err := h.m.Create(t.Context(), member(org1, c.role), org1.ID, credentials.NewCredential{Environment: c.env, Label: "CI"})
		if onramp.ErrorCode(err) != c.want {
			t.Errorf("%s creating in %s: %v, want %q", c.role, c.env, err, c.want)
		}
		if c.want == "" && (key == "" || !strings.HasPrefix(key, onramp.KeyPrefix(c.env)) || v.Masked == "" || !v.CanReveal) {
			t.Errorf("%s creating in %s: %+v with key %q", c.role, c.env, v, key)
		}
	}
	all, _ := h.keys.List(t.Context(), org1.ID)
	if len(all) != 3 {
		t.Errorf("%d keys issued, want the 3 allowed ones", len(all))
	}
	if got := h.auditActions(t, org1.ID); strings.Count(got, "credential.created") != 3 {
		t.Errorf("audit = %s, want three creations", got)
	}
	// Another organisation's members cannot create here, whatever their role there.
	other := member(onramp.Organization{ID: "org_2"}, onramp.RoleOwner)
	if _, _, err := h.m.Create(t.Context(), other, org1.ID, credentials.NewCredential{Environment: onramp.Sandbox}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("an outsider creating: %v, want ENOTFOUND", err)
	}
}

func TestListSaysWhatEachMemberMayDoAndWhenToRotate(t *testing.T) {
	h := mustManager(t, org1, onramp.Plan{Name: "standard", MaxCredentialAge: "720h"})
	owner, dev := member(org1, onramp.RoleOwner), member(org1, onramp.RoleDeveloper)
	sandbox, _, err := h.m.Create(t.Context(), owner, org1.ID, credentials.NewCredential{Environment: onramp.Sandbox, Label: "sb"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.m.Create(t.Context(), owner, org1.ID, credentials.NewCredential{Environment: onramp.Production, Label: "prod"}); err != nil {
		t.Fatal(err)
	}
	h.clock = now.Add(720*time.Hour - 13*24*time.Hour) // inside the last 14 days of the plan's 30
	views, err := h.m.List(t.Context(), dev, org1.ID)
	if err != nil || len(views) != 2 {
		t.Fatalf("List = %v, %v", views, err)
	}
	for _, v := range views {
		want := v.Environment == onramp.Sandbox // a developer acts on sandbox keys only
		if v.CanReveal != want || v.CanRevoke != want {
			t.Errorf("%s key for a developer: reveal %v revoke %v, want %v", v.Environment, v.CanReveal, v.CanRevoke, want)
		}
		if v.RotateBy == nil || !v.RotateBy.Equal(now.Add(720*time.Hour)) || v.AgeReminder == "" {
			t.Errorf("%s key: rotate by %v, reminder %q; want the plan's 30 days and a reminder", v.Environment, v.RotateBy, v.AgeReminder)
		}
	}
	if _, err := h.m.Revoke(t.Context(), owner, org1.ID, sandbox.ID); err != nil {
		t.Fatal(err)
	}
	views, _ = h.m.List(t.Context(), owner, org1.ID)
	for _, v := range views {
		if v.ID == sandbox.ID && (v.CanReveal || v.CanRevoke || v.RotateBy != nil) {
			t.Errorf("a revoked key still offers reveal %v, revoke %v, rotate by %v", v.CanReveal, v.CanRevoke, v.RotateBy)
		}
	}
	// The organisation's own policy wins over its plan's.
	h2 := mustManager(t, onramp.Organization{ID: "org_1", Tier: "standard", MaxCredentialAge: "48h"}, onramp.Plan{Name: "standard", MaxCredentialAge: "720h"})
	withPolicy := onramp.Organization{ID: "org_1", Tier: "standard", MaxCredentialAge: "48h"}
	if _, _, err := h2.m.Create(t.Context(), member(withPolicy, onramp.RoleOwner), "org_1", credentials.NewCredential{Environment: onramp.Sandbox}); err != nil {
		t.Fatal(err)
	}
	views, _ = h2.m.List(t.Context(), member(withPolicy, onramp.RoleOwner), "org_1")
	if len(views) != 1 || views[0].RotateBy == nil || !views[0].RotateBy.Equal(now.Add(48*time.Hour)) {
		t.Errorf("with the organisation's 48h policy: %+v, want rotate by now+48h", views)
	}
}

func TestRevealAndRevokeFollowTheRoleAndAreAudited(t *testing.T) {
	h := mustManager(t, org1, onramp.Plan{Name: "standard"})
	owner, dev := member(org1, onramp.RoleOwner), member(org1, onramp.RoleDeveloper)
	prod, key, err := h.m.Create(t.Context(), owner, org1.ID, credentials.NewCredential{Environment: onramp.Production, Label: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.m.Reveal(t.Context(), dev, org1.ID, prod.ID); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a developer revealing a production key: %v, want EFORBIDDEN", err)
	}
	if _, err := h.m.Revoke(t.Context(), dev, org1.ID, prod.ID); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a developer revoking a production key: %v, want EFORBIDDEN", err)
	}
	h.clock = h.clock.Add(time.Second) // one action a second: the audit log's newest-first order is defined
	_, revealed, err := h.m.Reveal(t.Context(), owner, org1.ID, prod.ID)
	if err != nil || revealed != key {
		t.Errorf("the owner revealing: %v, key matches %v", err, revealed == key)
	}
	if _, _, err := h.m.Reveal(t.Context(), owner, org1.ID, "cred_missing"); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("revealing an unknown key: %v, want ENOTFOUND", err)
	}
	h.clock = h.clock.Add(time.Second)
	if _, err := h.m.Revoke(t.Context(), owner, org1.ID, prod.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.auditActions(t, org1.ID); got != "credential.revoked by owner@p.example, credential.revealed by owner@p.example, credential.created by owner@p.example" {
		t.Errorf("audit = %s", got)
	}
	// A key of another organisation answers like none, to its owner too.
	otherOrg := onramp.Organization{ID: "org_2"}
	if _, _, err := h.m.Reveal(t.Context(), member(otherOrg, onramp.RoleOwner), "org_2", prod.ID); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("revealing org_1's key through org_2: %v, want ENOTFOUND", err)
	}
}

func TestOverlapBounds(t *testing.T) {
	for overlap, want := range map[string]string{"": "24h0m0s", "0s": "0s", "720h": "720h0m0s", " 48h ": "48h0m0s", "720h0m1s": "", "-1s": "", "a day": ""} {
		d, err := onramp.ParseOverlap(overlap)
		if want == "" {
			if onramp.ErrorCode(err) != onramp.EINVALID {
				t.Errorf("ParseOverlap(%q) = %v, %v; want EINVALID", overlap, d, err)
			}
			continue
		}
		if err != nil || d.String() != want {
			t.Errorf("ParseOverlap(%q) = %v, %v; want %s", overlap, d, err, want)
		}
	}
	for ext, ok := range map[string]bool{"1s": true, "720h": true, "0s": false, "720h0m1s": false, "": false} {
		if _, err := onramp.ParseExtension(ext); (err == nil) != ok {
			t.Errorf("ParseExtension(%q) = %v, want accepted %v", ext, err, ok)
		}
	}
}

func TestStartRotation(t *testing.T) {
	h := mustManager(t, org1, onramp.Plan{Name: "standard"})
	owner := member(org1, onramp.RoleOwner)
	sb, _, _ := h.m.Create(t.Context(), owner, org1.ID, credentials.NewCredential{Environment: onramp.Sandbox, Label: "sb"})
	prod, _, _ := h.m.Create(t.Context(), owner, org1.ID, credentials.NewCredential{Environment: onramp.Production, Label: "prod"})

	if _, err := h.m.StartRotation(t.Context(), owner, org1.ID, sb.ID, "721h"); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("an overlap over 30 days: %v, want EINVALID", err)
	}
	if _, err := h.m.StartRotation(t.Context(), member(org1, onramp.RoleViewer), org1.ID, sb.ID, ""); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a viewer rotating: %v, want EFORBIDDEN", err)
	}
	r, err := h.m.StartRotation(t.Context(), owner, org1.ID, sb.ID, "")
	if err != nil || r.Status != onramp.RotationOverlapping || r.Overlap != "24h0m0s" || r.WorkflowID != "rotation-"+sb.ID || r.RequestedBy != owner.Email {
		t.Fatalf("rotating the sandbox key: %+v, %v; want it overlapping for the default 24h", r, err)
	}
	if _, err := h.m.StartRotation(t.Context(), owner, org1.ID, sb.ID, ""); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("rotating it again while it rotates: %v, want ECONFLICT", err)
	}
	elevated, err := h.m.StartRotation(t.Context(), owner, org1.ID, prod.ID, "1h")
	if err != nil || elevated.Status != onramp.RotationPendingReview {
		t.Errorf("rotating the production key: %+v, %v; want it waiting for review", elevated, err)
	}
	if _, err := h.keys.Revoke(t.Context(), org1.ID, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.StartRotation(t.Context(), owner, org1.ID, sb.ID, ""); onramp.ErrorCode(err) != onramp.ECONFLICT || !strings.Contains(err.Error(), "only an active key") {
		t.Errorf("rotating a revoked key: %v, want ECONFLICT naming why", err)
	}
	views, err := h.m.Rotations(t.Context(), owner, org1.ID)
	running := 0
	for _, v := range views {
		if v.Running() {
			running++
		}
	}
	if err != nil || running != 2 {
		t.Errorf("rotations = %+v, %v; want the two that started running, the refused attempt recorded cancelled", views, err)
	}
	if got := h.auditActions(t, org1.ID); strings.Count(got, "credential.rotation.started") != 2 {
		t.Errorf("audit = %s, want two rotations started", got)
	}
}

func TestARotationThatCannotStartIsRecordedCancelled(t *testing.T) {
	h := mustManager(t, org1, onramp.Plan{Name: "standard"})
	owner := member(org1, onramp.RoleOwner)
	sb, _, _ := h.m.Create(t.Context(), owner, org1.ID, credentials.NewCredential{Environment: onramp.Sandbox, Label: "sb"})
	h.lifecycle.refuse = errors.New("temporal is down")
	if _, err := h.m.StartRotation(t.Context(), owner, org1.ID, sb.ID, ""); err == nil {
		t.Fatal("started without its workflow")
	}
	rs, _ := h.store.RotationsOf(t.Context(), org1.ID)
	if len(rs) != 1 || rs[0].Status != onramp.RotationCancelled || !strings.HasPrefix(rs[0].Note, "could not start") || strings.Contains(rs[0].Note, "temporal") {
		t.Errorf("rotations = %+v, want one cancelled saying it could not start, without the internal error", rs)
	}
	if got := h.auditActions(t, org1.ID); strings.Contains(got, "rotation.started") {
		t.Errorf("audit = %s, want no rotation recorded as started", got)
	}
}

func TestRotationViewsCountTheOldKeysRecentCalls(t *testing.T) {
	h := mustManager(t, org1, onramp.Plan{Name: "standard"})
	owner := member(org1, onramp.RoleOwner)
	sb, _, _ := h.m.Create(t.Context(), owner, org1.ID, credentials.NewCredential{Environment: onramp.Sandbox, Label: "sb"})
	r, err := h.m.StartRotation(t.Context(), owner, org1.ID, sb.ID, "2h")
	if err != nil {
		t.Fatal(err)
	}
	expires := now.Add(2 * time.Hour)
	r.ExpiresAt = &expires
	_ = h.store.SaveRotation(t.Context(), r)
	// A gateway node's flush: the key's calls per minute, as the data plane keeps them.
	use := onramp.CredentialUse{CredentialID: sb.ID, LastUsedAt: now.Add(-time.Minute)}
	for _, ago := range []time.Duration{61 * time.Minute, 59 * time.Minute, 30 * time.Minute, time.Minute} {
		use.Minutes = append(use.Minutes, onramp.MinuteCalls{Minute: now.Add(-ago), Calls: 1})
	}
	if err := h.usage.SaveNode(t.Context(), onramp.GatewayNode{ID: "gw-test", StartedAt: now.Add(-2 * time.Hour), SeenAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := h.usage.SaveUsage(t.Context(), "gw-test", onramp.UsageFlush{Head: onramp.UsageHead{OrgID: org1.ID, UpdatedAt: now, Credentials: []onramp.CredentialUse{use}}}); err != nil {
		t.Fatal(err)
	}
	h.clock = now.Add(30 * time.Minute)
	views, err := h.m.Rotations(t.Context(), owner, org1.ID)
	if err != nil || len(views) != 1 {
		t.Fatalf("views = %v, %v", views, err)
	}
	if v := views[0]; v.OldKeyCallsLastHour != 2 || v.SecondsLeft != 90*60 {
		t.Errorf("old key calls in the last hour %d (want the 2 inside it), seconds left %d (want 5400)", v.OldKeyCallsLastHour, v.SecondsLeft)
	}
	keys, err := h.m.List(t.Context(), owner, org1.ID)
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(now.Add(-time.Minute)) {
		t.Errorf("keys = %+v, %v; want the gateways' last use shown", keys, err)
	}
}

func TestRotationActions(t *testing.T) {
	h := mustManager(t, org1, onramp.Plan{Name: "standard"})
	owner, dev := member(org1, onramp.RoleOwner), member(org1, onramp.RoleDeveloper)
	prod, _, _ := h.m.Create(t.Context(), owner, org1.ID, credentials.NewCredential{Environment: onramp.Production, Label: "prod"})
	r, err := h.m.StartRotation(t.Context(), owner, org1.ID, prod.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.ActOnRotation(t.Context(), owner, org1.ID, r.ID, onramp.RotationApprove, onramp.RotationAction{}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("a partner approving its own rotation: %v, want ENOTFOUND (not a partner action)", err)
	}
	if _, err := h.m.ActOnRotation(t.Context(), dev, org1.ID, r.ID, onramp.RotationCancel, onramp.RotationAction{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a developer cancelling a production rotation: %v, want EFORBIDDEN", err)
	}
	otherOrg := onramp.Organization{ID: "org_2"}
	if _, err := h.m.ActOnRotation(t.Context(), member(otherOrg, onramp.RoleOwner), "org_2", r.ID, onramp.RotationCancel, onramp.RotationAction{}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("org_2 cancelling org_1's rotation: %v, want ENOTFOUND", err)
	}
	if _, err := h.m.ActOnRotation(t.Context(), owner, org1.ID, r.ID, onramp.RotationCancel, onramp.RotationAction{By: "someone-else@x.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.ReviewRotation(t.Context(), owner, r.ID, onramp.RotationApprove, onramp.RotationAction{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner reviewing: %v, want EFORBIDDEN", err)
	}
	if _, err := h.m.RotationQueue(t.Context(), owner, nil, onramp.PageRequest{}); onramp.ErrorCode(err) != onramp.EFORBIDDEN {
		t.Errorf("a partner reading the review queue: %v, want EFORBIDDEN", err)
	}
	provider := onramp.ProviderActor("provider admin")
	queue, err := h.m.RotationQueue(t.Context(), provider, nil, onramp.PageRequest{})
	if err != nil || len(queue.Items) != 1 || queue.Items[0].ID != r.ID {
		t.Errorf("review queue = %v, %v; want the pending rotation", queue, err)
	}
	if _, err := h.m.RotationQueue(t.Context(), provider, nil, onramp.PageRequest{Limit: onramp.MaxPageLimit + 1}); onramp.ErrorCode(err) != onramp.EINVALID {
		t.Errorf("a page of %d = %v, want EINVALID", onramp.MaxPageLimit+1, err)
	}
	if _, err := h.m.ReviewRotation(t.Context(), provider, r.ID, "delete", onramp.RotationAction{}); onramp.ErrorCode(err) != onramp.ENOTFOUND {
		t.Errorf("an unknown review action: %v, want ENOTFOUND", err)
	}
	if _, err := h.m.ReviewRotation(t.Context(), provider, r.ID, onramp.RotationReject, onramp.RotationAction{Reason: "no"}); err != nil {
		t.Fatal(err)
	}
	want := r.ID + " cancel by owner@p.example, " + r.ID + " reject by provider admin"
	if got := strings.Join(h.lifecycle.acts, ", "); got != want {
		t.Errorf("sent to the workflow: %s, want %s (the acting member, never a name from the body)", got, want)
	}
}
