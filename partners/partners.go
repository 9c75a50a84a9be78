// Package partners is the provider's service for partner organisations: inviting one (with the
// compensation that leaves nothing half-invited), re-sending or withdrawing the invitation, the
// partner's credential policy, the list and detail the admin pages show, and the onboarding
// funnel. Every method is the provider's (onramp.RequireProvider).
package partners

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// Plans is what the service needs of the catalog: check a plan exists and assign its products.
type Plans interface {
	CheckPlan(ctx context.Context, name string) error
	ApplyPlan(ctx context.Context, orgID, planName string) error
	RemoveOrganization(ctx context.Context, orgID string) error
}

// Config holds the service's dependencies.
type Config struct {
	Organizations onramp.OrganizationStore
	Team          onramp.TeamStore // members, invitations and the audit log the admin sees
	Invitations   onramp.Invitations
	Plans         Plans
	SSOProviders  onramp.SSOProviders
	Onboarding    onramp.OnboardingStore
	Logger        *slog.Logger
	Now           func() time.Time
}

// Service manages partner organisations for the provider.
type Service struct {
	cfg   Config
	log   *slog.Logger
	audit onramp.Auditor
}

// New fails fast on a missing dependency.
func New(cfg Config) (*Service, error) {
	if cfg.Organizations == nil || cfg.Team == nil || cfg.Invitations == nil || cfg.Plans == nil || cfg.SSOProviders == nil || cfg.Onboarding == nil || cfg.Logger == nil {
		return nil, errors.New("partners.New: Organizations, Team, Invitations, Plans, SSOProviders, Onboarding and Logger are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, log: cfg.Logger, audit: onramp.Auditor{Log: cfg.Team, Logger: cfg.Logger, Now: cfg.Now}}, nil
}

// Invitation is what the provider invites a partner with.
type Invitation struct {
	Name, ContactEmail, Tier string
	SSO                      *onramp.SSOConfig
}

// Invite stores the organisation (status invited), assigns its plan's products, installs its
// identity provider and starts its invitation; if a step fails, what was done is undone. EINVALID
// for a bad field or an unknown plan, ECONFLICT for an SSO domain another partner has.
func (s *Service) Invite(ctx context.Context, a onramp.Actor, in Invitation) (onramp.Organization, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Organization{}, err
	}
	o := onramp.Organization{ID: onramp.NewID("org"), Name: in.Name, Tier: in.Tier, ContactEmail: in.ContactEmail, Status: onramp.OrgInvited, InvitedAt: s.cfg.Now(), SSO: in.SSO}
	if err := o.Validate(); err != nil {
		return o, err
	}
	if err := s.cfg.Plans.CheckPlan(ctx, o.Tier); err != nil {
		return o, err
	}
	if err := s.domainsFree(ctx, o.SSO); err != nil {
		return o, err
	}
	// Stored before the workflow starts so the admin sees it at once (the workflow's save is
	// idempotent), and removed again if the workflow cannot start.
	if err := s.cfg.Organizations.CreateOrganization(ctx, o); err != nil {
		return o, err
	}
	if err := s.start(ctx, o); err != nil {
		s.undoInvite(ctx, o.ID)
		return o, err
	}
	return o.Public(), nil
}

// start assigns the plan, installs the identity provider and starts the invitation: the catalog
// is there at the first sign-in and the SSO link works at once.
func (s *Service) start(ctx context.Context, o onramp.Organization) error {
	if err := s.cfg.Plans.ApplyPlan(ctx, o.ID, o.Tier); err != nil {
		return err
	}
	if o.SSO != nil {
		if err := s.SyncSSO(ctx); err != nil {
			return err
		}
	}
	return s.cfg.Invitations.InvitePartner(ctx, o)
}

// domainsFree returns ECONFLICT when another partner signs in from one of sso's domains: who
// signs in from a domain, and which tenant's IdP may vouch for its addresses, is never ambiguous.
func (s *Service) domainsFree(ctx context.Context, sso *onramp.SSOConfig) error {
	if sso == nil {
		return nil
	}
	for _, d := range sso.Domains {
		if other, taken, err := s.cfg.Organizations.SSOOrganization(ctx, d); err != nil {
			return err
		} else if taken {
			return onramp.SSODomainTaken(d, other)
		}
	}
	return nil
}

func (s *Service) undoInvite(ctx context.Context, orgID string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.cfg.Plans.RemoveOrganization(ctx, orgID); err != nil {
		s.log.Error("remove assignments after failed invitation", "organization", orgID, "error", err)
	}
	if err := s.cfg.Organizations.DeleteOrganization(ctx, orgID); err != nil {
		s.log.Error("remove organisation after failed invitation", "organization", orgID, "error", err)
	}
}

// SyncSSO installs every organisation's identity provider in the identity service (at start, and
// after a partner with SSO is invited).
func (s *Service) SyncSSO(ctx context.Context) error {
	orgs, err := s.cfg.Organizations.SSOOrganizations(ctx)
	if err != nil {
		return err
	}
	return s.cfg.SSOProviders.SyncProviders(ctx, orgs)
}

// List returns a page of the partner list (public views): every organisation or one status,
// newest invitation first, or what a search finds by the words of a name, a contact address or
// its domain (see onramp.OrgQuery). EINVALID for an unknown status or a bad page.
func (s *Service) List(ctx context.Context, a onramp.Actor, q onramp.OrgQuery) (onramp.Page[onramp.Organization], error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Page[onramp.Organization]{}, err
	}
	if err := q.Validate(); err != nil {
		return onramp.Page[onramp.Organization]{}, err
	}
	page, err := s.cfg.Organizations.ListOrganizations(ctx, q)
	return onramp.MapPage(page, onramp.Organization.Public), err
}

// Get returns one organisation (public view); ENOTFOUND for an unknown id.
func (s *Service) Get(ctx context.Context, a onramp.Actor, id string) (onramp.Organization, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Organization{}, err
	}
	o, err := s.cfg.Organizations.FindOrganization(ctx, id)
	return o.Public(), err
}

// Resend e-mails the invitation again, or starts a new one when it had ended. ECONFLICT when the
// organisation is active already.
func (s *Service) Resend(ctx context.Context, a onramp.Actor, id string) (onramp.Organization, error) {
	o, err := s.Get(ctx, a, id)
	if err != nil {
		return o, err
	}
	return o, s.cfg.Invitations.ResendInvitation(ctx, o)
}

// Withdraw ends a waiting invitation: the organisation ends expired and its contact's invitation
// can no longer be accepted; re-sending invites it again. ECONFLICT when it is not waiting.
func (s *Service) Withdraw(ctx context.Context, a onramp.Actor, id string) (onramp.Organization, error) {
	o, err := s.Get(ctx, a, id)
	if err != nil {
		return o, err
	}
	switch o.Status {
	case onramp.OrgActive:
		return o, onramp.Errorf(onramp.ECONFLICT, "%s has already signed in; remove people from its team instead", o.Name)
	case onramp.OrgExpired:
		return o, onramp.Errorf(onramp.ECONFLICT, "the invitation of %s has already ended; re-send it to invite the organisation again", o.Name)
	}
	return o, s.cfg.Invitations.CancelInvitation(ctx, o.ID)
}

// Key-age bounds of a partner's own credential policy.
const (
	minKeyAge = 24 * time.Hour
	maxKeyAge = 10 * 365 * 24 * time.Hour
)

// SetCredentialPolicy sets the organisation's maximum key age (a Go duration, 24h to 87600h), or
// clears it ("": the plan's). EINVALID for another value, ENOTFOUND for an unknown organisation.
func (s *Service) SetCredentialPolicy(ctx context.Context, a onramp.Actor, id, maxAge string) (onramp.Organization, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Organization{}, err
	}
	maxAge = strings.TrimSpace(maxAge)
	if maxAge != "" {
		if d, err := time.ParseDuration(maxAge); err != nil || d < minKeyAge || d > maxKeyAge {
			return onramp.Organization{}, onramp.Errorf(onramp.EINVALID, "max_credential_age %q must be a duration from 24h to 87600h (e.g. 2160h for 90 days), or empty for the plan's", maxAge)
		}
	}
	o, err := s.cfg.Organizations.UpdateOrganization(ctx, id, func(o *onramp.Organization) error { o.MaxCredentialAge = maxAge; return nil })
	if err != nil {
		return o, err
	}
	s.audit.Record(ctx, id, a.Email, "credential_policy.changed", id, "max_credential_age="+maxAge)
	return o.Public(), nil
}

// Detail is a partner as the provider's partner page shows it: the organisation and a page of
// each of its lists.
type Detail struct {
	Organization onramp.Organization
	Members      onramp.Page[onramp.Member]
	Invitations  onramp.Page[onramp.MemberInvitation]
	Audit        onramp.Page[onramp.AuditEvent]
}

// DetailPages says which page of each of the partner's lists to show.
type DetailPages struct {
	Members, Invitations, Audit onramp.PageRequest
}

// Detail returns the organisation with a page of its members, invitations and audit events;
// ENOTFOUND for an unknown organisation, EINVALID for a bad page.
func (s *Service) Detail(ctx context.Context, a onramp.Actor, id string, p DetailPages) (Detail, error) {
	o, err := s.Get(ctx, a, id)
	if err != nil {
		return Detail{}, err
	}
	for _, r := range []*onramp.PageRequest{&p.Members, &p.Invitations, &p.Audit} {
		if err := r.Validate(); err != nil {
			return Detail{}, err
		}
	}
	d := Detail{Organization: o}
	if d.Members, err = s.cfg.Team.MemberPage(ctx, id, p.Members); err == nil {
		if d.Invitations, err = s.cfg.Team.InvitationPage(ctx, id, "", p.Invitations); err == nil {
			d.Audit, err = s.cfg.Team.Audit(ctx, id, p.Audit)
		}
	}
	return d, err
}

// Members returns a page of a partner's members; ENOTFOUND for an unknown organisation.
func (s *Service) Members(ctx context.Context, a onramp.Actor, id string, page onramp.PageRequest) (onramp.Page[onramp.Member], error) {
	if _, err := s.Get(ctx, a, id); err != nil {
		return onramp.Page[onramp.Member]{}, err
	}
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Member]{}, err
	}
	return s.cfg.Team.MemberPage(ctx, id, page)
}
