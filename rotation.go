package onramp

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Rotation statuses.
const (
	RotationStarting      = "starting"       // the workflow is asking policies/rotation
	RotationPendingReview = "pending_review" // the security review decides first
	RotationOverlapping   = "overlapping"    // both keys work until the old one's expires_at
	RotationCompleted     = "completed"      // the old key is revoked
	RotationCancelled     = "cancelled"      // stopped before the new key was issued
	RotationRejected      = "rejected"       // the security review said no
)

// Overlap bounds: how long both keys work, unless the partner says otherwise.
const (
	DefaultOverlap = 24 * time.Hour
	MaxOverlap     = 30 * 24 * time.Hour
)

// ParseOverlap reads a rotation's overlap: "" is DefaultOverlap; otherwise 0s to MaxOverlap.
func ParseOverlap(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultOverlap, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 || d > MaxOverlap {
		return 0, Errorf(EINVALID, "overlap %q must be a duration from 0s to 720h (30 days), e.g. 24h", s)
	}
	return d, nil
}

// ParseExtension reads an extended overlap, counted from now: more than 0s, up to MaxOverlap.
func ParseExtension(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 || d > MaxOverlap {
		return 0, Errorf(EINVALID, `give the new overlap from now, up to 720h (30 days): {"overlap": "48h"}`)
	}
	return d, nil
}

// Rotation replaces a credential with a new one, both working during an overlap window.
type Rotation struct {
	ID              string     `json:"id" bson:"_id"`
	OrgID           string     `json:"org_id" bson:"org_id"`
	OldCredentialID string     `json:"old_credential_id" bson:"old_credential_id"`
	NewCredentialID string     `json:"new_credential_id,omitempty" bson:"new_credential_id,omitempty"`
	Environment     string     `json:"environment" bson:"environment"`
	Label           string     `json:"label" bson:"label"`
	Overlap         string     `json:"overlap" bson:"overlap"` // Go duration, e.g. 24h0m0s
	Status          string     `json:"status" bson:"status"`
	ReviewRequired  bool       `json:"review_required" bson:"review_required"`
	ReviewReasons   []string   `json:"review_reasons,omitempty" bson:"review_reasons,omitempty"`
	Reviewer        string     `json:"reviewer,omitempty" bson:"reviewer,omitempty"`
	Note            string     `json:"note,omitempty" bson:"note,omitempty"` // rejection reason
	ExpiresAt       *time.Time `json:"expires_at,omitempty" bson:"expires_at,omitempty"`
	RequestedBy     string     `json:"requested_by" bson:"requested_by"`
	CreatedAt       time.Time  `json:"created_at" bson:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at" bson:"updated_at"`
	// WorkflowID is the rotation's workflow: one per credential, so a second concurrent rotation
	// of a key cannot start (empty for rotations started before: their id named the workflow).
	WorkflowID string `json:"workflow_id,omitempty" bson:"workflow_id,omitempty"`
}

// Running reports whether the rotation still holds its credential: deciding, waiting for its
// review or overlapping. A credential has at most one running rotation.
func (r Rotation) Running() bool {
	return slices.Contains([]string{RotationStarting, RotationPendingReview, RotationOverlapping}, r.Status)
}

// RotationStore keeps rotations (the read model the workflow writes).
type RotationStore interface {
	SaveRotation(ctx context.Context, r Rotation) error
	// FindRotation returns ENOTFOUND for an unknown id.
	FindRotation(ctx context.Context, id string) (Rotation, error)
	// RotationsOf lists an organisation's rotations, newest first.
	RotationsOf(ctx context.Context, orgID string) ([]Rotation, error)
	// RotationsIn returns a page of the rotations in one of the statuses, oldest first
	// (QueuePosition order).
	RotationsIn(ctx context.Context, statuses []string, page PageRequest) (Page[Rotation], error)
}

// Rotations runs credential rotations (lifecycles.Temporal).
type Rotations interface {
	// RotationWorkflowID is the workflow id a new rotation of the credential gets (r.WorkflowID):
	// one rotation of a credential runs at a time.
	RotationWorkflowID(credentialID string) string
	// StartRotation starts rotating r.OldCredentialID; ECONFLICT when a rotation of it runs.
	StartRotation(ctx context.Context, r Rotation) error
	// Rotate acts on a running rotation: approve, reject (reviewer), revoke-old-now, extend, cancel.
	Rotate(ctx context.Context, r Rotation, action string, a RotationAction) error
}

// Rotation actions: the partner's, during the overlap or before the new key exists, and the
// security reviewer's.
const (
	RotationRevokeOldNow = "revoke-old-now"
	RotationExtend       = "extend"
	RotationCancel       = "cancel"
	RotationApprove      = "approve"
	RotationReject       = "reject"
)

// RotationAction is the payload of a rotation action.
type RotationAction struct {
	By      string `json:"by"`
	Reason  string `json:"reason,omitempty"`  // reject
	Overlap string `json:"overlap,omitempty"` // extend: the new overlap from now, e.g. "48h"
}

// Position is where r sits in its organisation's list: newest first.
func (r Rotation) Position() Position { return Position{Key: NewestFirst(r.CreatedAt), ID: r.ID} }

// QueuePosition is where r sits in the review queue: oldest first.
func (r Rotation) QueuePosition() Position { return Position{Key: OldestFirst(r.CreatedAt), ID: r.ID} }
