package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/clientnet"
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
	if ok, wait := l.client.allow(clientnet.Of(clientIP)); !ok {
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
		if err := withoutProviders(resp); err != nil {
			return err
		}
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
		route := strings.TrimPrefix(r.URL.Path, KratosPathPrefix)
		if !proxiedKratosRoute(r.Method, route) {
			writeProblem(c, problem.New(http.StatusNotFound, "not-found", "Not found",
				"The portal's sign-in service offers only the sign-in routes its own pages use; sign in at "+s.cfg.PortalURL+"/login."))
			return
		}
		if r.Method == http.MethodPost && route == "/self-service/login" && !s.screenLoginPost(c) {
			return
		}
		proxy.ServeHTTP(c.Writer, r)
	}
}

// proxiedKratosRoute is the allow-list of Kratos's public API behind /.ory: the browser login flow
// the sign-in page renders, the partners' OIDC callbacks, and logout. Settings (where traits
// could change), registration, recovery and verification are not reachable through the portal.
func proxiedKratosRoute(method, route string) bool {
	switch {
	case method == http.MethodGet && (route == "/self-service/login/browser" || route == "/self-service/logout"):
		return true
	case method == http.MethodPost && route == "/self-service/login":
		return true
	case (method == http.MethodGet || method == http.MethodPost) && strings.HasPrefix(route, "/self-service/methods/oidc/callback/"):
		return !strings.Contains(strings.TrimPrefix(route, "/self-service/methods/oidc/callback/"), "/")
	}
	return false
}

// loginPost is a sign-in form as posted, form-encoded or JSON, which the portal re-encodes after
// looking at it (to send an SSO address to its identity provider).
type loginPost struct {
	json bool
	form url.Values
}

func parseLoginPost(r *http.Request, body []byte) (loginPost, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		return loginPost{}, errUnsupportedForm
	case mediaType == "application/json":
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			return loginPost{}, err
		}
		form := url.Values{}
		for k, v := range fields {
			switch v := v.(type) {
			case string:
				form.Set(k, v)
			case map[string]any: // upstream_parameters.login_hint and the like
				for k2, v2 := range v {
					if str, ok := v2.(string); ok {
						form.Set(k+"."+k2, str)
					}
				}
			}
		}
		return loginPost{json: true, form: form}, nil
	case mediaType == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		return loginPost{form: form}, err
	}
	return loginPost{}, errUnsupportedForm
}

// errUnsupportedForm refuses a sign-in post that is neither a form nor JSON: the portal must be
// able to read what it forwards.
var errUnsupportedForm = onramp.Errorf(onramp.EINVALID, "send the sign-in form as application/x-www-form-urlencoded or application/json")

// encode is the post as Kratos expects it, in its original encoding; dotted keys
// (upstream_parameters.login_hint) become nested objects in JSON.
func (p loginPost) encode() []byte {
	if !p.json {
		return []byte(p.form.Encode())
	}
	out := map[string]any{}
	for k := range p.form {
		if outer, inner, ok := strings.Cut(k, "."); ok {
			m, _ := out[outer].(map[string]any)
			if m == nil {
				m = map[string]any{}
			}
			m[inner] = p.form.Get(k)
			out[outer] = m
			continue
		}
		out[k] = p.form.Get(k)
	}
	b, _ := json.Marshal(out)
	return b
}

// screenLoginPost applies the sign-in limits to a login post (form or JSON alike), marks a code
// submission, and routes an address of a partner with SSO to its identity provider. It answers
// the request itself and returns false when the post goes no further.
func (s *Server) screenLoginPost(c *gin.Context) bool {
	r := c.Request
	body, err := io.ReadAll(r.Body) // bounded by the body limit on every route
	if err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, "could not read the form"))
		return false
	}
	post, err := parseLoginPost(r, body)
	if err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, "the sign-in form could not be read; reload the sign-in page"))
		return false
	}
	email := strings.ToLower(strings.TrimSpace(post.form.Get("identifier")))
	codeSent := post.form.Get("code") != ""
	if codeSent {
		r.Header.Set("X-Onramp-Code-Submitted", "1")
	}
	// Every post that may e-mail a code (a first request, or a resend beside a typed code) counts
	// against the address; a code submission counts against the client only.
	counted := email
	if codeSent && post.form.Get("resend") == "" {
		counted = ""
	}
	if err := s.signIn.check(counted, c.ClientIP()); err != nil {
		s.signInPage(c, http.StatusTooManyRequests, loginView{Error: onramp.ErrorMessage(err), Email: post.form.Get("identifier")}, err)
		return false
	}
	// An address of a partner with SSO signs in only through that partner's identity provider:
	// never with an e-mail code, whatever the post asks for.
	if org, ok, err := s.cfg.TeamService.SSOFor(r.Context(), email); err != nil {
		s.fail(c, err)
		return false
	} else if ok {
		post.form = ssoForm(post.form, org.ID, email)
	}
	body = post.encode() // what Kratos gets is what the portal looked at
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return true
}

// withoutProviders drops the OIDC nodes from a flow Kratos answers as JSON: they would list every
// partner with SSO (its organisation id and name) to anyone who asks. The portal's own pages read
// flows from Kratos directly and route SSO addresses themselves.
func withoutProviders(resp *http.Response) error {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		if ui, ok := doc["ui"].(map[string]any); ok {
			if nodes, ok := ui["nodes"].([]any); ok {
				kept := nodes[:0]
				for _, n := range nodes {
					if node, ok := n.(map[string]any); !ok || node["group"] != "oidc" {
						kept = append(kept, n)
					}
				}
				ui["nodes"] = kept
				body, _ = json.Marshal(doc)
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}
