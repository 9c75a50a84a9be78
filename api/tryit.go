package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp/catalog"
)

// Try-it (catalog.TryIt): the JSON API and the product page's form send the same request.

func (s *Server) apiTryIt(c *gin.Context) {
	s.tryIt(c, c.Param("org"))
}

// tryItPage is the product page's try-it form (browser session, same origin).
func (s *Server) tryItPage(c *gin.Context) {
	s.tryIt(c, currentOrg(c, actor(c)))
}

func (s *Server) tryIt(c *gin.Context, orgID string) {
	var in catalog.TryItRequest
	if !s.bind(c, &in, `send {"credential_id": "…", "operation": "listPayments", "path_params": {}, "query": {}, "headers": {}, "body": "…"}`) {
		return
	}
	res, err := s.cfg.TryIt.Send(c.Request.Context(), actor(c), orgID, c.Param("product"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, res)
}
