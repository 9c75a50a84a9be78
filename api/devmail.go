package api

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

const devMailLimit = 100

func (s *Server) devMailPage(c *gin.Context) {
	to := strings.TrimSpace(c.Query("to"))
	msgs, err := s.cfg.Mailbox.List(c.Request.Context(), to, devMailLimit)
	if err != nil {
		s.failPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "devmail.html", struct {
		page
		To       string
		Messages []onramp.Message
	}{s.page("Dev mailbox"), to, msgs})
}

func (s *Server) devMailJSON(c *gin.Context) {
	limit := devMailLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.fail(c, onramp.Errorf(onramp.EINVALID, "limit must be a whole number from 1 to 1000, got %q", v))
			return
		}
		limit = n
	}
	msgs, err := s.cfg.Mailbox.List(c.Request.Context(), strings.TrimSpace(c.Query("to")), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"messages": msgs})
}

// courierMessage is what deploy/kratos/courier-body.jsonnet sends.
type courierMessage struct {
	Recipient    string         `json:"recipient"`
	TemplateType string         `json:"template_type"`
	Subject      string         `json:"subject"`
	Body         string         `json:"body"`
	TemplateData map[string]any `json:"template_data"`
}

// devMailCourier receives Kratos's e-mail over HTTP in development.
func (s *Server) devMailCourier(c *gin.Context) {
	token, ok := bearer(c.GetHeader("Authorization"))
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.CourierToken)) != 1 {
		writeProblem(c, problem.New(http.StatusUnauthorized, "courier-token-required", "Courier token required",
			"Only Kratos's courier posts here; it sends the token rendered into its configuration by `onramp dev`."))
		return
	}
	var in courierMessage
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, "the body is not a courier message: %v", err))
		return
	}
	// Keep only string template values (codes, URLs); Kratos also sends the whole identity.
	data := map[string]string{}
	for k, v := range in.TemplateData {
		if str, ok := v.(string); ok {
			data[k] = str
		}
	}
	msg := onramp.Message{To: in.Recipient, Subject: in.Subject, Text: in.Body, TemplateType: in.TemplateType, TemplateData: data}
	if err := s.cfg.Mailbox.Send(c.Request.Context(), msg); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
