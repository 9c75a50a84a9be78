package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Mailbox is the development mailbox on MongoDB (collection dev_mail).
type Mailbox struct {
	db  *DB
	now func() time.Time
}

var _ onramp.Mailbox = (*Mailbox)(nil)

// NewMailbox returns a Mailbox on db; it panics on a nil db.
func NewMailbox(db *DB) *Mailbox {
	if db == nil {
		panic("mongo.NewMailbox: nil db")
	}
	return &Mailbox{db: db, now: time.Now}
}

// Send stores m. A message with an ID replaces the one stored under that ID, so a retried
// activity does not deliver twice.
func (b *Mailbox) Send(ctx context.Context, m onramp.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = newID()
	}
	if m.SentAt.IsZero() {
		m.SentAt = b.now().UTC()
	}
	m.SentAt = m.SentAt.Truncate(time.Millisecond)
	_, err := b.db.Collection("dev_mail").ReplaceOne(ctx, bson.M{"_id": m.ID}, m, options.Replace().SetUpsert(true))
	return err
}

// List returns up to limit messages, newest first, only those to `to` when it is not empty.
func (b *Mailbox) List(ctx context.Context, to string, limit int) ([]onramp.Message, error) {
	filter := bson.M{}
	if to != "" {
		filter["to"] = to
	}
	return findAll[onramp.Message](ctx, b.db.Collection("dev_mail"), filter, bson.D{{Key: "sent_at", Value: -1}, {Key: "_id", Value: -1}}, limit)
}

func newID() string { return onramp.RandomHex(12) }
