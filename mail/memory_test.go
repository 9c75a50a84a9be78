package mail_test

import (
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/mail"
	"github.com/onramp-dev/onramp/mail/mailtest"
)

func TestMemoryMailboxContract(t *testing.T) {
	mailtest.RunMailboxContract(t, func(t *testing.T) onramp.Mailbox { return mail.NewMemory() })
}
