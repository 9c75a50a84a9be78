package onramp_test

import (
	"testing"

	"github.com/onramp-dev/onramp"
)

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
