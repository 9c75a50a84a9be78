package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/policies"
)

// Credentials belong to the organisation. policies/members decides, per role and environment,
// who may create, reveal and revoke them; every reveal is in the audit log. A key is returned
// only in the body of the create and reveal answers (no-store), never in a URL or a log.

// credentialView is a credential as the API shows it, with what the caller may do with it.
type credentialView struct {
	onramp.Credential
	Masked    string `json:"masked"`
	CanReveal bool   `json:"can_reveal"`
	CanRevoke bool   `json:"can_revoke"`
	// RotateBy is when the plan's maximum key age is reached; AgeReminder nags in its last 14 days.
	RotateBy    *time.Time `json:"rotate_by,omitempty"`
	AgeReminder string     `json:"age_reminder,omitempty"`
}

// maxCredentialAge is the organisation's maximum key age, or else its plan's (0: none).
func (s *Server) maxCredentialAge(ctx context.Context, org onramp.Organization) (time.Duration, error) {
	if org.MaxCredentialAge != "" {
		d, err := time.ParseDuration(org.MaxCredentialAge)
		if err != nil {
			return 0, fmt.Errorf("organisation %s: max_credential_age %q: %w", org.ID, org.MaxCredentialAge, err)
		}
		return d, nil
	}
	return s.planMaxAge(ctx, org)
}

// planMaxAge is the maximum key age of the organisation's plan (0: none).
func (s *Server) planMaxAge(ctx context.Context, org onramp.Organization) (time.Duration, error) {
	plans, err := s.cfg.Catalog.Plans(ctx)
	if err != nil {
		return 0, err
	}
	for _, p := range plans {
		if p.Name == org.Tier && p.MaxCredentialAge != "" {
			d, err := time.ParseDuration(p.MaxCredentialAge)
			if err != nil {
				return 0, fmt.Errorf("plan %s: max_credential_age %q: %w", p.Name, p.MaxCredentialAge, err)
			}
			return d, nil
		}
	}
	return 0, nil
}

// allowed asks policies/members without failing the request on a denial.
func (s *Server) allowed(ctx context.Context, role, action, env string) bool {
	d, err := s.cfg.Policy.Decide(ctx, policies.Members, map[string]any{"role": role, "action": action, "environment": env})
	return err == nil && d.Allow
}

func (s *Server) credentialViews(ctx context.Context, m Membership) ([]credentialView, error) {
	cs, err := s.cfg.Credentials.List(ctx, m.Organization.ID)
	if err != nil {
		return nil, err
	}
	if err := s.withLastUse(ctx, m.Organization.ID, cs); err != nil {
		return nil, err
	}
	maxAge, err := s.maxCredentialAge(ctx, m.Organization)
	if err != nil {
		return nil, err
	}
	out := make([]credentialView, 0, len(cs))
	for _, c := range cs {
		c.Scopes = nonNil(c.Scopes)
		active := c.Status != onramp.CredentialRevoked
		v := credentialView{Credential: c, Masked: c.Masked(),
			CanReveal: active && s.allowed(ctx, m.Role, "credential.reveal", c.Environment),
			CanRevoke: active && s.allowed(ctx, m.Role, "credential.revoke", c.Environment)}
		if maxAge > 0 && c.Status == onramp.CredentialActive {
			due, reminder := onramp.RotateBy(c.CreatedAt, maxAge, s.cfg.Now())
			v.RotateBy, v.AgeReminder = &due, reminder
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) apiCredentials(c *gin.Context) {
	m, err := s.catalogOrg(c, c.Param("org"))
	if err != nil {
		s.fail(c, err)
		return
	}
	views, err := s.credentialViews(c.Request.Context(), m)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"credentials": views})
}

type createCredentialRequest struct {
	Environment string   `json:"environment"`
	Type        string   `json:"type"` // api_key (default) or oauth_client
	Label       string   `json:"label"`
	Scopes      []string `json:"scopes"`
}

// createCredential issues a credential when the member's role may, and audits it.
func (s *Server) createCredential(ctx context.Context, p Principal, orgID string, in createCredentialRequest) (onramp.Credential, string, error) {
	if in.Environment != onramp.Sandbox && in.Environment != onramp.Production {
		return onramp.Credential{}, "", onramp.Errorf(onramp.EINVALID, "environment %q is unknown; use sandbox or production", in.Environment)
	}
	if _, err := s.authorize(ctx, p, orgID, "credential.create", map[string]any{"environment": in.Environment}); err != nil {
		return onramp.Credential{}, "", err
	}
	cred, key, err := s.cfg.Credentials.Issue(ctx, credentialsRequest(orgID, p.Session.Email, in))
	if err != nil {
		return cred, "", err
	}
	s.audit(ctx, orgID, p.Session.Email, "credential.created", cred.Masked(), cred.Environment+" · "+cred.Label+" · "+strings.Join(cred.Scopes, " "))
	return cred, key, nil
}

func (s *Server) apiCreateCredential(c *gin.Context) {
	var in createCredentialRequest
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"environment": "sandbox", "label": "CI", "scopes": ["payments:read"]} (scopes optional: all granted): %v`, err))
		return
	}
	cred, key, err := s.createCredential(c.Request.Context(), principal(c), c.Param("org"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	cred.Scopes = nonNil(cred.Scopes)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"credential": credentialView{Credential: cred, Masked: cred.Masked(), CanReveal: true, CanRevoke: true}, "key": key})
}

// credentialAction authorizes action on one of the organisation's credentials.
func (s *Server) credentialAction(ctx context.Context, p Principal, orgID, id, action string) (onramp.Credential, error) {
	cred, err := s.cfg.Credentials.Get(ctx, orgID, id)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND || (err == nil && !p.memberOf(orgID)) {
		return cred, onramp.Errorf(onramp.ENOTFOUND, "no credential %q in your organisation", id)
	} else if err != nil {
		return cred, err
	}
	_, err = s.authorize(ctx, p, orgID, action, map[string]any{"environment": cred.Environment})
	return cred, err
}

func (p Principal) memberOf(orgID string) bool {
	for _, m := range p.Memberships {
		if m.Organization.ID == orgID {
			return true
		}
	}
	return false
}

func (s *Server) revealCredential(ctx context.Context, p Principal, orgID, id string) (onramp.Credential, string, error) {
	cred, err := s.credentialAction(ctx, p, orgID, id, "credential.reveal")
	if err != nil {
		return cred, "", err
	}
	key, err := s.cfg.Credentials.Reveal(ctx, orgID, id)
	if err != nil {
		return cred, "", err
	}
	s.audit(ctx, orgID, p.Session.Email, "credential.revealed", cred.Masked(), cred.Environment+" · "+cred.Label)
	return cred, key, nil
}

func (s *Server) apiRevealCredential(c *gin.Context) {
	_, key, err := s.revealCredential(c.Request.Context(), principal(c), c.Param("org"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"key": key})
}

func (s *Server) revokeCredential(ctx context.Context, p Principal, orgID, id string) (onramp.Credential, error) {
	if _, err := s.credentialAction(ctx, p, orgID, id, "credential.revoke"); err != nil {
		return onramp.Credential{}, err
	}
	cred, err := s.cfg.Credentials.Revoke(ctx, orgID, id)
	if err == nil {
		s.audit(ctx, orgID, p.Session.Email, "credential.revoked", cred.Masked(), cred.Environment+" · "+cred.Label)
	}
	return cred, err
}

func (s *Server) apiRevokeCredential(c *gin.Context) {
	cred, err := s.revokeCredential(c.Request.Context(), principal(c), c.Param("org"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	cred.Scopes = nonNil(cred.Scopes)
	c.JSON(http.StatusOK, credentialView{Credential: cred, Masked: cred.Masked()})
}

// apiCatalogDownloadAny serves spec downloads to a signed-in member or, for a partner's CI, to
// the organisation's own API key (X-API-Key, or a Bearer key with the onr_ prefix).
func (s *Server) apiCatalogDownloadAny(c *gin.Context) {
	key := c.GetHeader("X-API-Key")
	if b, ok := bearer(c.GetHeader("Authorization")); ok && onramp.KeyEnvironment(b) != "" {
		key = b
	}
	if key == "" {
		s.requireAPISession(c)
		if c.IsAborted() {
			return
		}
		s.apiCatalogDownload(c)
		return
	}
	ctx := c.Request.Context()
	cred, err := s.cfg.Credentials.Lookup(ctx, key)
	if err == nil && cred.Refusal(s.cfg.Now()) != "" {
		err = onramp.Errorf(onramp.EUNAUTHORIZED, "the credential is %s; use an active key", cred.Refusal(s.cfg.Now()))
	}
	if err != nil {
		if onramp.ErrorCode(err) == onramp.EUNAUTHORIZED {
			writeProblem(c, problem.New(http.StatusUnauthorized, "invalid-credential", "Invalid credential",
				onramp.ErrorMessage(err)+". Send an active key of your organisation as X-API-Key; manage keys at "+s.cfg.PortalURL+"/credentials."))
			return
		}
		s.fail(c, err)
		return
	}
	if cred.OrgID != c.Param("org") {
		s.fail(c, onramp.Errorf(onramp.ENOTFOUND, "no organisation %q for this key; use your own organisation's id", c.Param("org")))
		return
	}
	org, err := s.cfg.Organizations.FindOrganization(ctx, cred.OrgID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.download(c, org)
}

// Credentials page.

type credentialsPageView struct {
	page
	Memberships []Membership
	Org         Membership
	Credentials []credentialView
	Rotations   []rotationView
	Granted     map[string][]string // environment → scopes the organisation may put on a key
	CanCreate   map[string]bool
	Key         string // a key just created or revealed, shown once on this page
	KeyLabel    string
	Notice      string
	Error       string
}

func (s *Server) credentialsPage(c *gin.Context) {
	s.renderCredentials(c, http.StatusOK, credentialsPageView{})
}

func (s *Server) renderCredentials(c *gin.Context, status int, v credentialsPageView) {
	ctx, p := c.Request.Context(), principal(c)
	m, err := s.catalogOrg(c, currentOrg(c, p))
	if err != nil {
		s.fail(c, err)
		return
	}
	v.page, v.Memberships, v.Org = s.signedInPage("Credentials"), p.Memberships, m
	if v.Credentials, err = s.credentialViews(ctx, m); err == nil {
		v.Rotations, err = s.rotationViews(ctx, m.Organization.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	v.Granted, v.CanCreate = map[string][]string{}, map[string]bool{}
	for _, env := range onramp.Environments {
		if v.Granted[env], err = s.cfg.Credentials.Granted(ctx, m.Organization.ID, env); err != nil {
			s.fail(c, err)
			return
		}
		v.CanCreate[env] = len(v.Granted[env]) > 0 && s.allowed(ctx, m.Role, "credential.create", env)
	}
	if v.Notice == "" {
		v.Notice = c.Query("notice")
	}
	if v.Key != "" {
		c.Header("Cache-Control", "no-store")
	}
	s.render(c, status, "credentials.html", v)
}

func (s *Server) credentialsCreate(c *gin.Context) {
	in := createCredentialRequest{Environment: c.PostForm("environment"), Type: c.PostForm("type"), Label: c.PostForm("label"), Scopes: c.PostFormArray("scope")}
	cred, key, err := s.createCredential(c.Request.Context(), principal(c), currentOrg(c, principal(c)), in)
	if err != nil {
		s.renderCredentials(c, http.StatusBadRequest, credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.renderCredentials(c, http.StatusCreated, credentialsPageView{Key: key, KeyLabel: cred.Label,
		Notice: "Created " + cred.Label + ". Copy the key now or reveal it later from this page."})
}

func (s *Server) credentialsReveal(c *gin.Context) {
	cred, key, err := s.revealCredential(c.Request.Context(), principal(c), currentOrg(c, principal(c)), c.Param("id"))
	if err != nil {
		s.renderCredentials(c, http.StatusForbidden, credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	s.renderCredentials(c, http.StatusOK, credentialsPageView{Key: key, KeyLabel: cred.Label})
}

func (s *Server) credentialsRevoke(c *gin.Context) {
	p := principal(c)
	orgID := currentOrg(c, p)
	cred, err := s.revokeCredential(c.Request.Context(), p, orgID, c.Param("id"))
	if err != nil {
		s.renderCredentials(c, http.StatusForbidden, credentialsPageView{Error: onramp.ErrorMessage(err)})
		return
	}
	c.Redirect(http.StatusSeeOther, "/credentials?org="+orgID+"&notice="+urlQuery(cred.Label+" ("+cred.Masked()+") is revoked."))
}

// waitForFirstKey gives the invitation workflow a moment to issue the sandbox key of an
// organisation that has just become active, so the dashboard shows it on landing.
func (s *Server) waitForFirstKey(ctx context.Context, orgID string, limit time.Duration) []onramp.Credential {
	var cs []onramp.Credential
	awaitRecorded(ctx, limit, func() bool {
		var err error
		cs, err = s.cfg.Credentials.List(ctx, orgID)
		return err != nil || len(cs) > 0
	})
	return cs
}

// awaitRecorded polls done (at once, then every 100 ms) until it holds, limit passes or ctx ends:
// the portal's answers wait a moment for what a workflow is about to record.
func awaitRecorded(ctx context.Context, limit time.Duration, done func() bool) {
	deadline := time.Now().Add(limit)
	for !done() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func credentialsRequest(orgID, by string, in createCredentialRequest) credentials.Request {
	return credentials.Request{OrgID: orgID, Environment: in.Environment, Type: in.Type, Label: in.Label, Scopes: in.Scopes, CreatedBy: by}
}

// setCredentialPolicy sets (or, empty, removes) the organisation's own maximum key age.
func (s *Server) setCredentialPolicy(ctx context.Context, orgID, maxAge string) (onramp.Organization, error) {
	maxAge = strings.TrimSpace(maxAge)
	if maxAge != "" {
		d, err := time.ParseDuration(maxAge)
		if err != nil || d < 24*time.Hour || d > 10*365*24*time.Hour {
			return onramp.Organization{}, onramp.Errorf(onramp.EINVALID, "max_credential_age %q must be a duration from 24h to 87600h (e.g. 2160h for 90 days), or empty for the plan's", maxAge)
		}
	}
	o, err := s.cfg.Organizations.FindOrganization(ctx, orgID)
	if err != nil {
		return o, err
	}
	o.MaxCredentialAge = maxAge
	if err := s.cfg.Organizations.SaveOrganization(ctx, o); err != nil {
		return o, err
	}
	s.audit(ctx, orgID, "provider admin", "credential_policy.changed", orgID, "max_credential_age="+maxAge)
	return o, nil
}

func (s *Server) apiAdminCredentialPolicy(c *gin.Context) {
	var in struct {
		MaxCredentialAge string `json:"max_credential_age"`
	}
	if err := c.ShouldBindJSON(&in); err != nil {
		s.fail(c, onramp.Errorf(onramp.EINVALID, `send {"max_credential_age": "720h"} ("" for the plan's): %v`, err))
		return
	}
	o, err := s.setCredentialPolicy(c.Request.Context(), c.Param("id"), in.MaxCredentialAge)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"max_credential_age": o.MaxCredentialAge})
}

func (s *Server) adminCredentialPolicy(c *gin.Context) {
	_, err := s.setCredentialPolicy(c.Request.Context(), c.Param("id"), c.PostForm("max_credential_age"))
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/admin/partners/"+c.Param("id")+"?error="+urlQuery(onramp.ErrorMessage(err))+"#credential-policy")
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/partners/"+c.Param("id")+"?notice="+urlQuery("Maximum key age saved.")+"#credential-policy")
}
