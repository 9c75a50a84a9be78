package activities

import (
	"context"

	"github.com/onramp-dev/onramp"
)

// SendMailInput is one e-mail; ID makes delivery idempotent.
type SendMailInput struct {
	ID      string `json:"id"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// SendMail delivers one message; an invalid message fails without retries.
func (a *Activities) SendMail(ctx context.Context, in SendMailInput) error {
	return temporalError(a.Mailer.Send(ctx, onramp.Message{ID: in.ID, To: in.To, Subject: in.Subject, Text: in.Text}))
}
