package mongo

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Credentials stores credentials (collection credentials) with a lookup document per key hash
// (credential_keys, _id = hash): the gateway's lookup is an _id read on every store.
type Credentials struct{ db *DB }

var _ onramp.CredentialStore = (*Credentials)(nil)

// NewCredentials returns the store on db; it panics on a nil db.
func NewCredentials(db *DB) *Credentials {
	if db == nil {
		panic("mongo.NewCredentials: nil db")
	}
	return &Credentials{db: db}
}

type credentialKey struct {
	Hash         string `bson:"_id"`
	CredentialID string `bson:"credential_id"`
}

// CreateCredential stores the hash lookup, then the credential; ECONFLICT when the ID exists (the
// lookup written for it is removed again).
func (s *Credentials) CreateCredential(ctx context.Context, c onramp.Credential) error {
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Millisecond)
	keys := s.db.Collection("credential_keys")
	if _, err := keys.InsertOne(ctx, credentialKey{Hash: c.Hash, CredentialID: c.ID}); err != nil {
		return err
	}
	_, err := s.db.Collection("credentials").InsertOne(ctx, c)
	if mongo.IsDuplicateKeyError(err) {
		_, _ = keys.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": c.Hash})
		return onramp.Errorf(onramp.ECONFLICT, "credential %s exists", c.ID)
	}
	if err != nil {
		return err
	}
	return s.db.syncLists(ctx, nil, []listItem{credentialItem(c)})
}

// credentialItem is c's entry in its organisation's list: its id only, since the gateway changes
// a credential's last use all the time; the list's readers fetch each by _id.
func credentialItem(c onramp.Credential) listItem {
	return item("credentials/"+c.OrgID, c.Position(), nil)
}

// FindCredential returns ENOTFOUND for an unknown id.
func (s *Credentials) FindCredential(ctx context.Context, id string) (onramp.Credential, error) {
	return findByID[onramp.Credential](ctx, s.db.Collection("credentials"), id, "credential")
}

// CredentialByHash returns ENOTFOUND when no credential has the key hash.
func (s *Credentials) CredentialByHash(ctx context.Context, hash string) (onramp.Credential, error) {
	var k credentialKey
	err := s.db.Collection("credential_keys").FindOne(ctx, bson.M{"_id": hash}).Decode(&k)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return onramp.Credential{}, onramp.Errorf(onramp.ENOTFOUND, "no such credential")
	} else if err != nil {
		return onramp.Credential{}, err
	}
	c, err := s.FindCredential(ctx, k.CredentialID)
	if err == nil && c.Hash != hash { // a lookup left by a conflicting create
		return onramp.Credential{}, onramp.Errorf(onramp.ENOTFOUND, "no such credential")
	}
	return c, err
}

// CredentialsOf lists an organisation's credentials, newest first.
func (s *Credentials) CredentialsOf(ctx context.Context, orgID string) ([]onramp.Credential, error) {
	ps, err := positionsOf(ctx, s.db, "credentials/"+orgID)
	out := make([]onramp.Credential, 0, len(ps))
	for _, p := range ps {
		if err != nil {
			break
		}
		var c onramp.Credential
		if c, err = s.FindCredential(ctx, p.ID); err == nil {
			out = append(out, c)
		}
	}
	return out, err
}

// RevokeCredential marks it revoked; ENOTFOUND for an unknown id. Revoking twice keeps the first time.
func (s *Credentials) RevokeCredential(ctx context.Context, id string, at time.Time) error {
	coll := s.db.Collection("credentials")
	res, err := coll.UpdateOne(ctx, bson.M{"_id": id, "status": bson.M{"$ne": onramp.CredentialRevoked}},
		bson.M{"$set": bson.M{"status": onramp.CredentialRevoked, "revoked_at": at.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		if _, err := s.FindCredential(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// TouchCredentials records when each credential was last used.
func (s *Credentials) TouchCredentials(ctx context.Context, lastUsed map[string]time.Time) error {
	for id, at := range lastUsed {
		if _, err := s.db.Collection("credentials").UpdateOne(ctx, bson.M{"_id": id},
			bson.M{"$set": bson.M{"last_used_at": at.UTC().Truncate(time.Millisecond)}}); err != nil {
			return err
		}
	}
	return nil
}

// Usage stores usage events (usage_events, _id = request id) and quota counters (usage_counters).
type Usage struct{ db *DB }

var _ onramp.UsageStore = (*Usage)(nil)

// NewUsage returns the store on db; it panics on a nil db.
func NewUsage(db *DB) *Usage {
	if db == nil {
		panic("mongo.NewUsage: nil db")
	}
	return &Usage{db: db}
}

// RecordUsage inserts events, skipping those already stored (a retried batch), and adds the new
// ones to their hour's totals (usage_hours: one document per organisation × product ×
// environment × day, _id-keyed, so the usage page reads a window by _id).
func (s *Usage) RecordUsage(ctx context.Context, events []onramp.UsageEvent) error {
	if len(events) == 0 {
		return nil
	}
	docs := make([]any, len(events))
	for i, e := range events {
		e.At = e.At.UTC().Truncate(time.Millisecond)
		docs[i] = e
	}
	_, err := s.db.Collection("usage_events").InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	skipped := map[int]bool{}
	var bulk mongo.BulkWriteException
	if errors.As(err, &bulk) && mongo.IsDuplicateKeyError(err) {
		for _, we := range bulk.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				return err
			}
			skipped[we.Index] = true
		}
		err = nil
	}
	if err != nil {
		return err
	}
	incs := map[string]map[string]int64{} // usage_hours id → $inc of h.<hour>.calls / .errors
	for i, e := range events {
		if skipped[i] || e.Product == "" {
			continue
		}
		id := hoursID(e.OrgID, e.Product, e.Environment, e.At)
		if incs[id] == nil {
			incs[id] = map[string]int64{}
		}
		h := "h." + strconv.Itoa(e.At.UTC().Hour())
		incs[id][h+".calls"]++
		if e.Status >= 400 {
			incs[id][h+".errors"]++
		}
	}
	for id, inc := range incs {
		if _, err := s.db.Collection("usage_hours").UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$inc": inc}, options.UpdateOne().SetUpsert(true)); err != nil {
			return err
		}
	}
	return nil
}

func hoursID(orgID, product, env string, day time.Time) string {
	return orgID + ":" + product + ":" + env + ":" + day.UTC().Format(time.DateOnly)
}

type usageDay struct {
	ID    string `bson:"_id"`
	Hours map[string]struct {
		Calls  int64 `bson:"calls"`
		Errors int64 `bson:"errors"`
	} `bson:"h"`
}

// UsageHours returns the hourly totals in [from, to), oldest first.
func (s *Usage) UsageHours(ctx context.Context, orgID, product, env string, from, to time.Time) ([]onramp.UsageHour, error) {
	from, to = from.UTC(), to.UTC()
	var ids []string
	for d := from.Truncate(24 * time.Hour); d.Before(to); d = d.AddDate(0, 0, 1) {
		ids = append(ids, hoursID(orgID, product, env, d))
	}
	// One read by _id per day: FerretDB scans the whole collection for an $in.
	var days []usageDay
	for _, id := range ids {
		d, err := findByID[usageDay](ctx, s.db.Collection("usage_hours"), id, "usage day")
		if onramp.ErrorCode(err) == onramp.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		days = append(days, d)
	}
	out := []onramp.UsageHour{}
	for _, d := range days {
		day, err := time.Parse(time.DateOnly, d.ID[strings.LastIndex(d.ID, ":")+1:])
		if err != nil {
			return nil, err
		}
		for hour := range 24 {
			h, ok := d.Hours[strconv.Itoa(hour)]
			at := day.Add(time.Duration(hour) * time.Hour)
			if ok && !at.Before(from.Truncate(time.Hour)) && at.Before(to) {
				out = append(out, onramp.UsageHour{Hour: at, Calls: h.Calls, Errors: h.Errors})
			}
		}
	}
	return out, nil
}

// Calls lists an organisation's calls that pass the filter, newest first.
func (s *Usage) Calls(ctx context.Context, orgID string, f onramp.CallFilter) ([]onramp.UsageEvent, error) {
	q := bson.M{"org_id": orgID}
	for field, v := range map[string]string{"environment": f.Environment, "credential_id": f.CredentialID, "operation": f.Operation} {
		if v != "" {
			q[field] = v
		}
	}
	if f.StatusClass != "" {
		lo := int(f.StatusClass[0]-'0') * 100
		q["status"] = bson.M{"$gte": lo, "$lt": lo + 100}
	}
	at := bson.M{}
	if !f.From.IsZero() {
		at["$gte"] = f.From.UTC().Truncate(time.Millisecond)
	}
	if !f.To.IsZero() {
		at["$lt"] = f.To.UTC().Truncate(time.Millisecond)
	}
	if len(at) > 0 {
		q["at"] = at
	}
	if f.After != nil {
		after := f.After.At.UTC().Truncate(time.Millisecond)
		q["$or"] = bson.A{bson.M{"at": bson.M{"$lt": after}}, bson.M{"at": after, "_id": bson.M{"$gt": f.After.ID}}}
	}
	return findAll[onramp.UsageEvent](ctx, s.db.Collection("usage_events"), q, bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: 1}}, f.Limit)
}

// PurgeUsage deletes the events before a time (the retention). Hour totals stay: they are small
// and the trend charts read them.
func (s *Usage) PurgeUsage(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.Collection("usage_events").DeleteMany(ctx, bson.M{"at": bson.M{"$lt": before.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}

// ExpireUsage asks MongoDB to delete events older than retention itself (a TTL index on at).
// FerretDB refuses TTL indexes: the error says so, and the caller purges periodically instead.
func (s *Usage) ExpireUsage(ctx context.Context, retention time.Duration) error {
	if has, err := s.db.HasTTLIndex(ctx, "usage_events"); err != nil || has {
		return err // asking again for an existing index would drop FerretDB's connection
	}
	_, err := s.db.Collection("usage_events").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}},
		Options: options.Index().SetName("usage_ttl").SetExpireAfterSeconds(int32(retention.Seconds()))})
	return err
}

// UsageOf lists an organisation's newest events.
func (s *Usage) UsageOf(ctx context.Context, orgID string, limit int) ([]onramp.UsageEvent, error) {
	return findAll[onramp.UsageEvent](ctx, s.db.Collection("usage_events"), bson.M{"org_id": orgID}, bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: 1}}, limit)
}

type counter struct {
	ID    string `bson:"_id"`
	Count int64  `bson:"count"`
}

// AddToCounters adds each delta with an atomic $inc and returns the new totals.
func (s *Usage) AddToCounters(ctx context.Context, deltas map[string]int64) (map[string]int64, error) {
	out := make(map[string]int64, len(deltas))
	coll := s.db.Collection("usage_counters")
	for id, d := range deltas {
		var c counter
		err := coll.FindOneAndUpdate(ctx, bson.M{"_id": id}, bson.M{"$inc": bson.M{"count": d}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
		if err != nil {
			return out, err
		}
		out[id] = c.Count
	}
	return out, nil
}

// Counters returns the totals of the counters (0 for missing ones).
func (s *Usage) Counters(ctx context.Context, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	for _, id := range ids {
		var c counter
		err := s.db.Collection("usage_counters").FindOne(ctx, bson.M{"_id": id}).Decode(&c)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return out, err
		}
		out[id] = c.Count
	}
	return out, nil
}

// ExpireCredential marks it expiring at expiresAt; ENOTFOUND for an unknown id. A revoked one
// stays revoked.
func (s *Credentials) ExpireCredential(ctx context.Context, id string, expiresAt time.Time) error {
	res, err := s.db.Collection("credentials").UpdateOne(ctx, bson.M{"_id": id, "status": bson.M{"$ne": onramp.CredentialRevoked}},
		bson.M{"$set": bson.M{"status": onramp.CredentialExpiring, "expires_at": expiresAt.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		_, err = s.FindCredential(ctx, id)
	}
	return err
}

// CallsWith counts the calls made with a credential since a time.
func (s *Usage) CallsWith(ctx context.Context, credentialID string, since time.Time) (int64, error) {
	return s.db.Collection("usage_events").CountDocuments(ctx, bson.M{"credential_id": credentialID, "at": bson.M{"$gte": since.UTC().Truncate(time.Millisecond)}})
}

func rotationItems(r onramp.Rotation) []listItem {
	return []listItem{item("rotations.org/"+r.OrgID, r.Position(), r), item("rotations.status/"+r.Status, r.QueuePosition(), r)}
}

// SaveRotation upserts r by ID, moving it between the lists of its statuses.
func (s *Credentials) SaveRotation(ctx context.Context, r onramp.Rotation) error {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond), r.UpdatedAt.UTC().Truncate(time.Millisecond)
	return s.db.withLock(ctx, "rotation:"+r.ID, func() error {
		old, err := s.FindRotation(ctx, r.ID)
		var before []listItem
		if err == nil {
			before = rotationItems(old)
		} else if onramp.ErrorCode(err) != onramp.ENOTFOUND {
			return err
		}
		if _, err := s.db.Collection("rotations").ReplaceOne(ctx, bson.M{"_id": r.ID}, r, options.Replace().SetUpsert(true)); err != nil {
			return err
		}
		return s.db.syncLists(ctx, before, rotationItems(r))
	})
}

// FindRotation returns ENOTFOUND for an unknown id.
func (s *Credentials) FindRotation(ctx context.Context, id string) (onramp.Rotation, error) {
	return findByID[onramp.Rotation](ctx, s.db.Collection("rotations"), id, "rotation")
}

// RotationsOf lists an organisation's rotations, newest first.
func (s *Credentials) RotationsOf(ctx context.Context, orgID string) ([]onramp.Rotation, error) {
	return allOf[onramp.Rotation](ctx, s.db, "rotations.org/"+orgID)
}

// RotationsIn returns a page of the rotations in the statuses, oldest first.
func (s *Credentials) RotationsIn(ctx context.Context, statuses []string, page onramp.PageRequest) (onramp.Page[onramp.Rotation], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Rotation]{}, err
	}
	return pageOf[onramp.Rotation](ctx, s.db, pageQuery{lists: statusLists("rotations.status/", statuses), req: page})
}
