package mongo

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

var _ onramp.TeamStore = (*Organizations)(nil)

// invitationItems are inv's entries: its organisation's list and, while pending, its address's.
func invitationItems(inv onramp.MemberInvitation) []listItem {
	items := []listItem{item("invitations.org/"+inv.OrgID, inv.Position(), inv), item("invitations.org/"+inv.OrgID+"/"+inv.Status, inv.Position(), inv)}
	if inv.Status == onramp.InvitationPending {
		items = append(items, item("invitations.pending/"+inv.Email, onramp.Position{Key: onramp.OldestFirst(inv.CreatedAt), ID: inv.ID}, inv))
	}
	return items
}

// SaveInvitation upserts a member invitation by ID.
func (s *Organizations) SaveInvitation(ctx context.Context, inv onramp.MemberInvitation) error {
	inv.CreatedAt = inv.CreatedAt.UTC().Truncate(time.Millisecond)
	inv.ExpiresAt = inv.ExpiresAt.UTC().Truncate(time.Millisecond)
	_, _, err := replaceListed(ctx, s.db, "member_invitations", inv.ID, "invitation", inv, invitationItems)
	return err
}

// FindInvitation returns ENOTFOUND for an unknown id.
func (s *Organizations) FindInvitation(ctx context.Context, id string) (onramp.MemberInvitation, error) {
	return findByID[onramp.MemberInvitation](ctx, s.db.Collection("member_invitations"), id, "invitation")
}

// SetInvitationStatus changes a pending invitation; ECONFLICT when it is no longer pending.
func (s *Organizations) SetInvitationStatus(ctx context.Context, id, status string) error {
	res, err := s.db.Collection("member_invitations").UpdateOne(ctx,
		bson.M{"_id": id, "status": onramp.InvitationPending}, bson.M{"$set": bson.M{"status": status}})
	if err != nil {
		return err
	}
	inv, err := s.FindInvitation(ctx, id)
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 && inv.Status != status {
		return onramp.Errorf(onramp.ECONFLICT, "the invitation is already %s", inv.Status)
	}
	// Written again when repeated by a retried activity: the lists may have missed the first time.
	was := inv
	was.Status = onramp.InvitationPending
	return s.db.syncLists(ctx, invitationItems(was), invitationItems(inv))
}

// Invitations lists an organisation's invitations, newest first.
func (s *Organizations) Invitations(ctx context.Context, orgID string) ([]onramp.MemberInvitation, error) {
	return allOf[onramp.MemberInvitation](ctx, s.db, "invitations.org/"+orgID)
}

// InvitationPage returns a page of an organisation's invitations (in status, unless ""), newest first.
func (s *Organizations) InvitationPage(ctx context.Context, orgID, status string, page onramp.PageRequest) (onramp.Page[onramp.MemberInvitation], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.MemberInvitation]{}, err
	}
	list := "invitations.org/" + orgID
	if status != "" {
		list += "/" + status
	}
	return pageOf[onramp.MemberInvitation](ctx, s.db, pageQuery{lists: []string{list}, req: page})
}

// PendingInvitationsFor lists the pending invitations addressed to email, oldest first.
func (s *Organizations) PendingInvitationsFor(ctx context.Context, email string) ([]onramp.MemberInvitation, error) {
	all, err := allOf[onramp.MemberInvitation](ctx, s.db, "invitations.pending/"+email)
	return slices.DeleteFunc(all, func(inv onramp.MemberInvitation) bool { return inv.Status != onramp.InvitationPending }), err
}

// MembersOf lists an organisation's members, longest-standing first.
func (s *Organizations) MembersOf(ctx context.Context, orgID string) ([]onramp.Member, error) {
	return allOf[onramp.Member](ctx, s.db, "members.org/"+orgID)
}

// MemberPage returns a page of an organisation's members, longest-standing first.
func (s *Organizations) MemberPage(ctx context.Context, orgID string, page onramp.PageRequest) (onramp.Page[onramp.Member], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Member]{}, err
	}
	return pageOf[onramp.Member](ctx, s.db, pageQuery{lists: []string{"members.org/" + orgID}, req: page})
}

// MembersOfAll reads the organisations' members in one query (an index on MongoDB, one scan of
// the members on FerretDB, instead of one per organisation).
func (s *Organizations) MembersOfAll(ctx context.Context, orgIDs []string) ([]onramp.Member, error) {
	if len(orgIDs) == 0 {
		return []onramp.Member{}, nil
	}
	return findAll[onramp.Member](ctx, s.db.Collection("members"), bson.M{"org_id": bson.M{"$in": orgIDs}}, bson.D{{Key: "org_id", Value: 1}, {Key: "joined_at", Value: 1}, {Key: "_id", Value: 1}}, 0)
}

// DeleteMember ends a membership; a missing one is not an error. ECONFLICT when it is the
// organisation's last owner: the check and the delete hold the team's lock, so two concurrent
// removals cannot both pass it.
func (s *Organizations) DeleteMember(ctx context.Context, memberID string) error {
	return s.withTeamLock(ctx, memberID, func(m onramp.Member, found bool) error {
		if !found {
			return nil
		}
		if err := s.keepsAnOwner(ctx, m, ""); err != nil {
			return err
		}
		if _, err := s.db.Collection("members").DeleteOne(ctx, bson.M{"_id": memberID}); err != nil {
			return err
		}
		return s.db.syncLists(ctx, memberItems(m), nil)
	})
}

// SetMemberRole changes a member's role; ENOTFOUND for an unknown member, ECONFLICT when it
// would leave the organisation without an owner (checked under the team's lock).
func (s *Organizations) SetMemberRole(ctx context.Context, memberID, role string) error {
	return s.withTeamLock(ctx, memberID, func(m onramp.Member, found bool) error {
		if !found {
			return onramp.Errorf(onramp.ENOTFOUND, "no such member")
		}
		if err := s.keepsAnOwner(ctx, m, role); err != nil {
			return err
		}
		if _, err := s.db.Collection("members").UpdateOne(ctx, bson.M{"_id": memberID}, bson.M{"$set": bson.M{"role": role}}); err != nil {
			return err
		}
		m.Role = role
		return s.db.syncLists(ctx, nil, memberItems(m))
	})
}

// keepsAnOwner returns ECONFLICT when m is its organisation's only owner and would stop being
// one (newRole "" means removed).
func (s *Organizations) keepsAnOwner(ctx context.Context, m onramp.Member, newRole string) error {
	if m.Role != onramp.RoleOwner || newRole == onramp.RoleOwner {
		return nil
	}
	members, err := s.MembersOf(ctx, m.OrgID)
	if err != nil {
		return err
	}
	n := 0
	for _, x := range members {
		if x.Role == onramp.RoleOwner {
			n++
		}
	}
	if n <= 1 {
		return onramp.Errorf(onramp.ECONFLICT, "%s is the only owner; transfer ownership first", m.Email)
	}
	return nil
}

// Locks: changes that read before they write (keep an owner; change an organisation) run one at
// a time per aggregate, on any node. Taking a lock inserts a document under a unique _id (atomic
// on MongoDB and on FerretDB, which otherwise loses concurrent updates of one document);
// releasing deletes it; one left by a crashed holder expires.
const (
	lockLease = 30 * time.Second
	lockWait  = 10 * time.Second
)

// withLock runs fn holding the named lock; EUNAVAILABLE when it cannot be had within lockWait.
func (s *Organizations) withLock(ctx context.Context, name string, fn func() error) error {
	return withLock(ctx, s.db, name, fn)
}

// withLock runs fn holding the named lock of db (see Locks); every store of the package shares
// the one collection of locks, each naming its locks after its aggregate.
func withLock(ctx context.Context, db *DB, name string, fn func() error) error {
	locks := db.Collection("locks")
	token := newID()
	deadline := time.Now().Add(lockWait)
	for {
		_, err := locks.InsertOne(ctx, bson.M{"_id": name, "token": token, "expires_at": time.Now().Add(lockLease)})
		if err == nil {
			break
		}
		if !mongo.IsDuplicateKeyError(err) {
			return err
		}
		if _, err := locks.DeleteOne(ctx, bson.M{"_id": name, "expires_at": bson.M{"$lt": time.Now()}}); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return onramp.Errorf(onramp.EUNAVAILABLE, "someone else is changing this right now; try again in a moment")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	defer func() { _, _ = locks.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": name, "token": token}) }()
	return fn()
}

// withTeamLock runs fn with the member (found or not) under the lock of the member's organisation.
func (s *Organizations) withTeamLock(ctx context.Context, memberID string, fn func(m onramp.Member, found bool) error) error {
	orgID, _, _ := strings.Cut(memberID, ":")
	return s.withLock(ctx, "team:"+orgID, func() error {
		m, err := findByID[onramp.Member](ctx, s.db.Collection("members"), memberID, "member")
		if code := onramp.ErrorCode(err); code != "" && code != onramp.ENOTFOUND {
			return err
		}
		return fn(m, err == nil)
	})
}

// AppendAudit writes one audit event (its ID makes a retried write harmless).
func (s *Organizations) AppendAudit(ctx context.Context, e onramp.AuditEvent) error {
	if e.ID == "" {
		e.ID = newID()
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	if _, err := s.db.Collection("audit_events").ReplaceOne(ctx, bson.M{"_id": e.ID}, e, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	return s.db.syncLists(ctx, nil, []listItem{item("audit/"+e.OrgID, e.Position(), e)})
}

// Audit returns a page of an organisation's audit log, newest first.
func (s *Organizations) Audit(ctx context.Context, orgID string, page onramp.PageRequest) (onramp.Page[onramp.AuditEvent], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.AuditEvent]{}, err
	}
	return pageOf[onramp.AuditEvent](ctx, s.db, pageQuery{lists: []string{"audit/" + orgID}, req: page})
}

// findByID decodes the document with _id id; ENOTFOUND naming what is missing otherwise.
func findByID[T any](ctx context.Context, coll *mongo.Collection, id, what string) (T, error) {
	var v T
	err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&v)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return v, onramp.Errorf(onramp.ENOTFOUND, "no %s %q", what, id)
	}
	return v, err
}

func findAll[T any](ctx context.Context, coll *mongo.Collection, filter bson.M, sort bson.D, limit int) ([]T, error) {
	opts := options.Find().SetSort(sort)
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	out := []T{}
	return out, cur.All(ctx, &out)
}
