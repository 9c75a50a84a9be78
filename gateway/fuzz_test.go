package gateway_test

import (
	"strings"
	"testing"

	"github.com/onramp-dev/onramp/gateway"
)

// FuzzKeyFrom: credential header parsing never panics and only accepts a plausible key.
func FuzzKeyFrom(f *testing.F) {
	for _, seed := range [][2]string{
		{"Bearer onr_test_abc", ""}, {"", "onr_live_xyz"}, {"Basic dXNlcjpwYXNz", ""}, {"bearer   spaced  ", ""},
		{"Bearer", ""}, {"", " "}, {"Bearer a\x00b", ""}, {"", strings.Repeat("k", 5000)}, {"Bearer onr_test_é", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, authorization, apiKey string) {
		key, sent, ok := gateway.KeyFrom(authorization, apiKey)
		if ok && (!sent || key == "" || len(key) > 4096 || strings.ContainsAny(key, " \t\r\n\x00")) {
			t.Fatalf("KeyFrom(%q, %q) accepted %q", authorization, apiKey, key)
		}
		if !ok && key != "" {
			t.Fatalf("refused but returned %q", key)
		}
		if authorization == "" && apiKey == "" && sent {
			t.Fatal("nothing sent, but sent = true")
		}
	})
}
