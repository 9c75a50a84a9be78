package onramp

import (
	"context"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Organisation lifecycle states.
const (
	OrgInvited = "invited" // invitation sent, contact has not signed in yet
	OrgActive  = "active"  // the contact signed in
	OrgExpired = "expired" // the invitation ran out before anyone signed in; an admin can re-send
)

// Tiers are the plans offered when no catalog plans are loaded; with plans loaded, the portal
// checks an invitation's tier against them.
var Tiers = []string{"standard", "premium"}

// Organization is a partner company.
type Organization struct {
	ID            string     `json:"id" bson:"_id"`
	Name          string     `json:"name" bson:"name"`
	Tier          string     `json:"tier" bson:"tier"`
	Status        string     `json:"status" bson:"status"`
	ContactEmail  string     `json:"contact_email" bson:"contact_email"`
	InvitedAt     time.Time  `json:"invited_at" bson:"invited_at"`
	FirstSignInAt *time.Time `json:"first_sign_in_at,omitempty" bson:"first_sign_in_at,omitempty"`
	ExpiresAt     *time.Time `json:"invitation_expires_at,omitempty" bson:"expires_at,omitempty"`
	SSO           *SSOConfig `json:"sso,omitempty" bson:"sso,omitempty"`
	// MaxCredentialAge overrides the plan's maximum key age (Go duration); empty: the plan's.
	MaxCredentialAge string `json:"max_credential_age,omitempty" bson:"max_credential_age,omitempty"`
}

// Validate returns EINVALID naming the first field to fix.
func (o *Organization) Validate() error {
	o.Name = strings.TrimSpace(o.Name)
	o.ContactEmail = strings.ToLower(strings.TrimSpace(o.ContactEmail))
	switch {
	case len(o.Name) < 2 || len(o.Name) > 100:
		return Errorf(EINVALID, "name must be 2 to 100 characters")
	case !PlainEmail(o.ContactEmail):
		return Errorf(EINVALID, "contact_email %q is not a plain e-mail address such as dev@partner.example", o.ContactEmail)
	case !slugPattern.MatchString(o.Tier):
		return Errorf(EINVALID, "tier %q must name a plan, e.g. %s", o.Tier, strings.Join(Tiers, " or "))
	}
	if o.SSO != nil {
		return o.SSO.Validate()
	}
	return nil
}

// PlainEmail reports whether s is a bare address (no display name, no angle brackets).
func PlainEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 320
}

// OrganizationStore keeps organisations.
type OrganizationStore interface {
	// CreateOrganization stores a new organisation; ECONFLICT when one with its id exists or
	// another organisation signs in from one of its SSO domains (checked and stored as one step
	// on every node, so two invitations at once cannot both claim a domain).
	CreateOrganization(ctx context.Context, o Organization) error
	// UpdateOrganization applies change to the stored organisation and stores the result, one
	// change at a time per organisation on every node (no lost update, no merge by the caller).
	// ENOTFOUND when there is none; change's own error when it refuses (nothing is stored);
	// ECONFLICT when the change claims an SSO domain another organisation has.
	UpdateOrganization(ctx context.Context, id string, change func(*Organization) error) (Organization, error)
	// FindOrganization returns ENOTFOUND for an unknown id.
	FindOrganization(ctx context.Context, id string) (Organization, error)
	// ListOrganizations returns a page of the organisations q asks for: every one newest
	// invitation first (Position), one status the same way, or a search's results in
	// SearchPosition order of its ScanTerm. A store reads no more than the page needs; a search
	// that also filters may return a short page, with Next, after reading a bounded number of
	// candidates.
	ListOrganizations(ctx context.Context, q OrgQuery) (Page[Organization], error)
	// SSOOrganizations lists the organisations with an identity provider, by id.
	SSOOrganizations(ctx context.Context) ([]Organization, error)
	// SetOrganizationStatus changes the status; a first sign-in time, once set, is kept.
	SetOrganizationStatus(ctx context.Context, id, status string, firstSignIn *time.Time) error
	// DeleteOrganization removes an organisation whose invitation could not start.
	DeleteOrganization(ctx context.Context, id string) error
	// SSOOrganization returns the organisation whose identity provider serves an e-mail domain.
	SSOOrganization(ctx context.Context, domain string) (Organization, bool, error)
}

// OrganizationLister is the part of OrganizationStore that lists.
type OrganizationLister interface {
	ListOrganizations(ctx context.Context, q OrgQuery) (Page[Organization], error)
}

// AllOrganizations reads every organisation, the largest page at a time, for the work that goes
// through all of them (announcements, brownout notices).
func AllOrganizations(ctx context.Context, s OrganizationLister) ([]Organization, error) {
	var out []Organization
	q := OrgQuery{Page: PageRequest{Limit: MaxPageLimit}}
	for {
		p, err := s.ListOrganizations(ctx, q)
		if err != nil {
			return out, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		q.Page.Cursor = p.Next
	}
}

// Invitations drives partner invitation lifecycles (Temporal workflows).
type Invitations interface {
	// InvitePartner starts the invitation of a validated organisation.
	InvitePartner(ctx context.Context, o Organization) error
	// ResendInvitation sends the invitation again, restarting it when it had expired.
	ResendInvitation(ctx context.Context, o Organization) error
	// ContactSignedIn tells the invitation that the contact signed in; a finished one ignores it.
	ContactSignedIn(ctx context.Context, orgID string, at time.Time) error
	// CancelInvitation withdraws a running invitation (the organisation ends expired, its
	// contact's invitation with it); ECONFLICT when none is running.
	CancelInvitation(ctx context.Context, orgID string) error
}

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

// publicMailDomains serve anyone who signs up: no company's identity provider speaks for them,
// and claiming one would send every address there to one partner's IdP.
var publicMailDomains = map[string]bool{"gmail.com": true, "googlemail.com": true, "outlook.com": true,
	"hotmail.com": true, "live.com": true, "msn.com": true, "yahoo.com": true, "ymail.com": true, "icloud.com": true,
	"me.com": true, "mac.com": true, "aol.com": true, "proton.me": true, "protonmail.com": true, "pm.me": true,
	"gmx.com": true, "gmx.de": true, "gmx.net": true, "web.de": true, "mail.com": true, "zoho.com": true,
	"yandex.com": true, "yandex.ru": true, "mail.ru": true, "qq.com": true, "163.com": true, "126.com": true,
	"fastmail.com": true, "hey.com": true, "tutanota.com": true, "orange.fr": true, "free.fr": true, "t-online.de": true}

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
		if publicMailDomains[d] {
			return Errorf(EINVALID, "sso.domains: %s is a public mail service anyone can sign up with; list the partner's own company domains", d)
		}
		s.Domains[i] = d
	}
	return nil
}

// SSODomainTaken is the ECONFLICT for a domain other already signs in from.
func SSODomainTaken(domain string, other Organization) error {
	return Errorf(ECONFLICT, "sso.domains: %s already signs in through the identity provider of %s; each domain belongs to one partner", domain, other.Name)
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

// Position is where o sits in the provider's partner list: newest invitation first.
func (o Organization) Position() Position { return Position{Key: NewestFirst(o.InvitedAt), ID: o.ID} }

// OrgStatuses are the statuses the partner list can be filtered by.
var OrgStatuses = []string{OrgInvited, OrgActive, OrgExpired}

// OrgQuery asks for a page of the provider's partner list: the organisations Search finds
// (see Matches) in Status ("" for any).
type OrgQuery struct {
	Search string
	Status string
	Page   PageRequest
}

// maxSearchTerms bounds the words of a search that are looked at.
const maxSearchTerms = 5

// Validate returns EINVALID for an unknown status, a bad page or a search of more than 200
// characters.
func (q *OrgQuery) Validate() error {
	q.Search = strings.TrimSpace(q.Search)
	if q.Status != "" && !slices.Contains(OrgStatuses, q.Status) {
		return Errorf(EINVALID, "status %q is unknown; use invited, active or expired", q.Status)
	}
	if len(q.Search) > 200 {
		return Errorf(EINVALID, "search at most 200 characters")
	}
	return q.Page.Validate()
}

// Terms are the query's search words, normalised as SearchTerms does.
func (q OrgQuery) Terms() []string {
	terms := SearchTerms(q.Search)
	return terms[:min(len(terms), maxSearchTerms)]
}

// ScanTerm is the term a store looks up (the longest, the most selective); "" without a search.
func (q OrgQuery) ScanTerm() string {
	best := ""
	for _, t := range q.Terms() {
		if len(t) > len(best) {
			best = t
		}
	}
	return best
}

// Matches reports whether o is in the query's result: in its status, and every search term the
// beginning of one of o's search keys.
func (q OrgQuery) Matches(o Organization) bool {
	if q.Status != "" && o.Status != q.Status {
		return false
	}
	keys := o.SearchKeys()
	for _, t := range q.Terms() {
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, t) }) {
			return false
		}
	}
	return true
}

// SearchPosition is where o sits in the results of a search whose scan term is term: by the
// first of o's search keys the term begins, then newest invitation first. A store that indexes
// every key lists o once, at this position.
func (o Organization) SearchPosition(term string) Position {
	for _, k := range o.SearchKeys() { // sorted: the first match is the smallest
		if strings.HasPrefix(k, term) {
			return Position{Key: SearchKey(k, o), ID: o.ID}
		}
	}
	return Position{Key: SearchKey(term, o), ID: o.ID}
}

// SearchKey is the sort key of o's search key k in a search index: k, then newest first.
func SearchKey(k string, o Organization) string { return k + "\x01" + NewestFirst(o.InvitedAt) }

// SearchKeys are the words o is found by, sorted and unique: the words of its name, its contact
// address and that address's domain, and its id.
func (o Organization) SearchKeys() []string {
	keys := SearchTerms(o.Name)
	if email := foldText(o.ContactEmail); email != "" {
		keys = append(keys, email, EmailDomain(email))
	}
	keys = append(keys, strings.ToLower(o.ID))
	slices.Sort(keys)
	return slices.Compact(keys)
}

// SearchTerms splits s into lower-case words without accents, each trimmed of punctuation at
// both ends (so "Müller-Lüdenscheidt GmbH." gives "muller", "ludenscheidt", "gmbh"); e-mail
// addresses, domains and ids (a word with @, . or _ inside) stay whole.
func SearchTerms(s string) []string {
	var out []string
	for _, f := range strings.Fields(foldText(s)) {
		if f = strings.TrimFunc(f, notAlnum); strings.ContainsAny(f, "@_.") {
			out = append(out, f)
			continue
		}
		out = append(out, strings.FieldsFunc(f, notAlnum)...)
	}
	return out
}

func notAlnum(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// foldText is s lower-cased, without accents and NUL bytes.
func foldText(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToLower(strings.TrimSpace(s))) {
		if !unicode.Is(unicode.Mn, r) && r != 0 && r != 1 {
			b.WriteRune(r)
		}
	}
	return b.String()
}
