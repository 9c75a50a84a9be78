// Package gateway is Onramp's data plane: a sandbox and a production listener that run every
// request through the same pipeline — authenticate, route (the published OpenAPI), authorize
// (policies/gateway), quota, validate — then proxy to the product's upstream (production) or
// answer with schema-true synthetic data (sandbox), and record a usage event off the request path.
// Both listeners answer errors with the same problem+json shapes and codes.
package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/internal/requestid"
	"github.com/onramp-dev/onramp/specs"
)

// Environments a listener serves; a credential is valid only on its own environment's listener.
const (
	Sandbox    = onramp.Sandbox
	Production = onramp.Production
)

// maxBodyBytes bounds a request body the gateway validates.
const maxBodyBytes = 1 << 20

// Credentials finds credentials: by key (EUNAUTHORIZED when there is none), by id (a token's
// subject), and OAuth clients by id and secret.
type Credentials interface {
	Lookup(ctx context.Context, key string) (onramp.Credential, error)
	Find(ctx context.Context, id string) (onramp.Credential, error)
	Client(ctx context.Context, clientID, secret string) (onramp.Credential, error)
}

// Organizations finds the organisation a credential belongs to: the catalog policy decides from
// its tier and status what it may see, and the gateway refuses what the catalog hides.
type Organizations interface {
	FindOrganization(ctx context.Context, id string) (onramp.Organization, error)
}

// Journeys records onboarding milestones (onramp.OnboardingStore).
type Journeys interface {
	ReachStage(ctx context.Context, orgID, stage string, at time.Time) error
}

// Config is one listener's configuration.
type Config struct {
	Environment string // Sandbox or Production
	PortalURL   string // where partners manage credentials; named in error details
	Credentials Credentials
	// Organizations and Catalog feed policies/catalog, the rules that decide what the catalog
	// shows: what it hides (a withheld product) the gateway refuses the same way.
	Organizations Organizations
	Catalog       onramp.CatalogStore
	Assignments   onramp.AssignmentStore
	Policy        onramp.Policy
	Recorder      *Recorder
	Quota         *Quota
	// ExampleUpstream answers for products whose production upstream is missing or on the reserved
	// .example domain (the demo catalog's), in development; empty: no stand-in.
	ExampleUpstream string
	Transport       http.RoundTripper // to upstreams; nil: a pooled transport
	// Journeys learns each organisation's first successful call per environment (the onboarding
	// funnel); nil skips it.
	Journeys Journeys
	// Tokens issues and verifies OAuth access tokens; nil turns OAuth off.
	Tokens *Tokens
	// Changes tells the refresher what to reload (a revocation, a new assignment); nil: it
	// reloads everything cached every RefreshEvery (default 1s).
	Changes      onramp.ChangeFeed
	RefreshEvery time.Duration
	Metrics      *Metrics // nil: none
	Logger       *slog.Logger
	Now          func() time.Time
}

// Gateway serves one environment. Every call is answered from memory: credentials, assignments,
// organisations, routes and decisions are cached and refreshed in the background (refresh.go),
// quota and usage are counted here and flushed by their own goroutines.
type Gateway struct {
	cfg         Config
	portal      string
	manage      string                    // where partners manage keys, as error details end
	creds       *cache[onramp.Credential] // by key hash, or "id:" and a token's subject
	unknown     *cache[onramp.Credential] // keys not found: apart, so a flood cannot evict known ones
	guesses     *guessLimits              // per client address, unknown keys tried
	assignments *cache[[]onramp.Assignment]
	orgs        *cache[onramp.Organization]
	visible     *cache[bool] // org × product: whether policies/catalog shows it
	routes      *cache[*route]
	decisions   *cache[onramp.Decision]
	compiled    *cache[*compiled] // by version id; published documents never change
	proxy       *proxy
	reached     sync.Map // org id: its first successful call here is recorded (or being recorded)
	rates       rateLimits
	storeUp     atomic.Bool // the refresher's last read of the store succeeded
	stop        context.CancelFunc
	stopped     chan struct{}
}

// Cache bounds: entries held per cache (least recently used evicted first), and how long an
// unknown key is remembered as unknown.
const (
	maxCachedKeys    = 200_000
	maxCachedUnknown = 20_000
	maxCachedOther   = 50_000
	unknownKeyTTL    = time.Minute
)

// compiled is a published version prepared for routing: its router, and the response headers
// each operation documents (what the gateway passes back from the upstream).
type compiled struct {
	router  routers.Router
	headers map[*openapi3.Operation]map[string]bool
	matches *cache[match]      // method and path → operation
	checks  *cache[validation] // bodiless requests' validation by method, path and query
}

// route is a product version the gateway can serve.
type route struct {
	product onramp.Product
	version onramp.ProductVersion
	doc     *openapi3.T
	cp      *compiled // its router and what it remembers of requests
	headers map[*openapi3.Operation]map[string]bool
	scopes  map[string]string // operation id → scope
	retired bool              // the version is past its sunset (policies/catalog)
	until   time.Time         // the next sunset of one of its versions: reloaded then, as retired may change

	deprecation *deprecation // a deprecated version's headers and 410 (lifecycle.go); nil otherwise
	upstream    upstream     // where production calls go
	label       string       // "<slug>/<version>", the X-Onramp-Product upstreams get
}

// upstream is a product's production base URL, parsed once per route rather than per call.
type upstream struct {
	scheme, host string
	path         string // escaped, without a trailing slash
	ok           bool   // false: none configured, or unparsable
	example      bool   // the development stand-in (ExampleUpstream)
}

// upstreamOf is where the gateway sends p's production calls: its upstream, or ExampleUpstream
// in its stead when that is set and the product's is missing, unparsable or on .example.
func (g *Gateway) upstreamOf(p onramp.Product) upstream {
	base := p.Upstreams[Production]
	if u, err := url.Parse(base); g.cfg.ExampleUpstream != "" && (base == "" || err != nil || strings.HasSuffix(u.Hostname(), ".example")) {
		base = g.cfg.ExampleUpstream
	}
	target, err := url.Parse(strings.TrimRight(base, "/"))
	if base == "" || err != nil {
		return upstream{}
	}
	return upstream{scheme: target.Scheme, host: target.Host, path: target.EscapedPath(), ok: true, example: base == g.cfg.ExampleUpstream}
}

// New returns a gateway for one environment and starts its cache refresher (Close stops it); it
// fails on a missing dependency.
func New(cfg Config) (*Gateway, error) {
	if cfg.Environment != Sandbox && cfg.Environment != Production {
		return nil, errors.New("gateway.New: environment must be sandbox or production")
	}
	if cfg.PortalURL == "" || cfg.Credentials == nil || cfg.Organizations == nil || cfg.Catalog == nil || cfg.Assignments == nil || cfg.Policy == nil || cfg.Recorder == nil || cfg.Quota == nil {
		return nil, errors.New("gateway.New: PortalURL, Credentials, Organizations, Catalog, Assignments, Policy, Recorder and Quota are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = time.Second
	}
	if cfg.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 256 // sized for load, not the default 2 per host
		cfg.Transport = t
	}
	m := cfg.Metrics
	g := &Gateway{cfg: cfg, portal: strings.TrimRight(cfg.PortalURL, "/"),
		creds:       newCache[onramp.Credential](0, maxCachedKeys, cfg.Now).counted(m, "credentials"),
		unknown:     newCache[onramp.Credential](unknownKeyTTL, maxCachedUnknown, cfg.Now),
		guesses:     newGuessLimits(),
		assignments: newCache[[]onramp.Assignment](0, maxCachedOther, cfg.Now).counted(m, "assignments"),
		orgs:        newCache[onramp.Organization](0, maxCachedOther, cfg.Now).counted(m, "organizations"),
		visible:     newCache[bool](0, maxCachedOther, cfg.Now).counted(m, "visibility"),
		routes:      newCache[*route](0, maxCachedOther, cfg.Now).counted(m, "routes"),
		decisions:   newCache[onramp.Decision](0, maxCachedOther, cfg.Now).counted(m, "decisions"),
		compiled:    newCache[*compiled](0, maxCachedOther, cfg.Now),
		stopped:     make(chan struct{}),
	}
	g.manage = " Manage your keys at " + g.portal + "/credentials."
	g.storeUp.Store(true)
	ctx, stop := context.WithCancel(context.Background())
	g.stop = stop
	go func() {
		defer close(g.stopped)
		g.refresh(ctx)
	}()
	g.proxy = newProxy(cfg.Transport, func(w http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, context.Canceled) { // the caller went away; nothing is wrong upstream
			g.cfg.Logger.Debug("caller gone before the upstream answered", "request_id", w.Header().Get(requestid.Header))
		} else {
			g.cfg.Logger.Error("upstream", "error", err, "request_id", w.Header().Get(requestid.Header))
		}
		g.problem(w, r, problem.New(http.StatusBadGateway, "upstream-unavailable", "Upstream unavailable",
			"The API behind the gateway did not answer. Retry with backoff; the request id identifies this call to the provider."))
	})
	return g, nil
}

// Close stops the cache refresher.
func (g *Gateway) Close() {
	g.stop()
	<-g.stopped
}

// ask loads what a cache misses from the store, unless the store is known to be unreachable:
// then the call is refused at once (503) instead of waiting for the store's timeout. Concurrent
// misses of a key share the load (cache.fill), so it runs without the first caller's
// cancellation — a client going away must not fail the others' calls; the store client's own
// timeout bounds it.
func ask[V any](g *Gateway, ctx context.Context, load func(context.Context) (V, error)) func() (V, error) {
	return func() (V, error) {
		if !g.storeUp.Load() {
			var zero V
			return zero, errStoreDown
		}
		v, err := load(context.WithoutCancel(ctx))
		if onramp.ErrorCode(err) == onramp.EINTERNAL {
			g.cfg.Logger.Error("gateway store read", "error", err)
			return v, errStoreDown
		}
		return v, err
	}
}

var errStoreDown = onramp.Errorf(onramp.EUNAVAILABLE, "The gateway cannot reach its store right now. Retry in a moment.")

// call is what the pipeline learns about one request.
// It also holds what the call's answer and upstream request refer to, so that one allocation
// per call provides it: the status writer, the values of the gateway's headers, the forwarding.
type call struct {
	started    time.Time
	credential struct{ id, org, label string } // whose use the call is: what usage records of it
	product    string
	version    string
	operation  string
	w          statusWriter
	headers    [2]string // X-Request-Id, X-Onramp-Environment
	fwd        forwarded
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	sent := r.Header.Get(requestid.Header)
	id := requestid.From(sent)
	c := &call{headers: [2]string{id, g.cfg.Environment}}
	h := rw.Header() // canonical keys set directly, the values capacity-one slices of the call's array
	h[requestid.Header], h["X-Onramp-Environment"] = c.headers[0:1:1], c.headers[1:2:2]
	switch r.URL.Path {
	case "/healthz":
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write([]byte(`{"status":"ok","environment":"` + g.cfg.Environment + `"}` + "\n"))
			return
		}
	case "/oauth/token":
		g.token(rw, r)
		return
	case "/.well-known/jwks.json":
		g.jwks(rw)
		return
	}
	c.started, c.w.ResponseWriter = g.cfg.Now(), rw
	w := &c.w
	g.serve(w, r, c)
	took := g.cfg.Now().Sub(c.started)
	g.cfg.Metrics.call(g.cfg.Environment, c.product, c.version, c.operation, w.status, took)
	if c.credential.id == "" {
		return // unauthenticated calls belong to nobody's usage
	}
	if w.status >= 200 && w.status < 300 {
		g.firstSuccess(c.credential.org)
	}
	// The event's id is the gateway's own: a caller's X-Request-Id could collide with another
	// call's (hiding it from the history) or pre-claim another tenant's. When the caller sent
	// none, the id the gateway answered with is its own, and names the event too.
	eventID := id
	if id == sent {
		eventID = requestid.New()
	}
	g.cfg.Recorder.Record(onramp.UsageEvent{ID: eventID, RequestID: id, At: c.started, OrgID: c.credential.org, CredentialID: c.credential.id,
		Label: c.credential.label, Environment: g.cfg.Environment, Product: c.product, Version: c.version, Operation: c.operation,
		Method: r.Method, Path: r.URL.Path, Status: w.status, LatencyMS: float64(took.Microseconds()) / 1000})
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	cred, rt, rest, assignment, ok := g.admit(w, r, c)
	if !ok {
		return
	}
	// From here on the caller's quota is known: a refusal tells it too (g.refuse).
	win := WindowAt(assignment, g.cfg.Environment, c.started) // the call's one reading of the clock before it is answered
	if g.deprecated(w, r, c, rt, rest, win) {
		return // retired or browned out: 410 Gone (lifecycle.go)
	}
	m, ok := g.match(w, r, rt, rest, win)
	if !ok {
		return
	}
	c.operation = m.opID
	if !g.allow(w, r, cred, assignment, rt, m.opID, win) {
		return
	}
	if err := rt.cp.validate(ctx, &m.inner, m.route, m.params); err != nil {
		p := problem.New(http.StatusBadRequest, "invalid-request", "Invalid request",
			"The request does not match "+m.opID+" in "+rt.product.Slug+" "+rt.version.Version+"; fix what is listed in errors (the operation is documented at "+g.portal+"/catalog/"+rt.product.Slug+").")
		p.Errors = requestErrors(err)
		g.problem(w, r, p)
		return
	}
	if g.cfg.Environment == Sandbox {
		g.sandbox(w, r, m.route.Operation, rest, m.body)
		return
	}
	g.forward(w, r, rt, m.route.Operation, cred, restOf(r.URL.EscapedPath()), m.body, &c.fwd)
}

// admit authenticates the call and finds the product version it names and the caller's
// assignment of it; otherwise it answers and returns false. Nothing here knows the quota yet.
func (g *Gateway) admit(w http.ResponseWriter, r *http.Request, c *call) (onramp.Credential, *route, string, onramp.Assignment, bool) {
	ctx := r.Context()
	cred, p := g.authenticate(ctx, r, c.started)
	c.credential.id, c.credential.org, c.credential.label = cred.ID, cred.OrgID, cred.Label // a known key refused (revoked, expired, other environment) still counts as its use
	if p != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="onramp-`+g.cfg.Environment+`"`)
		g.problem(w, r, *p)
		return cred, nil, "", onramp.Assignment{}, false
	}
	if upgradeRequested(r.Header) {
		g.problem(w, r, problem.New(http.StatusBadRequest, "upgrade-not-supported", "Protocol upgrade not supported",
			"The gateway serves plain HTTP requests only: send the request without Upgrade or HTTP2-Settings headers (WebSocket and h2c are not offered)."))
		return cred, nil, "", onramp.Assignment{}, false
	}
	if why := unsafePath(r.URL.EscapedPath()); why != "" {
		g.problem(w, r, problem.New(http.StatusBadRequest, "invalid-path", "Invalid path",
			"The path cannot be routed: "+why+". Percent-encode each path parameter without dot segments, slashes or backslashes."))
		return cred, nil, "", onramp.Assignment{}, false
	}
	rt, rest, p := g.route(ctx, r.URL.Path)
	if p != nil {
		g.problem(w, r, *p)
		return cred, nil, "", onramp.Assignment{}, false
	}
	c.product, c.version = rt.product.Slug, rt.version.Version
	assignment, found, err := g.assignment(ctx, cred.OrgID, rt.product.Slug)
	if err == nil && found {
		found, err = g.catalogShows(ctx, cred.OrgID, rt)
	}
	if err != nil {
		g.internal(w, r, err)
		return cred, nil, "", onramp.Assignment{}, false
	}
	if !found {
		g.problem(w, r, notFoundProduct(rt.product.Slug, g.portal))
		return cred, nil, "", onramp.Assignment{}, false
	}
	return cred, rt, rest, assignment, true
}

// matched is the operation a call is for, with what validating it needs.
type matched struct {
	inner  inner // the call as seen below /<product>/<version>
	route  *routers.Route
	params map[string]string
	body   []byte
	opID   string
}

// match reads the body (up to maxBodyBytes) and finds the operation on the path below
// /<product>/<version>; otherwise it refuses and returns false.
func (g *Gateway) match(w http.ResponseWriter, r *http.Request, rt *route, rest string, win Window) (matched, bool) {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1)); err != nil {
			g.refuse(w, r, win, problem.New(http.StatusBadRequest, "invalid-request", "Invalid request", "The request body could not be read."))
			return matched{}, false
		}
		if len(body) > maxBodyBytes {
			g.refuse(w, r, win, problem.New(http.StatusRequestEntityTooLarge, "body-too-large", "Body too large", "Request bodies are limited to 1 MiB."))
			return matched{}, false
		}
	}
	m := matched{inner: inner{r: r, rest: rest, body: body}, body: body}
	opRoute, params, err := rt.cp.findRoute(&m.inner)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			g.refuse(w, r, win, problem.New(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
				r.Method+" is not an operation of "+rt.product.Slug+" "+rt.version.Version+" at "+rest+"; the catalog lists its operations at "+g.portal+"/catalog/"+rt.product.Slug))
			return matched{}, false
		}
		g.refuse(w, r, win, problem.New(http.StatusNotFound, "no-such-operation", "No such operation",
			rest+" is not a path of "+rt.product.Slug+" "+rt.version.Version+"; the catalog lists its operations at "+g.portal+"/catalog/"+rt.product.Slug))
		return matched{}, false
	}
	m.route, m.params, m.opID = opRoute, params, specs.OperationID(opRoute.Method, opRoute.Path, opRoute.Operation)
	return m, true
}

// allow asks policies/gateway, then the credential's rate limit, then the quota; a refusal is
// answered and returns false. Only a call that passes all three takes from the quota.
func (g *Gateway) allow(w http.ResponseWriter, r *http.Request, cred onramp.Credential, assignment onramp.Assignment, rt *route, opID string, win Window) bool {
	ctx := r.Context()
	// A credential's scopes never change and an assignment's UpdatedAt changes with it, so the
	// decision for this triple holds until a policy reload, which it follows within the cache TTL.
	// The key is cred.ID, the scopes joined with ",", UpdatedAt in base 36, the product and the
	// operation, apart by \x00: built on the stack, a string only on a miss.
	var buf [256]byte
	key := append(append(buf[:0], cred.ID...), 0)
	for i, s := range cred.Scopes {
		if i > 0 {
			key = append(key, ',')
		}
		key = append(key, s...)
	}
	key = append(strconv.AppendInt(append(key, 0), assignment.UpdatedAt.UnixNano(), 36), 0)
	key = append(append(append(key, rt.product.Slug...), 0), opID...)
	d, err := g.decisions.getBytes(key, func() (onramp.Decision, error) {
		started := time.Now()
		defer func() { g.cfg.Metrics.decided(onramp.DecisionGateway, time.Since(started)) }()
		// Shared by concurrent misses, like ask's loads: not cancelled by the first caller leaving.
		return g.cfg.Policy.Decide(context.WithoutCancel(ctx), onramp.DecisionGateway, onramp.GatewayInput(g.cfg.Environment, g.portal, rt.product.Slug, cred, assignment, opID, rt.scopes[opID]))
	})
	if err != nil {
		g.internal(w, r, err)
		return false
	}
	if !d.Allow {
		g.refuse(w, r, win, problem.New(http.StatusForbidden, "access-denied", "Access denied", strings.Join(d.Reasons, "; ")+"."))
		return false
	}
	if rl := assignment.RateLimit; rl != nil {
		if ok, wait := g.rates.take(cred.ID, *rl, g.cfg.Now()); !ok {
			w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10))
			g.refuse(w, r, win, problem.New(http.StatusTooManyRequests, "rate-limited", "Rate limited",
				"This credential may make "+strconv.FormatFloat(rl.PerSecond, 'f', -1, 64)+" calls per second to "+rt.product.Slug+" (bursts of "+strconv.Itoa(rl.Burst)+
					"); retry after "+wait.Round(time.Millisecond).String()+" and spread your calls. This call did not use your quota."))
			return false
		}
	}
	allowed, remaining := g.cfg.Quota.Take(ctx, win)
	g.quotaHeaders(w, win, remaining)
	if !allowed {
		g.cfg.Metrics.quotaRefusal(g.cfg.Environment, rt.product.Slug)
		w.Header().Set("Retry-After", w.Header().Get("RateLimit-Reset"))
		g.problem(w, r, problem.New(http.StatusTooManyRequests, "quota-exhausted", "Quota exhausted",
			"Your organisation used its "+strconv.FormatInt(win.Quota.Limit, 10)+" calls to "+rt.product.Slug+" in "+g.cfg.Environment+" this "+win.Quota.Period+
				"; the quota resets at "+win.Reset.Format(time.RFC3339)+". See your usage and request more at "+g.portal+"/usage."))
		return false
	}
	return true
}

// authenticate finds the request's credential, or the problem to answer. The key never appears
// in the answer or a log.
func (g *Gateway) authenticate(ctx context.Context, r *http.Request, now time.Time) (onramp.Credential, *problem.Problem) {
	key, sent, ok := KeyFrom(r.Header.Get("Authorization"), r.Header.Get("X-Api-Key")) // canonical: Get canonicalises others anew
	env, manage := g.cfg.Environment, g.manage
	if !sent {
		p := problem.New(http.StatusUnauthorized, "missing-credential", "Missing credential",
			"Send your API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`."+manage)
		return onramp.Credential{}, &p
	}
	if !ok {
		return onramp.Credential{}, g.invalidCredential()
	}
	if looksLikeJWT(key) {
		return g.authenticateToken(ctx, key, manage)
	}
	if !onramp.WellFormedKey(key) {
		return onramp.Credential{}, g.invalidCredential() // no lookup for what was never issued
	}
	cred, err := g.lookupKey(ctx, key, r)
	if onramp.ErrorCode(err) == onramp.ERATELIMITED {
		p := problem.New(http.StatusTooManyRequests, "too-many-unknown-credentials", "Too many unknown credentials",
			"Your network sent many credentials that do not exist; keys the gateway has not seen recently are refused for a minute. Check that you send the whole key."+manage)
		return onramp.Credential{}, &p
	}
	if err == nil && cred.Type == onramp.TypeOAuthClient {
		p := problem.New(http.StatusUnauthorized, "invalid-credential", "Invalid credential",
			"This is an OAuth client secret: exchange it with its client id at POST /oauth/token and send the access token as `Authorization: Bearer <token>`.")
		return onramp.Credential{}, &p
	}
	if err != nil {
		if onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
			if onramp.ErrorCode(err) != onramp.EUNAVAILABLE {
				g.cfg.Logger.Error("credential lookup", "error", err)
			}
			p := problem.New(http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable", "The gateway cannot check credentials right now. Retry in a moment.")
			return onramp.Credential{}, &p
		}
		return onramp.Credential{}, g.invalidCredential()
	}
	if cred.Environment != env {
		p := problem.New(http.StatusUnauthorized, "wrong-environment", "Wrong environment",
			"This is a "+cred.Environment+" key; the "+env+" gateway takes "+env+" keys ("+onramp.KeyPrefix(env)+"…)."+manage)
		return cred, &p
	}
	switch cred.Refusal(now) {
	case "revoked":
		p := problem.New(http.StatusUnauthorized, "revoked-credential", "Revoked credential",
			"The credential "+cred.Masked()+" ("+cred.Label+") was revoked. Use another key or create one."+manage)
		return cred, &p
	case "expired":
		p := problem.New(http.StatusUnauthorized, "expired-credential", "Expired credential",
			"The credential "+cred.Masked()+" ("+cred.Label+") expired at "+cred.ExpiresAt.UTC().Format(time.RFC3339)+"; switch to its replacement."+manage)
		return cred, &p
	}
	return cred, nil
}

// invalidCredential is the answer to a key that is not one of this environment's.
func (g *Gateway) invalidCredential() *problem.Problem {
	env := g.cfg.Environment
	p := problem.New(http.StatusUnauthorized, "invalid-credential", "Invalid credential",
		"The credential was not recognised for the "+env+" environment. Check that you send the whole "+env+" key ("+onramp.KeyPrefix(env)+"…)."+g.manage)
	return &p
}

// authenticateToken verifies an OAuth access token and loads its client: the token's scopes
// replace the client's, everything else (environment, revocation) is checked like a key's.
func (g *Gateway) authenticateToken(ctx context.Context, token, manage string) (onramp.Credential, *problem.Problem) {
	env := g.cfg.Environment
	invalid := problem.New(http.StatusUnauthorized, "invalid-token", "Invalid token",
		"The access token was not issued by the "+env+" gateway or was altered. Get one at POST /oauth/token."+manage)
	if g.cfg.Tokens == nil {
		return onramp.Credential{}, &invalid
	}
	cl, err := g.cfg.Tokens.verify(token, env)
	if errors.Is(err, errExpiredToken) {
		p := problem.New(http.StatusUnauthorized, "expired-token", "Expired token",
			"The access token expired at "+cl.Expiry.Time().UTC().Format(time.RFC3339)+". Get a new one at POST /oauth/token with your client credentials.")
		return onramp.Credential{}, &p
	}
	if err != nil {
		return onramp.Credential{}, &invalid
	}
	cred, err := g.creds.get("id:"+cl.Subject, ask(g, ctx, func(ctx context.Context) (onramp.Credential, error) { return g.cfg.Credentials.Find(ctx, cl.Subject) }))
	// Only the OAuth client the token was issued to, in this environment, makes it valid: a
	// token naming an API key's id (or another client's) is refused.
	if err != nil || cred.Type != onramp.TypeOAuthClient || cred.ClientID != cl.ClientID || cred.Environment != env {
		return onramp.Credential{}, &invalid
	}
	if r := cred.Refusal(g.cfg.Now()); r != "" {
		p := problem.New(http.StatusUnauthorized, r+"-credential", strings.ToUpper(r[:1])+r[1:]+" credential",
			"The OAuth client "+cred.ClientID+" ("+cred.Label+") is "+r+"; its tokens no longer work."+manage)
		return cred, &p
	}
	cred.Scopes = strings.Fields(cl.Scope)
	return cred, nil
}

// route resolves /<product>/<version>/<rest>; "latest" names the newest non-beta version.
func (g *Gateway) route(ctx context.Context, path string) (*route, string, *problem.Problem) {
	slug, after, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	version, _, more := strings.Cut(after, "/")
	if slug == "" || version == "" {
		p := problem.New(http.StatusNotFound, "no-such-operation", "No such operation",
			"Call /<product>/<version>/<path>, e.g. /payments/v2/payments; the catalog at "+g.portal+"/catalog gives each product's base URL.")
		return nil, "", &p
	}
	rest := "/"
	if more {
		rest = after[len(version):] // "/" + tail, without building it
	}
	key := strings.TrimPrefix(path, "/")[:len(slug)+1+len(version)] // "<slug>/<version>", without building it
	rt, err, ok := g.routes.lookup(key)
	g.routes.count(ok)
	if !ok { // only a miss builds the loader
		rt, err = g.routes.fill(key, ask(g, ctx, func(ctx context.Context) (*route, error) { return g.load(ctx, slug, version) }))
	}
	if err != nil {
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			p := notFoundProduct(slug+" "+version, g.portal)
			return nil, "", &p
		}
		p := problem.New(http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable", "The gateway cannot load the API description right now. Retry in a moment.")
		return nil, "", &p
	}
	return rt, rest, nil
}

func notFoundProduct(what, portal string) problem.Problem {
	return problem.New(http.StatusNotFound, "no-such-product", "No such product",
		"There is no "+what+" for your organisation; the catalog at "+portal+"/catalog lists the products and versions you can call.")
}

func (g *Gateway) load(ctx context.Context, slug, version string) (*route, error) {
	p, err := g.cfg.Catalog.FindProduct(ctx, slug)
	if err != nil {
		return nil, err
	}
	versions, err := g.cfg.Catalog.ListVersions(ctx, slug)
	if err != nil {
		return nil, err
	}
	var v onramp.ProductVersion
	if version == onramp.LatestVersion {
		if v, err = onramp.Latest(versions); err != nil {
			return nil, err
		}
	} else if i := slices.IndexFunc(versions, func(x onramp.ProductVersion) bool { return x.Version == version }); i >= 0 {
		v = versions[i]
	} else {
		return nil, onramp.Errorf(onramp.ENOTFOUND, "no version %s of %s", version, slug)
	}
	cp, err := g.compiled.get(v.ID, func() (*compiled, error) { return compile(v) })
	if err != nil {
		return nil, err
	}
	now := g.cfg.Now()
	rt := &route{product: p, version: v, cp: cp, headers: cp.headers, scopes: map[string]string{}, retired: v.PhaseAt(now) == onramp.PhaseRetired,
		deprecation: newDeprecation(g.portal, p, v, versions), upstream: g.upstreamOf(p), label: p.Slug + "/" + v.Version}
	if rt.upstream.example { // the dev stand-in says it is one
		rt.headers = make(map[*openapi3.Operation]map[string]bool, len(cp.headers))
		for op, documented := range cp.headers {
			rt.headers[op] = withExampleHeader(documented)
		}
	}
	for _, x := range versions {
		if x.Sunset != nil && x.Sunset.After(now) && (rt.until.IsZero() || x.Sunset.Before(rt.until)) {
			rt.until = *x.Sunset
		}
	}
	for _, op := range v.Operations {
		rt.scopes[op.ID] = op.Scope
	}
	return rt, nil
}

// compile parses a published version and builds its router (paths only: the gateway strips
// /<product>/<version>), noting the response headers each operation documents.
func compile(v onramp.ProductVersion) (*compiled, error) {
	doc, err := specs.Load([]byte(v.Spec))
	if err != nil {
		return nil, err
	}
	router, err := specs.Router(doc)
	if err != nil {
		return nil, err
	}
	cp := &compiled{router: router, headers: map[*openapi3.Operation]map[string]bool{}}
	cp.matches, cp.checks = newRemembered()
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			cp.headers[op] = documentedResponseHeaders(op)
		}
	}
	return cp, nil
}

// restOf is an escaped request path below /<product>/<version>: a suffix of it, so nothing is built.
func restOf(escaped string) string {
	s := strings.TrimPrefix(escaped, "/")
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return "/"
	}
	j := strings.IndexByte(s[i+1:], '/')
	if j < 0 {
		return "/"
	}
	return s[i+1+j:]
}

// catalogShows asks policies/catalog whether the organisation sees the product: a product the
// catalog hides (withheld by the security team, or retired) does not exist at the gateway either.
func (g *Gateway) catalogShows(ctx context.Context, orgID string, rt *route) (bool, error) {
	var buf [128]byte
	key := append(append(append(buf[:0], orgID...), 0), rt.product.Slug...) // org \x00 product
	return g.visible.getBytes(key, func() (bool, error) {
		ctx := context.WithoutCancel(ctx) // shared by concurrent misses (see ask)
		org, err := g.orgs.get(orgID, ask(g, ctx, func(ctx context.Context) (onramp.Organization, error) {
			return g.cfg.Organizations.FindOrganization(ctx, orgID)
		}))
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			return false, nil
		} else if err != nil {
			return false, err
		}
		as, err := g.assignments.get(orgID, ask(g, ctx, func(ctx context.Context) ([]onramp.Assignment, error) {
			return g.cfg.Assignments.AssignmentsOf(ctx, orgID)
		}))
		if err != nil {
			return false, err
		}
		started := time.Now()
		d, err := g.cfg.Policy.Decide(ctx, onramp.DecisionCatalog, onramp.CatalogInput(org, as, rt.product, rt.retired, rt.version.Operations))
		g.cfg.Metrics.decided(onramp.DecisionCatalog, time.Since(started))
		return d.Allow, err
	})
}

func (g *Gateway) assignment(ctx context.Context, orgID, product string) (onramp.Assignment, bool, error) {
	as, err, ok := g.assignments.lookup(orgID)
	g.assignments.count(ok)
	if !ok {
		as, err = g.assignments.fill(orgID, ask(g, ctx, func(ctx context.Context) ([]onramp.Assignment, error) {
			return g.cfg.Assignments.AssignmentsOf(ctx, orgID)
		}))
	}
	if err != nil {
		return onramp.Assignment{}, false, err
	}
	for _, a := range as {
		if a.Product == product {
			return a, true, nil
		}
	}
	return onramp.Assignment{}, false, nil
}

func (g *Gateway) sandbox(w http.ResponseWriter, r *http.Request, op *openapi3.Operation, rest string, body []byte) {
	status, ctype, out, err := sandboxResponse(op, seedOf([]byte(r.Method), []byte(rest), []byte(r.URL.RawQuery), body))
	if err != nil {
		g.internal(w, r, err)
		return
	}
	w.Header().Set("X-Onramp-Sandbox", "synthetic")
	if ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, rt *route, op *openapi3.Operation, cred onramp.Credential, rest string, body []byte, f *forwarded) {
	up := rt.upstream
	if !up.ok {
		g.problem(w, r, problem.New(http.StatusBadGateway, "upstream-unavailable", "Upstream unavailable",
			rt.product.Slug+" has no production upstream configured; the provider has been told."))
		g.cfg.Logger.Error("product without production upstream", "product", rt.product.Slug)
		return
	}
	// The path keeps the caller's escaping (checked by unsafePath), the query goes as sent.
	raw := up.path + rest
	path, err := url.PathUnescape(raw)
	if err != nil {
		g.internal(w, r, err)
		return
	}
	*f = forwarded{Context: r.Context(), target: url.URL{Scheme: up.scheme, Host: up.host, Path: path, RawPath: raw, RawQuery: r.URL.RawQuery},
		org: cred.OrgID, cred: cred.ID, product: rt.label, op: op, documented: rt.headers[op]}
	if _, ok := rt.headers[op]; !ok && up.example {
		f.documented = withExampleHeader(nil)
	}
	out := r.WithContext(f) // the proxy clones it (headers too) before Rewrite
	out.Body = http.NoBody
	if len(body) > 0 {
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	out.ContentLength = int64(len(body))
	g.proxy.serve(w, out, f)
}

// quotaHeaders tells the caller its quota (draft-ietf-httpapi-ratelimit-headers): the limit, what
// remains, and the seconds until the window resets.
func (g *Gateway) quotaHeaders(w http.ResponseWriter, win Window, remaining int64) {
	// Canonical keys set directly, the three numbers formatted into one string and the values in
	// one array (each of capacity one, so an append copies it): two allocations on every call.
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], win.Quota.Limit, 10)
	limit := len(b)
	b = strconv.AppendInt(b, remaining, 10)
	rem := len(b)
	b = strconv.AppendInt(b, int64(math.Ceil(win.Reset.Sub(g.cfg.Now()).Seconds())), 10)
	all := string(b)
	v := []string{all[:limit], all[limit:rem], all[rem:]}
	h := w.Header()
	h["Ratelimit-Limit"], h["Ratelimit-Remaining"], h["Ratelimit-Reset"] = v[0:1:1], v[1:2:2], v[2:3:3]
}

// refuse answers p with the caller's quota headers, read without counting the call.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, win Window, p problem.Problem) {
	g.quotaHeaders(w, win, g.cfg.Quota.Remaining(r.Context(), win))
	g.problem(w, r, p)
}

func (g *Gateway) problem(w http.ResponseWriter, r *http.Request, p problem.Problem) {
	p.Instance, p.RequestID = r.URL.Path, w.Header().Get(requestid.Header)
	problem.Write(w, p)
}

// internal answers a failure: 503 while the store is unreachable (known already), 500 logged otherwise.
func (g *Gateway) internal(w http.ResponseWriter, r *http.Request, err error) {
	if onramp.ErrorCode(err) != onramp.EUNAVAILABLE {
		g.cfg.Logger.Error("gateway internal error", "error", err, "path", r.URL.Path, "request_id", w.Header().Get(requestid.Header))
	}
	g.problem(w, r, problem.FromError(err))
}

// requestErrors turns kin-openapi's request validation errors into located details.
func requestErrors(err error) []onramp.ErrorDetail {
	var errs []error
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		errs = multi
	} else {
		errs = []error{err}
	}
	out := make([]onramp.ErrorDetail, 0, len(errs))
	for _, e := range errs {
		var re *openapi3filter.RequestError
		if errors.As(e, &re) {
			loc := "body"
			if re.Parameter != nil {
				loc = re.Parameter.In + "." + re.Parameter.Name
			}
			msg := re.Reason
			var se *openapi3.SchemaError
			if errors.As(re.Err, &se) {
				if ptr := se.JSONPointer(); len(ptr) > 0 {
					loc += "." + strings.Join(ptr, ".")
				}
				msg = se.Reason
			} else if re.Err != nil && msg == "" {
				msg = re.Err.Error()
			}
			out = append(out, onramp.ErrorDetail{Location: loc, Message: msg})
			continue
		}
		out = append(out, onramp.ErrorDetail{Location: "request", Message: e.Error()})
	}
	return out
}

// firstSuccess records, once per organisation and node, its first successful call in this
// environment — off the request path.
func (g *Gateway) firstSuccess(orgID string) {
	if g.cfg.Journeys == nil {
		return
	}
	if _, seen := g.reached.LoadOrStore(orgID, true); seen {
		return
	}
	stage := onramp.StageFirstSandboxCall
	if g.cfg.Environment == Production {
		stage = onramp.StageFirstProductionCall
	}
	at := g.cfg.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.cfg.Journeys.ReachStage(ctx, orgID, stage, at); err != nil {
			g.reached.Delete(orgID) // try again on the next success
			g.cfg.Logger.Error("record onboarding stage", "organization", orgID, "stage", stage, "error", err)
		}
	}()
}
