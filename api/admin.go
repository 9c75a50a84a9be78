package api

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
)

func (s *Server) adminRoutes(g routeGroups) {
	g.root.GET("/admin", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/admin/partners") })
	g.root.GET("/admin/login", s.adminLoginPage)
	g.root.POST("/admin/login", s.adminLogin)
	g.root.POST("/admin/logout", s.adminLogout)
	g.admin.GET("/system", s.adminSystem)
}

const adminCookie = "onramp_admin"

// adminActor is the provider, acting through the admin token (one shared token: the audit log
// names the provider admin, not a person).
func adminActor() onramp.Actor { return onramp.ProviderActor("provider admin") }

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
