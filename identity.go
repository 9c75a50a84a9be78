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

// Actor is who acts: a signed-in person with their memberships, or the provider (the admin
// token's holder, or a workflow acting for it). Services take it and authorize with Authorize.
type Actor struct {
	IdentityID  string
	Email       string
	Memberships []Membership
	Provider    bool
}

// ProviderActor is the provider acting as name (e.g. an admin's e-mail, or "provider admin").
func ProviderActor(name string) Actor { return Actor{Email: name, Provider: true} }

// In returns the actor's membership of orgID, if any.
func (a Actor) In(orgID string) (Membership, bool) {
	for _, m := range a.Memberships {
		if m.Organization.ID == orgID {
			return m, true
		}
	}
	return Membership{}, false
}

// SignInFlow is a sign-in or registration flow of the identity service (Kratos), as the portal
// renders it itself: its form, messages and input nodes.
type SignInFlow struct {
	ID    string `json:"id"`
	State string `json:"state"`
	UI    FlowUI `json:"ui"`
}

// FlowUI is a flow's form: its action, method, messages and input nodes.
type FlowUI struct {
	Action   string        `json:"action"`
	Method   string        `json:"method"`
	Messages []FlowMessage `json:"messages"`
	Nodes    []FlowNode    `json:"nodes"`
}

// FlowMessage is a flow's text; ID identifies it (e.g. Kratos's 4000035 "account does not exist").
type FlowMessage struct {
	ID   int64  `json:"id"`
	Text string `json:"text"`
	Type string `json:"type"`
}

// FlowNode is one form element.
type FlowNode struct {
	Group      string        `json:"group"`
	Messages   []FlowMessage `json:"messages"`
	Attributes struct {
		Name     string       `json:"name"`
		Type     string       `json:"type"`
		Value    any          `json:"value"`
		Required bool         `json:"required"`
		Disabled bool         `json:"disabled"`
		Auto     string       `json:"autocomplete"`
		NodeType string       `json:"node_type"`
		Label    *FlowMessage `json:"label"`
	} `json:"attributes"`
	Meta struct {
		Label *FlowMessage `json:"label"`
	} `json:"meta"`
}
