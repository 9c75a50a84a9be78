// Package requestid gives every request an id, shared by the portal and the gateway: a
// well-formed incoming X-Request-Id (from a load balancer or the partner) is kept, anything else
// is replaced, so ids are safe to log and echo.
package requestid

import (
	"crypto/rand"
	"encoding/hex"
)

// Header carries the request id in both directions.
const Header = "X-Request-Id"

// From returns incoming when it is well-formed (8 to 64 of A-Z a-z 0-9 . _ -), otherwise a new
// random id.
func From(incoming string) string {
	if wellFormed(incoming) {
		return incoming
	}
	return New()
}

// wellFormed is ^[A-Za-z0-9._-]{8,64}$ without a regexp: it runs on every request.
func wellFormed(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// New returns a random id (96 bits, hex) that no caller chose; only the string is allocated.
func New() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system's randomness failed; nothing can be issued safely (as onramp.RandomHex)
	}
	var out [24]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}
