// Package gateway is Onramp's data plane: a sandbox and a production listener that run every
// request through the same pipeline (authenticate, route, authorize, quota, validate, respond).
// Until credentials exist, every API request is refused as unauthenticated, with the same
// problem+json body on both listeners.
package gateway

import (
	"errors"
	"net/http"
	"strings"

	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/internal/requestid"
)

// Environments a listener serves; a credential is valid only on its own environment's listener.
const (
	Sandbox    = "sandbox"
	Production = "production"
)

// Config is one listener's configuration.
type Config struct {
	Environment string // Sandbox or Production
	PortalURL   string // where partners get credentials; named in error details
}

// Gateway serves one environment.
type Gateway struct {
	cfg Config
}

// New returns a gateway for one environment; it fails on an unknown environment or missing
// portal URL.
func New(cfg Config) (*Gateway, error) {
	if cfg.Environment != Sandbox && cfg.Environment != Production {
		return nil, errors.New("gateway.New: environment must be sandbox or production")
	}
	if cfg.PortalURL == "" {
		return nil, errors.New("gateway.New: PortalURL is required")
	}
	return &Gateway{cfg: cfg}, nil
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestid.From(r.Header.Get(requestid.Header))
	w.Header().Set(requestid.Header, id)
	w.Header().Set("X-Onramp-Environment", g.cfg.Environment)

	if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok","environment":"` + g.cfg.Environment + `"}` + "\n"))
		return
	}

	p := g.authenticate(r)
	p.Instance, p.RequestID = r.URL.Path, id
	w.Header().Set("WWW-Authenticate", `Bearer realm="onramp-`+g.cfg.Environment+`"`)
	problem.Write(w, p)
}

// authenticate explains why the request carries no usable credential. The key itself never
// appears in the answer.
func (g *Gateway) authenticate(r *http.Request) problem.Problem {
	portal := strings.TrimRight(g.cfg.PortalURL, "/")
	if r.Header.Get("Authorization") == "" && r.Header.Get("X-API-Key") == "" {
		return problem.New(http.StatusUnauthorized, "missing-credential", "Missing credential",
			"Send your API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Your "+
				g.cfg.Environment+" credentials are in the portal at "+portal+"/credentials.")
	}
	return problem.New(http.StatusUnauthorized, "invalid-credential", "Invalid credential",
		"The credential was not recognised for the "+g.cfg.Environment+" environment. Check that you use a "+
			g.cfg.Environment+" key; manage your keys at "+portal+"/credentials.")
}
