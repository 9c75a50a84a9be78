// Package subscriptions is how partners follow the catalog's changes: an Atom feed per product (and
// one of every product) scoped exactly as the catalog is, read with a per-member feed token, and
// e-mail subscriptions per member (all changes, breaking only, none) that the announcement of
// each published version honours.
//
// The feed token travels in the feed URL, because feed readers cannot sign in. That is the one
// place Onramp accepts a secret in a URL, and the token is built for it: it reads feeds and nothing
// else (not a session, not an API key), belongs to one member of one organisation, is stored only
// as a hash, stops working the moment its member rotates or revokes it or leaves, and never
// reaches a log (the access log omits query strings) or an answer.
package subscriptions

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
)

// Config holds the service's dependencies.
type Config struct {
	Catalog       *catalog.Catalog    // what an organisation sees, and the changelogs
	Versions      onramp.CatalogStore // products and versions (the catalog's snapshot in the stack); announcements Sync it first
	Policy        onramp.Policy       // policies/members decides every action
	Organizations onramp.OrganizationStore
	Members       onramp.MemberStore // a feed token holder's memberships
	Team          onramp.TeamStore   // an organisation's members (announcement recipients)
	Subscriptions onramp.SubscriptionStore
	Tokens        onramp.FeedTokenStore
	PortalURL     string // what feeds and e-mails link to
	Now           func() time.Time
}

// Service answers feeds, subscription settings and announcements.
type Service struct {
	cfg        Config
	host       string   // the portal's host name: the authority of feed and entry ids
	changelogs sync.Map // "<previous id>><version id>" → []specs.Change (published versions never change)
}

// New fails fast on a missing dependency.
func New(cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.Versions == nil || cfg.Policy == nil || cfg.Organizations == nil || cfg.Members == nil || cfg.Team == nil ||
		cfg.Subscriptions == nil || cfg.Tokens == nil || cfg.PortalURL == "" {
		return nil, errors.New("subscriptions.New: Catalog, Versions, Policy, Organizations, Members, Team, Subscriptions, Tokens and PortalURL are required")
	}
	u, err := url.Parse(cfg.PortalURL)
	if err != nil || u.Hostname() == "" {
		return nil, errors.New("subscriptions.New: PortalURL must be an absolute URL such as https://portal.example")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PortalURL = strings.TrimRight(cfg.PortalURL, "/")
	return &Service{cfg: cfg, host: strings.ToLower(u.Hostname())}, nil
}

// ProductSetting is one product's subscription as the member sees it.
type ProductSetting struct {
	Product   string `json:"product"`
	Name      string `json:"name"`
	Level     string `json:"level"`     // the product's own level; "" follows the default
	Effective string `json:"effective"` // what the member is mailed about for it
	Feed      string `json:"feed"`      // the product's feed, without the token
}

// Settings are a member's subscriptions and feeds in one organisation.
type Settings struct {
	Default   string           `json:"default"`
	Products  []ProductSetting `json:"products"` // every product the organisation sees
	FeedToken *TokenInfo       `json:"feed_token"`
	Feed      string           `json:"feed"` // the feed of every product, without the token
}

// TokenInfo says when the member's feed token was issued (never the token: only its hash is kept).
type TokenInfo struct {
	CreatedAt time.Time `json:"created_at"`
}

// IssuedToken is a new feed token with the feed URLs that carry it: shown once.
type IssuedToken struct {
	Token     string            `json:"token"`
	CreatedAt time.Time         `json:"created_at"`
	Feed      string            `json:"feed"`     // every product's feed
	Products  map[string]string `json:"products"` // product slug → its feed
}

func (s *Service) authorize(ctx context.Context, a onramp.Actor, orgID string, action onramp.Action) (onramp.Membership, error) {
	return onramp.Authorize(ctx, s.cfg.Policy, a, orgID, action, onramp.Target{})
}

// Settings returns the actor's own subscriptions in orgID, every product the organisation sees
// listed. ENOTFOUND for an organisation the actor is not in; EFORBIDDEN when policy refuses.
func (s *Service) Settings(ctx context.Context, a onramp.Actor, orgID string) (Settings, error) {
	m, err := s.authorize(ctx, a, orgID, onramp.ActionSubscriptionManage)
	if err != nil {
		return Settings{}, err
	}
	return s.settings(ctx, a, m.Organization)
}

func (s *Service) settings(ctx context.Context, a onramp.Actor, org onramp.Organization) (Settings, error) {
	memberID := onramp.MemberID(org.ID, a.IdentityID)
	subs, err := s.cfg.Subscriptions.Subscriptions(ctx, memberID)
	if err != nil {
		return Settings{}, err
	}
	entries, err := s.cfg.Catalog.List(ctx, org, "", "")
	if err != nil {
		return Settings{}, err
	}
	out := Settings{Default: subs.DefaultLevel(), Products: []ProductSetting{}, Feed: s.CatalogFeedURL(org.ID, "")}
	for _, e := range entries {
		out.Products = append(out.Products, s.setting(org.ID, e.Product, subs))
	}
	t, err := s.cfg.Tokens.FeedTokenOf(ctx, memberID)
	switch onramp.ErrorCode(err) {
	case "":
		out.FeedToken = &TokenInfo{CreatedAt: t.CreatedAt}
	case onramp.ENOTFOUND:
	default:
		return Settings{}, err
	}
	return out, nil
}

func (s *Service) setting(orgID string, p onramp.Product, subs onramp.Subscriptions) ProductSetting {
	return ProductSetting{Product: p.Slug, Name: p.Name, Level: subs.Products[p.Slug], Effective: subs.Level(p.Slug), Feed: s.ProductFeedURL(orgID, p.Slug, "")}
}

// ProductSetting returns the actor's subscription to one product. ENOTFOUND for a product the
// organisation does not see, exactly as the catalog answers it.
func (s *Service) ProductSetting(ctx context.Context, a onramp.Actor, orgID, product string) (ProductSetting, error) {
	m, err := s.authorize(ctx, a, orgID, onramp.ActionSubscriptionManage)
	if err != nil {
		return ProductSetting{}, err
	}
	view, err := s.cfg.Catalog.Product(ctx, m.Organization, product, "")
	if err != nil {
		return ProductSetting{}, err
	}
	subs, err := s.cfg.Subscriptions.Subscriptions(ctx, onramp.MemberID(orgID, a.IdentityID))
	if err != nil {
		return ProductSetting{}, err
	}
	return s.setting(orgID, view.Product, subs), nil
}

// FollowDefault is the level that makes a product follow the member's default again.
const FollowDefault = "default"

// Subscribe sets the actor's own level for product in orgID (product "": the default for every
// product; level FollowDefault or "": the product follows the default again). Only the actor's
// own subscriptions can change: nothing names another member. ENOTFOUND for an organisation the
// actor is not in, or a product it does not see (as the catalog answers); EINVALID for an
// unknown level; EFORBIDDEN when policy refuses.
func (s *Service) Subscribe(ctx context.Context, a onramp.Actor, orgID, product, level string) (Settings, error) {
	m, err := s.authorize(ctx, a, orgID, onramp.ActionSubscriptionManage)
	if err != nil {
		return Settings{}, err
	}
	if product != "" {
		if _, err := s.cfg.Catalog.Product(ctx, m.Organization, product, ""); err != nil {
			return Settings{}, err
		}
		if level == FollowDefault {
			level = ""
		}
	}
	if level != "" || product == "" {
		if err := onramp.ValidSubscriptionLevel(level); err != nil {
			return Settings{}, err
		}
	}
	if _, err := s.cfg.Subscriptions.SetSubscription(ctx, onramp.MemberID(orgID, a.IdentityID), product, level, s.cfg.Now()); err != nil {
		return Settings{}, err
	}
	return s.settings(ctx, a, m.Organization)
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newToken is the prefix and 256 random bits (52 base32 characters), like an API key.
func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system's randomness failed; nothing can be issued safely
	}
	return onramp.FeedTokenPrefix + strings.ToLower(tokenEncoding.EncodeToString(b))
}

// RotateFeedToken issues the actor's feed token for orgID, replacing the one they had, which stops
// working at once. The token is in the answer only: its hash is what is kept. ENOTFOUND for an
// organisation the actor is not in; EFORBIDDEN when policy refuses.
func (s *Service) RotateFeedToken(ctx context.Context, a onramp.Actor, orgID string) (IssuedToken, error) {
	m, err := s.authorize(ctx, a, orgID, onramp.ActionFeedRead)
	if err != nil {
		return IssuedToken{}, err
	}
	token := newToken()
	t := onramp.FeedToken{MemberID: onramp.MemberID(orgID, a.IdentityID), OrgID: orgID, IdentityID: a.IdentityID,
		Hash: onramp.FeedTokenHash(token), CreatedAt: s.cfg.Now().UTC().Truncate(time.Millisecond)}
	if err := s.cfg.Tokens.SetFeedToken(ctx, t); err != nil {
		return IssuedToken{}, err
	}
	entries, err := s.cfg.Catalog.List(ctx, m.Organization, "", "")
	if err != nil {
		return IssuedToken{}, err
	}
	out := IssuedToken{Token: token, CreatedAt: t.CreatedAt, Feed: s.CatalogFeedURL(orgID, token), Products: map[string]string{}}
	for _, e := range entries {
		out.Products[e.Product.Slug] = s.ProductFeedURL(orgID, e.Product.Slug, token)
	}
	return out, nil
}

// RevokeFeedToken deletes the actor's feed token for orgID: its feed URLs stop working at once.
// ENOTFOUND for an organisation the actor is not in; EFORBIDDEN when policy refuses.
func (s *Service) RevokeFeedToken(ctx context.Context, a onramp.Actor, orgID string) error {
	if _, err := s.authorize(ctx, a, orgID, onramp.ActionFeedRead); err != nil {
		return err
	}
	return s.cfg.Tokens.DeleteFeedToken(ctx, onramp.MemberID(orgID, a.IdentityID))
}

// CatalogFeedURL is the feed of every product orgID sees; token "" leaves it out.
func (s *Service) CatalogFeedURL(orgID, token string) string {
	return withToken(s.cfg.PortalURL+"/feeds/"+url.PathEscape(orgID)+"/catalog.atom", token)
}

// ProductFeedURL is the feed of one product; token "" leaves it out.
func (s *Service) ProductFeedURL(orgID, product, token string) string {
	return withToken(s.cfg.PortalURL+"/feeds/"+url.PathEscape(orgID)+"/products/"+url.PathEscape(product)+".atom", token)
}

func withToken(u, token string) string {
	if token == "" {
		return u
	}
	return u + "?token=" + url.QueryEscape(token)
}

// errFeedToken is every refused feed token's answer, whatever the reason: it says nothing about
// whether the token, its member or the organisation exist.
var errFeedToken = onramp.Errorf(onramp.EUNAUTHORIZED, "this feed URL's token is not valid (it may have been rotated or revoked): copy the current feed URL from the Subscriptions page of the portal")

// reader resolves a feed token into its holder's organisation, checking that it is orgID's, that
// its member is still in the organisation (and was when it was issued), and that policy lets them
// read feeds and view the catalog.
func (s *Service) reader(ctx context.Context, token, orgID string) (onramp.Organization, error) {
	if !onramp.WellFormedFeedToken(token) {
		return onramp.Organization{}, errFeedToken
	}
	t, err := s.cfg.Tokens.FeedTokenByHash(ctx, onramp.FeedTokenHash(token))
	if onramp.ErrorCode(err) == onramp.ENOTFOUND || (err == nil && t.OrgID != orgID) {
		return onramp.Organization{}, errFeedToken
	} else if err != nil {
		return onramp.Organization{}, err
	}
	ms, err := s.cfg.Members.MembershipsOf(ctx, t.IdentityID)
	if err != nil {
		return onramp.Organization{}, err
	}
	var member *onramp.Member
	for i := range ms {
		if ms[i].OrgID == orgID {
			member = &ms[i]
		}
	}
	// A token from before the membership (a member who left and was invited again) is not theirs.
	if member == nil || member.JoinedAt.After(t.CreatedAt) {
		return onramp.Organization{}, errFeedToken
	}
	org, err := s.cfg.Organizations.FindOrganization(ctx, orgID)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		return onramp.Organization{}, errFeedToken
	} else if err != nil {
		return onramp.Organization{}, err
	}
	// A feed shows the catalog: its holder must (still) be let read feeds and view the catalog.
	holder := onramp.Actor{IdentityID: t.IdentityID, Email: member.Email, Memberships: []onramp.Membership{{Organization: org.Public(), Role: member.Role}}}
	for _, action := range []onramp.Action{onramp.ActionFeedRead, onramp.ActionCatalogView} {
		if _, err := s.authorize(ctx, holder, orgID, action); err != nil {
			return onramp.Organization{}, err
		}
	}
	return org, nil
}
