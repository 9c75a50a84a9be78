package credentials

import (
	"context"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// Credential rotation: a member starts it on a key (choosing the overlap), watches both keys and
// how much the old one is still used, and may revoke the old key early, extend the overlap or
// cancel before the new key exists. Elevated rotations wait for the provider's security review.
// The rotation's workflow holds the rules of its steps; the workflow id (one per credential)
// is what keeps a key from being rotated twice at once.

// RotationView is a rotation with how much the old key was used in the last hour.
type RotationView struct {
	onramp.Rotation
	OldKeyCallsLastHour int64 `json:"old_key_calls_last_hour"`
	SecondsLeft         int64 `json:"seconds_left,omitempty"`
}

// Rotations lists the organisation's rotations, newest first.
func (m *Manager) Rotations(ctx context.Context, a onramp.Actor, orgID string) ([]RotationView, error) {
	if _, err := onramp.Authorize(ctx, m.cfg.Policy, a, orgID, onramp.ActionCatalogView, onramp.Target{}); err != nil {
		return nil, err
	}
	rs, err := m.cfg.RotationStore.RotationsOf(ctx, orgID)
	if err != nil {
		return nil, err
	}
	now := m.cfg.Now()
	out := make([]RotationView, 0, len(rs))
	for _, r := range rs {
		v := RotationView{Rotation: r}
		if r.Running() {
			if v.OldKeyCallsLastHour, err = m.cfg.Usage.CallsWith(ctx, r.OrgID, r.OldCredentialID, now.Add(-time.Hour)); err != nil {
				return nil, err
			}
		}
		if r.ExpiresAt != nil && r.Status == onramp.RotationOverlapping {
			v.SecondsLeft = max(0, int64(r.ExpiresAt.Sub(now).Seconds()))
		}
		out = append(out, v)
	}
	return out, nil
}

// StartRotation starts rotating an active credential with overlap ("" for the default) and
// returns the rotation as its workflow first decided it: overlapping, or waiting for review.
// EINVALID for a bad overlap, ECONFLICT for a key that is not active or is rotating already.
func (m *Manager) StartRotation(ctx context.Context, a onramp.Actor, orgID, credID, overlap string) (onramp.Rotation, error) {
	cred, err := m.authorized(ctx, a, orgID, credID, onramp.ActionCredentialRotate)
	if err != nil {
		return onramp.Rotation{}, err
	}
	d, err := onramp.ParseOverlap(overlap)
	if err != nil {
		return onramp.Rotation{}, err
	}
	if cred.Status != onramp.CredentialActive {
		return onramp.Rotation{}, onramp.Errorf(onramp.ECONFLICT, "%s is %s; only an active key can be rotated", cred.Label, cred.Status)
	}
	now := m.cfg.Now()
	r := onramp.Rotation{ID: onramp.NewID("rot"), OrgID: orgID, OldCredentialID: cred.ID, Environment: cred.Environment, Label: cred.Label,
		Overlap: d.String(), Status: onramp.RotationStarting, RequestedBy: a.Email, CreatedAt: now, UpdatedAt: now,
		WorkflowID: m.cfg.Rotations.RotationWorkflowID(cred.ID)}
	if err := m.cfg.RotationStore.SaveRotation(ctx, r); err != nil {
		return r, err
	}
	// Answers once the workflow has recorded its first decision (Update-with-Start).
	if err := m.cfg.Rotations.StartRotation(ctx, r); err != nil {
		// Not started (e.g. a concurrent rotation of the same key won): record it cancelled, so it
		// does not show as running.
		r.Status, r.Note = onramp.RotationCancelled, "could not start: "+onramp.ErrorMessage(err)
		if serr := m.cfg.RotationStore.SaveRotation(context.WithoutCancel(ctx), r); serr != nil {
			m.cfg.Logger.Error("record a rotation that could not start", "rotation", r.ID, "error", serr)
		}
		return r, err
	}
	m.audit.Record(ctx, orgID, a.Email, "credential.rotation.started", cred.Masked(), "overlap "+r.Overlap)
	return m.cfg.RotationStore.FindRotation(ctx, r.ID)
}

var partnerRotationActions = map[string]bool{onramp.RotationRevokeOldNow: true, onramp.RotationExtend: true, onramp.RotationCancel: true}

// ActOnRotation lets a member who may rotate the old key revoke it now, extend the overlap or
// cancel before the new key exists. ENOTFOUND for another organisation's rotation (the same
// answer as for none) or an unknown action; ECONFLICT when the rotation's state does not allow it.
func (m *Manager) ActOnRotation(ctx context.Context, a onramp.Actor, orgID, id, action string, act onramp.RotationAction) (onramp.Rotation, error) {
	if _, ok := a.In(orgID); !ok {
		return onramp.Rotation{}, onramp.NotYourOrganization(orgID) // before anything of the organisation is read
	}
	r, err := m.cfg.RotationStore.FindRotation(ctx, id)
	r, err = onramp.Owned(r, err, func(r onramp.Rotation) string { return r.OrgID }, orgID, "rotation", id)
	if err != nil {
		return r, err
	}
	if !partnerRotationActions[action] {
		return r, onramp.Errorf(onramp.ENOTFOUND, "unknown action %q; use revoke-old-now, extend or cancel", action)
	}
	if _, err := onramp.Authorize(ctx, m.cfg.Policy, a, orgID, onramp.ActionCredentialRotate, onramp.Target{Environment: r.Environment}); err != nil {
		return r, err
	}
	act.By = a.Email
	if err := m.cfg.Rotations.Rotate(ctx, r, action, act); err != nil {
		return r, err
	}
	m.audit.Record(ctx, orgID, a.Email, "credential.rotation."+action, r.Label, act.Overlap)
	return m.cfg.RotationStore.FindRotation(ctx, id)
}

// RotationQueue returns, for the provider, a page of the rotations in one of the statuses
// (default: those waiting for review), oldest first. EINVALID for a bad page.
func (m *Manager) RotationQueue(ctx context.Context, a onramp.Actor, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.Rotation], error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Page[onramp.Rotation]{}, err
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Rotation]{}, err
	}
	if len(statuses) == 0 {
		statuses = []string{onramp.RotationPendingReview}
	}
	return m.cfg.RotationStore.RotationsIn(ctx, statuses, page)
}

// ReviewRotation is the provider's security review of an elevated rotation: approve, or reject
// with the reason the partner reads. The reviewer is act.By, else the acting provider.
func (m *Manager) ReviewRotation(ctx context.Context, a onramp.Actor, id, action string, act onramp.RotationAction) (onramp.Rotation, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Rotation{}, err
	}
	if action != onramp.RotationApprove && action != onramp.RotationReject {
		return onramp.Rotation{}, onramp.Errorf(onramp.ENOTFOUND, "unknown action %q; use approve or reject", action)
	}
	if strings.TrimSpace(act.By) == "" {
		act.By = a.Email
	}
	r, err := m.cfg.RotationStore.FindRotation(ctx, id)
	if err != nil {
		return onramp.Rotation{}, err
	}
	if err := m.cfg.Rotations.Rotate(ctx, r, action, act); err != nil {
		return onramp.Rotation{}, err
	}
	return m.cfg.RotationStore.FindRotation(ctx, id)
}
