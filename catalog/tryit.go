package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// Try-it sends an operation through the real gateway with one of the organisation's own
// credentials, exactly as the partner's code would: the portal never substitutes an account of
// its own. Before sending it asks policies/gateway — with the input the gateway builds,
// onramp.GatewayInput — what the gateway will answer, and still sends.

// Keys reads the organisation's credentials and their secrets (credentials.Service).
type Keys interface {
	Get(ctx context.Context, orgID, id string) (onramp.Credential, error)
	List(ctx context.Context, orgID string) ([]onramp.Credential, error)
	Reveal(ctx context.Context, orgID, id string) (string, error)
}

// TryItConfig holds try-it's dependencies.
type TryItConfig struct {
	Catalog   *Catalog
	Keys      Keys
	Policy    onramp.Policy
	PortalURL string       // named in the gateway's refusals, as the gateway names it
	Client    *http.Client // calls the gateways; default: 20 s timeout, no redirects
	Now       func() time.Time
}

// TryIt is the try-it service.
type TryIt struct{ cfg TryItConfig }

// NewTryIt fails fast on a missing dependency.
func NewTryIt(cfg TryItConfig) (*TryIt, error) {
	if cfg.Catalog == nil || cfg.Keys == nil || cfg.Policy == nil || cfg.PortalURL == "" {
		return nil, errors.New("catalog.NewTryIt: Catalog, Keys, Policy and PortalURL are required")
	}
	if cfg.Client == nil {
		// A slow upstream must not hold a portal handler forever. A redirect is never followed:
		// the partner sees the 3xx the gateway gave, and the key goes nowhere else.
		cfg.Client = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &TryIt{cfg: cfg}, nil
}

// TryItRequest is one call a member composes on an operation's page.
type TryItRequest struct {
	CredentialID string            `json:"credential_id"`
	Version      string            `json:"version"`
	Operation    string            `json:"operation"`
	PathParams   map[string]string `json:"path_params"`
	Query        map[string]string `json:"query"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
}

// Prediction is what policies/gateway says the gateway will answer, before the call is sent.
type Prediction struct {
	Allowed bool     `json:"allowed"`
	Message string   `json:"message"`
	Reasons []string `json:"reasons"`
}

// TryItResponse is the gateway's answer as the partner's code would get it.
type TryItResponse struct {
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	LatencyMS float64           `json:"latency_ms"`
}

// TryItResult is the prediction, the request as sent, the answer and the request as code.
type TryItResult struct {
	Prediction Prediction        `json:"prediction"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Response   TryItResponse     `json:"response"`
	Snippets   map[string]string `json:"snippets"`
}

// Send predicts and sends one call of product's operation with the member's chosen credential.
// ENOTFOUND for an unknown operation or credential, EFORBIDDEN when the member may not try
// operations or use that credential, EUNAVAILABLE when the gateway does not answer.
func (t *TryIt) Send(ctx context.Context, a onramp.Actor, orgID, product string, in TryItRequest) (TryItResult, error) {
	if in.CredentialID == "" || in.Operation == "" {
		return TryItResult{}, onramp.Errorf(onramp.EINVALID, `send {"credential_id": "…", "operation": "listPayments", "path_params": {}, "query": {}, "headers": {}, "body": "…"}`)
	}
	m, err := onramp.Authorize(ctx, t.cfg.Policy, a, orgID, onramp.ActionTryIt, onramp.Target{})
	if err != nil {
		return TryItResult{}, err
	}
	view, err := t.cfg.Catalog.Product(ctx, m.Organization, product, in.Version)
	if err != nil {
		return TryItResult{}, err
	}
	op, ok := view.Operation(in.Operation)
	if !ok {
		return TryItResult{}, onramp.Errorf(onramp.ENOTFOUND, "%s %s has no operation %q", product, view.Version.Version, in.Operation)
	}
	cred, err := t.cfg.Keys.Get(ctx, orgID, in.CredentialID)
	if err != nil {
		return TryItResult{}, err
	}
	if _, err := onramp.Authorize(ctx, t.cfg.Policy, a, orgID, onramp.ActionCredentialUse, onramp.Target{Environment: cred.Environment}); err != nil {
		return TryItResult{}, err
	}
	key, err := t.cfg.Keys.Reveal(ctx, orgID, cred.ID)
	if err != nil {
		return TryItResult{}, err
	}
	target := t.cfg.Catalog.BaseURL(cred.Environment, product, view.Version.Version) + targetPath(op, in)
	headers := partnerHeaders(in.Headers)
	res := TryItResult{Method: op.Method, URL: target, Prediction: t.predict(ctx, cred, view.Assignment, product, op),
		Snippets: snippets(op.Method, target, headers, in.Body)}
	if gone := goneWillAnswer(view.Version, t.cfg.Now()); gone != nil && res.Prediction.Allowed {
		res.Prediction = *gone
	}
	req, err := t.request(ctx, op.Method, target, headers, in.Body, cred, key)
	if err != nil {
		return res, err
	}
	res.Response, err = t.send(req, cred.Environment)
	return res, err
}

// targetPath is the operation's path with the parameters filled in, and its query.
func targetPath(op onramp.Operation, in TryItRequest) string {
	path := op.Path
	for name, v := range in.PathParams {
		path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
	}
	q := url.Values{}
	for k, v := range in.Query {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return path
}

// partnerHeaders are the headers the member set, without any that would carry or replace the
// credential (try-it sends the chosen one) or pick another host.
func partnerHeaders(in map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		if lk := strings.ToLower(k); v != "" && lk != "authorization" && lk != "x-api-key" && lk != "host" {
			out[k] = v
		}
	}
	return out
}

// request builds the call as the partner's code would make it: with the key, or with an access
// token the OAuth client's credentials get first.
func (t *TryIt) request(ctx context.Context, method, target string, headers map[string]string, body string, cred onramp.Credential, key string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return nil, onramp.Errorf(onramp.EINVALID, "the request cannot be built: %v", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if cred.Type != onramp.TypeOAuthClient {
		req.Header.Set("X-API-Key", key)
		return req, nil
	}
	token, err := t.oauthToken(ctx, cred, key)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}

// send makes the call and reads up to 1 MiB of the answer; cookies stay out of the result.
func (t *TryIt) send(req *http.Request, env string) (TryItResponse, error) {
	start := time.Now()
	resp, err := t.cfg.Client.Do(req)
	if err != nil {
		return TryItResponse{}, onramp.Errorf(onramp.EUNAVAILABLE, "the %s gateway did not answer; retry in a moment", env)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	out := TryItResponse{Status: resp.StatusCode, Body: string(body), Headers: map[string]string{},
		LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
	for k := range resp.Header {
		if k != "Set-Cookie" {
			out.Headers[k] = resp.Header.Get(k)
		}
	}
	return out, nil
}

// Credentials are the keys the member may try operations with, for the picker; none when the
// member may not use try-it.
func (t *TryIt) Credentials(ctx context.Context, a onramp.Actor, orgID string) ([]onramp.Credential, error) {
	m, err := onramp.Authorize(ctx, t.cfg.Policy, a, orgID, onramp.ActionTryIt, onramp.Target{})
	if onramp.ErrorCode(err) == onramp.EFORBIDDEN {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	cs, err := t.cfg.Keys.List(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []onramp.Credential
	for _, c := range cs {
		if c.Status != onramp.CredentialRevoked && onramp.Allows(ctx, t.cfg.Policy, m.Role, onramp.ActionCredentialUse, onramp.Target{Environment: c.Environment}) {
			out = append(out, c)
		}
	}
	return out, nil
}

// oauthToken gets an access token from the credential's gateway with its client credentials.
func (t *TryIt) oauthToken(ctx context.Context, cred onramp.Credential, secret string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.Catalog.GatewayURL(cred.Environment)+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cred.ClientID, secret)
	resp, err := t.cfg.Client.Do(req)
	if err != nil {
		return "", onramp.Errorf(onramp.EUNAVAILABLE, "the %s gateway's token endpoint did not answer; retry in a moment", cred.Environment)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", onramp.Errorf(onramp.ECONFLICT, "the token endpoint refused the client: %s (%s)", out.Error, out.Description)
	}
	return out.AccessToken, nil
}

// predict asks policies/gateway, with the gateway's own input, what it will answer.
func (t *TryIt) predict(ctx context.Context, cred onramp.Credential, a onramp.Assignment, product string, op onramp.Operation) Prediction {
	if r := cred.Refusal(t.cfg.Now()); r != "" {
		return Prediction{Message: "this credential is " + r + ": the gateway will answer 401", Reasons: []string{"credential " + r}}
	}
	d, err := t.cfg.Policy.Decide(ctx, onramp.DecisionGateway, onramp.GatewayInput(cred.Environment, t.cfg.PortalURL, product, cred, a, op.ID, op.Scope))
	if err != nil {
		return Prediction{Message: "the policy could not predict the answer"}
	}
	if !d.Allow {
		return Prediction{Reasons: d.Reasons, Message: strings.Join(d.Reasons, "; ") + ": the gateway will answer 403"}
	}
	return Prediction{Allowed: true, Reasons: []string{}, Message: "this credential has " + op.Scope + ": the gateway will let the call through"}
}

// snippets writes the request in four languages, with the key read from ONRAMP_API_KEY.
func snippets(method, target string, headers map[string]string, body string) map[string]string {
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	if body != "" && headers["Content-Type"] == "" {
		headers["Content-Type"] = "application/json"
		names = append(names, "Content-Type")
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }

	var curl strings.Builder
	fmt.Fprintf(&curl, "curl -sS -X %s %s \\\n  -H \"X-API-Key: $ONRAMP_API_KEY\"", method, q(target))
	for _, k := range names {
		fmt.Fprintf(&curl, " \\\n  -H %s", q(k+": "+headers[k]))
	}
	if body != "" {
		fmt.Fprintf(&curl, " \\\n  --data %s", q(body))
	}

	var goSrc strings.Builder
	fmt.Fprintf(&goSrc, "req, _ := http.NewRequest(%s, %s, strings.NewReader(%s))\n", js(method), js(target), js(body))
	goSrc.WriteString("req.Header.Set(\"X-API-Key\", os.Getenv(\"ONRAMP_API_KEY\"))\n")
	for _, k := range names {
		fmt.Fprintf(&goSrc, "req.Header.Set(%s, %s)\n", js(k), js(headers[k]))
	}
	goSrc.WriteString("resp, err := http.DefaultClient.Do(req)\n")

	hdrs := map[string]string{"X-API-Key": "KEY"}
	for _, k := range names {
		hdrs[k] = headers[k]
	}
	hj, _ := json.Marshal(hdrs)
	jsHeaders := strings.Replace(string(hj), `"KEY"`, "process.env.ONRAMP_API_KEY", 1)
	pyHeaders := strings.Replace(string(hj), `"KEY"`, `os.environ["ONRAMP_API_KEY"]`, 1)
	jsSrc := fmt.Sprintf("const res = await fetch(%s, {\n  method: %s,\n  headers: %s,%s\n});\nconsole.log(res.status, await res.text());\n",
		js(target), js(method), jsHeaders, map[bool]string{true: "\n  body: " + js(body) + ",", false: ""}[body != ""])
	pySrc := fmt.Sprintf("import os, requests\n\nres = requests.request(%s, %s,\n    headers=%s,%s\n)\nprint(res.status_code, res.text)\n",
		js(method), js(target), pyHeaders, map[bool]string{true: "\n    data=" + js(body) + ",", false: ""}[body != ""])
	return map[string]string{"curl": curl.String(), "go": goSrc.String(), "javascript": jsSrc, "python": pySrc}
}
