package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

func (s *Server) signInRoutes(g routeGroups) {
	// Kratos's browser flows through the same origin, rendered by the portal.
	g.root.Any(KratosPathPrefix+"/*path", s.kratosProxy())
	g.root.GET("/login", s.loginPage)
	g.root.GET("/login/refused", s.refusedPage)
	g.root.GET("/error", s.signInErrorPage)
	g.root.POST("/hooks/kratos/registration", s.registrationGate)
	g.root.POST("/hooks/kratos/signed-in", s.signedInHook)
	g.root.POST("/logout", s.logout)
	g.pages.GET("/dashboard", s.dashboard)

	g.v1.POST("/auth/login", s.apiStartLogin)
	g.v1.POST("/auth/login/:flow", s.apiCompleteLogin)
	g.member.GET("/me", s.apiMe)
	g.member.POST("/auth/logout", s.apiLogout)
}

// Kratos message ids the login page translates (kratos/text/id.go).
const (
	msgAccountNotFound = 4000035 // unknown address: must look exactly like a sent code (ory/kratos#4521)
	msgNoCodeUser      = 4000033 // address without a code credential: same treatment
	msgInvalidCode     = 4010008
	msgCodeSent        = 1010014
)

const (
	principalKey  = "principal"
	loginHintName = "onramp_login_hint"
	wrongCodeText = "That code is wrong or has expired. Check the latest e-mail from us, or request a new code."
)

// Membership is a member's organisation (its public view) and role.
type Membership = onramp.Membership

// loginView is the sign-in page: step "email" asks for the address, step "code" for the code.
type loginView struct {
	page
	Action string
	CSRF   string
	Email  string
	Step   string
	Notice string
	Error  string
}

// loginPage renders a Kratos browser login flow with the portal's own page.
func (s *Server) loginPage(c *gin.Context) {
	cookie := c.GetHeader("Cookie")
	if _, err := s.cfg.Identity.SessionFromCookie(c.Request.Context(), cookie); err == nil {
		c.Redirect(http.StatusSeeOther, "/dashboard")
		return
	}
	if email := strings.TrimSpace(c.Query("email")); onramp.PlainEmail(email) {
		// Remember the invited address across Kratos's redirect, to fill the form in.
		c.SetSameSite(http.SameSiteLaxMode)
		c.SetCookie(loginHintName, email, 600, "/login", "", false, true)
	}
	flowID := c.Query("flow")
	if flowID == "" {
		c.Redirect(http.StatusSeeOther, KratosPathPrefix+"/self-service/login/browser?return_to="+url.QueryEscape(s.cfg.PortalURL+"/dashboard"))
		return
	}
	flow, err := s.cfg.Identity.GetLoginFlow(c.Request.Context(), flowID, cookie)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		c.Redirect(http.StatusSeeOther, "/login") // expired or foreign flow: start a fresh one
		return
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	v := loginViewOf(flow, c.Query("submitted") == "code")
	v.page = s.page("Sign in")
	if v.Email == "" {
		v.Email, _ = c.Cookie(loginHintName)
	}
	s.render(c, http.StatusOK, "login.html", v)
}

// loginViewOf turns a Kratos flow into the page. An unknown address and a wrong code produce
// exactly what a known address and a sent code produce, so the page never tells them apart.
func loginViewOf(f onramp.SignInFlow, codeSubmitted bool) loginView {
	v := loginView{Action: f.UI.Action, Step: "email"}
	for _, n := range f.UI.Nodes {
		switch n.Attributes.Name {
		case "csrf_token":
			v.CSRF, _ = n.Attributes.Value.(string)
		case "identifier":
			v.Email, _ = n.Attributes.Value.(string)
		case "code":
			v.Step = "code"
		}
		for _, m := range n.Messages {
			if m.Type == "error" && v.Error == "" {
				v.Error = m.Text
			}
		}
	}
	for _, m := range f.UI.Messages {
		switch {
		case (m.ID == msgAccountNotFound || m.ID == msgNoCodeUser) && codeSubmitted, m.ID == msgInvalidCode:
			v.Step, v.Error = "code", wrongCodeText
		case m.ID == msgAccountNotFound, m.ID == msgNoCodeUser, m.ID == msgCodeSent:
			v.Step = "code"
		case m.Type == "error" && v.Error == "":
			v.Error = m.Text
		}
	}
	if v.Step == "code" {
		v.Notice = "If " + v.Email + " is invited, we have e-mailed it a 6-digit code. It expires in 15 minutes."
	}
	return v
}

// signInPage answers a refused sign-in: an HTML page for the browser, problem+json otherwise.
func (s *Server) signInPage(c *gin.Context, status int, v loginView, err error) {
	if !strings.Contains(c.GetHeader("Accept"), "text/html") {
		s.fail(c, err)
		return
	}
	v.page, v.Step = s.page("Sign in"), "restart"
	s.render(c, status, "login.html", v)
	c.Abort()
}

// logout ends the browser's Kratos session through Kratos's own logout URL.
func (s *Server) logout(c *gin.Context) {
	u, err := s.cfg.Identity.LogoutURL(c.Request.Context(), c.GetHeader("Cookie"))
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	c.Redirect(http.StatusSeeOther, u)
}

// requireBrowserSession loads the principal from the Kratos cookie, or sends the browser to sign in.
func (s *Server) requireBrowserSession(c *gin.Context) {
	sess, err := s.cfg.Identity.SessionFromCookie(c.Request.Context(), c.GetHeader("Cookie"))
	if err != nil {
		if onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
			s.failPage(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/login")
		c.Abort()
		return
	}
	s.setPrincipal(c, sess)
}

// requireAPISession loads the principal from X-Session-Token or a Bearer session token.
func (s *Server) requireAPISession(c *gin.Context) {
	token := c.GetHeader("X-Session-Token")
	if token == "" {
		token, _ = bearer(c.GetHeader("Authorization"))
	}
	if token == "" {
		writeProblem(c, problem.New(http.StatusUnauthorized, "sign-in-required", "Sign-in required",
			"Send a session token as `X-Session-Token` or `Authorization: Bearer`. Get one with POST /api/v1/auth/login and the code we e-mail you."))
		return
	}
	sess, err := s.cfg.Identity.Whoami(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setPrincipal(c, sess)
}

// setPrincipal loads the person's memberships; it only reads (sign-in completion granted them).
func (s *Server) setPrincipal(c *gin.Context, sess onramp.Session) {
	ms, err := s.cfg.TeamService.Memberships(c.Request.Context(), sess.IdentityID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(principalKey, onramp.Actor{IdentityID: sess.IdentityID, Email: sess.Email, Memberships: ms})
	c.Next()
}

// actor is who is signed in on this request.
func actor(c *gin.Context) onramp.Actor {
	a, _ := c.Get(principalKey)
	v, _ := a.(onramp.Actor)
	return v
}

// signedInHook is Kratos's after-login and after-registration hook: sign-in completion, where
// memberships are granted (team.CompleteSignIn). A failure fails the sign-in, which can be retried.
func (s *Server) signedInHook(c *gin.Context) {
	if !s.hookAuthorized(c) {
		return
	}
	var in struct {
		IdentityID string `json:"identity_id"`
	}
	if err := c.ShouldBindJSON(&in); err != nil || in.IdentityID == "" {
		c.AbortWithStatus(http.StatusBadRequest)
		return
	}
	if err := s.cfg.TeamService.CompleteSignIn(c.Request.Context(), in.IdentityID); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// orgCard is one organisation on the dashboard, with its credentials.
type orgCard struct {
	Membership
	Credentials []onramp.Credential
}

func (s *Server) dashboard(c *gin.Context) {
	p := actor(c)
	cards := make([]orgCard, 0, len(p.Memberships))
	for _, m := range p.Memberships {
		card := orgCard{Membership: m}
		// Right after the first sign-in the invitation workflow is issuing the sandbox key (when
		// the organisation has something assigned in the sandbox to issue it for).
		wait := time.Duration(0)
		if at := m.Organization.FirstSignInAt; at != nil && s.cfg.Now().Sub(*at) < time.Minute {
			if granted, err := s.cfg.Keys.Granted(c.Request.Context(), m.Organization.ID, onramp.Sandbox); err == nil && len(granted) > 0 {
				wait = 5 * time.Second
			}
		}
		card.Credentials = s.waitForFirstKey(c.Request.Context(), m.Organization.ID, wait)
		cards = append(cards, card)
	}
	s.render(c, http.StatusOK, "dashboard.html", struct {
		page
		Email string
		Orgs  []orgCard
	}{s.signedInPage("Dashboard"), p.Email, cards})
}

// API sign-in: the same Kratos code method, as an API flow that returns a session token.

type loginRequest struct {
	Email string `json:"email"`
	Code  string `json:"code"`
}

func (s *Server) apiStartLogin(c *gin.Context) {
	var in loginRequest
	if err := c.ShouldBindJSON(&in); err != nil || !onramp.PlainEmail(strings.TrimSpace(in.Email)) {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"email": "you@partner.example"}: the address you were invited with`))
		return
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if err := s.signIn.check(email, c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	if _, sso, err := s.cfg.TeamService.SSOFor(c.Request.Context(), email); err != nil {
		s.fail(c, err)
		return
	} else if sso {
		s.fail(c, onramp.Errorf(onramp.ECONFLICT, "%s signs in through your company's single sign-on, which needs a browser: open %s/login", email, s.cfg.PortalURL))
		return
	}
	flow, err := s.cfg.Identity.StartCodeLogin(c.Request.Context(), email)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{
		"flow_id": flow,
		"detail":  "If " + email + " is invited, a 6-digit code is on its way. Send it within 15 minutes to POST /api/v1/auth/login/" + flow + ` as {"email": "…", "code": "…"}.`,
	})
}

func (s *Server) apiCompleteLogin(c *gin.Context) {
	var in loginRequest
	if err := c.ShouldBindJSON(&in); err != nil || in.Code == "" || !onramp.PlainEmail(strings.TrimSpace(in.Email)) {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"email": "…", "code": "123456"} with the code from the e-mail`))
		return
	}
	if err := s.signIn.check("", c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	token, err := s.cfg.Identity.CompleteCodeLogin(c.Request.Context(), c.Param("flow"), email, strings.TrimSpace(in.Code))
	if err != nil {
		if onramp.ErrorCode(err) == onramp.EUNAUTHORIZED {
			err = onramp.Errorf(onramp.EUNAUTHORIZED, wrongCodeText)
		}
		s.fail(c, err)
		return
	}
	sess, err := s.cfg.Identity.Whoami(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"session_token": token, "expires_at": sess.ExpiresAt.UTC().Format(time.RFC3339)})
}

func (s *Server) apiMe(c *gin.Context) {
	p := actor(c)
	c.JSON(http.StatusOK, gin.H{"identity_id": p.IdentityID, "email": p.Email, "memberships": p.Memberships})
}

func (s *Server) apiLogout(c *gin.Context) {
	token := c.GetHeader("X-Session-Token")
	if token == "" {
		token, _ = bearer(c.GetHeader("Authorization"))
	}
	if err := s.cfg.Identity.RevokeSession(c.Request.Context(), token); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
