package gateway

import (
	"strings"
	"testing"
)

// isIdentityHeader is normalizedHeader's "x-onramp-" prefix without building the string: both
// answer the same for every spelling a partner may try, and for names that only look close.
func FuzzIsIdentityHeaderIsTheNormalizedPrefix(f *testing.F) {
	for _, name := range []string{"X-Onramp-Org", "x_onramp_org", "X.Onramp.Org", "X-ONRAMP-", "x-onramp", "X-Onramp", "Content-Type",
		"X-Onrampx-Org", "Y-Onramp-Org", "X--Onramp-Org", "X-OnRamp_Plan", "", "X-Onramp-\u00e9", "\u212a-Onramp-Org"} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		want := strings.HasPrefix(normalizedHeader(name), "x-onramp-")
		if got := isIdentityHeader(name); got != want {
			t.Errorf("isIdentityHeader(%q) = %v, normalizedHeader says %v", name, got, want)
		}
	})
}

// normalizedHeaderBytes is normalizedHeader without building a string for ASCII names.
func FuzzNormalizedHeaderBytesIsNormalizedHeader(f *testing.F) {
	for _, name := range []string{"X-Api-Key", "x_api_key", "Authorization", "X.Real.IP", "", "X-Api-\u212aey", "\u0130-Forwarded"} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := string(normalizedHeaderBytes(nil, name)), normalizedHeader(name); got != want {
			t.Errorf("normalizedHeaderBytes(%q) = %q, want %q", name, got, want)
		}
	})
}

// unsafePlainPath is unsafePath's segment loop for paths without percent-encoding.
func FuzzUnsafePlainPathIsTheSegmentLoop(f *testing.F) {
	for _, p := range []string{"/payments/v2/payments", "/a/../b", "/a/..;x/b", "/a/.;\\", "/a\\b", "/a/b\x01", "/.", "", "/a//b/", "/x;y;z/.."} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if strings.Contains(p, "%") {
			return
		}
		if got, want := unsafePlainPath(p), unsafeSegments(p); got != want {
			t.Errorf("unsafePlainPath(%q) = %q, the segment loop says %q", p, got, want)
		}
	})
}
