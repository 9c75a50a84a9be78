// Package credentials issues, reveals, revokes and authenticates the API keys of organisations.
// A key is shown whole only to a permitted member who asks; it is stored as its SHA-256 (for the
// gateway's lookup) and sealed with AES-GCM (for reveal), never in logs, URLs or errors.
package credentials

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// Config holds the service's dependencies.
type Config struct {
	Store       onramp.CredentialStore
	Assignments onramp.AssignmentStore
	Keys        *Keyring
	PortalURL   string // named in refusals
	Now         func() time.Time
}

// Service is the credential lifecycle.
type Service struct{ cfg Config }

// New fails fast on a missing dependency.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Assignments == nil || cfg.Keys == nil || cfg.PortalURL == "" {
		return nil, errors.New("credentials.New: Store, Assignments, Keys and PortalURL are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}, nil
}

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newKey returns a key for env: its prefix and 256 random bits (52 base32 characters).
func newKey(env string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return onramp.KeyPrefix(env) + strings.ToLower(keyEncoding.EncodeToString(b))
}

func newID() string { return onramp.NewID("cred") }

// Request asks for a credential. Scopes narrow the organisation's grant (e.g. a read-only key);
// empty means everything the organisation's assignments grant in that environment.
type Request struct {
	OrgID       string
	Environment string
	Label       string
	Scopes      []string
	CreatedBy   string
	ID          string // optional fixed id, for idempotent issuing
	Type        string // onramp.TypeAPIKey (default) or onramp.TypeOAuthClient
}

// Granted returns the scopes the organisation's assignments grant in env, sorted.
func (s *Service) Granted(ctx context.Context, orgID, env string) ([]string, error) {
	as, err := s.cfg.Assignments.AssignmentsOf(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range as {
		if slices.Contains(a.Environments, env) {
			out = append(out, a.Scopes...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// Issue creates a credential and returns it with its key (the only time the key is returned
// without a reveal). EFORBIDDEN when the organisation has no access to the environment, EINVALID
// for a scope outside its grant.
func (s *Service) Issue(ctx context.Context, r Request) (onramp.Credential, string, error) {
	if r.Environment != onramp.Sandbox && r.Environment != onramp.Production {
		return onramp.Credential{}, "", onramp.Errorf(onramp.EINVALID, "environment %q is unknown; use sandbox or production", r.Environment)
	}
	granted, err := s.Granted(ctx, r.OrgID, r.Environment)
	if err != nil {
		return onramp.Credential{}, "", err
	}
	if len(granted) == 0 {
		if r.Environment == onramp.Production {
			return onramp.Credential{}, "", onramp.Errorf(onramp.EFORBIDDEN, "your organisation has no production access yet; request it at %s/production", strings.TrimRight(s.cfg.PortalURL, "/"))
		}
		return onramp.Credential{}, "", onramp.Errorf(onramp.EFORBIDDEN, "no API is assigned to your organisation yet; ask your provider")
	}
	scopes := granted
	if len(r.Scopes) > 0 {
		for _, sc := range r.Scopes {
			if !slices.Contains(granted, sc) {
				return onramp.Credential{}, "", onramp.Errorf(onramp.EINVALID, "scope %q is not granted to your organisation in %s; choose from %s", sc, r.Environment, strings.Join(granted, ", "))
			}
		}
		scopes = slices.Clone(r.Scopes)
		sort.Strings(scopes)
		scopes = slices.Compact(scopes)
	}
	label := strings.TrimSpace(r.Label)
	if label == "" {
		label = strings.ToUpper(r.Environment[:1]) + r.Environment[1:] + " key"
	}
	if len(label) > 80 {
		return onramp.Credential{}, "", onramp.Errorf(onramp.EINVALID, "label must be at most 80 characters")
	}
	id := r.ID
	if id == "" {
		id = newID()
	}
	c := onramp.Credential{ID: id, OrgID: r.OrgID, Environment: r.Environment, Type: onramp.TypeAPIKey, Label: label, Scopes: scopes, CreatedBy: r.CreatedBy}
	switch r.Type {
	case "", onramp.TypeAPIKey:
	case onramp.TypeOAuthClient:
		c.Type, c.ClientID = onramp.TypeOAuthClient, onramp.ClientIDPrefix+onramp.RandomHex(12)
	default:
		return onramp.Credential{}, "", onramp.Errorf(onramp.EINVALID, "type %q is unknown; use api_key or oauth_client", r.Type)
	}
	return s.create(ctx, c)
}

// create gives c a new key (prefix, last 4, hash, sealed copy) and stores it active.
func (s *Service) create(ctx context.Context, c onramp.Credential) (onramp.Credential, string, error) {
	key := newKey(c.Environment)
	c.Prefix, c.Last4, c.Hash = onramp.KeyPrefix(c.Environment), key[len(key)-4:], onramp.KeyHash(key)
	c.Status, c.CreatedAt = onramp.CredentialActive, s.cfg.Now()
	c.KeyID, c.Sealed = s.cfg.Keys.Seal([]byte(key), []byte(c.ID))
	if err := s.cfg.Store.CreateCredential(ctx, c); err != nil {
		return onramp.Credential{}, "", err
	}
	return c, key, nil
}

// FirstSandboxID is the id of the sandbox credential an organisation gets at its first sign-in.
func FirstSandboxID(orgID string) string {
	return "cred_" + strings.TrimPrefix(orgID, "org_") + "_sandbox"
}

// IssueFirstSandbox issues the organisation's first sandbox credential, once: calling it again
// returns the one issued (it may run twice as a Temporal activity).
func (s *Service) IssueFirstSandbox(ctx context.Context, orgID string) (onramp.Credential, error) {
	return s.issueOnce(ctx, orgID, onramp.Sandbox, FirstSandboxID(orgID), "Sandbox key", "onramp (first sign-in)")
}

// issueOnce issues a credential with a fixed id, or returns the one already issued under it.
func (s *Service) issueOnce(ctx context.Context, orgID, env, id, label, by string) (onramp.Credential, error) {
	if c, err := s.cfg.Store.FindCredential(ctx, id); err == nil {
		return c, nil
	} else if onramp.ErrorCode(err) != onramp.ENOTFOUND {
		return c, err
	}
	c, _, err := s.Issue(ctx, Request{OrgID: orgID, Environment: env, Label: label, CreatedBy: by, ID: id})
	if onramp.ErrorCode(err) == onramp.ECONFLICT {
		return s.cfg.Store.FindCredential(ctx, id)
	}
	return c, err
}

// FirstProductionID is the id of the production credential issued when production is approved.
func FirstProductionID(orgID string) string {
	return "cred_" + strings.TrimPrefix(orgID, "org_") + "_production"
}

// IssueFirstProduction issues the organisation's first production credential, once.
func (s *Service) IssueFirstProduction(ctx context.Context, orgID string) (onramp.Credential, error) {
	return s.issueOnce(ctx, orgID, onramp.Production, FirstProductionID(orgID), "Production key", "onramp (production approved)")
}

// IssueRotated issues the replacement of oldID under newID (same organisation, environment and
// scopes; label + " (rotated)"; RotatedFrom set), or returns the one already issued under newID.
func (s *Service) IssueRotated(ctx context.Context, orgID, oldID, newID string) (onramp.Credential, error) {
	if c, err := s.cfg.Store.FindCredential(ctx, newID); err == nil {
		return c, nil
	} else if onramp.ErrorCode(err) != onramp.ENOTFOUND {
		return c, err
	}
	old, err := s.Get(ctx, orgID, oldID)
	if err != nil {
		return old, err
	}
	c, _, err := s.create(ctx, onramp.Credential{ID: newID, OrgID: orgID, Environment: old.Environment, Type: old.Type, ClientID: old.ClientID,
		Label: strings.TrimSuffix(old.Label, " (rotated)") + " (rotated)", Scopes: old.Scopes, CreatedBy: "rotation", RotatedFrom: old.ID})
	if onramp.ErrorCode(err) == onramp.ECONFLICT {
		return s.cfg.Store.FindCredential(ctx, newID)
	}
	return c, err
}

// Get returns an organisation's credential; ENOTFOUND when it is another organisation's.
func (s *Service) Get(ctx context.Context, orgID, id string) (onramp.Credential, error) {
	c, err := s.cfg.Store.FindCredential(ctx, id)
	return onramp.Owned(c, err, func(c onramp.Credential) string { return c.OrgID }, orgID, "credential", id)
}

// List returns the organisation's credentials, newest first.
func (s *Service) List(ctx context.Context, orgID string) ([]onramp.Credential, error) {
	return s.cfg.Store.CredentialsOf(ctx, orgID)
}

// Reveal returns the key of an organisation's credential. ECONFLICT for a revoked one.
func (s *Service) Reveal(ctx context.Context, orgID, id string) (string, error) {
	c, err := s.Get(ctx, orgID, id)
	if err != nil {
		return "", err
	}
	if c.Status == onramp.CredentialRevoked {
		return "", onramp.Errorf(onramp.ECONFLICT, "credential %s is revoked; create a new one", c.Label)
	}
	key, err := s.cfg.Keys.Open(c.KeyID, c.Sealed, []byte(c.ID))
	if err != nil {
		return "", err
	}
	return string(key), nil
}

// Revoke revokes an organisation's credential at once.
func (s *Service) Revoke(ctx context.Context, orgID, id string) (onramp.Credential, error) {
	c, err := s.Get(ctx, orgID, id)
	if err != nil {
		return c, err
	}
	now := s.cfg.Now()
	if err := s.cfg.Store.RevokeCredential(ctx, id, now); err != nil {
		return c, err
	}
	if c.Status != onramp.CredentialRevoked {
		c.Status, c.RevokedAt = onramp.CredentialRevoked, &now
	}
	return c, nil
}

// Find returns any credential by id (the gateway, for a token's subject); ENOTFOUND when absent.
func (s *Service) Find(ctx context.Context, id string) (onramp.Credential, error) {
	return s.cfg.Store.FindCredential(ctx, id)
}

// Client authenticates an OAuth client by id and secret; EUNAUTHORIZED when either is wrong.
func (s *Service) Client(ctx context.Context, clientID, secret string) (onramp.Credential, error) {
	c, err := s.Lookup(ctx, secret)
	if err != nil {
		return c, err
	}
	if c.Type != onramp.TypeOAuthClient || subtle.ConstantTimeCompare([]byte(c.ClientID), []byte(clientID)) != 1 {
		return onramp.Credential{}, onramp.Errorf(onramp.EUNAUTHORIZED, "the client was not recognised")
	}
	return c, nil
}

// Lookup finds the credential of a key (any status); EUNAUTHORIZED when there is none. The
// stored hash is compared in constant time.
func (s *Service) Lookup(ctx context.Context, key string) (onramp.Credential, error) {
	h := onramp.KeyHash(key)
	c, err := s.cfg.Store.CredentialByHash(ctx, h)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND || (err == nil && subtle.ConstantTimeCompare([]byte(c.Hash), []byte(h)) != 1) {
		return onramp.Credential{}, onramp.Errorf(onramp.EUNAUTHORIZED, "the credential was not recognised")
	}
	return c, err
}
