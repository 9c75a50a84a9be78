package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

// What every partner page shares: which organisation it is about, that its forms come from the
// portal itself, and how an error becomes a page.

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

// currentOrg is the organisation named by ?org= (or the form's org), else the actor's first one.
func currentOrg(c *gin.Context, a onramp.Actor) string {
	if id := c.Query("org"); id != "" {
		return id
	}
	if id := c.PostForm("org"); id != "" {
		return id
	}
	if len(a.Memberships) > 0 {
		return a.Memberships[0].Organization.ID
	}
	return ""
}
