// Package kratos is Onramp's identity adapter over Ory Kratos, called with ory/client-go: the
// public API for sign-in flows, the admin API for identities. It translates Kratos answers into
// onramp error codes and never reports whether an e-mail address is known (ory/kratos#4521).
package kratos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	ory "github.com/ory/client-go"

	"github.com/onramp-dev/onramp"
)

// SchemaID is the identity schema of partner developers (deploy/kratos/identity.schema.json).
const SchemaID = "partner"

// Client talks to one Kratos deployment.
type Client struct {
	public   *ory.APIClient
	admin    *ory.APIClient
	adminURL string
	http     *http.Client
}

// New returns a Client for the given public and admin base URLs; hc may be nil.
func New(publicURL, adminURL string, hc *http.Client) (*Client, error) {
	for name, u := range map[string]string{"KRATOS_PUBLIC_URL": publicURL, "KRATOS_ADMIN_URL": adminURL} {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			return nil, fmt.Errorf("%s %q is not an absolute URL", name, u)
		}
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	conf := func(base string) *ory.APIClient {
		c := ory.NewConfiguration()
		c.Servers = ory.ServerConfigurations{{URL: strings.TrimRight(base, "/")}}
		c.HTTPClient = hc
		c.UserAgent = "onramp"
		return ory.NewAPIClient(c)
	}
	return &Client{public: conf(publicURL), admin: conf(adminURL), adminURL: strings.TrimRight(adminURL, "/"), http: hc}, nil
}

// Ready returns nil when Kratos reports itself ready (database reachable, migrations applied).
func (c *Client) Ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.adminURL+"/admin/health/ready", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("kratos readiness answered %s", resp.Status)
	}
	return nil
}

// CreateIdentity creates a partner identity for email and returns its id; ECONFLICT when the
// address already has one.
func (c *Client) CreateIdentity(ctx context.Context, email string) (string, error) {
	body := ory.NewCreateIdentityBody(SchemaID, map[string]any{"email": email})
	id, resp, err := c.admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(*body).Execute()
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusConflict {
			return "", onramp.Errorf(onramp.ECONFLICT, "an identity for %s already exists", email)
		}
		return "", fmt.Errorf("kratos create identity: %w", err)
	}
	return id.Id, nil
}

// StartCodeLogin starts an API (non-browser) login flow and asks Kratos to e-mail a one-time code.
// It answers the same way whether or not the address is known, and returns the flow id.
func (c *Client) StartCodeLogin(ctx context.Context, email string) (string, error) {
	flow, _, err := c.public.FrontendAPI.CreateNativeLoginFlow(ctx).Execute()
	if err != nil {
		return "", fmt.Errorf("kratos create login flow: %w", err)
	}
	body := ory.NewUpdateLoginFlowWithCodeMethod("", "code")
	body.SetIdentifier(email)
	_, resp, err := c.public.FrontendAPI.UpdateLoginFlow(ctx).Flow(flow.Id).
		UpdateLoginFlowBody(ory.UpdateLoginFlowWithCodeMethodAsUpdateLoginFlowBody(body)).Execute()
	// Kratos answers 400 with state sent_email when the code went out (ory/kratos#4052), and 400
	// "account does not exist" for an unknown address, which must look the same to the caller.
	if err != nil && (resp == nil || resp.StatusCode != http.StatusBadRequest) {
		return "", fmt.Errorf("kratos send login code: %w", err)
	}
	return flow.Id, nil
}

// CompleteCodeLogin submits the e-mailed code and returns a session token; EUNAUTHORIZED when the
// code is wrong or expired.
func (c *Client) CompleteCodeLogin(ctx context.Context, flowID, email, code string) (string, error) {
	body := ory.NewUpdateLoginFlowWithCodeMethod("", "code")
	body.SetIdentifier(email)
	body.SetCode(code)
	res, resp, err := c.public.FrontendAPI.UpdateLoginFlow(ctx).Flow(flowID).
		UpdateLoginFlowBody(ory.UpdateLoginFlowWithCodeMethodAsUpdateLoginFlowBody(body)).Execute()
	if err != nil {
		if resp != nil && resp.StatusCode < 500 {
			return "", onramp.Errorf(onramp.EUNAUTHORIZED, "the code is wrong or has expired; request a new one")
		}
		return "", fmt.Errorf("kratos submit login code: %w", err)
	}
	if res.SessionToken == nil || *res.SessionToken == "" {
		return "", errors.New("kratos returned no session token")
	}
	return *res.SessionToken, nil
}

// Whoami resolves a session token (API clients); EUNAUTHORIZED when it is unknown, expired or
// revoked.
func (c *Client) Whoami(ctx context.Context, token string) (onramp.Session, error) {
	return c.session(c.public.FrontendAPI.ToSession(ctx).XSessionToken(token).Execute())
}

// SessionFromCookie resolves the browser's Kratos session cookie header; EUNAUTHORIZED when there
// is no valid session.
func (c *Client) SessionFromCookie(ctx context.Context, cookie string) (onramp.Session, error) {
	if cookie == "" {
		return onramp.Session{}, onramp.Errorf(onramp.EUNAUTHORIZED, "sign in first")
	}
	return c.session(c.public.FrontendAPI.ToSession(ctx).Cookie(cookie).Execute())
}

func (c *Client) session(s *ory.Session, resp *http.Response, err error) (onramp.Session, error) {
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return onramp.Session{}, onramp.Errorf(onramp.EUNAUTHORIZED, "the session has ended; sign in again")
		}
		return onramp.Session{}, fmt.Errorf("kratos whoami: %w", err)
	}
	out := onramp.Session{}
	if s.ExpiresAt != nil {
		out.ExpiresAt = *s.ExpiresAt
	}
	if s.Identity != nil {
		out.IdentityID = s.Identity.Id
		if traits, ok := s.Identity.Traits.(map[string]any); ok {
			out.Email, _ = traits["email"].(string)
		}
	}
	return out, nil
}

// EnsureIdentity returns the identity for email, creating it when missing.
func (c *Client) EnsureIdentity(ctx context.Context, email string) (string, error) {
	id, err := c.CreateIdentity(ctx, email)
	if onramp.ErrorCode(err) != onramp.ECONFLICT {
		return id, err
	}
	found, _, err := c.admin.IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(email).Execute()
	if err != nil {
		return "", fmt.Errorf("kratos find identity: %w", err)
	}
	if len(found) == 0 {
		return "", fmt.Errorf("kratos reported %s as taken but lists no identity for it", email)
	}
	return found[0].Id, nil
}

// FindIdentity returns the identity with id, with the OIDC providers it is linked to (its
// credential identifiers are "<provider>:<subject>"); ENOTFOUND when there is none.
func (c *Client) FindIdentity(ctx context.Context, id string) (onramp.Identity, error) {
	found, resp, err := c.admin.IdentityAPI.GetIdentity(ctx, id).Execute()
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return onramp.Identity{}, onramp.Errorf(onramp.ENOTFOUND, "no identity %q", id)
		}
		return onramp.Identity{}, fmt.Errorf("kratos get identity: %w", err)
	}
	out := onramp.Identity{ID: found.Id}
	if traits, ok := found.Traits.(map[string]any); ok {
		out.Email, _ = traits["email"].(string)
	}
	if found.Credentials != nil {
		for _, ident := range (*found.Credentials)["oidc"].Identifiers {
			if provider, _, ok := strings.Cut(ident, ":"); ok {
				out.SSOProviders = append(out.SSOProviders, provider)
			}
		}
	}
	return out, nil
}

// RevokeSession ends an API session (sign-out of an API client).
func (c *Client) RevokeSession(ctx context.Context, token string) error {
	resp, err := c.public.FrontendAPI.PerformNativeLogout(ctx).PerformNativeLogoutBody(*ory.NewPerformNativeLogoutBody(token)).Execute()
	if err != nil && (resp == nil || resp.StatusCode >= 500) {
		return fmt.Errorf("kratos logout: %w", err)
	}
	return nil
}

// LogoutURL returns the URL that ends the browser's session (through the portal's Kratos proxy).
func (c *Client) LogoutURL(ctx context.Context, cookie string) (string, error) {
	flow, resp, err := c.public.FrontendAPI.CreateBrowserLogoutFlow(ctx).Cookie(cookie).Execute()
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return "", onramp.Errorf(onramp.EUNAUTHORIZED, "not signed in")
		}
		return "", fmt.Errorf("kratos logout flow: %w", err)
	}
	return flow.LogoutUrl, nil
}

// The sign-in flow types are the domain's (onramp.SignInFlow): Kratos's JSON decodes into them.
type (
	LoginFlow = onramp.SignInFlow
	UI        = onramp.FlowUI
	Message   = onramp.FlowMessage
	Node      = onramp.FlowNode
)

// GetLoginFlow reads a browser login flow with the browser's cookies (Kratos checks its CSRF
// cookie); ENOTFOUND when the flow is unknown or expired, so the portal starts a new one.
func (c *Client) GetLoginFlow(ctx context.Context, id, cookie string) (LoginFlow, error) {
	flow, resp, err := c.public.FrontendAPI.GetLoginFlow(ctx).Id(id).Cookie(cookie).Execute()
	if err != nil {
		if resp != nil && resp.StatusCode < 500 {
			return LoginFlow{}, onramp.Errorf(onramp.ENOTFOUND, "the sign-in form expired; start again")
		}
		return LoginFlow{}, fmt.Errorf("kratos get login flow: %w", err)
	}
	// Convert through JSON: client-go models node attributes as a oneOf union.
	b, err := json.Marshal(flow)
	if err != nil {
		return LoginFlow{}, err
	}
	var out LoginFlow
	if err := json.Unmarshal(b, &out); err != nil {
		return LoginFlow{}, fmt.Errorf("kratos login flow: %w", err)
	}
	return out, nil
}

// RevokeSessions ends every session of an identity at once (Kratos does not do this when an
// identity is disabled). An identity without sessions is not an error.
func (c *Client) RevokeSessions(ctx context.Context, identityID string) error {
	resp, err := c.admin.IdentityAPI.DeleteIdentitySessions(ctx, identityID).Execute()
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return fmt.Errorf("kratos revoke sessions: %w", err)
	}
	return nil
}

// SetIdentityActive enables or disables sign-in for an identity.
func (c *Client) SetIdentityActive(ctx context.Context, identityID string, active bool) error {
	state := "inactive"
	if active {
		state = "active"
	}
	p := ory.NewJsonPatch("replace", "/state")
	p.SetValue(state)
	_, _, err := c.admin.IdentityAPI.PatchIdentity(ctx, identityID).JsonPatch([]ory.JsonPatch{*p}).Execute()
	if err != nil {
		return fmt.Errorf("kratos set identity state: %w", err)
	}
	return nil
}

// GetRegistrationFlow reads a browser registration flow (the portal only shows its messages:
// why a first SSO sign-in was refused); ENOTFOUND when it is unknown or expired.
func (c *Client) GetRegistrationFlow(ctx context.Context, id, cookie string) (LoginFlow, error) {
	flow, resp, err := c.public.FrontendAPI.GetRegistrationFlow(ctx).Id(id).Cookie(cookie).Execute()
	if err != nil {
		if resp != nil && resp.StatusCode < 500 {
			return LoginFlow{}, onramp.Errorf(onramp.ENOTFOUND, "the sign-in form expired; start again")
		}
		return LoginFlow{}, fmt.Errorf("kratos get registration flow: %w", err)
	}
	b, err := json.Marshal(flow)
	if err != nil {
		return LoginFlow{}, err
	}
	var out LoginFlow
	return out, json.Unmarshal(b, &out)
}

// Refusals of the partner claims mapper (deploy/kratos/oidc-mapper.jsonnet), as the codes it
// raises; the portal shows its own text for each.
var mapperRefusals = []string{"no-email", "not-verified", "not-domain"}

// FlowErrorCode returns the claims mapper's refusal behind a failed self-service flow (Kratos
// sends the browser to the portal's /error?id=…): "no-email", "not-verified" or "not-domain", or
// "" for anything else. Only these fixed codes come out: nothing else an error holds (a return
// URL, a claim) ever reaches a page. ENOTFOUND when the error is unknown or expired.
func (c *Client) FlowErrorCode(ctx context.Context, id string) (string, error) {
	fe, resp, err := c.public.FrontendAPI.GetFlowError(ctx).Id(id).Execute()
	if err != nil {
		if resp != nil && resp.StatusCode < 500 {
			return "", onramp.Errorf(onramp.ENOTFOUND, "that sign-in error is no longer known")
		}
		return "", fmt.Errorf("kratos get flow error: %w", err)
	}
	text, _ := json.Marshal(fe.Error)
	for _, code := range mapperRefusals {
		if strings.Contains(string(text), "onramp:"+code) {
			return code, nil
		}
	}
	return "", nil
}
