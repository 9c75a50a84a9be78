package onramp

import (
	"crypto/rand"
	"encoding/hex"
)

// NewID returns a new random id for a kind of object: its prefix, an underscore and 64 random
// bits in hex (e.g. inv_3f2c9a0b1d4e5f60). Every id Onramp makes comes from here.
func NewID(prefix string) string {
	return prefix + "_" + RandomHex(8)
}

// RandomHex is n random bytes in hex: ids, message ids, tokens' ids.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system's randomness failed; nothing can be issued safely
	}
	return hex.EncodeToString(b)
}
