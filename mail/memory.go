// Package mail delivers Onramp's e-mail: SMTP in production, and an in-memory mailbox that unit
// tests use in place of the MongoDB-backed development mailbox.
package mail

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
)

// Memory is an in-memory onramp.Mailbox for unit tests; it passes the same contract suite
// (mailtest.RunMailboxContract) as the MongoDB mailbox.
type Memory struct {
	mu   sync.Mutex
	msgs map[string]onramp.Message
	seq  int
}

var _ onramp.Mailbox = (*Memory)(nil)

// NewMemory returns an empty mailbox.
func NewMemory() *Memory { return &Memory{msgs: map[string]onramp.Message{}} }

// Send stores m, replacing a message with the same ID.
func (b *Memory) Send(_ context.Context, m onramp.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.ID == "" {
		b.seq++
		m.ID = "mem-" + strconv.Itoa(b.seq)
	}
	if m.SentAt.IsZero() {
		m.SentAt = time.Now().UTC()
	}
	m.SentAt = m.SentAt.Truncate(time.Millisecond)
	b.msgs[m.ID] = m
	return nil
}

// List returns up to limit messages, newest first, only those to `to` when it is not empty.
func (b *Memory) List(_ context.Context, to string, limit int) ([]onramp.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []onramp.Message{}
	for _, m := range b.msgs {
		if to == "" || m.To == to {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(x, y onramp.Message) int {
		if c := y.SentAt.Compare(x.SentAt); c != 0 {
			return c
		}
		switch {
		case x.ID > y.ID:
			return -1
		case x.ID < y.ID:
			return 1
		}
		return 0
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
