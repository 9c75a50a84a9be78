package api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

func flowWith(email string, codeNode bool, msgs ...onramp.FlowMessage) onramp.SignInFlow {
	f := onramp.SignInFlow{ID: "f1", UI: onramp.FlowUI{Action: "/.ory/self-service/login?flow=f1", Messages: msgs}}
	add := func(name string, value any) {
		var n onramp.FlowNode
		n.Attributes.Name, n.Attributes.Value = name, value
		f.UI.Nodes = append(f.UI.Nodes, n)
	}
	add("csrf_token", "csrf-1")
	add("identifier", email)
	if codeNode {
		add("code", "")
	}
	return f
}

func TestLoginViewNeverTellsUnknownFromKnown(t *testing.T) {
	sent := onramp.FlowMessage{ID: msgCodeSent, Type: "info", Text: "An email containing a code has been sent"}
	unknown := onramp.FlowMessage{ID: msgAccountNotFound, Type: "error", Text: "This account does not exist or has no login method configured."}
	noCode := onramp.FlowMessage{ID: msgNoCodeUser, Type: "error", Text: "This account does not exist or has not setup sign in with code."}
	wrong := onramp.FlowMessage{ID: msgInvalidCode, Type: "error", Text: "The login code is invalid or has already been used."}

	knownSent := loginViewOf(flowWith("a@x.example", true, sent), false)
	for name, v := range map[string]loginView{
		"unknown address":   loginViewOf(flowWith("a@x.example", false, unknown), false),
		"no code login yet": loginViewOf(flowWith("a@x.example", false, noCode), false),
	} {
		if v != knownSent {
			t.Errorf("%s: view %+v differs from a sent code %+v", name, v, knownSent)
		}
	}
	knownWrong := loginViewOf(flowWith("a@x.example", true, wrong), true)
	unknownWrong := loginViewOf(flowWith("a@x.example", false, unknown), true)
	if knownWrong != unknownWrong || knownWrong.Error != wrongCodeText {
		t.Errorf("wrong code: known %+v, unknown %+v; want both to say %q", knownWrong, unknownWrong, wrongCodeText)
	}
	if v := loginViewOf(flowWith("", false), false); v.Step != "email" || v.CSRF != "csrf-1" || v.Error != "" {
		t.Errorf("fresh flow view = %+v, want the e-mail step with the CSRF token", v)
	}
	other := onramp.FlowMessage{ID: 4010001, Type: "error", Text: "The login flow expired"}
	if v := loginViewOf(flowWith("", false, other), false); v.Error != other.Text {
		t.Errorf("other Kratos errors must show: %+v", v)
	}
}

func TestSignInLimits(t *testing.T) {
	l := newSignInLimits(3)
	for i := 0; i < 3; i++ {
		if err := l.check("", "10.0.0.1"); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if err := l.check("", "10.0.0.1"); onramp.ErrorCode(err) != onramp.ERATELIMITED || !strings.Contains(err.Error(), "your network") {
		t.Errorf("4th attempt from one address: %v, want ERATELIMITED naming the network", err)
	}
	for i := 0; i < codesPerEmail; i++ {
		if err := l.check("Dev@X.example", fmt.Sprint("10.0.1.", i)); err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
	}
	if err := l.check("dev@x.example", "10.0.2.1"); onramp.ErrorCode(err) != onramp.ERATELIMITED || !strings.Contains(err.Error(), "this address") {
		t.Errorf("code %d for one address (any case, any network): %v, want ERATELIMITED", codesPerEmail+1, err)
	}
}

func TestLimiterWindows(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	l := newLimiter(2, time.Minute)
	l.now = func() time.Time { return now }
	for i := 0; i < 2; i++ {
		if ok, _ := l.allow("k"); !ok {
			t.Fatalf("attempt %d refused, want allowed", i+1)
		}
	}
	ok, wait := l.allow("k")
	if ok || wait != time.Minute {
		t.Fatalf("third attempt: ok=%v wait=%s, want refused for a minute", ok, wait)
	}
	if ok, _ := l.allow("other"); !ok {
		t.Error("another key was refused")
	}
	now = now.Add(time.Minute)
	if ok, _ := l.allow("k"); !ok {
		t.Error("a new window still refused")
	}
}
