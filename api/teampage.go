package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

// sameOrigin refuses a form post whose Origin is another site's: the UI's session cookie must
// not act for a page elsewhere. (Kratos's cookie is SameSite=Lax as well.)
func (s *Server) sameOrigin(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin != "" && !strings.EqualFold(strings.TrimRight(origin, "/"), s.cfg.PortalURL) {
		writeProblem(c, problem.New(http.StatusForbidden, "cross-site-request", "Cross-site request refused",
			"This form can only be sent from the portal itself. Reload the page and try again."))
		return
	}
	c.Next()
}

type teamView struct {
	page
	Memberships              []Membership
	Org                      Membership
	Members                  []onramp.Member
	Invitations              []onramp.MemberInvitation
	Audit                    []onramp.AuditEvent
	Roles                    []string
	MyID                     string
	CanManage, CanTransfer   bool
	Notice, Error, FormEmail string
}

// currentOrg is the organisation named by ?org= (or the form's org), else the first one.
func currentOrg(c *gin.Context, p Principal) string {
	if id := c.Query("org"); id != "" {
		return id
	}
	if id := c.PostForm("org"); id != "" {
		return id
	}
	if len(p.Memberships) > 0 {
		return p.Memberships[0].Organization.ID
	}
	return ""
}

func (s *Server) teamPage(c *gin.Context) { s.renderTeam(c, http.StatusOK, "", "") }

func (s *Server) renderTeam(c *gin.Context, status int, errMsg, formEmail string) {
	ctx, p := c.Request.Context(), principal(c)
	orgID := currentOrg(c, p)
	m, err := s.authorize(ctx, p, orgID, "team.view", nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := teamView{page: page{Title: "Team", DevMode: s.cfg.DevMode, SignedIn: true}, Memberships: p.Memberships, Org: m,
		Roles: []string{onramp.RoleAdmin, onramp.RoleDeveloper, onramp.RoleViewer}, MyID: p.Session.IdentityID,
		Notice: s.takeFlash(c).Notice, Error: errMsg, FormEmail: formEmail}
	_, manageErr := s.authorize(ctx, p, orgID, "member.invite", nil)
	_, transferErr := s.authorize(ctx, p, orgID, "ownership.transfer", nil)
	v.CanManage, v.CanTransfer = manageErr == nil, transferErr == nil
	if v.Members, err = s.cfg.Team.MembersOf(ctx, orgID); err != nil {
		s.fail(c, err)
		return
	}
	invs, err := s.cfg.Team.Invitations(ctx, orgID)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, inv := range invs {
		if inv.Status == onramp.InvitationPending {
			v.Invitations = append(v.Invitations, inv)
		}
	}
	if _, err := s.authorize(ctx, p, orgID, "audit.view", nil); err == nil {
		if v.Audit, err = s.cfg.Team.Audit(ctx, orgID, 50); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.render(c, status, "team.html", v)
}

// teamResult redirects back to the team page with a notice, or shows the page with the error.
func (s *Server) teamResult(c *gin.Context, err error, notice string) {
	if err != nil {
		status := problem.FromError(err).Status
		if onramp.ErrorCode(err) == onramp.EINTERNAL {
			s.log.Error("team action", "error", err)
		}
		s.renderTeam(c, status, onramp.ErrorMessage(err), c.PostForm("email"))
		return
	}
	s.redirectNotice(c, "/team?org="+url.QueryEscape(currentOrg(c, principal(c))), notice)
}

func (s *Server) teamInvite(c *gin.Context) {
	inv, err := s.inviteMember(c.Request.Context(), principal(c), currentOrg(c, principal(c)), c.PostForm("email"), c.PostForm("role"))
	s.teamResult(c, err, "Invitation sent to "+inv.Email+".")
}

func (s *Server) teamInvitationAction(c *gin.Context) {
	ctx, p, org := c.Request.Context(), principal(c), currentOrg(c, principal(c))
	switch c.Param("op") {
	case "cancel":
		s.teamResult(c, s.cancelInvitation(ctx, p, org, c.Param("id")), "Invitation cancelled.")
	case "resend":
		s.teamResult(c, s.resendMemberInvitation(ctx, p, org, c.Param("id")), "Invitation re-sent.")
	default:
		s.notFound(c)
	}
}

func (s *Server) teamMemberAction(c *gin.Context) {
	ctx, p, org := c.Request.Context(), principal(c), currentOrg(c, principal(c))
	switch c.Param("op") {
	case "role":
		s.teamResult(c, s.changeRole(ctx, p, org, c.Param("identity"), c.PostForm("role")), "Role changed.")
	case "remove":
		s.teamResult(c, s.removeMember(ctx, p, org, c.Param("identity")), "Member removed; their sessions have ended.")
	default:
		s.notFound(c)
	}
}

func (s *Server) teamTransfer(c *gin.Context) {
	s.teamResult(c, s.transferOwnership(c.Request.Context(), principal(c), currentOrg(c, principal(c)), c.PostForm("identity_id")),
		"Ownership transferred; you are now an admin.")
}
