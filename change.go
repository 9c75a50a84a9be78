package onramp

import (
	"context"
	"time"
)

// What a change names: the gateways cache these records and reload one when it changes.
const (
	ChangeCredential   = "credential"   // Key: the credential id
	ChangeAssignments  = "assignments"  // Key: the organisation id
	ChangeOrganization = "organization" // Key: the organisation id
	ChangeProduct      = "product"      // Key: the product slug (its versions included)
)

// Change says that a record the gateways cache was written. Stores record one with every such
// write; gateways poll them and reload only what changed.
type Change struct {
	ID   string    `json:"id" bson:"_id"`
	Kind string    `json:"kind" bson:"kind"`
	Key  string    `json:"key" bson:"key"`
	At   time.Time `json:"at" bson:"at"`
}

// ChangeRetention is how long a change stays readable: a reader that polled less recently than
// that may have missed some and reloads everything it holds.
const ChangeRetention = 2 * time.Minute

// ChangeFeed lists recent changes.
type ChangeFeed interface {
	// Changes lists the changes recorded at or after since, oldest first; older than
	// ChangeRetention ago they may be gone.
	Changes(ctx context.Context, since time.Time) ([]Change, error)
}
