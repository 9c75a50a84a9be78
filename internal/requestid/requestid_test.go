package requestid_test

import (
	"regexp"
	"strings"
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

// wellFormed is the pattern ^[A-Za-z0-9._-]{8,64}$ it replaced.
func FuzzWellFormedIsThePattern(f *testing.F) {
	pattern := regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)
	for _, s := range []string{"", "short", "lb-trace-12345678", "has space in it", "new\nline-injection", "abcdefgh\n", strings.Repeat("a", 64), strings.Repeat("a", 65), "abc.def_gh-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := requestid.From(s) == s, pattern.MatchString(s); got != want {
			t.Errorf("From(%q) kept it: %v, the pattern says %v", s, got, want)
		}
	})
}
