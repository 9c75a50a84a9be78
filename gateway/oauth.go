package gateway

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/onramp-dev/onramp"
)

// OAuth 2.0 client credentials: an organisation's OAuth client exchanges its id and secret at
// the gateway's /oauth/token for a short-lived JWT (scopes requested ⊆ granted), which the gateway
// then accepts like an API key — same scopes, same policy, same errors. Signing keys are published
// at /.well-known/jwks.json.

// Tokens signs and verifies access tokens with an Ed25519 key every gateway node shares.
type Tokens struct {
	kid    string
	key    ed25519.PrivateKey
	signer jose.Signer
	ttl    time.Duration
	issuer string
	now    func() time.Time
}

// ParseTokenKey reads TOKEN_SIGNING_KEY, "<key id>:<base64 32-byte seed>".
func ParseTokenKey(spec string) (string, ed25519.PrivateKey, error) {
	kid, b64, ok := strings.Cut(strings.TrimSpace(spec), ":")
	seed, err := base64.StdEncoding.DecodeString(b64)
	if !ok || kid == "" || err != nil || len(seed) != ed25519.SeedSize {
		return "", nil, errors.New("TOKEN_SIGNING_KEY: write it as <key id>:<base64 of 32 random bytes> (openssl rand -base64 32)")
	}
	return kid, ed25519.NewKeyFromSeed(seed), nil
}

// NewTokens signs with key (id kid); tokens live for ttl.
func NewTokens(kid string, key ed25519.PrivateKey, ttl time.Duration, issuer string, now func() time.Time) (*Tokens, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{kid: kid, key: key, signer: signer, ttl: ttl, issuer: issuer, now: now}, nil
}

// claims are an access token's claims.
type claims struct {
	jwt.Claims
	OrgID       string `json:"org"`
	Environment string `json:"env"`
	Scope       string `json:"scope"`
	ClientID    string `json:"client_id"`
}

// JWKS is the public key set, as /.well-known/jwks.json serves it.
func (t *Tokens) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: t.key.Public(), KeyID: t.kid, Algorithm: string(jose.EdDSA), Use: "sig"}}}
}

func (t *Tokens) issue(c onramp.Credential, scopes []string) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(t.ttl)
	cl := claims{Claims: jwt.Claims{Issuer: t.issuer, Subject: c.ID, Audience: jwt.Audience{"onramp-" + c.Environment}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(exp), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ID: onramp.RandomHex(12)},
		OrgID: c.OrgID, Environment: c.Environment, Scope: strings.Join(scopes, " "), ClientID: c.ClientID}
	tok, err := jwt.Signed(t.signer).Claims(cl).Serialize()
	return tok, exp, err
}

var errExpiredToken = errors.New("expired")

// verify checks the signature, audience and times; errExpiredToken once it has expired.
func (t *Tokens) verify(token, env string) (claims, error) {
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return claims{}, err
	}
	var cl claims
	if err := parsed.Claims(t.key.Public(), &cl); err != nil {
		return claims{}, err
	}
	err = cl.ValidateWithLeeway(jwt.Expected{Issuer: t.issuer, AnyAudience: jwt.Audience{"onramp-" + env}, Time: t.now()}, 0)
	if errors.Is(err, jwt.ErrExpired) {
		return cl, errExpiredToken
	}
	return cl, err
}

// looksLikeJWT tells a token (three dot-separated parts) from an API key.
func looksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 }

// oauthError writes an RFC 6749 §5.2 error.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="onramp"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// token is the /oauth/token endpoint (client_credentials grant; client authentication by HTTP
// Basic or form fields).
func (g *Gateway) token(w http.ResponseWriter, r *http.Request) {
	if g.cfg.Tokens == nil {
		oauthError(w, http.StatusNotFound, "unsupported_grant_type", "OAuth is not enabled on this gateway")
		return
	}
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST the token request as application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only grant_type=client_credentials is supported")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" || secret == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "authenticate with client_id and client_secret (HTTP Basic or form fields)")
		return
	}
	c, err := g.cfg.Credentials.Client(r.Context(), id, secret)
	if err == nil && (c.Environment != g.cfg.Environment || c.Refusal(g.cfg.Now()) != "") {
		err = onramp.Errorf(onramp.EUNAUTHORIZED, "not usable here")
	}
	if err != nil {
		if onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
			g.cfg.Logger.Error("oauth client lookup", "error", err)
			oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "retry in a moment")
			return
		}
		oauthError(w, http.StatusUnauthorized, "invalid_client", "the client is unknown, revoked, or for the other environment; manage clients at "+g.portal+"/credentials")
		return
	}
	scopes := c.Scopes
	if req := strings.Fields(r.PostForm.Get("scope")); len(req) > 0 {
		for _, s := range req {
			if !slices.Contains(c.Scopes, s) {
				oauthError(w, http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %s is not granted to this client; it has %s", s, strings.Join(c.Scopes, " ")))
				return
			}
		}
		scopes = req
	}
	tok, exp, err := g.cfg.Tokens.issue(c, scopes)
	if err != nil {
		g.cfg.Logger.Error("sign token", "error", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "the token could not be signed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(exp.Sub(g.cfg.Now()).Seconds()), "scope": strings.Join(scopes, " ")})
}

func (g *Gateway) jwks(w http.ResponseWriter) {
	if g.cfg.Tokens == nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(g.cfg.Tokens.JWKS())
}
