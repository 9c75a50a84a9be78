package credentials

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// Manager is what members do with their organisation's credentials — list, create, reveal,
// revoke and rotate — each action decided by policies/members per environment and audited. The
// key itself leaves only in the answer to create and reveal.
type Manager struct {
	cfg   ManagerConfig
	audit onramp.Auditor
}

// Plans lists the catalog's plans (their maximum key age).
type Plans interface {
	Plans(ctx context.Context) ([]onramp.Plan, error)
}

// KeyUse is what the gateways' usage says about keys: how much one was used lately (an old key
// during its rotation) and when each was last used.
type KeyUse interface {
	CallsWith(ctx context.Context, orgID, credentialID string, since time.Time) (int64, error)
	LastUsed(ctx context.Context, orgID string) (map[string]time.Time, error)
}

// ManagerConfig holds the manager's dependencies.
type ManagerConfig struct {
	Keys          *Service
	Policy        onramp.Policy
	Plans         Plans
	Audit         onramp.AuditLog
	Rotations     onramp.Rotations
	RotationStore onramp.RotationStore
	Usage         KeyUse
	Logger        *slog.Logger
	Now           func() time.Time
}

// NewManager fails fast on a missing dependency.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Keys == nil || cfg.Policy == nil || cfg.Plans == nil || cfg.Audit == nil || cfg.Rotations == nil || cfg.RotationStore == nil ||
		cfg.Usage == nil || cfg.Logger == nil {
		return nil, errors.New("credentials.NewManager: Keys, Policy, Plans, Audit, Rotations, RotationStore, Usage and Logger are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{cfg: cfg, audit: onramp.Auditor{Log: cfg.Audit, Logger: cfg.Logger, Now: cfg.Now}}, nil
}

// View is a credential as a member sees it, with what they may do with it.
type View struct {
	onramp.Credential
	Masked    string `json:"masked"`
	CanReveal bool   `json:"can_reveal"`
	CanRevoke bool   `json:"can_revoke"`
	// RotateBy is when the maximum key age is reached; AgeReminder nags in its last 14 days.
	RotateBy    *time.Time `json:"rotate_by,omitempty"`
	AgeReminder string     `json:"age_reminder,omitempty"`
}

func viewOf(c onramp.Credential) View {
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	return View{Credential: c, Masked: c.Masked()}
}

// List returns the organisation's credentials, newest first, for a member who may see its
// catalog; ENOTFOUND for an organisation the actor is not in.
func (m *Manager) List(ctx context.Context, a onramp.Actor, orgID string) ([]View, error) {
	mem, err := onramp.Authorize(ctx, m.cfg.Policy, a, orgID, onramp.ActionCatalogView, onramp.Target{})
	if err != nil {
		return nil, err
	}
	cs, err := m.cfg.Keys.List(ctx, orgID)
	if err != nil {
		return nil, err
	}
	lastUsed, err := m.cfg.Usage.LastUsed(ctx, orgID)
	if err != nil {
		return nil, err
	}
	plans, err := m.cfg.Plans.Plans(ctx)
	if err != nil {
		return nil, err
	}
	maxAge, err := onramp.MaxCredentialAge(mem.Organization, plans)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(cs))
	for _, c := range cs {
		// The gateways' usage knows the last use; a time the record holds from before them counts
		// when it is later.
		if at, ok := lastUsed[c.ID]; ok && (c.LastUsedAt == nil || at.After(*c.LastUsedAt)) {
			c.LastUsedAt = &at
		}
		v := viewOf(c)
		active := c.Status != onramp.CredentialRevoked
		v.CanReveal = active && onramp.Allows(ctx, m.cfg.Policy, mem.Role, onramp.ActionCredentialReveal, onramp.Target{Environment: c.Environment})
		v.CanRevoke = active && onramp.Allows(ctx, m.cfg.Policy, mem.Role, onramp.ActionCredentialRevoke, onramp.Target{Environment: c.Environment})
		if maxAge > 0 && c.Status == onramp.CredentialActive {
			due, reminder := onramp.RotateBy(c.CreatedAt, maxAge, m.cfg.Now())
			v.RotateBy, v.AgeReminder = &due, reminder
		}
		out = append(out, v)
	}
	return out, nil
}

// Creatable is, per environment, the scopes the organisation may put on a key and whether the
// actor may create one there.
type Creatable struct {
	Granted   map[string][]string
	CanCreate map[string]bool
}

// Creatable says what the actor may create in orgID.
func (m *Manager) Creatable(ctx context.Context, a onramp.Actor, orgID string) (Creatable, error) {
	mem, err := onramp.Authorize(ctx, m.cfg.Policy, a, orgID, onramp.ActionCatalogView, onramp.Target{})
	if err != nil {
		return Creatable{}, err
	}
	out := Creatable{Granted: map[string][]string{}, CanCreate: map[string]bool{}}
	for _, env := range onramp.Environments {
		if out.Granted[env], err = m.cfg.Keys.Granted(ctx, orgID, env); err != nil {
			return Creatable{}, err
		}
		out.CanCreate[env] = len(out.Granted[env]) > 0 &&
			onramp.Allows(ctx, m.cfg.Policy, mem.Role, onramp.ActionCredentialCreate, onramp.Target{Environment: env})
	}
	return out, nil
}

// NewCredential is what a member asks for.
type NewCredential struct {
	Environment string   `json:"environment"`
	Type        string   `json:"type"` // api_key (default) or oauth_client
	Label       string   `json:"label"`
	Scopes      []string `json:"scopes"` // empty: everything the organisation is granted
}

// Create issues a credential and returns it with its key. EINVALID for an unknown environment
// or scopes outside the grant, EFORBIDDEN when the role may not create one there.
func (m *Manager) Create(ctx context.Context, a onramp.Actor, orgID string, in NewCredential) (View, string, error) {
	if in.Environment != onramp.Sandbox && in.Environment != onramp.Production {
		return View{}, "", onramp.Errorf(onramp.EINVALID, "environment %q is unknown; use sandbox or production", in.Environment)
	}
	if _, err := onramp.Authorize(ctx, m.cfg.Policy, a, orgID, onramp.ActionCredentialCreate, onramp.Target{Environment: in.Environment}); err != nil {
		return View{}, "", err
	}
	cred, key, err := m.cfg.Keys.Issue(ctx, Request{OrgID: orgID, Environment: in.Environment, Type: in.Type, Label: in.Label, Scopes: in.Scopes, CreatedBy: a.Email})
	if err != nil {
		return View{}, "", err
	}
	m.audit.Record(ctx, orgID, a.Email, "credential.created", cred.Masked(), cred.Environment+" · "+cred.Label+" · "+strings.Join(cred.Scopes, " "))
	v := viewOf(cred)
	v.CanReveal, v.CanRevoke = true, true
	return v, key, nil
}

// authorized returns one of the organisation's credentials when the actor may take action on
// it. Membership is checked before anything of the organisation is read.
func (m *Manager) authorized(ctx context.Context, a onramp.Actor, orgID, id string, action onramp.Action) (onramp.Credential, error) {
	if _, ok := a.In(orgID); !ok {
		return onramp.Credential{}, onramp.NotYourOrganization(orgID)
	}
	cred, err := m.cfg.Keys.Get(ctx, orgID, id)
	if err != nil {
		return cred, err
	}
	_, err = onramp.Authorize(ctx, m.cfg.Policy, a, orgID, action, onramp.Target{Environment: cred.Environment})
	return cred, err
}

// Reveal returns the credential and its key, and audits who saw it.
func (m *Manager) Reveal(ctx context.Context, a onramp.Actor, orgID, id string) (View, string, error) {
	cred, err := m.authorized(ctx, a, orgID, id, onramp.ActionCredentialReveal)
	if err != nil {
		return View{}, "", err
	}
	key, err := m.cfg.Keys.Reveal(ctx, orgID, id)
	if err != nil {
		return View{}, "", err
	}
	m.audit.Record(ctx, orgID, a.Email, "credential.revealed", cred.Masked(), cred.Environment+" · "+cred.Label)
	return viewOf(cred), key, nil
}

// Revoke revokes the credential at once: the gateways refuse it from their next lookup.
func (m *Manager) Revoke(ctx context.Context, a onramp.Actor, orgID, id string) (View, error) {
	if _, err := m.authorized(ctx, a, orgID, id, onramp.ActionCredentialRevoke); err != nil {
		return View{}, err
	}
	cred, err := m.cfg.Keys.Revoke(ctx, orgID, id)
	if err != nil {
		return View{}, err
	}
	m.audit.Record(ctx, orgID, a.Email, "credential.revoked", cred.Masked(), cred.Environment+" · "+cred.Label)
	return viewOf(cred), nil
}
