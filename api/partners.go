package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/partners"
)

// Partner organisations, for the provider: /admin/api/v1/partners… and the admin partner pages,
// the credential policy and the funnel. Every rule is partners.Service's.

func (s *Server) partnerRoutes(g routeGroups) {
	admin, adminUI := g.admin, g.adminPages
	admin.POST("/partners", s.apiInvitePartner)
	admin.GET("/partners", s.apiListPartners)
	admin.GET("/partners/:id", s.apiGetPartner)
	admin.POST("/partners/:id/resend", s.apiResendInvitation)
	admin.POST("/partners/:id/cancel", s.apiCancelPartnerInvitation)
	admin.GET("/partners/:id/members", s.apiPartnerMembers)
	admin.PUT("/partners/:id/credential-policy", s.apiAdminCredentialPolicy)
	admin.GET("/funnel", s.apiFunnel)

	adminUI.GET("/partners", s.adminPartners)
	adminUI.POST("/partners", s.adminInvitePartner)
	adminUI.GET("/partners/:id", s.adminPartner)
	adminUI.POST("/partners/:id/resend", s.adminResend)
	adminUI.POST("/partners/:id/cancel", s.adminCancelInvitation)
	adminUI.POST("/partners/:id/credential-policy", s.adminCredentialPolicy)
	adminUI.GET("/funnel", s.adminFunnel)
}

type invitePartnerRequest struct {
	Name         string            `json:"name" form:"name"`
	ContactEmail string            `json:"contact_email" form:"contact_email"`
	Tier         string            `json:"tier" form:"tier"`
	SSO          *onramp.SSOConfig `json:"sso"`
	// The admin form's SSO fields (the API takes the sso object).
	SSOIssuer, SSOClientID, SSOClientSecret, SSODomains string
	SSOAllowSignup                                      bool
}

func (in invitePartnerRequest) invitation() partners.Invitation {
	return partners.Invitation{Name: in.Name, ContactEmail: in.ContactEmail, Tier: in.Tier, SSO: in.SSO}
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

func (s *Server) apiInvitePartner(c *gin.Context) {
	var in invitePartnerRequest
	if !s.bind(c, &in, `send {"name": "…", "contact_email": "…", "tier": "standard"}`) {
		return
	}
	o, err := s.cfg.Partners.Invite(c.Request.Context(), adminActor(), in.invitation())
	if err == nil {
		c.Header("Location", "/admin/api/v1/partners/"+o.ID)
	}
	s.respond(c, http.StatusCreated, o, err)
}

// partnerQuery reads the partner list's search, status and page from the query string.
func partnerQuery(c *gin.Context) (onramp.OrgQuery, error) {
	page, err := pageRequest(c, "cursor")
	return onramp.OrgQuery{Search: c.Query("q"), Status: c.Query("status"), Page: page}, err
}

func (s *Server) apiListPartners(c *gin.Context) {
	q, err := partnerQuery(c)
	var orgs onramp.Page[onramp.Organization]
	if err == nil {
		orgs, err = s.cfg.Partners.List(c.Request.Context(), adminActor(), q)
	}
	s.respond(c, http.StatusOK, pageBody("partners", orgs), err)
}

func (s *Server) apiGetPartner(c *gin.Context) {
	o, err := s.cfg.Partners.Get(c.Request.Context(), adminActor(), c.Param("id"))
	s.respond(c, http.StatusOK, o, err)
}

func (s *Server) apiResendInvitation(c *gin.Context) {
	o, err := s.cfg.Partners.Resend(c.Request.Context(), adminActor(), c.Param("id"))
	s.respond(c, http.StatusAccepted, o, err)
}

func (s *Server) apiCancelPartnerInvitation(c *gin.Context) {
	o, err := s.cfg.Partners.Withdraw(c.Request.Context(), adminActor(), c.Param("id"))
	s.respond(c, http.StatusAccepted, o, err)
}

func (s *Server) apiPartnerMembers(c *gin.Context) {
	page, err := pageRequest(c, "cursor")
	var ms onramp.Page[onramp.Member]
	if err == nil {
		ms, err = s.cfg.Partners.Members(c.Request.Context(), adminActor(), c.Param("id"), page)
	}
	s.respond(c, http.StatusOK, pageBody("members", ms), err)
}

func (s *Server) apiAdminCredentialPolicy(c *gin.Context) {
	var in struct {
		MaxCredentialAge string `json:"max_credential_age"`
	}
	if !s.bind(c, &in, `send {"max_credential_age": "720h"} ("" for the plan's)`) {
		return
	}
	o, err := s.cfg.Partners.SetCredentialPolicy(c.Request.Context(), adminActor(), c.Param("id"), in.MaxCredentialAge)
	s.respond(c, http.StatusOK, gin.H{"max_credential_age": o.MaxCredentialAge}, err)
}

func (s *Server) apiFunnel(c *gin.Context) {
	page, err := pageRequest(c, "cursor")
	var f partners.Funnel
	if err == nil {
		f, err = s.cfg.Partners.Funnel(c.Request.Context(), adminActor(), page)
	}
	body := pageBody("partners", f.Partners)
	body["stages"], body["medians"] = f.Stages, f.Medians
	s.respond(c, http.StatusOK, body, err)
}

// Admin pages.

type partnersView struct {
	page
	PortalURL string
	Partners  listView[onramp.Organization]
	Query     onramp.OrgQuery
	Statuses  []string
	Tiers     []string
	Form      invitePartnerRequest
	Error     string
	Notice    string
}

func (s *Server) partnersPage(c *gin.Context, status int, v partnersView) {
	q, err := partnerQuery(c)
	var orgs onramp.Page[onramp.Organization]
	if err == nil {
		orgs, err = s.cfg.Partners.List(c.Request.Context(), adminActor(), q)
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	v.page, v.Partners, v.Query, v.Statuses = s.adminPage("Partners"), listOf(c, "cursor", "partners", orgs), q, onramp.OrgStatuses
	v.Tiers, v.PortalURL = onramp.Tiers, s.cfg.PortalURL
	if plans, err := s.cfg.Catalog.Plans(c.Request.Context()); err == nil && len(plans) > 0 {
		v.Tiers = nil
		for _, p := range plans {
			v.Tiers = append(v.Tiers, p.Name)
		}
	}
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
	o, err := s.cfg.Partners.Invite(c.Request.Context(), adminActor(), in.invitation())
	if err != nil {
		s.logInternal(c, err)
		s.partnersPage(c, statusOf(err), partnersView{Form: in, Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/partners", "Invitation sent to "+o.ContactEmail+" for "+o.Name+".")
}

func (s *Server) adminResend(c *gin.Context) {
	o, err := s.cfg.Partners.Resend(c.Request.Context(), adminActor(), c.Param("id"))
	if err != nil {
		s.logInternal(c, err)
		s.partnersPage(c, statusOf(err), partnersView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/partners", "Invitation re-sent to "+o.ContactEmail+".")
}

func (s *Server) adminCancelInvitation(c *gin.Context) {
	o, err := s.cfg.Partners.Withdraw(c.Request.Context(), adminActor(), c.Param("id"))
	if err != nil {
		s.logInternal(c, err)
		s.partnersPage(c, statusOf(err), partnersView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.redirectNotice(c, "/admin/partners", "The invitation of "+o.Name+" is withdrawn; re-send it to invite the organisation again.")
}

func (s *Server) adminCredentialPolicy(c *gin.Context) {
	to := "/admin/partners/" + c.Param("id") + "#credential-policy"
	if _, err := s.cfg.Partners.SetCredentialPolicy(c.Request.Context(), adminActor(), c.Param("id"), c.PostForm("max_credential_age")); err != nil {
		s.logInternal(c, err)
		s.redirectError(c, to, onramp.ErrorMessage(err))
		return
	}
	s.redirectNotice(c, to, "Maximum key age saved.")
}

type partnerDetailView struct {
	page
	Org           onramp.Organization
	Members       listView[onramp.Member]
	Invitations   listView[onramp.MemberInvitation]
	Audit         listView[onramp.AuditEvent]
	Assignments   []onramp.Assignment
	Plans         []onramp.Plan
	Products      []onramp.Product
	Scopes        map[string][]string // of the assigned products
	Environments  []string
	PlanMaxAge    string // the plan's maximum key age, which the organisation's own replaces
	Notice, Error string
}

// adminPartner shows one partner: its onboarding timeline, a page each of its members, its
// invitations and its audit log, its assignments and credential policy.
func (s *Server) adminPartner(c *gin.Context) {
	ctx := c.Request.Context()
	var p partners.DetailPages
	var err error
	for param, dst := range map[string]*onramp.PageRequest{"members_cursor": &p.Members, "invitations_cursor": &p.Invitations, "audit_cursor": &p.Audit} {
		if *dst, err = pageRequest(c, param); err != nil {
			s.failPage(c, err)
			return
		}
	}
	d, err := s.cfg.Partners.Detail(ctx, adminActor(), c.Param("id"), p)
	if err != nil {
		s.failPage(c, err)
		return
	}
	f := s.takeFlash(c)
	v := partnerDetailView{page: s.adminPage(d.Organization.Name), Org: d.Organization, Environments: onramp.Environments, Notice: f.Notice, Error: f.Error,
		Members: listOf(c, "members_cursor", "members", d.Members), Invitations: listOf(c, "invitations_cursor", "invitations", d.Invitations),
		Audit: listOf(c, "audit_cursor", "audit", d.Audit), Scopes: map[string][]string{}}
	if v.Assignments, err = s.cfg.Catalog.AssignmentsOf(ctx, d.Organization.ID); err == nil {
		v.Plans, err = s.cfg.Catalog.Plans(ctx)
	}
	if err == nil {
		var age time.Duration
		if age, err = onramp.PlanMaxAge(d.Organization.Tier, v.Plans); age > 0 {
			v.PlanMaxAge = fmt.Sprintf("%.0fh, %.0f days", age.Hours(), age.Hours()/24)
		}
	}
	if err == nil {
		v.Products, err = s.cfg.Catalog.ProductList(ctx)
	}
	for _, a := range v.Assignments {
		if err == nil {
			v.Scopes[a.Product], err = s.cfg.Catalog.Scopes(ctx, a.Product)
		}
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "admin_partner.html", v)
}

type funnelPageView struct {
	page
	Funnel   partners.Funnel
	Partners listView[partners.Journey]
}

func (s *Server) adminFunnel(c *gin.Context) {
	page, err := pageRequest(c, "cursor")
	var f partners.Funnel
	if err == nil {
		f, err = s.cfg.Partners.Funnel(c.Request.Context(), adminActor(), page)
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "admin_funnel.html", funnelPageView{page: s.adminPage("Onboarding funnel"), Funnel: f, Partners: listOf(c, "cursor", "partners", f.Partners)})
}
