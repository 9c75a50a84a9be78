package mail_test

import (
	"net"
	"net/textproto"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/mail"
)

// smtpSink accepts one message over plain SMTP on loopback and hands back what it received.
func smtpSink(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tp := textproto.NewConn(c)
		_ = tp.PrintfLine("220 sink ESMTP")
		var data strings.Builder
		for {
			line, err := tp.ReadLine()
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
			switch cmd {
			case "EHLO", "HELO":
				_ = tp.PrintfLine("250 sink")
			case "MAIL", "RCPT":
				data.WriteString(line + "\n")
				_ = tp.PrintfLine("250 ok")
			case "DATA":
				_ = tp.PrintfLine("354 go ahead")
				body, _ := tp.ReadDotBytes()
				data.Write(body)
				_ = tp.PrintfLine("250 queued")
			case "QUIT":
				_ = tp.PrintfLine("221 bye")
				ch <- data.String()
				return
			default:
				_ = tp.PrintfLine("502 not implemented")
			}
		}
	}()
	return l.Addr().String(), ch
}

func TestSMTPDelivers(t *testing.T) {
	addr, got := smtpSink(t)
	m, err := mail.NewSMTP("smtp://" + addr + "?from=no-reply@onramp.test")
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(t.Context(), onramp.Message{ID: "abc", To: "dev@partner.test", Subject: "Your code", Text: "123456\nbye"})
	if err != nil {
		t.Fatal(err)
	}
	data := <-got
	for _, want := range []string{"MAIL FROM:<no-reply@onramp.test>", "RCPT TO:<dev@partner.test>", "Subject: Your code", "Message-ID: <abc@onramp>", "123456"} {
		if !strings.Contains(data, want) {
			t.Errorf("delivered data lacks %q:\n%s", want, data)
		}
	}
}

func TestNewSMTPRefusesBadURLWithoutLeakingPassword(t *testing.T) {
	for _, u := range []string{"http://x", "smtp://user:hunter2@host:25", "smtp://user:hunter2@host:25?from=Bad <x@y>"} {
		_, err := mail.NewSMTP(u)
		if err == nil {
			t.Errorf("NewSMTP(%q) succeeded, want an error", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestSMTPUnreachableIsUnavailable(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	m, _ := mail.NewSMTP("smtp://" + addr + "?from=no-reply@onramp.test")
	err := m.Send(t.Context(), onramp.Message{To: "dev@partner.test", Subject: "s"})
	if got := onramp.ErrorCode(err); got != onramp.EUNAVAILABLE {
		t.Fatalf("ErrorCode = %q, want %q (err %v)", got, onramp.EUNAVAILABLE, err)
	}
}
