package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

// Credential rotation: the partner starts it on a credential (choosing the overlap), watches
// both keys and how much the old one is still used, and may revoke the old key early, extend the
// overlap or cancel before the new key exists. Elevated rotations wait for the provider's review.

// Overlap bounds and default.
const (
	DefaultOverlap = 24 * time.Hour
	MaxOverlap     = 30 * 24 * time.Hour
)

// rotationView is a rotation with how much the old key was used in the last hour.
type rotationView struct {
	onramp.Rotation
	OldKeyCallsLastHour int64 `json:"old_key_calls_last_hour"`
	SecondsLeft         int64 `json:"seconds_left,omitempty"`
}

var runningRotation = []string{onramp.RotationStarting, onramp.RotationPendingReview, onramp.RotationOverlapping}

func (s *Server) rotationViews(ctx context.Context, orgID string) ([]rotationView, error) {
	rs, err := s.cfg.RotationStore.RotationsOf(ctx, orgID)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	out := make([]rotationView, 0, len(rs))
	for _, r := range rs {
		v := rotationView{Rotation: r}
		if slices.Contains(runningRotation, r.Status) {
			if v.OldKeyCallsLastHour, err = s.cfg.Usage.CallsWith(ctx, r.OrgID, r.OldCredentialID, now.Add(-time.Hour)); err != nil {
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

// startRotation checks the member may rotate the credential and starts its rotation.
func (s *Server) startRotation(ctx context.Context, p Principal, orgID, credID, overlap string) (onramp.Rotation, error) {
	cred, err := s.credentialAction(ctx, p, orgID, credID, "credential.rotate")
	if err != nil {
		return onramp.Rotation{}, err
	}
	d := DefaultOverlap
	if strings.TrimSpace(overlap) != "" {
		if d, err = time.ParseDuration(strings.TrimSpace(overlap)); err != nil || d < 0 || d > MaxOverlap {
			return onramp.Rotation{}, onramp.Errorf(onramp.EINVALID, "overlap %q must be a duration from 0s to 720h (30 days), e.g. 24h", overlap)
		}
	}
	if cred.Status != onramp.CredentialActive {
		return onramp.Rotation{}, onramp.Errorf(onramp.ECONFLICT, "%s is %s; only an active key can be rotated", cred.Label, cred.Status)
	}
	existing, err := s.cfg.RotationStore.RotationsOf(ctx, orgID)
	if err != nil {
		return onramp.Rotation{}, err
	}
	for _, r := range existing {
		if r.OldCredentialID == cred.ID && slices.Contains(runningRotation, r.Status) {
			return r, onramp.Errorf(onramp.ECONFLICT, "%s is already being rotated (%s)", cred.Label, r.Status)
		}
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	now := s.cfg.Now()
	r := onramp.Rotation{ID: "rot_" + hex.EncodeToString(b[:]), OrgID: orgID, OldCredentialID: cred.ID, Environment: cred.Environment, Label: cred.Label,
		Overlap: d.String(), Status: onramp.RotationStarting, RequestedBy: p.Session.Email, CreatedAt: now, UpdatedAt: now}
	if err := s.cfg.RotationStore.SaveRotation(ctx, r); err != nil {
		return r, err
	}
	if err := s.cfg.Rotations.StartRotation(ctx, r); err != nil {
		// Not started: record it cancelled, so it does not block the next attempt.
		r.Status, r.Note = onramp.RotationCancelled, "could not start"
		if serr := s.cfg.RotationStore.SaveRotation(context.WithoutCancel(ctx), r); serr != nil {
			s.log.Error("record a rotation that could not start", "rotation", r.ID, "error", serr)
		}
		return r, err
	}
	s.audit(ctx, orgID, p.Session.Email, "credential.rotation.started", cred.Masked(), "overlap "+r.Overlap)
	// The workflow decides in a moment whether a review is needed; answer with its decision.
	id := r.ID
	awaitRecorded(ctx, 3*time.Second, func() bool {
		r, err = s.cfg.RotationStore.FindRotation(ctx, id)
		return err == nil && r.Status != onramp.RotationStarting
	})
	return r, err
}

func (s *Server) apiRotate(c *gin.Context) {
	var in struct {
		Overlap string `json:"overlap"`
	}
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"overlap": "24h"} (0s to 720h): %v`, err))
		return
	}
	r, err := s.startRotation(c.Request.Context(), principal(c), c.Param("org"), c.Param("id"), in.Overlap)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, r)
}

func (s *Server) apiRotations(c *gin.Context) {
	m, err := s.catalogOrg(c, c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	vs, err := s.rotationViews(c.Request.Context(), m.Organization.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"rotations": vs})
}

var partnerRotationActions = map[string]bool{"revoke-old-now": true, "extend": true, "cancel": true}

// rotationAction lets a member who may rotate the old credential act on its rotation.
func (s *Server) rotationAction(ctx context.Context, p Principal, orgID, id, action string, a onramp.RotationAction) (onramp.Rotation, error) {
	r, err := s.cfg.RotationStore.FindRotation(ctx, id)
	if err == nil && r.OrgID != orgID {
		err = onramp.Errorf(onramp.ENOTFOUND, "no rotation %q in your organisation", id)
	}
	if err != nil {
		return r, err
	}
	if !partnerRotationActions[action] {
		return r, onramp.Errorf(onramp.ENOTFOUND, "unknown action %q; use revoke-old-now, extend or cancel", action)
	}
	if _, err := s.authorize(ctx, p, orgID, "credential.rotate", map[string]any{"environment": r.Environment}); err != nil {
		return r, err
	}
	a.By = p.Session.Email
	if err := s.cfg.Rotations.Rotate(ctx, id, action, a); err != nil {
		return r, err
	}
	s.audit(ctx, orgID, p.Session.Email, "credential.rotation."+action, r.Label, a.Overlap)
	return s.cfg.RotationStore.FindRotation(ctx, id)
}

func (s *Server) apiRotationAction(c *gin.Context) {
	var a onramp.RotationAction
	if err := c.ShouldBindJSON(&a); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {} or, to extend, {"overlap": "48h"}: %v`, err))
		return
	}
	r, err := s.rotationAction(c.Request.Context(), principal(c), c.Param("org"), c.Param("id"), c.Param("action"), a)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// Provider: the security review of elevated rotations.

func (s *Server) apiAdminRotations(c *gin.Context) {
	statuses := []string{onramp.RotationPendingReview}
	if st := c.Query("status"); st != "" {
		statuses = strings.Split(st, ",")
	}
	rs, err := s.cfg.RotationStore.RotationsIn(c.Request.Context(), statuses)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"rotations": rs})
}

func (s *Server) reviewRotation(ctx context.Context, id, action string, a onramp.RotationAction) (onramp.Rotation, error) {
	if action != "approve" && action != "reject" {
		return onramp.Rotation{}, onramp.Errorf(onramp.ENOTFOUND, "unknown action %q; use approve or reject", action)
	}
	if strings.TrimSpace(a.By) == "" {
		a.By = "provider admin"
	}
	if _, err := s.cfg.RotationStore.FindRotation(ctx, id); err != nil {
		return onramp.Rotation{}, err
	}
	if err := s.cfg.Rotations.Rotate(ctx, id, action, a); err != nil {
		return onramp.Rotation{}, err
	}
	return s.cfg.RotationStore.FindRotation(ctx, id)
}

func (s *Server) apiAdminRotationAction(c *gin.Context) {
	var a onramp.RotationAction
	if err := c.ShouldBindJSON(&a); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"by": "sec@provider.example", "reason": "…"}: %v`, err))
		return
	}
	r, err := s.reviewRotation(c.Request.Context(), c.Param("id"), c.Param("action"), a)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// UI forms.

func (s *Server) credentialsRotate(c *gin.Context) {
	p := principal(c)
	orgID := currentOrg(c, p)
	r, err := s.startRotation(c.Request.Context(), p, orgID, c.Param("id"), c.PostForm("overlap"))
	if err != nil {
		s.renderCredentials(c, http.StatusBadRequest, credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	notice := r.Label + " is rotating: both keys work until the overlap ends."
	if r.Status == onramp.RotationPendingReview {
		notice = r.Label + ": the rotation waits for the provider's security review."
	}
	c.Redirect(http.StatusSeeOther, "/credentials?org="+orgID+"&notice="+urlQuery(notice))
}

func (s *Server) credentialsRotationAction(c *gin.Context) {
	p := principal(c)
	orgID := currentOrg(c, p)
	r, err := s.rotationAction(c.Request.Context(), p, orgID, c.Param("id"), c.Param("action"), onramp.RotationAction{Overlap: c.PostForm("overlap")})
	if err != nil {
		s.renderCredentials(c, http.StatusConflict, credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	c.Redirect(http.StatusSeeOther, "/credentials?org="+orgID+"&notice="+urlQuery("Rotation of "+r.Label+": "+c.Param("action")+" done."))
}

func (s *Server) adminRotationAction(c *gin.Context) {
	_, err := s.reviewRotation(c.Request.Context(), c.Param("id"), c.Param("action"), onramp.RotationAction{By: c.PostForm("by"), Reason: c.PostForm("reason")})
	if err != nil {
		s.adminReviewsPage(c, http.StatusConflict, reviewsView{Error: onramp.ErrorMessage(err)})
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/reviews?notice="+urlQuery("Rotation "+c.Param("id")+": "+c.Param("action")+"d."))
}
