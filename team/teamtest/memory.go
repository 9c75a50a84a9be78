// Package teamtest holds the contract the organisation, membership and team stores pass — the
// MongoDB adapter and the in-memory fake alike — and the fake.
package teamtest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Store is everything mongo.Organizations keeps.
type Store interface {
	onramp.OrganizationStore
	onramp.MemberStore
	onramp.TeamStore
}

// Memory is an in-memory Store; one mutex makes every method atomic, as the real store's locks do.
type Memory struct {
	mu          sync.Mutex
	orgs        map[string]onramp.Organization
	members     map[string]onramp.Member
	invitations map[string]onramp.MemberInvitation
	audit       []onramp.AuditEvent
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{orgs: map[string]onramp.Organization{}, members: map[string]onramp.Member{}, invitations: map[string]onramp.MemberInvitation{}}
}

// clone copies what callers could otherwise change through shared pointers and slices.
func clone(o onramp.Organization) onramp.Organization {
	if o.SSO != nil {
		sso := *o.SSO
		sso.Domains = slices.Clone(sso.Domains)
		o.SSO = &sso
	}
	return o
}

func truncate(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// CreateOrganization implements onramp.OrganizationStore.
func (m *Memory) CreateOrganization(_ context.Context, o onramp.Organization) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.orgs[o.ID]; ok {
		return onramp.Errorf(onramp.ECONFLICT, "organisation %q exists", o.ID)
	}
	if err := m.domainsFree(o); err != nil {
		return err
	}
	o.InvitedAt = truncate(o.InvitedAt)
	m.orgs[o.ID] = clone(o)
	return nil
}

// UpdateOrganization implements onramp.OrganizationStore.
func (m *Memory) UpdateOrganization(_ context.Context, id string, change func(*onramp.Organization) error) (onramp.Organization, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orgs[id]
	if !ok {
		return onramp.Organization{}, onramp.Errorf(onramp.ENOTFOUND, "no organisation %q", id)
	}
	o = clone(o)
	if err := change(&o); err != nil {
		return onramp.Organization{}, err
	}
	o.ID, o.InvitedAt = id, truncate(o.InvitedAt)
	if err := m.domainsFree(o); err != nil {
		return onramp.Organization{}, err
	}
	m.orgs[id] = clone(o)
	return o, nil
}

// FindOrganization implements onramp.OrganizationStore.
func (m *Memory) FindOrganization(_ context.Context, id string) (onramp.Organization, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orgs[id]
	if !ok {
		return o, onramp.Errorf(onramp.ENOTFOUND, "no organisation %q", id)
	}
	return clone(o), nil
}

// ListOrganizations implements onramp.OrganizationStore with the reference pagination.
func (m *Memory) ListOrganizations(_ context.Context, q onramp.OrgQuery) (onramp.Page[onramp.Organization], error) {
	if err := q.Validate(); err != nil {
		return onramp.Page[onramp.Organization]{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var found []onramp.Organization
	for _, o := range m.orgs {
		if q.Matches(o) {
			found = append(found, clone(o).Public())
		}
	}
	pos := onramp.Organization.Position
	if term := q.ScanTerm(); term != "" {
		pos = func(o onramp.Organization) onramp.Position { return o.SearchPosition(term) }
	}
	return onramp.PageOf(found, pos, q.Page)
}

// all is every organisation, newest invitation first (m.mu held).
func (m *Memory) all() []onramp.Organization {
	out := make([]onramp.Organization, 0, len(m.orgs))
	for _, o := range m.orgs {
		out = append(out, clone(o))
	}
	return sortedBy(out, onramp.Organization.Position)
}

// sortedBy sorts items in the order of their positions.
func sortedBy[T any](items []T, pos func(T) onramp.Position) []T {
	slices.SortFunc(items, func(a, b T) int { return pos(a).Compare(pos(b)) })
	return items
}

// SSOOrganizations implements onramp.OrganizationStore: by id.
func (m *Memory) SSOOrganizations(context.Context) ([]onramp.Organization, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.Organization{}
	for _, o := range m.all() {
		if o.SSO != nil {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b onramp.Organization) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// SetOrganizationStatus implements onramp.OrganizationStore.
func (m *Memory) SetOrganizationStatus(_ context.Context, id, status string, firstSignIn *time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orgs[id]
	if !ok {
		return onramp.Errorf(onramp.ENOTFOUND, "no organisation %q", id)
	}
	if firstSignIn != nil && o.FirstSignInAt == nil {
		t := truncate(*firstSignIn)
		o.FirstSignInAt = &t
	}
	o.Status = status
	m.orgs[id] = o
	return nil
}

// DeleteOrganization implements onramp.OrganizationStore.
func (m *Memory) DeleteOrganization(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.orgs, id)
	return nil
}

// domainsFree returns ECONFLICT when another organisation has one of o's SSO domains (m.mu held).
func (m *Memory) domainsFree(o onramp.Organization) error {
	if o.SSO == nil {
		return nil
	}
	for _, other := range m.orgs {
		if other.ID == o.ID || other.SSO == nil {
			continue
		}
		for _, d := range o.SSO.Domains {
			if slices.Contains(other.SSO.Domains, d) {
				return onramp.SSODomainTaken(d, other)
			}
		}
	}
	return nil
}

// SSOOrganization implements onramp.OrganizationStore: the earliest invited one for domain.
func (m *Memory) SSOOrganization(_ context.Context, domain string) (onramp.Organization, bool, error) {
	m.mu.Lock()
	all := m.all()
	m.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].SSO != nil && slices.Contains(all[i].SSO.Domains, domain) {
			return all[i], true, nil
		}
	}
	return onramp.Organization{}, false, nil
}

// SaveMember implements onramp.MemberStore.
func (m *Memory) SaveMember(_ context.Context, mem onramp.Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem.ID, mem.JoinedAt = onramp.MemberID(mem.OrgID, mem.IdentityID), truncate(mem.JoinedAt)
	m.members[mem.ID] = mem
	return nil
}

func (m *Memory) membersWhere(keep func(onramp.Member) bool) []onramp.Member {
	out := []onramp.Member{}
	for _, mem := range m.members {
		if keep(mem) {
			out = append(out, mem)
		}
	}
	return sortedBy(out, onramp.Member.Position)
}

// MembershipsOf implements onramp.MemberStore: oldest first.
func (m *Memory) MembershipsOf(_ context.Context, identityID string) ([]onramp.Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.membersWhere(func(x onramp.Member) bool { return x.IdentityID == identityID }), nil
}

// MarkFirstSignIn implements onramp.MemberStore.
func (m *Memory) MarkFirstSignIn(_ context.Context, memberID string, at time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.members[memberID]
	if !ok || mem.FirstSignInAt != nil {
		return false, nil
	}
	t := truncate(at)
	mem.FirstSignInAt = &t
	m.members[memberID] = mem
	return true, nil
}

// SaveInvitation implements onramp.TeamStore.
func (m *Memory) SaveInvitation(_ context.Context, inv onramp.MemberInvitation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv.CreatedAt, inv.ExpiresAt = truncate(inv.CreatedAt), truncate(inv.ExpiresAt)
	m.invitations[inv.ID] = inv
	return nil
}

// FindInvitation implements onramp.TeamStore.
func (m *Memory) FindInvitation(_ context.Context, id string) (onramp.MemberInvitation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv, ok := m.invitations[id]
	if !ok {
		return inv, onramp.Errorf(onramp.ENOTFOUND, "no invitation %q", id)
	}
	return inv, nil
}

// SetInvitationStatus implements onramp.TeamStore.
func (m *Memory) SetInvitationStatus(_ context.Context, id, status string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv, ok := m.invitations[id]
	switch {
	case !ok:
		return onramp.Errorf(onramp.ENOTFOUND, "no invitation %q", id)
	case inv.Status == status:
		return nil
	case inv.Status != onramp.InvitationPending:
		return onramp.Errorf(onramp.ECONFLICT, "the invitation is already %s", inv.Status)
	}
	inv.Status = status
	m.invitations[id] = inv
	return nil
}

func (m *Memory) invitationsWhere(keep func(onramp.MemberInvitation) bool, newestFirst bool) []onramp.MemberInvitation {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.MemberInvitation{}
	for _, inv := range m.invitations {
		if keep(inv) {
			out = append(out, inv)
		}
	}
	if newestFirst {
		return sortedBy(out, onramp.MemberInvitation.Position)
	}
	return sortedBy(out, func(i onramp.MemberInvitation) onramp.Position {
		return onramp.Position{Key: onramp.OldestFirst(i.CreatedAt), ID: i.ID}
	})
}

// Invitations implements onramp.TeamStore: newest first.
func (m *Memory) Invitations(_ context.Context, orgID string) ([]onramp.MemberInvitation, error) {
	return m.invitationsWhere(func(i onramp.MemberInvitation) bool { return i.OrgID == orgID }, true), nil
}

// InvitationPage implements onramp.TeamStore.
func (m *Memory) InvitationPage(ctx context.Context, orgID, status string, page onramp.PageRequest) (onramp.Page[onramp.MemberInvitation], error) {
	all := m.invitationsWhere(func(i onramp.MemberInvitation) bool { return i.OrgID == orgID && (status == "" || i.Status == status) }, true)
	return onramp.PageOf(all, onramp.MemberInvitation.Position, page)
}

// PendingInvitationsFor implements onramp.TeamStore: oldest first.
func (m *Memory) PendingInvitationsFor(_ context.Context, email string) ([]onramp.MemberInvitation, error) {
	return m.invitationsWhere(func(i onramp.MemberInvitation) bool { return i.Email == email && i.Status == onramp.InvitationPending }, false), nil
}

// MembersOf implements onramp.TeamStore: longest-standing first.
func (m *Memory) MembersOf(_ context.Context, orgID string) ([]onramp.Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.membersWhere(func(x onramp.Member) bool { return x.OrgID == orgID }), nil
}

// MemberPage implements onramp.TeamStore.
func (m *Memory) MemberPage(ctx context.Context, orgID string, page onramp.PageRequest) (onramp.Page[onramp.Member], error) {
	all, _ := m.MembersOf(ctx, orgID)
	return onramp.PageOf(all, onramp.Member.Position, page)
}

// MembersOfAll implements onramp.TeamStore.
func (m *Memory) MembersOfAll(_ context.Context, orgIDs []string) ([]onramp.Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.membersWhere(func(x onramp.Member) bool { return slices.Contains(orgIDs, x.OrgID) })
	slices.SortStableFunc(out, func(a, b onramp.Member) int { return strings.Compare(a.OrgID, b.OrgID) })
	return out, nil
}

// keepsAnOwner is the store's owner invariant (the caller holds the mutex).
func (m *Memory) keepsAnOwner(mem onramp.Member, newRole string) error {
	if mem.Role != onramp.RoleOwner || newRole == onramp.RoleOwner {
		return nil
	}
	owners := m.membersWhere(func(x onramp.Member) bool { return x.OrgID == mem.OrgID && x.Role == onramp.RoleOwner })
	if len(owners) <= 1 {
		return onramp.Errorf(onramp.ECONFLICT, "%s is the only owner; transfer ownership first", mem.Email)
	}
	return nil
}

// DeleteMember implements onramp.TeamStore.
func (m *Memory) DeleteMember(_ context.Context, memberID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.members[memberID]
	if !ok {
		return nil
	}
	if err := m.keepsAnOwner(mem, ""); err != nil {
		return err
	}
	delete(m.members, memberID)
	return nil
}

// SetMemberRole implements onramp.TeamStore.
func (m *Memory) SetMemberRole(_ context.Context, memberID, role string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.members[memberID]
	if !ok {
		return onramp.Errorf(onramp.ENOTFOUND, "no such member")
	}
	if err := m.keepsAnOwner(mem, role); err != nil {
		return err
	}
	mem.Role = role
	m.members[memberID] = mem
	return nil
}

// AppendAudit implements onramp.TeamStore.
func (m *Memory) AppendAudit(_ context.Context, e onramp.AuditEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.ID == "" {
		e.ID = onramp.RandomHex(12)
	}
	for _, x := range m.audit {
		if x.ID == e.ID {
			return nil
		}
	}
	e.At = truncate(e.At)
	m.audit = append(m.audit, e)
	return nil
}

// Audit implements onramp.TeamStore: newest first.
func (m *Memory) Audit(_ context.Context, orgID string, page onramp.PageRequest) (onramp.Page[onramp.AuditEvent], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.AuditEvent{}
	for _, e := range m.audit {
		if e.OrgID == orgID {
			out = append(out, e)
		}
	}
	return onramp.PageOf(out, onramp.AuditEvent.Position, page)
}
