package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

const adminCookie = "onramp_admin"

type invitePartnerRequest struct {
	Name         string            `json:"name" form:"name"`
	ContactEmail string            `json:"contact_email" form:"contact_email"`
	Tier         string            `json:"tier" form:"tier"`
	SSO          *onramp.SSOConfig `json:"sso"`
	// The admin form's SSO fields (the API takes the sso object).
	SSOIssuer, SSOClientID, SSOClientSecret, SSODomains string
	SSOAllowSignup                                      bool
}

// ssoFromForm reads the admin form's optional SSO fields.
func ssoFromForm(c *gin.Context) *onramp.SSOConfig {
	if strings.TrimSpace(c.PostForm("sso_issuer")) == "" {
		return nil
	}
	var domains []string
	for _, d := range strings.Split(c.PostForm("sso_domains"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			domains = append(domains, d)
		}
	}
	return &onramp.SSOConfig{Issuer: strings.TrimSpace(c.PostForm("sso_issuer")), ClientID: strings.TrimSpace(c.PostForm("sso_client_id")),
		ClientSecret: c.PostForm("sso_client_secret"), Domains: domains, AllowDomainSignup: c.PostForm("sso_allow_signup") != ""}
}

// invitePartner stores the organisation (status invited) and starts its invitation workflow.
func (s *Server) invitePartner(c *gin.Context, in invitePartnerRequest) (onramp.Organization, error) {
	o := onramp.Organization{ID: onramp.NewID("org"), Name: in.Name, Tier: in.Tier,
		ContactEmail: in.ContactEmail, Status: onramp.OrgInvited, InvitedAt: s.cfg.Now(), SSO: in.SSO}
	if err := o.Validate(); err != nil {
		return o, err
	}
	ctx := c.Request.Context()
	if err := s.cfg.Catalog.CheckPlan(ctx, o.Tier); err != nil {
		return o, err
	}
	if o.SSO != nil {
		// One identity provider per domain: who signs in from a domain, and which tenant's IdP may
		// vouch for its addresses, must never be ambiguous.
		for _, d := range o.SSO.Domains {
			if other, taken, err := s.cfg.Organizations.SSOOrganization(ctx, d); err != nil {
				return o, err
			} else if taken {
				return o, onramp.Errorf(onramp.ECONFLICT, "sso.domains: %s already signs in through the identity provider of %s; each domain belongs to one partner", d, other.Name)
			}
		}
	}
	// Saved before the workflow starts so the admin sees it at once (the workflow's save is
	// idempotent), and removed again if the workflow cannot start: nothing is left half-invited.
	if err := s.cfg.Organizations.CreateOrganization(ctx, o); err != nil {
		return o, err
	}
	// The plan's products are assigned before the invitation goes out, so the catalog is there at
	// the first sign-in.
	if err := s.cfg.Catalog.ApplyPlan(ctx, o.ID, o.Tier); err != nil {
		s.undoInvite(ctx, o.ID)
		return o, err
	}
	// The identity provider is installed before the invitation goes out, so its link works at once.
	if o.SSO != nil {
		if err := s.syncSSO(ctx); err != nil {
			s.undoInvite(ctx, o.ID)
			return o, err
		}
	}
	if err := s.cfg.Invitations.InvitePartner(ctx, o); err != nil {
		s.undoInvite(ctx, o.ID)
		return o, err
	}
	return o, nil
}

func (s *Server) undoInvite(ctx context.Context, orgID string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.cfg.Catalog.RemoveOrganization(ctx, orgID); err != nil {
		s.log.Error("remove assignments after failed invitation", "organization", orgID, "error", err)
	}
	if err := s.cfg.Organizations.DeleteOrganization(ctx, orgID); err != nil {
		s.log.Error("remove organisation after failed invitation", "organization", orgID, "error", err)
	}
}

func (s *Server) apiInvitePartner(c *gin.Context) {
	var in invitePartnerRequest
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"name": "…", "contact_email": "…", "tier": "standard"}: %v`, err))
		return
	}
	o, err := s.invitePartner(c, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/admin/api/v1/partners/"+o.ID)
	c.JSON(http.StatusCreated, o.Public())
}

func (s *Server) apiListPartners(c *gin.Context) {
	orgs, err := s.cfg.Organizations.ListOrganizations(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	for i := range orgs {
		orgs[i] = orgs[i].Public()
	}
	c.JSON(http.StatusOK, gin.H{"partners": orgs})
}

func (s *Server) apiGetPartner(c *gin.Context) {
	o, err := s.cfg.Organizations.FindOrganization(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, o.Public())
}

func (s *Server) resendInvitation(c *gin.Context) (onramp.Organization, error) {
	o, err := s.cfg.Organizations.FindOrganization(c.Request.Context(), c.Param("id"))
	if err != nil {
		return o, err
	}
	return o, s.cfg.Invitations.ResendInvitation(c.Request.Context(), o)
}

// cancelPartnerInvitation withdraws a partner's running invitation: the organisation ends expired and
// its contact's invitation can no longer be accepted; re-sending invites it again.
func (s *Server) cancelPartnerInvitation(c *gin.Context) (onramp.Organization, error) {
	o, err := s.cfg.Organizations.FindOrganization(c.Request.Context(), c.Param("id"))
	if err != nil {
		return o, err
	}
	switch o.Status {
	case onramp.OrgActive:
		return o, onramp.Errorf(onramp.ECONFLICT, "%s has already signed in; remove people from its team instead", o.Name)
	case onramp.OrgExpired:
		return o, onramp.Errorf(onramp.ECONFLICT, "the invitation of %s has already ended; re-send it to invite the organisation again", o.Name)
	}
	return o, s.cfg.Invitations.CancelInvitation(c.Request.Context(), o.ID)
}

func (s *Server) apiCancelPartnerInvitation(c *gin.Context) {
	o, err := s.cancelPartnerInvitation(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, o.Public())
}

func (s *Server) apiResendInvitation(c *gin.Context) {
	o, err := s.resendInvitation(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, o.Public())
}

// Admin UI: the browser holds the admin token in an HttpOnly, SameSite=Strict cookie, which also
// keeps other sites from posting the admin forms.

func (s *Server) adminToken(c *gin.Context) bool {
	t, err := c.Cookie(adminCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.AdminToken)) == 1
}

func (s *Server) requireAdminCookie(c *gin.Context) {
	if !s.adminToken(c) {
		c.Redirect(http.StatusSeeOther, "/admin/login")
		c.Abort()
		return
	}
	c.Next()
}

type adminLoginView struct {
	page
	Error string
}

func (s *Server) adminLoginPage(c *gin.Context) {
	s.render(c, http.StatusOK, "admin_login.html", adminLoginView{page: s.page("Admin sign-in")})
}

func (s *Server) adminLogin(c *gin.Context) {
	token := strings.TrimSpace(c.PostForm("token"))
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) != 1 {
		v := adminLoginView{page: s.page("Admin sign-in"), Error: "That token is not the admin token."}
		if s.cfg.DevMode {
			v.Error += " In development it is in .onramp/admin-token."
		}
		s.render(c, http.StatusUnauthorized, "admin_login.html", v)
		return
	}
	c.SetSameSite(http.SameSiteStrictMode)
	c.SetCookie(adminCookie, token, 8*3600, "/admin", "", strings.HasPrefix(s.cfg.PortalURL, "https://"), true)
	c.Redirect(http.StatusSeeOther, "/admin/partners")
}

func (s *Server) adminLogout(c *gin.Context) {
	c.SetCookie(adminCookie, "", -1, "/admin", "", false, true)
	c.Redirect(http.StatusSeeOther, "/admin/login")
}

type partnersView struct {
	page
	PortalURL string
	Partners  []onramp.Organization
	Tiers     []string
	Form      invitePartnerRequest
	Error     string
	Notice    string
}

func (s *Server) partnersPage(c *gin.Context, status int, v partnersView) {
	orgs, err := s.cfg.Organizations.ListOrganizations(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	v.page, v.Partners, v.Tiers, v.PortalURL = s.page("Partners"), orgs, onramp.Tiers, s.cfg.PortalURL
	if plans, err := s.cfg.Catalog.Plans(c.Request.Context()); err == nil && len(plans) > 0 {
		v.Tiers = nil
		for _, p := range plans {
			v.Tiers = append(v.Tiers, p.Name)
		}
	}
	v.page.Admin = true
	if v.Notice == "" {
		v.Notice = s.takeFlash(c).Notice
	}
	s.render(c, status, "admin_partners.html", v)
}

func (s *Server) adminPartners(c *gin.Context) { s.partnersPage(c, http.StatusOK, partnersView{}) }

func (s *Server) adminInvitePartner(c *gin.Context) {
	in := invitePartnerRequest{Name: c.PostForm("name"), ContactEmail: c.PostForm("contact_email"), Tier: c.PostForm("tier"), SSO: ssoFromForm(c)}
	if in.SSO != nil {
		in.SSOIssuer, in.SSOClientID, in.SSODomains, in.SSOAllowSignup = in.SSO.Issuer, in.SSO.ClientID, c.PostForm("sso_domains"), in.SSO.AllowDomainSignup
	}
	o, err := s.invitePartner(c, in)
	if err != nil {
		s.partnersPage(c, http.StatusBadRequest, partnersView{Form: in, Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/partners", "Invitation sent to "+o.ContactEmail+" for "+o.Name+".")
}

func (s *Server) adminResend(c *gin.Context) {
	o, err := s.resendInvitation(c)
	if err != nil {
		s.partnersPage(c, http.StatusConflict, partnersView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/partners", "Invitation re-sent to "+o.ContactEmail+".")
}

func (s *Server) adminCancelInvitation(c *gin.Context) {
	o, err := s.cancelPartnerInvitation(c)
	if err != nil {
		s.partnersPage(c, http.StatusConflict, partnersView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/partners", "The invitation of "+o.Name+" is withdrawn; re-send it to invite the organisation again.")
}

type partnerDetailView struct {
	page
	Org           onramp.Organization
	Members       []onramp.Member
	Invitations   []onramp.MemberInvitation
	Audit         []onramp.AuditEvent
	Assignments   []onramp.Assignment
	Plans         []onramp.Plan
	Products      []productAdmin
	Environments  []string
	PlanMaxAge    string // the plan's maximum key age, which the organisation's own replaces
	Notice, Error string
}

// adminPartner shows one partner: its onboarding timeline, members, open invitations, audit log.
func (s *Server) adminPartner(c *gin.Context) {
	ctx := c.Request.Context()
	o, err := s.cfg.Organizations.FindOrganization(ctx, c.Param("id"))
	if err != nil {
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			s.notFound(c)
			return
		}
		s.fail(c, err)
		return
	}
	f := s.takeFlash(c)
	v := partnerDetailView{page: s.adminPage(o.Name), Org: o, Environments: onramp.Environments, Notice: f.Notice, Error: f.Error}
	if v.Members, err = s.cfg.Team.MembersOf(ctx, o.ID); err == nil {
		v.Invitations, err = s.cfg.Team.Invitations(ctx, o.ID)
	}
	if err == nil {
		v.Audit, err = s.cfg.Team.Audit(ctx, o.ID, 50)
	}
	if err == nil {
		v.Assignments, err = s.cfg.Catalog.AssignmentsOf(ctx, o.ID)
	}
	if err == nil {
		v.Plans, err = s.cfg.Catalog.Plans(ctx)
	}
	if err == nil {
		var d time.Duration
		if d, err = s.planMaxAge(ctx, o); d > 0 {
			v.PlanMaxAge = fmt.Sprintf("%.0fh, %.0f days", d.Hours(), d.Hours()/24)
		}
	}
	var products []onramp.Product
	if err == nil {
		products, err = s.cfg.Catalog.Store().ListProducts(ctx)
	}
	for _, p := range products {
		if err != nil {
			break
		}
		var pa productAdmin
		pa, err = s.productAdmin(c, p)
		v.Products = append(v.Products, pa)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "admin_partner.html", v)
}

func (s *Server) apiPartnerMembers(c *gin.Context) {
	partnerList(s, c, "members", s.cfg.Team.MembersOf)
}

// partnerList answers {key: list(partner)} for an existing partner, 404 for an unknown one.
func partnerList[T any](s *Server, c *gin.Context, key string, list func(ctx context.Context, orgID string) ([]T, error)) {
	ctx := c.Request.Context()
	if _, err := s.cfg.Organizations.FindOrganization(ctx, c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	items, err := list(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{key: items})
}
