package onramp

import (
	"context"
	"strings"
	"time"
)

// Message is an e-mail that Onramp (or Kratos's courier, in development) sends to a person.
type Message struct {
	ID           string            `json:"id" bson:"_id"`
	To           string            `json:"to" bson:"to"`
	Subject      string            `json:"subject" bson:"subject"`
	Text         string            `json:"text" bson:"text"`
	TemplateType string            `json:"template_type,omitempty" bson:"template_type,omitempty"`
	TemplateData map[string]string `json:"template_data,omitempty" bson:"template_data,omitempty"`
	SentAt       time.Time         `json:"sent_at" bson:"sent_at"`
}

// Validate returns EINVALID when the message has no valid recipient or no subject.
func (m *Message) Validate() error {
	if !PlainEmail(m.To) {
		return Errorf(EINVALID, "recipient %q is not a plain e-mail address", m.To)
	}
	if strings.TrimSpace(m.Subject) == "" {
		return Errorf(EINVALID, "message to %s has no subject", m.To)
	}
	return nil
}

// Mailer delivers messages: over SMTP in production, into the development mailbox in dev mode.
// Send returns EINVALID for a message that fails Validate and EUNAVAILABLE when delivery fails.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Mailbox is the development mailbox: it keeps every message sent so that a person or a test can
// read codes and links. List returns the newest first, only those to `to` when it is not empty.
type Mailbox interface {
	Mailer
	List(ctx context.Context, to string, limit int) ([]Message, error)
}
