package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

// Errors become statuses here only: fail for the JSON APIs, failPage for the pages. Both log
// internal errors (with the request's id) and show callers only the caller-safe message.

// writeProblem writes p with the request's path and id filled in, and stops the handler chain.
func writeProblem(c *gin.Context, p problem.Problem) {
	p.Instance = c.Request.URL.Path
	p.RequestID = c.GetString(requestIDKey)
	problem.Write(c.Writer, p)
	c.Abort()
}

// statusOf is the HTTP status of an error's code.
func statusOf(err error) int { return problem.FromError(err).Status }

// logInternal logs err with the request's context when it is internal (a bug or a dependency
// failing); callers see only a generic message for it.
func (s *Server) logInternal(c *gin.Context, err error) {
	if onramp.ErrorCode(err) == onramp.EINTERNAL {
		s.log.Error("internal error", "error", err, "path", c.Request.URL.Path, "request_id", c.GetString(requestIDKey))
	}
}

// fail answers a JSON API request with err as problem+json.
func (s *Server) fail(c *gin.Context, err error) {
	s.logInternal(c, err)
	writeProblem(c, problem.FromError(err))
}

// errorView is the error page.
type errorView struct {
	page
	Heading, Message string
}

// failPage answers a page request with err: "not found" exactly as for any address that does
// not exist, anything else as a page with the status and the caller-safe message.
func (s *Server) failPage(c *gin.Context, err error) {
	s.logInternal(c, err)
	status := statusOf(err)
	if status == http.StatusNotFound {
		s.render(c, status, "notfound.html", s.page("Not found"))
		c.Abort()
		return
	}
	s.render(c, status, "error.html", errorView{page: s.signedInPage(http.StatusText(status)), Heading: http.StatusText(status), Message: onramp.ErrorMessage(err)})
	c.Abort()
}

// respond writes v as JSON with status, or err when there is one.
func (s *Server) respond(c *gin.Context, status int, v any, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(status, v)
}

// noContent answers 204, or err when there is one.
func (s *Server) noContent(c *gin.Context, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// bind reads a JSON body into in; on a malformed body it answers EINVALID with hint (what to
// send) and returns false.
func (s *Server) bind(c *gin.Context, in any, hint string) bool {
	if err := c.ShouldBindJSON(in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, "%s: %v", hint, err))
		return false
	}
	return true
}
