package requestid_test

import (
	"testing"

	"github.com/onramp-dev/onramp/internal/requestid"
)

func TestFrom(t *testing.T) {
	if got := requestid.From("lb-trace-12345678"); got != "lb-trace-12345678" {
		t.Errorf("well-formed id replaced: %q", got)
	}
	for _, bad := range []string{"", "short", "has space in it", "new\nline-injection", string(make([]byte, 80))} {
		got := requestid.From(bad)
		if got == bad || len(got) != 24 {
			t.Errorf("From(%q) = %q, want a fresh 24-character id", bad, got)
		}
	}
	if requestid.From("") == requestid.From("") {
		t.Error("two fresh ids are equal")
	}
}
