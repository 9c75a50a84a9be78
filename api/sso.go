package api

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

// ssoForm turns a code request for an SSO address into Kratos's OIDC method for that partner's
// provider, keeping the CSRF token.
func ssoForm(form url.Values, orgID, email string) url.Values {
	return url.Values{
		"csrf_token":                     {form.Get("csrf_token")},
		"method":                         {"oidc"},
		"provider":                       {orgID},
		"upstream_parameters.login_hint": {email},
	}
}

// gateRequest is what deploy/kratos/gate-body.jsonnet sends.
type gateRequest struct {
	Method string `json:"method"`
	Traits struct {
		Email string `json:"email"`
	} `json:"traits"`
}

// registrationGate is Kratos's registration web hook: it admits only invited addresses, or
// addresses of a verified SSO domain whose organisation allows sign-up. Kratos shows the refusal.
func (s *Server) registrationGate(c *gin.Context) {
	if !s.hookAuthorized(c) {
		return
	}
	var in gateRequest
	if err := c.ShouldBindJSON(&in); err != nil {
		c.AbortWithStatus(http.StatusBadRequest)
		return
	}
	email := strings.ToLower(strings.TrimSpace(in.Traits.Email))
	admit, err := s.cfg.TeamService.AdmitsRegistration(c.Request.Context(), email, in.Method)
	if err != nil {
		s.fail(c, err)
		return
	}
	if admit {
		c.Status(http.StatusNoContent)
		return
	}
	c.JSON(http.StatusForbidden, gin.H{"messages": []gin.H{{
		"instance_ptr": "#/traits/email",
		"messages": []gin.H{{"id": 4000001, "type": "error",
			"text": email + " is not invited to this portal. Ask your organisation's owner, or your contact at the provider, to invite you."}},
	}}})
}

// hookAuthorized checks that Kratos called: its hooks send the hook token. It answers 401 otherwise.
func (s *Server) hookAuthorized(c *gin.Context) bool {
	token, ok := bearer(c.GetHeader("Authorization"))
	if !ok || s.cfg.HookToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.HookToken)) != 1 {
		c.AbortWithStatus(http.StatusUnauthorized)
		return false
	}
	return true
}

// refusedPage shows why Kratos refused to create an account (the gate's message).
func (s *Server) refusedPage(c *gin.Context) {
	v := loginView{page: s.page("Sign in"), Step: "restart",
		Error: "This address is not invited to this portal. Ask your organisation's owner, or your contact at the provider, to invite you."}
	if id := c.Query("flow"); id != "" {
		if f, err := s.cfg.Identity.GetRegistrationFlow(c.Request.Context(), id, c.GetHeader("Cookie")); err == nil {
			for _, m := range f.UI.Messages {
				if m.Type == "error" {
					v.Error = m.Text
				}
			}
			for _, n := range f.UI.Nodes {
				for _, m := range n.Messages {
					if m.Type == "error" {
						v.Error = m.Text
					}
				}
			}
		}
	}
	s.render(c, http.StatusForbidden, "login.html", v)
}

// ssoRefusals are the portal's words for the partner claims mapper's refusals.
var ssoRefusals = map[string]string{
	"no-email":     "Your company's identity provider did not send your e-mail address. Ask your IT team to release the email claim to this portal, then sign in again.",
	"not-verified": "Your company's identity provider did not confirm that your e-mail address is verified. Ask your IT team to mark it verified, then sign in again.",
	"not-domain":   "Your company's identity provider signed you in with an address outside your company's domains. Sign in with your work address, or ask your IT team.",
}

// signInErrorPage is where Kratos sends a browser whose sign-in failed: a refusal of the partner
// claims mapper gets the portal's own text for it, anything else a general text with what to do.
// Nothing the error holds is shown as such.
func (s *Server) signInErrorPage(c *gin.Context) {
	v := loginView{page: s.page("Sign in"), Step: "restart",
		Error: "Signing in did not work. Start again; if it keeps failing, ask your contact at the provider."}
	if id := c.Query("id"); id != "" {
		code, err := s.cfg.Identity.FlowErrorCode(c.Request.Context(), id)
		if text, ok := ssoRefusals[code]; ok {
			v.Error = text
		} else if onramp.ErrorCode(err) == onramp.EINTERNAL {
			s.log.Error("read sign-in error", "error", err)
		}
	}
	s.render(c, http.StatusForbidden, "login.html", v)
}
