package onramp

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Organisation lifecycle states.
const (
	OrgInvited = "invited" // invitation sent, contact has not signed in yet
	OrgActive  = "active"  // the contact signed in
	OrgExpired = "expired" // the invitation ran out before anyone signed in; an admin can re-send
)

// Member roles, from most to least privileged; what each may do is policies/members.
const (
	RoleOwner     = "owner"
	RoleAdmin     = "admin"
	RoleDeveloper = "developer"
	RoleViewer    = "viewer"
)

// Tiers are the plans offered when no catalog plans are loaded; with plans loaded, the portal
// checks an invitation's tier against them.
var Tiers = []string{"standard", "premium"}

// Organization is a partner company.
type Organization struct {
	ID            string     `json:"id" bson:"_id"`
	Name          string     `json:"name" bson:"name"`
	Tier          string     `json:"tier" bson:"tier"`
	Status        string     `json:"status" bson:"status"`
	ContactEmail  string     `json:"contact_email" bson:"contact_email"`
	InvitedAt     time.Time  `json:"invited_at" bson:"invited_at"`
	FirstSignInAt *time.Time `json:"first_sign_in_at,omitempty" bson:"first_sign_in_at,omitempty"`
	ExpiresAt     *time.Time `json:"invitation_expires_at,omitempty" bson:"expires_at,omitempty"`
	SSO           *SSOConfig `json:"sso,omitempty" bson:"sso,omitempty"`
	// MaxCredentialAge overrides the plan's maximum key age (Go duration); empty: the plan's.
	MaxCredentialAge string `json:"max_credential_age,omitempty" bson:"max_credential_age,omitempty"`
}

// Validate returns EINVALID naming the first field to fix.
func (o *Organization) Validate() error {
	o.Name = strings.TrimSpace(o.Name)
	o.ContactEmail = strings.ToLower(strings.TrimSpace(o.ContactEmail))
	switch {
	case len(o.Name) < 2 || len(o.Name) > 100:
		return Errorf(EINVALID, "name must be 2 to 100 characters")
	case !PlainEmail(o.ContactEmail):
		return Errorf(EINVALID, "contact_email %q is not a plain e-mail address such as dev@partner.example", o.ContactEmail)
	case !slugPattern.MatchString(o.Tier):
		return Errorf(EINVALID, "tier %q must name a plan, e.g. %s", o.Tier, strings.Join(Tiers, " or "))
	}
	if o.SSO != nil {
		return o.SSO.Validate()
	}
	return nil
}

// PlainEmail reports whether s is a bare address (no display name, no angle brackets).
func PlainEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 320
}

// Member is a person's membership of an organisation. Its ID is "<org id>:<identity id>".
type Member struct {
	ID            string     `json:"-" bson:"_id"`
	OrgID         string     `json:"organization_id" bson:"org_id"`
	IdentityID    string     `json:"identity_id" bson:"identity_id"`
	Email         string     `json:"email" bson:"email"`
	Role          string     `json:"role" bson:"role"`
	JoinedAt      time.Time  `json:"joined_at" bson:"joined_at"`
	FirstSignInAt *time.Time `json:"first_sign_in_at,omitempty" bson:"first_sign_in_at,omitempty"`
}

// MemberID is the deterministic id of a membership, so re-adding is idempotent.
func MemberID(orgID, identityID string) string { return orgID + ":" + identityID }

// OrganizationStore keeps organisations. Save upserts by ID; Find returns ENOTFOUND.
type OrganizationStore interface {
	SaveOrganization(ctx context.Context, o Organization) error
	FindOrganization(ctx context.Context, id string) (Organization, error)
	ListOrganizations(ctx context.Context) ([]Organization, error)
	// SetOrganizationStatus changes the status; a first sign-in time, once set, is kept.
	SetOrganizationStatus(ctx context.Context, id, status string, firstSignIn *time.Time) error
	// DeleteOrganization removes an organisation whose invitation could not start.
	DeleteOrganization(ctx context.Context, id string) error
	// SSOOrganization returns the organisation whose identity provider serves an e-mail domain.
	SSOOrganization(ctx context.Context, domain string) (Organization, bool, error)
}

// MemberStore keeps memberships. Save upserts by ID.
type MemberStore interface {
	SaveMember(ctx context.Context, m Member) error
	MembershipsOf(ctx context.Context, identityID string) ([]Member, error)
	// MarkFirstSignIn records the first sign-in and reports whether this call recorded it.
	MarkFirstSignIn(ctx context.Context, memberID string, at time.Time) (bool, error)
}

// Invitations drives partner invitation lifecycles (Temporal workflows).
type Invitations interface {
	// InvitePartner starts the invitation of a validated organisation.
	InvitePartner(ctx context.Context, o Organization) error
	// ResendInvitation sends the invitation again, restarting it when it had expired.
	ResendInvitation(ctx context.Context, o Organization) error
	// ContactSignedIn tells the invitation that the contact signed in; a finished one ignores it.
	ContactSignedIn(ctx context.Context, orgID string, at time.Time) error
	// CancelInvitation withdraws a running invitation (the organisation ends expired, its
	// contact's invitation with it); ECONFLICT when none is running.
	CancelInvitation(ctx context.Context, orgID string) error
}
