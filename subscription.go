package onramp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Subscription levels: which published versions of a product a member is e-mailed about.
const (
	SubscribeAll      = "all"      // every published version
	SubscribeBreaking = "breaking" // only versions with breaking changes
	SubscribeNone     = "none"
)

// SubscriptionLevels lists the levels in the order a form offers them.
var SubscriptionLevels = []string{SubscribeAll, SubscribeBreaking, SubscribeNone}

// DefaultSubscription is a member's level for every product until they choose one: e-mail is
// opt-in, so nobody is mailed about a change they did not ask to hear of.
const DefaultSubscription = SubscribeNone

// ValidSubscriptionLevel returns EINVALID unless level is one of SubscriptionLevels.
func ValidSubscriptionLevel(level string) error {
	if !slices.Contains(SubscriptionLevels, level) {
		return Errorf(EINVALID, "level %q is unknown; use all (every new version), breaking (only versions with breaking changes) or none", level)
	}
	return nil
}

// Subscriptions are one member's e-mail choices: a default for every product, and products whose
// own level overrides it. They belong to the membership (one organisation), never to anyone else.
type Subscriptions struct {
	MemberID  string            `json:"-" bson:"_id"`
	Default   string            `json:"default" bson:"default"`   // "": DefaultSubscription
	Products  map[string]string `json:"products" bson:"products"` // product slug → level
	UpdatedAt time.Time         `json:"updated_at" bson:"updated_at"`
}

// DefaultLevel is the level of every product without one of its own.
func (s Subscriptions) DefaultLevel() string {
	if s.Default == "" {
		return DefaultSubscription
	}
	return s.Default
}

// Level is the member's level for product: its own, else the default.
func (s Subscriptions) Level(product string) string {
	if l, ok := s.Products[product]; ok && l != "" {
		return l
	}
	return s.DefaultLevel()
}

// WantsVersion reports whether a member at level is mailed about a version with (or without)
// breaking changes.
func WantsVersion(level string, breaking bool) bool {
	return level == SubscribeAll || (level == SubscribeBreaking && breaking)
}

// SubscriptionStore keeps members' subscriptions, one document per member (keyed by member id).
type SubscriptionStore interface {
	// Subscriptions returns the member's choices; a member who never chose has the zero value
	// (with MemberID set), not an error.
	Subscriptions(ctx context.Context, memberID string) (Subscriptions, error)
	// SetSubscription sets product's level (product "": the default; level "": product follows the
	// default again) and returns the result. Changes of one member apply one at a time on every
	// node, so concurrent changes of different products are all kept.
	SetSubscription(ctx context.Context, memberID, product, level string, at time.Time) (Subscriptions, error)
}

// FeedTokenPrefix starts every feed token: it is told apart from API keys (onr_test_, onr_live_)
// and sessions at a glance, by the gateway and by secret scanners alike.
const FeedTokenPrefix = "onr_feed_"

// WellFormedFeedToken reports whether token has the shape of an issued feed token (the prefix and
// 52 base32 characters), so a malformed one is refused before anything is looked up.
func WellFormedFeedToken(token string) bool {
	rest, ok := strings.CutPrefix(token, FeedTokenPrefix)
	if !ok || len(rest) != KeyRandomLength {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z') && !(c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// FeedTokenHash is the hex SHA-256 of a feed token: the only form in which it is stored.
func FeedTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FeedToken is a member's token for reading Atom feeds. Feed readers cannot sign in, so it travels
// in the feed URL: it grants nothing but reading the feeds of what the member's organisation sees,
// is the member's own (per membership), and is replaced at once when they rotate it.
type FeedToken struct {
	MemberID   string    `json:"-" bson:"_id"`
	OrgID      string    `json:"-" bson:"org_id"`
	IdentityID string    `json:"-" bson:"identity_id"`
	Hash       string    `json:"-" bson:"hash"`
	CreatedAt  time.Time `json:"created_at" bson:"created_at"`
}

// FeedTokenStore keeps one feed token per member.
type FeedTokenStore interface {
	// SetFeedToken makes t its member's only token: the one it replaces stops working at once, on
	// every node (also when two replacements race: exactly one of them works afterwards).
	SetFeedToken(ctx context.Context, t FeedToken) error
	// FeedTokenOf returns the member's token; ENOTFOUND when they have none.
	FeedTokenOf(ctx context.Context, memberID string) (FeedToken, error)
	// FeedTokenByHash returns the token with the hash while it is its member's current one;
	// ENOTFOUND otherwise (unknown, replaced or deleted).
	FeedTokenByHash(ctx context.Context, hash string) (FeedToken, error)
	// DeleteFeedToken removes the member's token; none is not an error.
	DeleteFeedToken(ctx context.Context, memberID string) error
}

// DeliveryLog remembers which messages (by id) were delivered, so that a retried activity sends
// none of them twice.
type DeliveryLog interface {
	// Delivered reports whether the message id was marked delivered.
	Delivered(ctx context.Context, id string) (bool, error)
	// MarkDelivered records the message id as delivered at at; marking it again changes nothing.
	MarkDelivered(ctx context.Context, id string, at time.Time) error
}

// Announcements are what the catalog announces of versions: a published version to the members
// who subscribed to its product (a Temporal workflow per version, which mails them and alarms the
// organisations whose calls its breaking changes hit), and a deprecation or sunset to the
// organisations that call the version (ImpactAlarms).
type Announcements interface {
	// AnnounceVersion schedules the announcement of product's version before the version is
	// stored, so a stored version is always announced: once, however often it is asked (a retried
	// publication included). EUNAVAILABLE when it cannot be scheduled.
	AnnounceVersion(ctx context.Context, product, version string) error
	ImpactAlarms
}
