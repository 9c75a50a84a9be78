package api

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/internal/requestid"
)

const requestIDKey = "request_id"

// RequestID keeps a well-formed incoming X-Request-Id (so a load balancer's id carries through)
// or makes one, and echoes it on the response.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := requestid.From(c.GetHeader(requestid.Header))
		c.Set(requestIDKey, id)
		c.Header(requestid.Header, id)
		c.Next()
	}
}

// AccessLog logs one line per request. It logs the path without the query string, so nothing a
// client puts in a URL (which should never be a secret, but may be) reaches the logs.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		level := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", c.GetString(requestIDKey)))
	}
}

// Recover turns a panic into a logged internal error and a problem+json 500.
func Recover(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		log.Error("panic", "error", err, "path", c.Request.URL.Path, "request_id", c.GetString(requestIDKey))
		writeProblem(c, problem.FromError(fmt.Errorf("panic: %v", err)))
	})
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer, server string) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onramp_http_requests_total", Help: "HTTP requests served, by route and status.",
			ConstLabels: prometheus.Labels{"server": server},
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "onramp_http_request_duration_seconds", Help: "HTTP request latency, by route.",
			ConstLabels: prometheus.Labels{"server": server}, Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// middleware labels by route template (not raw path) so label cardinality stays bounded.
func (m *httpMetrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
		m.duration.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	}
}

func promHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// requireAdmin accepts only the provider's admin token as a Bearer credential.
func (s *Server) requireAdmin(c *gin.Context) {
	token, ok := bearer(c.GetHeader("Authorization"))
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="onramp-admin"`)
		detail := "Send the admin API token as `Authorization: Bearer <token>`."
		if s.cfg.DevMode {
			detail += " In development the token is in .onramp/admin-token."
		}
		writeProblem(c, problem.New(http.StatusUnauthorized, "admin-token-required", "Admin token required", detail))
		return
	}
	c.Next()
}

func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func wantsHTML(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// Request body limits: every route reads at most DefaultBodyLimit, a spec upload at most
// SpecUploadLimit (a document or bundle of maxUploadBytes, form- or base64-encoded).
const (
	DefaultBodyLimit = 64 << 10
	SpecUploadLimit  = maxRequestBytes
)

// specUploadRoutes take an OpenAPI document or bundle.
var specUploadRoutes = map[string]bool{"/admin/api/v1/products/:slug/versions": true, "/admin/products/:slug/publish": true}

// limitBodies reads a request body up to its route's limit before any handler does, answering
// 413 problem+json beyond it: nothing reads an unbounded body, and nothing is half-processed.
func limitBodies(c *gin.Context) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		c.Next()
		return
	}
	limit := int64(DefaultBodyLimit)
	if specUploadRoutes[c.FullPath()] {
		limit = SpecUploadLimit
	}
	tooLarge := func() {
		writeProblem(c, problem.New(http.StatusRequestEntityTooLarge, "body-too-large", "Body too large",
			fmt.Sprintf("Bodies sent to %s are limited to %d KiB; send less (a spec upload may be up to %d MiB).", r.URL.Path, limit>>10, SpecUploadLimit>>20)))
	}
	if r.ContentLength > limit {
		tooLarge()
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeProblem(c, problem.New(http.StatusBadRequest, "invalid-request", "Invalid request", "The request body could not be read; send it again."))
		return
	}
	if int64(len(body)) > limit {
		tooLarge()
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	c.Next()
}

// securityHeaders goes on every portal response: scripts and styles only from the portal itself
// (no inline code: a text injected into a page cannot run), no framing, no MIME sniffing, and
// no URL leaking to other sites. (No form-action: the sign-in form's redirect goes on to each
// partner's own identity provider.)
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	c.Next()
}
