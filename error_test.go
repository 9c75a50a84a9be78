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
