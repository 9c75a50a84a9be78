package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

// Credential rotation (credentials.Manager): started and acted on by members, reviewed by the
// provider when elevated.

func (s *Server) apiRotate(c *gin.Context) {
	var in struct {
		Overlap string `json:"overlap"`
	}
	if !s.bind(c, &in, `send {"overlap": "24h"} (0s to 720h)`) {
		return
	}
	r, err := s.cfg.Credentials.StartRotation(c.Request.Context(), actor(c), c.Param("org"), c.Param("id"), in.Overlap)
	s.respond(c, http.StatusAccepted, r, err)
}

func (s *Server) apiRotations(c *gin.Context) {
	vs, err := s.cfg.Credentials.Rotations(c.Request.Context(), actor(c), c.Param("org"))
	s.respond(c, http.StatusOK, gin.H{"rotations": vs}, err)
}

func (s *Server) apiRotationAction(c *gin.Context) {
	var a onramp.RotationAction
	if !s.bind(c, &a, `send {} or, to extend, {"overlap": "48h"}`) {
		return
	}
	r, err := s.cfg.Credentials.ActOnRotation(c.Request.Context(), actor(c), c.Param("org"), c.Param("id"), c.Param("action"), a)
	s.respond(c, http.StatusOK, r, err)
}

func (s *Server) apiAdminRotations(c *gin.Context) {
	var statuses []string
	if st := c.Query("status"); st != "" {
		statuses = strings.Split(st, ",")
	}
	page, err := pageRequest(c, "cursor")
	var rs onramp.Page[onramp.Rotation]
	if err == nil {
		rs, err = s.cfg.Credentials.RotationQueue(c.Request.Context(), adminActor(), statuses, page)
	}
	s.respond(c, http.StatusOK, pageBody("rotations", rs), err)
}

func (s *Server) apiAdminRotationAction(c *gin.Context) {
	var a onramp.RotationAction
	if !s.bind(c, &a, `send {"by": "sec@provider.example", "reason": "…"}`) {
		return
	}
	r, err := s.cfg.Credentials.ReviewRotation(c.Request.Context(), adminActor(), c.Param("id"), c.Param("action"), a)
	s.respond(c, http.StatusOK, r, err)
}

// UI forms.

func (s *Server) credentialsRotate(c *gin.Context) {
	orgID := currentOrg(c, actor(c))
	r, err := s.cfg.Credentials.StartRotation(c.Request.Context(), actor(c), orgID, c.Param("id"), c.PostForm("overlap"))
	if err != nil {
		s.renderCredentials(c, statusOf(err), credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	notice := r.Label + " is rotating: both keys work until the overlap ends."
	if r.Status == onramp.RotationPendingReview {
		notice = r.Label + ": the rotation waits for the provider's security review."
	}
	s.redirectNotice(c, "/credentials?org="+url.QueryEscape(orgID), notice)
}

func (s *Server) credentialsRotationAction(c *gin.Context) {
	orgID := currentOrg(c, actor(c))
	r, err := s.cfg.Credentials.ActOnRotation(c.Request.Context(), actor(c), orgID, c.Param("id"), c.Param("action"), onramp.RotationAction{Overlap: c.PostForm("overlap")})
	if err != nil {
		s.renderCredentials(c, statusOf(err), credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/credentials?org="+url.QueryEscape(orgID), "Rotation of "+r.Label+": "+c.Param("action")+" done.")
}

func (s *Server) adminRotationAction(c *gin.Context) {
	_, err := s.cfg.Credentials.ReviewRotation(c.Request.Context(), adminActor(), c.Param("id"), c.Param("action"), onramp.RotationAction{By: c.PostForm("by"), Reason: c.PostForm("reason")})
	if err != nil {
		s.adminReviewsPage(c, statusOf(err), reviewsView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/reviews", "Rotation "+c.Param("id")+": "+c.Param("action")+"d.")
}
