package api

import (
	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

func newProblem(status int, slug, title, detail string) problem.Problem {
	return problem.New(status, slug, title, detail)
}

// problem writes p with the request's id and path filled in.
func (s *Server) problem(c *gin.Context, p problem.Problem) {
	writeProblem(c, p)
}

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
	s.problem(c, problem.FromError(err))
}
