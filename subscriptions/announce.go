package subscriptions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/specs"
)

// MailChangeLimit is how many changes an announcement lists before it points to the changelog.
const MailChangeLimit = 30

// AnnouncementID is the id of the e-mail to memberID about product's version: the same on every
// attempt, so the delivery log (and the Message-ID a mail server sees) stops a second send.
func AnnouncementID(product, version, memberID string) string {
	sum := sha256.Sum256([]byte(onramp.VersionID(product, version) + "\x00" + memberID))
	return "announce-" + hex.EncodeToString(sum[:16])
}

// published is a stored version with its changelog against the version before it.
type published struct {
	product  onramp.Product
	version  onramp.ProductVersion
	previous string
	changes  []specs.Change
	breaking bool
}

// published loads product's version and its changelog; ENOTFOUND while it is not stored.
func (s *Service) published(ctx context.Context, product, version string) (published, error) {
	// Who sees the version is the catalog's answer (and Versions may be its snapshot): it must
	// hold what the store holds.
	if err := s.cfg.Catalog.Sync(ctx, product, version); err != nil {
		return published{}, err
	}
	p, err := s.cfg.Versions.FindProduct(ctx, product)
	if err != nil {
		return published{}, err
	}
	versions, err := s.cfg.Versions.ListVersions(ctx, product)
	if err != nil {
		return published{}, err
	}
	i := slices.IndexFunc(versions, func(v onramp.ProductVersion) bool { return v.Version == version })
	if i < 0 {
		return published{}, onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q (yet)", product, version)
	}
	changes, prev, err := s.changelog(ctx, versions, i)
	if err != nil {
		return published{}, err
	}
	return published{product: p, version: versions[i], previous: prev, changes: changes, breaking: specs.HasBreaking(changes)}, nil
}

// sees reports whether the organisation sees the version in its catalog (policies/catalog).
func (s *Service) sees(ctx context.Context, org onramp.Organization, product, version string) (bool, error) {
	_, err := s.cfg.Catalog.Product(ctx, org, product, version)
	switch onramp.ErrorCode(err) {
	case "":
		return true, nil
	case onramp.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// wants returns the member's level for product and whether it asks for this version, for a
// member whom policy lets view the catalog and keep subscriptions.
func (s *Service) wants(ctx context.Context, m onramp.Member, product string, breaking bool) (string, bool, error) {
	if !onramp.Allows(ctx, s.cfg.Policy, m.Role, onramp.ActionCatalogView, onramp.Target{}) ||
		!onramp.Allows(ctx, s.cfg.Policy, m.Role, onramp.ActionSubscriptionManage, onramp.Target{}) {
		return "", false, nil
	}
	subs, err := s.cfg.Subscriptions.Subscriptions(ctx, m.ID)
	if err != nil {
		return "", false, err
	}
	level := subs.Level(product)
	return level, onramp.WantsVersion(level, breaking), nil
}

// Recipients lists, sorted, the member ids to e-mail about product's version: members of the
// organisations that see it in their catalog, whom policy lets view the catalog and keep
// subscriptions, and whose level for the product asks for it ("breaking": only a version with a
// breaking change). Only the provider asks (the announcement workflow): EFORBIDDEN otherwise;
// ENOTFOUND while the version is not stored (yet).
func (s *Service) Recipients(ctx context.Context, a onramp.Actor, product, version string) ([]string, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return nil, err
	}
	pub, err := s.published(ctx, product, version)
	if err != nil {
		return nil, err
	}
	orgs, err := onramp.AllOrganizations(ctx, s.cfg.Organizations)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, org := range orgs {
		if ok, err := s.sees(ctx, org, product, version); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		members, err := s.cfg.Team.MembersOf(ctx, org.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if _, ok, err := s.wants(ctx, m, product, pub.breaking); err != nil {
				return nil, err
			} else if ok {
				out = append(out, m.ID)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// Announcement is the e-mail to memberID about product's version, and false when they are not to
// get one (any more): they left the organisation, it no longer sees the version, or their
// subscription no longer asks for it — each checked again at sending time. Only the provider
// asks: EFORBIDDEN otherwise; ENOTFOUND while the version is not stored.
func (s *Service) Announcement(ctx context.Context, a onramp.Actor, product, version, memberID string) (onramp.Message, bool, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.Message{}, false, err
	}
	pub, err := s.published(ctx, product, version)
	if err != nil {
		return onramp.Message{}, false, err
	}
	orgID, identityID, _ := strings.Cut(memberID, ":")
	ms, err := s.cfg.Members.MembershipsOf(ctx, identityID)
	if err != nil {
		return onramp.Message{}, false, err
	}
	i := slices.IndexFunc(ms, func(m onramp.Member) bool {
		return m.ID == memberID || (m.OrgID == orgID && m.IdentityID == identityID)
	})
	if i < 0 {
		return onramp.Message{}, false, nil
	}
	m := ms[i]
	org, err := s.cfg.Organizations.FindOrganization(ctx, orgID)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		return onramp.Message{}, false, nil
	} else if err != nil {
		return onramp.Message{}, false, err
	}
	if ok, err := s.sees(ctx, org, product, version); err != nil || !ok {
		return onramp.Message{}, false, err
	}
	level, ok, err := s.wants(ctx, m, product, pub.breaking)
	if err != nil || !ok {
		return onramp.Message{}, false, err
	}
	return onramp.Message{ID: AnnouncementID(product, version, memberID), To: m.Email, Subject: s.subject(pub), Text: s.mailText(pub, org, level)}, true, nil
}

func (s *Service) subject(pub published) string {
	e := Entry{Previous: pub.previous, Changes: pub.changes}
	if pub.previous == "" {
		return pub.product.Name + " " + pub.version.Version + " is published"
	}
	return pub.product.Name + " " + pub.version.Version + " is published: " + summary(e)
}

var levelWords = map[string]string{onramp.SubscribeAll: "every new version", onramp.SubscribeBreaking: "breaking changes only"}

// mailText names the product and version and lists the changes, breaking first, then the
// release notes and where to read the rest and change the subscription.
func (s *Service) mailText(pub published, org onramp.Organization, level string) string {
	var b strings.Builder
	e := Entry{Previous: pub.previous, Changes: pub.changes}
	fmt.Fprintf(&b, "%s %s is published in the API catalog of %s: %s.\n", pub.product.Name, pub.version.Version, org.Name, summary(e))
	if pub.version.Sunset != nil {
		fmt.Fprintf(&b, "It is %s, with a sunset on %s.\n", pub.version.Status, pub.version.Sunset.UTC().Format("2006-01-02"))
	}
	shown := 0
	for _, g := range groups(pub.changes) {
		if shown == MailChangeLimit {
			break
		}
		fmt.Fprintf(&b, "\n%s (%d):\n", g.title(pub.previous), len(g.changes))
		for _, c := range g.changes {
			if shown == MailChangeLimit {
				break
			}
			shown++
			if c.Operation != "" {
				fmt.Fprintf(&b, "- %s: %s\n", c.Operation, c.Text)
			} else {
				fmt.Fprintf(&b, "- %s\n", c.Text)
			}
		}
	}
	if rest := len(pub.changes) - shown; rest > 0 {
		fmt.Fprintf(&b, "… and %d more in the changelog.\n", rest)
	}
	if notes := strings.TrimSpace(pub.version.ReleaseNotes); notes != "" {
		fmt.Fprintf(&b, "\nRelease notes:\n%s\n", notes)
	}
	page := s.cfg.PortalURL + "/catalog/" + url.PathEscape(pub.product.Slug) + "?org=" + url.QueryEscape(org.ID)
	fmt.Fprintf(&b, "\nThe changelog: %s&version=%s#changelog\n", page, url.QueryEscape(pub.version.Version))
	fmt.Fprintf(&b, "\nYou receive this because your e-mail subscription to %s is %q. Change it at %s/subscriptions?org=%s\n",
		pub.product.Name, levelWords[level], s.cfg.PortalURL, url.QueryEscape(org.ID))
	return b.String()
}
