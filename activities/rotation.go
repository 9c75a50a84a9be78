package activities

import (
	"context"
	"time"

	"github.com/onramp-dev/onramp"
)

// RotationReview is policies/rotation's answer: whether the security team reviews first, and why.
type RotationReview struct {
	Required bool     `json:"required"`
	Reasons  []string `json:"reasons,omitempty"`
}

// EvaluateRotation asks policies/rotation whether rotating the old credential needs a review.
func (a *Activities) EvaluateRotation(ctx context.Context, r onramp.Rotation) (RotationReview, error) {
	c, err := a.CredentialStore.FindCredential(ctx, r.OldCredentialID)
	if err != nil {
		return RotationReview{}, temporalError(err)
	}
	scopes := map[string]any{}
	for _, s := range c.Scopes {
		scopes[s] = true
	}
	d, err := a.Policy.Decide(ctx, "rotation", map[string]any{"organization": map[string]any{"id": c.OrgID},
		"credential": map[string]any{"environment": c.Environment, "scopes": scopes}})
	if err != nil {
		return RotationReview{}, temporalError(err)
	}
	return RotationReview{Required: !d.Allow, Reasons: d.Reasons}, nil
}

// SaveRotation stores the rotation's read model.
func (a *Activities) SaveRotation(ctx context.Context, r onramp.Rotation) error {
	return temporalError(a.Rotations.SaveRotation(ctx, r))
}

// IssueRotatedCredential issues the replacement (same organisation, environment, scopes; label +
// " (rotated)") under an id fixed by the rotation, so a retry returns the same credential.
func (a *Activities) IssueRotatedCredential(ctx context.Context, r onramp.Rotation) (string, error) {
	c, err := a.Credentials.IssueRotated(ctx, r.OrgID, r.OldCredentialID, "cred_"+r.ID)
	if err != nil {
		return "", temporalError(err)
	}
	return c.ID, nil
}

// ExpireRotatedCredential marks the old credential expiring at the rotation's ExpiresAt.
func (a *Activities) ExpireRotatedCredential(ctx context.Context, r onramp.Rotation) error {
	if r.ExpiresAt == nil {
		return temporalError(onramp.Errorf(onramp.EINVALID, "rotation %s has no expiry", r.ID))
	}
	return temporalError(a.CredentialStore.ExpireCredential(ctx, r.OldCredentialID, *r.ExpiresAt))
}

// RevokeRotatedCredential revokes the old credential (the gateway refuses it since its expiry).
func (a *Activities) RevokeRotatedCredential(ctx context.Context, r onramp.Rotation) error {
	return temporalError(a.CredentialStore.RevokeCredential(ctx, r.OldCredentialID, time.Now()))
}

// Notice tells an organisation (or, for a review, the provider) about one of its lifecycles.
type Notice struct {
	OrgID     string `json:"org_id"`
	Kind      string `json:"kind"` // review, review-reminder (provider); anything else (organisation)
	Title     string `json:"title"`
	Body      string `json:"body"`
	Link      string `json:"link"`
	MessageID string `json:"message_id"`
}

// RotationNotice is a rotation's notice: review, review-reminder, issued, rejected, completed.
type RotationNotice = Notice

// NotifyRotation delivers a rotation's notice.
func (a *Activities) NotifyRotation(ctx context.Context, n RotationNotice) error {
	return a.deliver(ctx, n)
}

// deliver stores the notification and e-mails it: reviews to the provider's inbox and reviewers,
// the rest to the organisation's owners and admins.
func (a *Activities) deliver(ctx context.Context, n Notice) error {
	note := onramp.Notification{ID: n.MessageID, OrgID: n.OrgID, Title: n.Title, Body: n.Body, Link: n.Link, At: time.Now()}
	if n.Kind == "review" || n.Kind == "review-reminder" {
		note.OrgID = onramp.ProviderInbox
		if err := a.Onboarding.Notify(ctx, note); err != nil {
			return temporalError(err)
		}
		if a.ReviewersEmail == "" {
			return nil
		}
		return temporalError(a.Mailer.Send(ctx, onramp.Message{ID: n.MessageID, To: a.ReviewersEmail, Subject: n.Title, Text: n.Body + "\n\n" + n.Link + "\n"}))
	}
	return a.notifyOrg(ctx, n.OrgID, note)
}
