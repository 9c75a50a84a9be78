package onramp

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// SSOConfig is a partner's own OpenID Connect identity provider. Addresses in Domains sign in
// through it; the client secret is never returned by the API.
type SSOConfig struct {
	Issuer   string `json:"issuer" bson:"issuer"`
	ClientID string `json:"client_id" bson:"client_id"`
	// ClientSecret is the plaintext in memory only: stores keep it sealed (SealedSecret, by the
	// key SecretKeyID) and open it when read; older records may hold it in client_secret.
	ClientSecret      string   `json:"client_secret,omitempty" bson:"client_secret,omitempty"`
	SealedSecret      []byte   `json:"-" bson:"client_secret_sealed,omitempty"`
	SecretKeyID       string   `json:"-" bson:"client_secret_key,omitempty"`
	Domains           []string `json:"domains" bson:"domains"`
	AllowDomainSignup bool     `json:"allow_domain_signup" bson:"allow_domain_signup"` // anyone from Domains may join as developer
}

var domainName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// Validate returns EINVALID naming the field to fix.
func (s *SSOConfig) Validate() error {
	u, err := url.Parse(s.Issuer)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return Errorf(EINVALID, "sso.issuer must be the identity provider's issuer URL, e.g. https://login.partner.example")
	case strings.TrimSpace(s.ClientID) == "" || strings.TrimSpace(s.ClientSecret) == "":
		return Errorf(EINVALID, "sso.client_id and sso.client_secret are required: register the portal as a client at the identity provider")
	case len(s.Domains) == 0:
		return Errorf(EINVALID, "sso.domains must list the e-mail domains that sign in through this provider")
	}
	for i, d := range s.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if !domainName.MatchString(d) {
			return Errorf(EINVALID, "sso.domains: %q is not a domain name such as partner.example", d)
		}
		s.Domains[i] = d
	}
	return nil
}

// EmailDomain returns the lower-cased domain of an address ("" when there is none).
func EmailDomain(email string) string {
	_, d, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if !ok {
		return ""
	}
	return d
}

// UsesSSO reports whether email signs in through o's identity provider.
func (o *Organization) UsesSSO(email string) bool {
	return o.SSO != nil && slices.Contains(o.SSO.Domains, EmailDomain(email))
}

// Public is o as the API shows it: without the SSO client secret.
func (o Organization) Public() Organization {
	if o.SSO != nil {
		sso := *o.SSO
		sso.ClientSecret = ""
		o.SSO = &sso
	}
	return o
}

// Sealer encrypts secrets at rest, bound to what they belong to (credentials.Keyring).
type Sealer interface {
	Seal(plaintext, aad []byte) (keyID string, sealed []byte)
	Open(keyID string, sealed, aad []byte) ([]byte, error)
}

// SSOProviders installs the organisations' identity providers in the identity service.
type SSOProviders interface {
	SyncProviders(ctx context.Context, orgs []Organization) error
}
