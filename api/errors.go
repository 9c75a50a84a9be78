package api

import (
	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

// writeProblem writes p with the request's path and id filled in, and stops the handler chain.
func writeProblem(c *gin.Context, p problem.Problem) {
	p.Instance = c.Request.URL.Path
	p.RequestID = c.GetString(requestIDKey)
	problem.Write(c.Writer, p)
	c.Abort()
}

// fail translates err once: internal errors are logged with context, every error becomes
// problem+json with a caller-safe detail.
func (s *Server) fail(c *gin.Context, err error) {
	if onramp.ErrorCode(err) == onramp.EINTERNAL {
		s.log.Error("internal error", "error", err, "path", c.Request.URL.Path, "request_id", c.GetString(requestIDKey))
	}
	writeProblem(c, problem.FromError(err))
}
