// Package mailtest holds the contract every onramp.Mailbox must pass, so the in-memory fake and
// the MongoDB mailbox cannot drift apart.
package mailtest

import (
	"context"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// RunMailboxContract runs the mailbox contract against mailboxes made by newBox; each call must
// return an empty mailbox.
func RunMailboxContract(t *testing.T, newBox func(t *testing.T) onramp.Mailbox) {
	ctx := context.Background()
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	t.Run("ListNewestFirstFilteredByRecipient", func(t *testing.T) {
		box := newBox(t)
		for i, to := range []string{"a@example.com", "b@example.com", "a@example.com"} {
			m := onramp.Message{To: to, Subject: "s", Text: "t", SentAt: base.Add(time.Duration(i) * time.Minute)}
			if err := box.Send(ctx, m); err != nil {
				t.Fatalf("Send(%d): %v", i, err)
			}
		}
		got, err := box.List(ctx, "a@example.com", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("List(a) returned %d messages, want 2", len(got))
		}
		if !got[0].SentAt.Equal(base.Add(2*time.Minute)) || !got[1].SentAt.Equal(base) {
			t.Errorf("List(a) order = %v, %v; want newest first", got[0].SentAt, got[1].SentAt)
		}
		if got[0].ID == "" || got[0].ID == got[1].ID {
			t.Errorf("Send gave IDs %q and %q, want distinct non-empty IDs", got[0].ID, got[1].ID)
		}
		all, err := box.List(ctx, "", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 {
			t.Errorf("List(\"\", limit 2) returned %d messages, want 2", len(all))
		}
	})

	t.Run("SendWithSameIDReplaces", func(t *testing.T) {
		box := newBox(t)
		for _, subject := range []string{"first", "second"} {
			m := onramp.Message{ID: "fixed-id", To: "c@example.com", Subject: subject, SentAt: base}
			if err := box.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		got, err := box.List(ctx, "c@example.com", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Subject != "second" {
			t.Fatalf("after two sends with one ID got %+v, want one message with subject %q", got, "second")
		}
	})

	t.Run("TemplateDataRoundTrips", func(t *testing.T) {
		box := newBox(t)
		m := onramp.Message{To: "d@example.com", Subject: "code", TemplateType: "login_code_valid",
			TemplateData: map[string]string{"login_code": "123456"}, SentAt: base}
		if err := box.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		got, err := box.List(ctx, "d@example.com", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].TemplateData["login_code"] != "123456" || got[0].TemplateType != "login_code_valid" {
			t.Fatalf("got %+v, want the login code and template type back", got)
		}
	})

	t.Run("InvalidRecipientRefused", func(t *testing.T) {
		box := newBox(t)
		err := box.Send(ctx, onramp.Message{To: "Someone <x@example.com>", Subject: "s"})
		if got, want := onramp.ErrorCode(err), onramp.EINVALID; got != want {
			t.Fatalf("ErrorCode = %q, want %q (err %v)", got, want, err)
		}
		got, _ := box.List(ctx, "", 0)
		if len(got) != 0 {
			t.Fatalf("a refused message was stored: %+v", got)
		}
	})
}
