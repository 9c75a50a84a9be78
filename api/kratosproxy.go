package api

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
)

// KratosPathPrefix is where the portal serves Kratos's public API, so the browser sees one origin:
// Kratos's cookies are the portal's cookies. Kratos's serve.public.base_url must be
// <portal URL>/.ory/.
const KratosPathPrefix = "/.ory"

// Sign-in attempt limits: code e-mails per address and sign-in posts per client address (a
// partner's office often shares one address, so that limit is looser).
const (
	codesPerEmail          = 5
	DefaultPostsPerAddress = 100
	limitWindow            = 15 * time.Minute
)

// signInLimits guards code e-mails: per address (protects the person's inbox) and per client
// address (protects Kratos and the mail relay).
type signInLimits struct {
	email, client *limiter
}

func newSignInLimits(perClient int) *signInLimits {
	if perClient <= 0 {
		perClient = DefaultPostsPerAddress
	}
	return &signInLimits{email: newLimiter(codesPerEmail, limitWindow), client: newLimiter(perClient, limitWindow)}
}

// check counts one attempt; it returns ERATELIMITED with the wait when either limit is reached.
func (l *signInLimits) check(email, clientIP string) error {
	if ok, wait := l.client.allow(clientIP); !ok {
		return onramp.Errorf(onramp.ERATELIMITED, "too many sign-in attempts from your network; try again in %s", minutes(wait))
	}
	if email == "" {
		return nil
	}
	if ok, wait := l.email.allow(strings.ToLower(strings.TrimSpace(email))); !ok {
		return onramp.Errorf(onramp.ERATELIMITED, "too many codes requested for this address; use the last code we sent or try again in %s", minutes(wait))
	}
	return nil
}

func minutes(d time.Duration) string {
	m := int(math.Ceil(d.Minutes()))
	if m <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// kratosProxy forwards /.ory/* to Kratos's public API. It rate-limits sign-in posts and marks the
// redirect after a code submission, so the login page can answer an unknown address exactly as
// it answers a wrong code.
func (s *Server) kratosProxy() gin.HandlerFunc {
	target, err := url.Parse(s.cfg.KratosPublicURL)
	if err != nil || target.Host == "" {
		panic("api: KratosPublicURL must be an absolute URL")
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	base := proxy.Director
	proxy.Director = func(r *http.Request) {
		base(r)
		r.URL.Path = strings.TrimPrefix(r.URL.Path, KratosPathPrefix)
		r.URL.RawPath = ""
		r.Host = target.Host
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Header.Get("X-Onramp-Code-Submitted") == "" {
			return nil
		}
		if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && strings.HasSuffix(loc.Path, "/login") {
			q := loc.Query()
			q.Set("submitted", "code")
			loc.RawQuery = q.Encode()
			resp.Header.Set("Location", loc.String())
		}
		return nil
	}
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		s.log.Error("kratos proxy", "error", err, "path", r.URL.Path)
		problem.Write(w, problem.FromError(onramp.Errorf(onramp.EUNAVAILABLE, "sign-in is temporarily unavailable; try again in a minute")))
	}
	return func(c *gin.Context) {
		r := c.Request
		r.Header.Del("X-Onramp-Code-Submitted") // only the portal sets it, below
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, KratosPathPrefix+"/self-service/login") {
			body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			if err != nil {
				s.fail(c, onramp.Errorf(onramp.EINVALID, "could not read the form"))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			form, _ := url.ParseQuery(string(body))
			code := form.Get("code")
			email := ""
			if code == "" {
				email = form.Get("identifier") // a code is being requested
			} else {
				r.Header.Set("X-Onramp-Code-Submitted", "1")
			}
			if err := s.signIn.check(email, c.ClientIP()); err != nil {
				s.signInPage(c, http.StatusTooManyRequests, loginView{Error: onramp.ErrorMessage(err), Email: form.Get("identifier")}, err)
				return
			}
			// An address of a partner with SSO goes to that partner's identity provider instead.
			if org, ok, err := s.ssoOrgFor(r.Context(), email); err != nil {
				s.fail(c, err)
				return
			} else if ok {
				body = []byte(ssoForm(form, org.ID, strings.ToLower(strings.TrimSpace(email))).Encode())
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.ContentLength = int64(len(body))
			}
		}
		proxy.ServeHTTP(c.Writer, r)
	}
}
