package onramp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Credential statuses.
const (
	CredentialActive   = "active"
	CredentialExpiring = "expiring" // replaced by a rotation; works until ExpiresAt
	CredentialRevoked  = "revoked"
)

// API key prefixes: a key says which environment it is for before anyone looks it up.
const (
	SandboxKeyPrefix    = "onr_test_"
	ProductionKeyPrefix = "onr_live_"
)

// KeyPrefix returns the key prefix of an environment.
func KeyPrefix(env string) string {
	if env == Production {
		return ProductionKeyPrefix
	}
	return SandboxKeyPrefix
}

// KeyRandomLength is how many base32 characters (a-z, 2-7) follow a key's prefix: 256 random bits.
const KeyRandomLength = 52

// WellFormedKey reports whether key has the shape of an issued key (an environment prefix and 52
// base32 characters), so a malformed one is refused before anything is looked up.
func WellFormedKey(key string) bool {
	env := KeyEnvironment(key)
	if env == "" {
		return false
	}
	rest := key[len(KeyPrefix(env)):]
	if len(rest) != KeyRandomLength {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z') && !(c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// KeyHash is the hex SHA-256 of a key: the only form in which keys are stored for lookup or held
// in a cache.
func KeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// KeyEnvironment returns the environment a key's prefix names, or "" for none.
func KeyEnvironment(key string) string {
	switch {
	case strings.HasPrefix(key, SandboxKeyPrefix):
		return Sandbox
	case strings.HasPrefix(key, ProductionKeyPrefix):
		return Production
	}
	return ""
}

// Credential types: an API key, or an OAuth 2.0 client (client id + secret → short-lived tokens).
const (
	TypeAPIKey      = "api_key"
	TypeOAuthClient = "oauth_client"
)

// ClientIDPrefix starts every OAuth client id.
const ClientIDPrefix = "onr_client_"

// Credential is an API key issued to an organisation (never to a person). Only the SHA-256 of the
// key is used for lookup; the key itself is kept encrypted so permitted members can reveal it.
type Credential struct {
	ID          string     `json:"id" bson:"_id"`
	OrgID       string     `json:"org_id" bson:"org_id"`
	Environment string     `json:"environment" bson:"environment"`
	Type        string     `json:"type" bson:"type"`                               // TypeAPIKey ("" in older records) or TypeOAuthClient
	ClientID    string     `json:"client_id,omitempty" bson:"client_id,omitempty"` // OAuth clients; the secret is the "key"
	Label       string     `json:"label" bson:"label"`
	Prefix      string     `json:"prefix" bson:"prefix"`
	Last4       string     `json:"last4" bson:"last4"`
	Hash        string     `json:"-" bson:"hash"`   // hex SHA-256 of the key
	KeyID       string     `json:"-" bson:"key_id"` // encryption key that sealed it
	Sealed      []byte     `json:"-" bson:"sealed"` // AES-GCM nonce and ciphertext of the key
	Scopes      []string   `json:"scopes" bson:"scopes"`
	Status      string     `json:"status" bson:"status"`
	CreatedAt   time.Time  `json:"created_at" bson:"created_at"`
	CreatedBy   string     `json:"created_by" bson:"created_by"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty" bson:"expires_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty" bson:"revoked_at,omitempty"`
	// LastUsedAt is filled in from the gateways' usage aggregates when credentials are listed
	// (records written before them may hold it too); the gateways never write credentials.
	LastUsedAt  *time.Time `json:"last_used_at,omitempty" bson:"last_used_at,omitempty"`
	RotatedFrom string     `json:"rotated_from,omitempty" bson:"rotated_from,omitempty"`
}

// MaxCredentialAge is how old the organisation's keys may get: its own policy, else its plan's
// (0: no limit).
func MaxCredentialAge(org Organization, plans []Plan) (time.Duration, error) {
	if org.MaxCredentialAge != "" {
		d, err := time.ParseDuration(org.MaxCredentialAge)
		if err != nil {
			return 0, fmt.Errorf("organisation %s: max_credential_age %q: %w", org.ID, org.MaxCredentialAge, err)
		}
		return d, nil
	}
	return PlanMaxAge(org.Tier, plans)
}

// PlanMaxAge is the maximum key age of the plan named tier (0: none).
func PlanMaxAge(tier string, plans []Plan) (time.Duration, error) {
	for _, p := range plans {
		if p.Name == tier && p.MaxCredentialAge != "" {
			d, err := time.ParseDuration(p.MaxCredentialAge)
			if err != nil {
				return 0, fmt.Errorf("plan %s: max_credential_age %q: %w", p.Name, p.MaxCredentialAge, err)
			}
			return d, nil
		}
	}
	return 0, nil
}

// Masked is how a key is shown when it is not revealed.
func (c Credential) Masked() string {
	if c.Type == TypeOAuthClient {
		return c.ClientID + " · secret …" + c.Last4
	}
	return c.Prefix + "…" + c.Last4
}

// Refusal says why the credential cannot be used at now, or "" when it can: "revoked" or "expired".
func (c Credential) Refusal(now time.Time) string {
	switch {
	case c.Status == CredentialRevoked:
		return "revoked"
	case c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		return "expired"
	}
	return ""
}

// CredentialStore keeps credentials; lookups by key hash go by _id in their own collection.
type CredentialStore interface {
	// CreateCredential stores c; ECONFLICT when a credential with its ID exists.
	CreateCredential(ctx context.Context, c Credential) error
	// FindCredential returns ENOTFOUND for an unknown id.
	FindCredential(ctx context.Context, id string) (Credential, error)
	// CredentialByHash returns ENOTFOUND when no credential has the key hash.
	CredentialByHash(ctx context.Context, hash string) (Credential, error)
	// CredentialsOf lists an organisation's credentials, newest first.
	CredentialsOf(ctx context.Context, orgID string) ([]Credential, error)
	// RevokeCredential marks it revoked at the time; ENOTFOUND for an unknown id.
	RevokeCredential(ctx context.Context, id string, at time.Time) error
	// ExpireCredential marks it expiring at expiresAt (a rotation's overlap); ENOTFOUND if unknown.
	ExpireCredential(ctx context.Context, id string, expiresAt time.Time) error
}

// Position is where c sits in its organisation's list: newest first.
func (c Credential) Position() Position { return Position{Key: NewestFirst(c.CreatedAt), ID: c.ID} }
