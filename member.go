package onramp

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
)

// Member roles, from most to least privileged; what each may do is policies/members.
const (
	RoleOwner     = "owner"
	RoleAdmin     = "admin"
	RoleDeveloper = "developer"
	RoleViewer    = "viewer"
)

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

// MemberStore keeps memberships. Save upserts by ID.
type MemberStore interface {
	SaveMember(ctx context.Context, m Member) error
	MembershipsOf(ctx context.Context, identityID string) ([]Member, error)
	// MarkFirstSignIn records the first sign-in and reports whether this call recorded it.
	MarkFirstSignIn(ctx context.Context, memberID string, at time.Time) (bool, error)
}

// Roles lists the member roles, most privileged first.
var Roles = []string{RoleOwner, RoleAdmin, RoleDeveloper, RoleViewer}

// Member invitation states.
const (
	InvitationPending   = "pending"
	InvitationAccepted  = "accepted"
	InvitationCancelled = "cancelled"
	InvitationExpired   = "expired"
)

// Membership is one of a person's organisations (its public view) and their role in it.
type Membership struct {
	Organization Organization `json:"organization"`
	Role         string       `json:"role"`
}

// MemberInvitation invites a person to join an organisation with a role. IdentityID is the
// identity created for the address: only that identity can accept it. It is empty only for an
// address of a partner's SSO domain, whose identity provider must vouch for it instead.
type MemberInvitation struct {
	ID         string    `json:"id" bson:"_id"`
	OrgID      string    `json:"organization_id" bson:"org_id"`
	Email      string    `json:"email" bson:"email"`
	IdentityID string    `json:"identity_id,omitempty" bson:"identity_id,omitempty"`
	Role       string    `json:"role" bson:"role"`
	InvitedBy  string    `json:"invited_by" bson:"invited_by"` // e-mail of the member who invited
	Status     string    `json:"status" bson:"status"`
	CreatedAt  time.Time `json:"created_at" bson:"created_at"`
	ExpiresAt  time.Time `json:"expires_at" bson:"expires_at"`
}

// Validate returns EINVALID naming the field to fix. Ownership is transferred, never invited.
func (i *MemberInvitation) Validate() error {
	i.Email = strings.ToLower(strings.TrimSpace(i.Email))
	switch {
	case !PlainEmail(i.Email):
		return Errorf(EINVALID, "email %q is not a plain e-mail address such as dev@partner.example", i.Email)
	case i.Role == RoleOwner:
		return Errorf(EINVALID, "invite as admin, developer or viewer; make someone owner by transferring ownership")
	case !slices.Contains(Roles, i.Role):
		return Errorf(EINVALID, "role %q is unknown; use admin, developer or viewer", i.Role)
	}
	return nil
}

// AuditEvent records who changed what in an organisation.
type AuditEvent struct {
	ID     string    `json:"id" bson:"_id"`
	OrgID  string    `json:"organization_id" bson:"org_id"`
	Actor  string    `json:"actor" bson:"actor"`
	Action string    `json:"action" bson:"action"`
	Target string    `json:"target" bson:"target"`
	Detail string    `json:"detail,omitempty" bson:"detail,omitempty"`
	At     time.Time `json:"at" bson:"at"`
}

// NewAuditID is a new audit event's id: later ones sort first, so events of one millisecond
// still list newest first (the log is ordered by time, then id).
func NewAuditID() string {
	return fmt.Sprintf("ev_%016x%s", math.MaxInt64-time.Now().UnixNano(), RandomHex(4))
}

// AuditLog appends audit events.
type AuditLog interface {
	AppendAudit(ctx context.Context, e AuditEvent) error
}

// Auditor records what actors did. A failed write is logged, not returned: the change it
// describes is already done.
type Auditor struct {
	Log    AuditLog
	Logger *slog.Logger
	Now    func() time.Time
}

// Record appends one event of orgID's audit log.
func (a Auditor) Record(ctx context.Context, orgID, actor, action, target, detail string) {
	e := AuditEvent{ID: NewAuditID(), OrgID: orgID, Actor: actor, Action: action, Target: target, Detail: detail, At: a.Now()}
	if err := a.Log.AppendAudit(ctx, e); err != nil {
		a.Logger.Error("audit", "organization", orgID, "action", action, "error", err)
	}
}

// TeamStore keeps member invitations, the organisation's members and its audit log.
type TeamStore interface {
	SaveInvitation(ctx context.Context, inv MemberInvitation) error
	FindInvitation(ctx context.Context, id string) (MemberInvitation, error) // ENOTFOUND
	// SetInvitationStatus moves a pending invitation on; ECONFLICT when it is no longer pending.
	SetInvitationStatus(ctx context.Context, id, status string) error
	// Invitations lists every invitation of the organisation, newest first.
	Invitations(ctx context.Context, orgID string) ([]MemberInvitation, error)
	// InvitationPage returns a page of them, only those in status unless it is "".
	InvitationPage(ctx context.Context, orgID, status string, page PageRequest) (Page[MemberInvitation], error)
	PendingInvitationsFor(ctx context.Context, email string) ([]MemberInvitation, error)
	// MembersOf lists every member of the organisation, longest-standing first.
	MembersOf(ctx context.Context, orgID string) ([]Member, error)
	// MemberPage returns a page of them.
	MemberPage(ctx context.Context, orgID string, page PageRequest) (Page[Member], error)
	// MembersOfAll lists the members of every organisation of orgIDs in one query (a batch of
	// organisations to alarm), ordered by organisation and then as MembersOf orders them.
	MembersOfAll(ctx context.Context, orgIDs []string) ([]Member, error)
	DeleteMember(ctx context.Context, memberID string) error
	SetMemberRole(ctx context.Context, memberID, role string) error
	AppendAudit(ctx context.Context, e AuditEvent) error
	// Audit returns a page of the organisation's audit log, newest first.
	Audit(ctx context.Context, orgID string, page PageRequest) (Page[AuditEvent], error)
}

// Sessions ends people's access.
type Sessions interface {
	RevokeSessions(ctx context.Context, identityID string) error
	SetIdentityActive(ctx context.Context, identityID string, active bool) error
}

// MemberInvitations drives member invitation lifecycles (Temporal workflows).
type MemberInvitations interface {
	InviteMember(ctx context.Context, inv MemberInvitation, orgName string) error
	ResendMemberInvitation(ctx context.Context, inv MemberInvitation) error
	CancelMemberInvitation(ctx context.Context, inv MemberInvitation) error
	MemberAccepted(ctx context.Context, invitationID string) error
}

// Position is where m sits in its organisation's (or its person's) member list: longest-standing first.
func (m Member) Position() Position { return Position{Key: OldestFirst(m.JoinedAt), ID: m.ID} }

// Position is where i sits in its organisation's invitation list: newest first.
func (i MemberInvitation) Position() Position {
	return Position{Key: NewestFirst(i.CreatedAt), ID: i.ID}
}

// Position is where e sits in its organisation's audit log: newest first.
func (e AuditEvent) Position() Position { return Position{Key: NewestFirst(e.At), ID: e.ID} }
