package gateway

import (
	"crypto/rand"
	"encoding/hex"
)

// NewNodeID returns a random id for one gateway process. Every document the node writes (quota
// counters, usage totals, its call log) is keyed by it, so nodes never write the same document;
// a restarted process is a new node, and readers keep summing the old one's documents.
func NewNodeID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "gw-" + hex.EncodeToString(b[:])
}
