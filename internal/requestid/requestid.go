// Package requestid gives every request an id, shared by the portal and the gateway: a
// well-formed incoming X-Request-Id (from a load balancer or the partner) is kept, anything else
// is replaced, so ids are safe to log and echo.
package requestid

import (
	"regexp"

	"github.com/onramp-dev/onramp"
)

// Header carries the request id in both directions.
const Header = "X-Request-Id"

var wellFormed = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// From returns incoming when it is well-formed, otherwise a new random id.
func From(incoming string) string {
	if wellFormed.MatchString(incoming) {
		return incoming
	}
	return New()
}

// New returns a random id (96 bits, hex) that no caller chose.
func New() string { return onramp.RandomHex(12) }
