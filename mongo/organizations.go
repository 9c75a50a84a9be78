package mongo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/onramp-dev/onramp"
)

// Organizations is the organisation and membership store (collections organizations, members).
// Partners' SSO client secrets are sealed with sealer before they are written and opened when read.
type Organizations struct {
	db     *DB
	sealer onramp.Sealer
}

var (
	_ onramp.OrganizationStore = (*Organizations)(nil)
	_ onramp.MemberStore       = (*Organizations)(nil)
)

// NewOrganizations returns the store on db, sealing SSO secrets with sealer; it panics on a nil one.
func NewOrganizations(db *DB, sealer onramp.Sealer) *Organizations {
	if db == nil || sealer == nil {
		panic("mongo.NewOrganizations: nil db or sealer")
	}
	return &Organizations{db: db, sealer: sealer}
}

// Lists of organisations (see lists.go): every one and each status newest invitation first,
// the search index (one entry per search key), and who signs in through an identity provider.
const (
	listOrgs      = "orgs"
	listOrgSearch = "orgs.search"
	listOrgsSSO   = "orgs.sso"
)

func listOrgStatus(status string) string { return "orgs.status." + status }
func listSSODomain(domain string) string { return "sso/" + domain }

// searchScan bounds the index entries one page of a filtered search looks at.
const searchScan = 2000

// orgItems are the list entries of o: its public view (no client secret, sealed or not).
func orgItems(o onramp.Organization) []listItem {
	o.InvitedAt = o.InvitedAt.UTC().Truncate(time.Millisecond)
	pub := o.Public()
	if pub.SSO != nil {
		pub.SSO.SealedSecret, pub.SSO.SecretKeyID = nil, ""
	}
	items := []listItem{item(listOrgs, o.Position(), pub), item(listOrgStatus(o.Status), o.Position(), pub)}
	for _, k := range o.SearchKeys() {
		items = append(items, item(listOrgSearch, onramp.Position{Key: onramp.SearchKey(k, o), ID: o.ID}, pub))
	}
	if o.SSO != nil {
		items = append(items, item(listOrgsSSO, onramp.Position{ID: o.ID}, nil))
		for _, d := range o.SSO.Domains {
			items = append(items, item(listSSODomain(d), onramp.Position{ID: o.ID}, nil))
		}
	}
	return items
}

// CreateOrganization inserts o, its SSO client secret sealed; ECONFLICT when its id exists.
func (s *Organizations) CreateOrganization(ctx context.Context, o onramp.Organization) error {
	return s.claimingDomains(ctx, o, func() error {
		_, err := s.db.Collection("organizations").InsertOne(ctx, s.sealed(o))
		if mongo.IsDuplicateKeyError(err) {
			return onramp.Errorf(onramp.ECONFLICT, "organisation %q exists", o.ID)
		} else if err != nil {
			return err
		}
		if err := s.db.syncLists(ctx, nil, orgItems(o)); err != nil {
			return err
		}
		return s.db.recordChange(ctx, onramp.ChangeOrganization, o.ID)
	})
}

// claimingDomains runs write when no other organisation has one of o's SSO domains, under one
// lock for all domain claims: checking and writing are one step across nodes. Organisations
// without SSO take no lock.
func (s *Organizations) claimingDomains(ctx context.Context, o onramp.Organization, write func() error) error {
	if o.SSO == nil || len(o.SSO.Domains) == 0 {
		return write()
	}
	return s.withLock(ctx, "sso-domains", func() error {
		for _, d := range o.SSO.Domains {
			other, taken, err := s.SSOOrganization(ctx, d)
			if err != nil {
				return err
			}
			if taken && other.ID != o.ID {
				return onramp.SSODomainTaken(d, other)
			}
		}
		return write()
	})
}

// UpdateOrganization changes the organisation under its lock (see withLock): read, change, write.
func (s *Organizations) UpdateOrganization(ctx context.Context, id string, change func(*onramp.Organization) error) (onramp.Organization, error) {
	var out onramp.Organization
	err := s.withLock(ctx, "organization:"+id, func() error {
		o, err := s.FindOrganization(ctx, id)
		if err != nil {
			return err
		}
		before := orgItems(o)
		if err := change(&o); err != nil {
			return err
		}
		o.ID = id
		out = o
		return s.claimingDomains(ctx, o, func() error {
			if _, err := s.db.Collection("organizations").ReplaceOne(ctx, bson.M{"_id": id}, s.sealed(o)); err != nil {
				return err
			}
			if err := s.db.syncLists(ctx, before, orgItems(o)); err != nil {
				return err
			}
			return s.db.recordChange(ctx, onramp.ChangeOrganization, id)
		})
	})
	return out, err
}

// sealed is o as stored: times at the store's precision, the SSO client secret sealed.
func (s *Organizations) sealed(o onramp.Organization) onramp.Organization {
	o.InvitedAt = o.InvitedAt.UTC().Truncate(time.Millisecond)
	if o.SSO != nil && o.SSO.ClientSecret != "" {
		sso := *o.SSO
		sso.SecretKeyID, sso.SealedSecret = s.sealer.Seal([]byte(sso.ClientSecret), []byte(o.ID))
		sso.ClientSecret = ""
		o.SSO = &sso
	}
	return o
}

// opened is o as read, its SSO client secret opened (records from before sealing hold it plain).
func (s *Organizations) opened(o onramp.Organization) (onramp.Organization, error) {
	if o.SSO == nil || len(o.SSO.SealedSecret) == 0 {
		return o, nil
	}
	plain, err := s.sealer.Open(o.SSO.SecretKeyID, o.SSO.SealedSecret, []byte(o.ID))
	if err != nil {
		return o, fmt.Errorf("open the SSO client secret of %s: %w", o.ID, err)
	}
	o.SSO.ClientSecret, o.SSO.SealedSecret, o.SSO.SecretKeyID = string(plain), nil, ""
	return o, nil
}

// FindOrganization returns ENOTFOUND when there is no organisation with id.
func (s *Organizations) FindOrganization(ctx context.Context, id string) (onramp.Organization, error) {
	o, err := findByID[onramp.Organization](ctx, s.db.Collection("organizations"), id, "organisation")
	if err != nil {
		return o, err
	}
	return s.opened(o)
}

// ListOrganizations reads a page of the partner list from its lists: every organisation, one
// status, or the search index from the scan term on (see onramp.OrgQuery).
func (s *Organizations) ListOrganizations(ctx context.Context, q onramp.OrgQuery) (onramp.Page[onramp.Organization], error) {
	if err := q.Validate(); err != nil {
		return onramp.Page[onramp.Organization]{}, err
	}
	term := q.ScanTerm()
	if term == "" {
		list := listOrgs
		if q.Status != "" {
			list = listOrgStatus(q.Status)
		}
		return pageOf[onramp.Organization](ctx, s.db, pageQuery{lists: []string{list}, req: q.Page})
	}
	return pageOf[onramp.Organization](ctx, s.db, pageQuery{
		lists:   []string{listOrgSearch},
		req:     q.Page,
		start:   onramp.Position{Key: term},
		within:  func(p onramp.Position) bool { return strings.HasPrefix(p.Key, term) },
		maxScan: searchScan,
		keep: func(p onramp.Position, raw bson.Raw) bool {
			var o onramp.Organization
			// Listed once: at the first of its keys the term begins.
			return bson.Unmarshal(raw, &o) == nil && q.Matches(o) && o.SearchPosition(term) == p
		},
	})
}

// SSOOrganizations lists the organisations with an identity provider, by id.
func (s *Organizations) SSOOrganizations(ctx context.Context) ([]onramp.Organization, error) {
	ps, err := positionsOf(ctx, s.db, listOrgsSSO)
	out := []onramp.Organization{}
	for _, p := range ps {
		if err != nil {
			break
		}
		var o onramp.Organization
		if o, err = s.FindOrganization(ctx, p.ID); onramp.ErrorCode(err) == onramp.ENOTFOUND {
			err = nil // removed since the list was read
			continue
		}
		out = append(out, o)
	}
	return out, err
}

// SetOrganizationStatus sets the status, and the first sign-in time only if none is recorded.
// The time is written first, so a reader never sees "active" without it. It holds the
// organisation's lock, so the lists move it from one status to the other exactly once.
func (s *Organizations) SetOrganizationStatus(ctx context.Context, id, status string, firstSignIn *time.Time) error {
	return s.withLock(ctx, "organization:"+id, func() error {
		before, err := s.FindOrganization(ctx, id)
		if err != nil {
			return err
		}
		coll := s.db.Collection("organizations")
		if firstSignIn != nil {
			// Only the first sign-in counts for the onboarding funnel.
			if _, err := coll.UpdateOne(ctx, bson.M{"_id": id, "first_sign_in_at": bson.M{"$exists": false}},
				bson.M{"$set": bson.M{"first_sign_in_at": firstSignIn.UTC().Truncate(time.Millisecond)}}); err != nil {
				return err
			}
		}
		if _, err := coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"status": status}}); err != nil {
			return err
		}
		after, err := s.FindOrganization(ctx, id)
		if err != nil {
			return err
		}
		if err := s.db.syncLists(ctx, orgItems(before), orgItems(after)); err != nil {
			return err
		}
		return s.db.recordChange(ctx, onramp.ChangeOrganization, id)
	})
}

// SSOOrganization returns the organisation whose SSO domains include domain (its list by _id).
func (s *Organizations) SSOOrganization(ctx context.Context, domain string) (onramp.Organization, bool, error) {
	ps, err := positionsOf(ctx, s.db, listSSODomain(domain))
	if err != nil || len(ps) == 0 {
		return onramp.Organization{}, false, err
	}
	o, err := s.FindOrganization(ctx, ps[0].ID)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		return onramp.Organization{}, false, nil
	}
	return o, err == nil, err
}

// DeleteOrganization removes the organisation with id; a missing one is not an error.
func (s *Organizations) DeleteOrganization(ctx context.Context, id string) error {
	o, err := s.FindOrganization(ctx, id)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if _, err := s.db.Collection("organizations").DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return err
	}
	if err := s.db.syncLists(ctx, orgItems(o), nil); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeOrganization, id)
}

// memberItems are m's entries in its organisation's and its person's member lists.
func memberItems(m onramp.Member) []listItem {
	return []listItem{item("members.org/"+m.OrgID, m.Position(), m), item("members.identity/"+m.IdentityID, m.Position(), m)}
}

// SaveMember upserts m by ID.
func (s *Organizations) SaveMember(ctx context.Context, m onramp.Member) error {
	m.ID = onramp.MemberID(m.OrgID, m.IdentityID)
	m.JoinedAt = m.JoinedAt.UTC().Truncate(time.Millisecond)
	_, _, err := replaceListed(ctx, s.db, "members", m.ID, "member", m, memberItems)
	return err
}

// MembershipsOf lists identityID's memberships, oldest first (the person's list, by _id).
func (s *Organizations) MembershipsOf(ctx context.Context, identityID string) ([]onramp.Member, error) {
	return allOf[onramp.Member](ctx, s.db, "members.identity/"+identityID)
}

// MarkFirstSignIn records at as the member's first sign-in unless one is recorded.
func (s *Organizations) MarkFirstSignIn(ctx context.Context, memberID string, at time.Time) (bool, error) {
	res, err := s.db.Collection("members").UpdateOne(ctx,
		bson.M{"_id": memberID, "first_sign_in_at": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"first_sign_in_at": at.UTC().Truncate(time.Millisecond)}})
	if err != nil || res.ModifiedCount == 0 {
		return false, err
	}
	m, err := findByID[onramp.Member](ctx, s.db.Collection("members"), memberID, "member")
	if err != nil {
		return true, err
	}
	return true, s.db.syncLists(ctx, nil, memberItems(m))
}
