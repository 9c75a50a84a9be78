package seed

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// The services write through these: the seed's own objects are kept until the batch is flushed
// (and read back from memory meanwhile), everything else goes to the store as it would.

// orgBuffer holds the organisations, members, audit events and notifications of a batch.
type orgBuffer struct {
	OrgStore
	mu      sync.Mutex
	orgs    map[string]*onramp.Organization
	order   []string
	members []onramp.Member
	audit   []onramp.AuditEvent
}

func newOrgBuffer(s OrgStore) *orgBuffer {
	return &orgBuffer{OrgStore: s, orgs: map[string]*onramp.Organization{}}
}

func (b *orgBuffer) CreateOrganization(_ context.Context, o onramp.Organization) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.orgs[o.ID]; ok {
		return onramp.Errorf(onramp.ECONFLICT, "organisation %q exists", o.ID)
	}
	b.orgs[o.ID] = &o
	b.order = append(b.order, o.ID)
	return nil
}

func (b *orgBuffer) FindOrganization(ctx context.Context, id string) (onramp.Organization, error) {
	b.mu.Lock()
	o, ok := b.orgs[id]
	b.mu.Unlock()
	if ok {
		return *o, nil
	}
	return b.OrgStore.FindOrganization(ctx, id)
}

func (b *orgBuffer) DeleteOrganization(ctx context.Context, id string) error {
	b.mu.Lock()
	_, ok := b.orgs[id]
	delete(b.orgs, id)
	b.order = slices.DeleteFunc(b.order, func(x string) bool { return x == id })
	b.mu.Unlock()
	if ok {
		return nil
	}
	return b.OrgStore.DeleteOrganization(ctx, id)
}

func (b *orgBuffer) AppendAudit(_ context.Context, e onramp.AuditEvent) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.audit = append(b.audit, e)
	return nil
}

func (b *orgBuffer) flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	orgs := make([]onramp.Organization, 0, len(b.order))
	for _, id := range b.order {
		orgs = append(orgs, *b.orgs[id])
	}
	if len(orgs) > 0 {
		if err := b.ImportOrganizations(ctx, orgs); err != nil {
			return err
		}
	}
	if len(b.members) > 0 {
		if err := b.ImportMembers(ctx, b.members); err != nil {
			return err
		}
	}
	if len(b.audit) > 0 {
		if err := b.ImportAudit(ctx, b.audit); err != nil {
			return err
		}
	}
	b.orgs, b.order, b.members, b.audit = map[string]*onramp.Organization{}, nil, nil, nil
	return nil
}

// assignmentBuffer holds a batch's assignments and answers AssignmentsOf from them.
type assignmentBuffer struct {
	CatalogStore
	mu    sync.Mutex
	byOrg map[string][]onramp.Assignment
	all   []onramp.Assignment
}

func newAssignmentBuffer(s CatalogStore) *assignmentBuffer {
	return &assignmentBuffer{CatalogStore: s, byOrg: map[string][]onramp.Assignment{}}
}

func (b *assignmentBuffer) SaveAssignment(_ context.Context, a onramp.Assignment) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byOrg[a.OrgID] = append(b.byOrg[a.OrgID], a)
	b.all = append(b.all, a)
	return nil
}

func (b *assignmentBuffer) AssignmentsOf(ctx context.Context, orgID string) ([]onramp.Assignment, error) {
	b.mu.Lock()
	as, ok := b.byOrg[orgID]
	b.mu.Unlock()
	if ok {
		return slices.Clone(as), nil
	}
	return b.CatalogStore.AssignmentsOf(ctx, orgID)
}

// ListPlans is read once: the plans do not change while the partners are seeded.
type cachedPlans struct {
	CatalogStore
	once  sync.Once
	plans []onramp.Plan
	err   error
}

func (c *cachedPlans) ListPlans(ctx context.Context) ([]onramp.Plan, error) {
	c.once.Do(func() { c.plans, c.err = c.CatalogStore.ListPlans(ctx) })
	return c.plans, c.err
}

func (b *assignmentBuffer) flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.all) > 0 {
		if err := b.ImportAssignments(ctx, b.all); err != nil {
			return err
		}
	}
	b.byOrg, b.all = map[string][]onramp.Assignment{}, nil
	return nil
}

// credentialBuffer holds a batch's new credentials.
type credentialBuffer struct {
	CredentialStore
	mu    sync.Mutex
	creds []onramp.Credential
}

func (b *credentialBuffer) CreateCredential(_ context.Context, c onramp.Credential) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.creds = append(b.creds, c)
	return nil
}

func (b *credentialBuffer) FindCredential(ctx context.Context, id string) (onramp.Credential, error) {
	b.mu.Lock()
	for _, c := range b.creds {
		if c.ID == id {
			b.mu.Unlock()
			return c, nil
		}
	}
	b.mu.Unlock()
	return b.CredentialStore.FindCredential(ctx, id)
}

func (b *credentialBuffer) flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.creds) > 0 {
		if err := b.ImportCredentials(ctx, b.creds); err != nil {
			return err
		}
	}
	b.creds = nil
	return nil
}

// invitations stands in for the invitation workflows: seeded partners get no e-mail, reminder
// or expiry timer (their status is set by the seed instead).
type invitations struct{}

func (invitations) InvitePartner(context.Context, onramp.Organization) error    { return nil }
func (invitations) ResendInvitation(context.Context, onramp.Organization) error { return nil }
func (invitations) ContactSignedIn(context.Context, string, time.Time) error    { return nil }
func (invitations) CancelInvitation(context.Context, string) error              { return nil }
func (invitations) SyncProviders(context.Context, []onramp.Organization) error  { return nil }
