package mail

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// SMTP delivers messages to an SMTP relay, upgrading with STARTTLS when the server offers it.
type SMTP struct {
	addr string
	host string
	from string
	auth smtp.Auth
	now  func() time.Time
}

var _ onramp.Mailer = (*SMTP)(nil)

// NewSMTP parses an SMTP URL: smtp://[user:password@]host:port?from=no-reply@example.com. The
// password never appears in its errors.
func NewSMTP(rawURL string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP_URL must look like smtp://user:password@host:587?from=no-reply@example.com")
	}
	from := u.Query().Get("from")
	if a, err := mail.ParseAddress(from); err != nil || a.Address != from {
		return nil, fmt.Errorf("SMTP_URL needs a from= query parameter with a plain e-mail address")
	}
	port := u.Port()
	if port == "" {
		port = "587"
	}
	s := &SMTP{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname(), from: from, now: time.Now}
	if u.User != nil {
		pw, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, u.Hostname())
	}
	return s, nil
}

// Send delivers m; EINVALID for a bad message, EUNAVAILABLE when the relay refuses or is down.
func (s *SMTP) Send(ctx context.Context, m onramp.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n", s.from, m.To,
		mime.QEncoding.Encode("utf-8", m.Subject), s.now().UTC().Format(time.RFC1123Z))
	if m.ID != "" {
		// A stable Message-ID lets receiving servers drop the duplicate of a retried delivery.
		fmt.Fprintf(&b, "Message-ID: <%s@onramp>\r\n", m.ID)
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(m.Text, "\n", "\r\n"))
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(s.addr, s.auth, s.from, []string{m.To}, []byte(b.String())) }()
	select {
	case err := <-done:
		if err != nil {
			return onramp.Errorf(onramp.EUNAVAILABLE, "the mail relay %s did not accept the message: %v", s.addr, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
