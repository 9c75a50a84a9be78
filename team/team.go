// Package team is the service for an organisation's people: who belongs to which organisation
// with which role, and how a sign-in turns invitations into memberships. Memberships are granted
// only at sign-in completion (Kratos's after-login and after-registration hooks), bound to the
// identity an invitation was made for — never to an address string a session happens to carry.
package team

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/onramp-dev/onramp"
)

// Config holds the service's dependencies.
type Config struct {
	Policy            onramp.Policy // policies/members decides every action
	Identities        onramp.Identities
	Sessions          onramp.Sessions // ends a removed member's access
	Organizations     onramp.OrganizationStore
	Members           onramp.MemberStore
	Team              onramp.TeamStore
	Invitations       onramp.Invitations       // the partner invitation: told of the contact's first sign-in
	MemberInvitations onramp.MemberInvitations // member invitations: told when accepted
	Logger            *slog.Logger
	Now               func() time.Time
}

// Service answers who belongs where and completes sign-ins.
type Service struct {
	cfg   Config
	log   *slog.Logger
	audit onramp.Auditor
}

// New fails fast on a missing dependency.
func New(cfg Config) (*Service, error) {
	if cfg.Policy == nil || cfg.Identities == nil || cfg.Sessions == nil || cfg.Organizations == nil || cfg.Members == nil || cfg.Team == nil ||
		cfg.Invitations == nil || cfg.MemberInvitations == nil || cfg.Logger == nil {
		return nil, errors.New("team.New: Policy, Identities, Sessions, Organizations, Members, Team, Invitations, MemberInvitations and Logger are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, log: cfg.Logger, audit: onramp.Auditor{Log: cfg.Team, Logger: cfg.Logger, Now: cfg.Now}}, nil
}

// Memberships lists the person's organisations (their public view: no SSO secret) with their
// role. It only reads: what a sign-in grants was granted by CompleteSignIn.
func (s *Service) Memberships(ctx context.Context, identityID string) ([]onramp.Membership, error) {
	ms, err := s.cfg.Members.MembershipsOf(ctx, identityID)
	if err != nil {
		return nil, err
	}
	out := make([]onramp.Membership, 0, len(ms))
	for _, m := range ms {
		org, err := s.cfg.Organizations.FindOrganization(ctx, m.OrgID)
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			continue // removed with its memberships a moment ago
		} else if err != nil {
			return nil, err
		}
		if m.Role == onramp.RoleOwner && m.FirstSignInAt != nil && org.Status == onramp.OrgInvited {
			// The owner has signed in; the invitation workflow records it in a moment.
			org.Status, org.FirstSignInAt = onramp.OrgActive, m.FirstSignInAt
		}
		out = append(out, onramp.Membership{Organization: org.Public(), Role: m.Role})
	}
	return out, nil
}

// authorize is onramp.Authorize with the service's policy.
func (s *Service) authorize(ctx context.Context, a onramp.Actor, orgID string, action onramp.Action, t onramp.Target) (onramp.Membership, error) {
	return onramp.Authorize(ctx, s.cfg.Policy, a, orgID, action, t)
}

// may reports whether a may take action in orgID (for what a page offers).
func (s *Service) may(ctx context.Context, a onramp.Actor, orgID string, action onramp.Action) bool {
	_, err := s.authorize(ctx, a, orgID, action, onramp.Target{})
	return err == nil
}
