package onramp_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/onramp-dev/onramp"
)

func TestErrorCodeAndMessage(t *testing.T) {
	tests := []struct {
		err     error
		code    string
		message string
	}{
		{nil, "", ""},
		{onramp.Errorf(onramp.ENOTFOUND, "product %q not found", "payments"), onramp.ENOTFOUND, `product "payments" not found`},
		{fmt.Errorf("loading: %w", onramp.Errorf(onramp.ECONFLICT, "already approved")), onramp.ECONFLICT, "already approved"},
		{errors.New("dial tcp: secret detail"), onramp.EINTERNAL, "Internal error."},
	}
	for _, tt := range tests {
		if got := onramp.ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := onramp.ErrorMessage(tt.err); got != tt.message {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.message)
		}
	}
}

func TestMessageValidate(t *testing.T) {
	tests := []struct {
		m    onramp.Message
		want string
	}{
		{onramp.Message{To: "dev@partner.example", Subject: "Hi"}, ""},
		{onramp.Message{To: "Dev <dev@partner.example>", Subject: "Hi"}, onramp.EINVALID},
		{onramp.Message{To: "not-an-address", Subject: "Hi"}, onramp.EINVALID},
		{onramp.Message{To: "dev@partner.example", Subject: "  "}, onramp.EINVALID},
	}
	for _, tt := range tests {
		if got := onramp.ErrorCode(tt.m.Validate()); got != tt.want {
			t.Errorf("Validate(%+v) code = %q, want %q", tt.m, got, tt.want)
		}
	}
}
