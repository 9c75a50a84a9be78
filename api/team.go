package api

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/team"
)

// Team management: /api/v1/orgs/{org}/members, invitations, transfer-ownership and audit, and
// the /team page. Every rule is team.Service's.

func (s *Server) teamRoutes(g routeGroups) {
	org, pages := g.org, g.pages
	org.GET("/members", s.apiMembers)
	org.PATCH("/members/:identity", s.apiChangeRole)
	org.DELETE("/members/:identity", s.apiRemoveMember)
	org.POST("/transfer-ownership", s.apiTransferOwnership)
	org.GET("/invitations", s.apiInvitations)
	org.POST("/invitations", s.apiInviteMember)
	org.DELETE("/invitations/:id", s.apiCancelInvitation)
	org.POST("/invitations/:id/resend", s.apiResendMemberInvitation)
	org.GET("/audit", s.apiAudit)

	teamPages := pages.Group("/team")
	teamPages.GET("", s.teamPage)
	teamPages.POST("/invite", s.sameOrigin, s.teamInvite)
	teamPages.POST("/invitations/:id/:op", s.sameOrigin, s.teamInvitationAction)
	teamPages.POST("/members/:identity/:op", s.sameOrigin, s.teamMemberAction)
	teamPages.POST("/transfer", s.sameOrigin, s.teamTransfer)
}

func (s *Server) apiMembers(c *gin.Context) {
	page, err := pageRequest(c, "cursor")
	var ms onramp.Page[onramp.Member]
	if err == nil {
		ms, err = s.cfg.TeamService.Members(c.Request.Context(), actor(c), c.Param("org"), page)
	}
	s.respond(c, http.StatusOK, pageBody("members", ms), err)
}

func (s *Server) apiInvitations(c *gin.Context) {
	page, err := pageRequest(c, "cursor")
	var invs onramp.Page[onramp.MemberInvitation]
	if err == nil {
		invs, err = s.cfg.TeamService.Invitations(c.Request.Context(), actor(c), c.Param("org"), page)
	}
	s.respond(c, http.StatusOK, pageBody("invitations", invs), err)
}

func (s *Server) apiAudit(c *gin.Context) {
	page, err := pageRequest(c, "cursor")
	var events onramp.Page[onramp.AuditEvent]
	if err == nil {
		events, err = s.cfg.TeamService.Audit(c.Request.Context(), actor(c), c.Param("org"), page)
	}
	s.respond(c, http.StatusOK, pageBody("events", events), err)
}

func (s *Server) apiInviteMember(c *gin.Context) {
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if !s.bind(c, &in, `send {"email": "…", "role": "developer"}`) {
		return
	}
	inv, err := s.cfg.TeamService.Invite(c.Request.Context(), actor(c), c.Param("org"), in.Email, in.Role)
	s.respond(c, http.StatusCreated, inv, err)
}

func (s *Server) apiCancelInvitation(c *gin.Context) {
	s.noContent(c, s.cfg.TeamService.CancelInvitation(c.Request.Context(), actor(c), c.Param("org"), c.Param("id")))
}

func (s *Server) apiResendMemberInvitation(c *gin.Context) {
	s.noContent(c, s.cfg.TeamService.ResendInvitation(c.Request.Context(), actor(c), c.Param("org"), c.Param("id")))
}

func (s *Server) apiChangeRole(c *gin.Context) {
	var in struct {
		Role string `json:"role"`
	}
	if !s.bind(c, &in, `send {"role": "developer"}`) {
		return
	}
	s.noContent(c, s.cfg.TeamService.ChangeRole(c.Request.Context(), actor(c), c.Param("org"), c.Param("identity"), in.Role))
}

func (s *Server) apiRemoveMember(c *gin.Context) {
	s.noContent(c, s.cfg.TeamService.Remove(c.Request.Context(), actor(c), c.Param("org"), c.Param("identity")))
}

func (s *Server) apiTransferOwnership(c *gin.Context) {
	var in struct {
		IdentityID string `json:"identity_id"`
	}
	if !s.bind(c, &in, `send {"identity_id": "…"} of the member who becomes owner`) {
		return
	}
	if in.IdentityID == "" {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"identity_id": "…"} of the member who becomes owner`))
		return
	}
	s.noContent(c, s.cfg.TeamService.TransferOwnership(c.Request.Context(), actor(c), c.Param("org"), in.IdentityID))
}

// The /team page.

type teamView struct {
	page
	Members                  listView[onramp.Member]
	Invitations              listView[onramp.MemberInvitation]
	Audit                    listView[onramp.AuditEvent]
	CanManage, CanTransfer   bool
	Memberships              []onramp.Membership
	Org                      onramp.Membership
	Roles                    []string
	MyID                     string
	Notice, Error, FormEmail string
}

func (s *Server) teamPage(c *gin.Context) { s.renderTeam(c, http.StatusOK, "", "") }

// renderTeam shows a page of each of the team's lists (members_cursor, invitations_cursor,
// audit_cursor).
func (s *Server) renderTeam(c *gin.Context, status int, errMsg, formEmail string) {
	a := actor(c)
	var p team.Pages
	var err error
	for param, dst := range map[string]*onramp.PageRequest{"members_cursor": &p.Members, "invitations_cursor": &p.Invitations, "audit_cursor": &p.Audit} {
		if *dst, err = pageRequest(c, param); err != nil {
			s.failPage(c, err)
			return
		}
	}
	v, err := s.cfg.TeamService.Team(c.Request.Context(), a, currentOrg(c, a), p)
	if err != nil {
		s.failPage(c, err)
		return
	}
	s.render(c, status, "team.html", teamView{page: s.signedInPage("Team"), Members: listOf(c, "members_cursor", "members", v.Members),
		Invitations: listOf(c, "invitations_cursor", "invitations", v.Invitations), Audit: listOf(c, "audit_cursor", "audit", v.Audit),
		CanManage: v.CanManage, CanTransfer: v.CanTransfer, Memberships: a.Memberships, Org: v.Membership,
		Roles: []string{onramp.RoleAdmin, onramp.RoleDeveloper, onramp.RoleViewer}, MyID: a.IdentityID,
		Notice: s.takeFlash(c).Notice, Error: errMsg, FormEmail: formEmail})
}

// teamResult redirects back to the team page with a notice, or shows the page with the error.
func (s *Server) teamResult(c *gin.Context, err error, notice string) {
	if err != nil {
		s.logInternal(c, err)
		s.renderTeam(c, statusOf(err), onramp.ErrorMessage(err), c.PostForm("email"))
		return
	}
	s.redirectNotice(c, "/team?org="+url.QueryEscape(currentOrg(c, actor(c))), notice)
}

func (s *Server) teamInvite(c *gin.Context) {
	inv, err := s.cfg.TeamService.Invite(c.Request.Context(), actor(c), currentOrg(c, actor(c)), c.PostForm("email"), c.PostForm("role"))
	s.teamResult(c, err, "Invitation sent to "+inv.Email+".")
}

func (s *Server) teamInvitationAction(c *gin.Context) {
	ctx, a := c.Request.Context(), actor(c)
	org := currentOrg(c, a)
	switch c.Param("op") {
	case "cancel":
		s.teamResult(c, s.cfg.TeamService.CancelInvitation(ctx, a, org, c.Param("id")), "Invitation cancelled.")
	case "resend":
		s.teamResult(c, s.cfg.TeamService.ResendInvitation(ctx, a, org, c.Param("id")), "Invitation re-sent.")
	default:
		s.notFound(c)
	}
}

func (s *Server) teamMemberAction(c *gin.Context) {
	ctx, a := c.Request.Context(), actor(c)
	org := currentOrg(c, a)
	switch c.Param("op") {
	case "role":
		s.teamResult(c, s.cfg.TeamService.ChangeRole(ctx, a, org, c.Param("identity"), c.PostForm("role")), "Role changed.")
	case "remove":
		s.teamResult(c, s.cfg.TeamService.Remove(ctx, a, org, c.Param("identity")), "Member removed; their sessions have ended.")
	default:
		s.notFound(c)
	}
}

func (s *Server) teamTransfer(c *gin.Context) {
	s.teamResult(c, s.cfg.TeamService.TransferOwnership(c.Request.Context(), actor(c), currentOrg(c, actor(c)), c.PostForm("identity_id")),
		"Ownership transferred; you are now an admin.")
}
