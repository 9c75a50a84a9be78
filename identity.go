package onramp

import (
	"context"
	"slices"
	"time"
)

// Session is a signed-in person.
type Session struct {
	IdentityID string
	Email      string
	ExpiresAt  time.Time
}

// Identity is a person as the identity provider knows them. Email is the sign-in address, which
// partners cannot change; SSOProviders are the organisations whose identity provider the person
// has signed in with (Onramp names each partner's OIDC provider after its organisation id).
type Identity struct {
	ID           string
	Email        string
	SSOProviders []string
}

// SignsInThrough reports whether the person's account is linked to orgID's identity provider:
// the only proof, for an address of an SSO domain, that the organisation's IdP vouches for them.
func (i Identity) SignsInThrough(orgID string) bool { return slices.Contains(i.SSOProviders, orgID) }

// Identities creates or finds people in the identity provider.
type Identities interface {
	// EnsureIdentity returns the id of the identity for email, creating it when missing.
	EnsureIdentity(ctx context.Context, email string) (string, error)
	// FindIdentity returns the identity with id; ENOTFOUND when there is none.
	FindIdentity(ctx context.Context, id string) (Identity, error)
}
