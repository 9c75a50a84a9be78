package onramp

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Production request statuses: a draft is the partner's own; submitting it starts the review.
const (
	RequestDraft            = "draft"
	RequestReceived         = "received"
	RequestInReview         = "in_review"
	RequestApproved         = "approved"
	RequestRejected         = "rejected"
	RequestChangesRequested = "changes_requested"
)

// RequestedProduct is one product a partner asks production access for.
type RequestedProduct struct {
	Product       string `json:"product" bson:"product"`
	Plan          string `json:"plan" bson:"plan"`
	MonthlyVolume int64  `json:"monthly_volume" bson:"monthly_volume"`
}

// ApprovedProduct is what an approval grants on one product (it may be narrower than asked).
type ApprovedProduct struct {
	Product string   `json:"product" bson:"product"`
	Plan    string   `json:"plan" bson:"plan"`
	Scopes  []string `json:"scopes,omitempty" bson:"scopes,omitempty"` // empty: the plan's for the product
	Quota   *Quota   `json:"quota,omitempty" bson:"quota,omitempty"`   // nil: the plan's
}

// StatusChange is one step of a request's timeline.
type StatusChange struct {
	Status string    `json:"status" bson:"status"`
	At     time.Time `json:"at" bson:"at"`
	By     string    `json:"by" bson:"by"`
	Note   string    `json:"note,omitempty" bson:"note,omitempty"` // reason, changes asked, what was granted
}

// ProductionRequest is an organisation's request for production access.
type ProductionRequest struct {
	ID               string             `json:"id" bson:"_id"`
	OrgID            string             `json:"org_id" bson:"org_id"`
	LegalName        string             `json:"legal_name" bson:"legal_name"`
	Country          string             `json:"country" bson:"country"` // ISO 3166-1 alpha-2
	Website          string             `json:"website" bson:"website"`
	TechnicalContact string             `json:"technical_contact" bson:"technical_contact"`
	SecurityContact  string             `json:"security_contact" bson:"security_contact"`
	Products         []RequestedProduct `json:"products" bson:"products"`
	WebhookURLs      []string           `json:"webhook_urls" bson:"webhook_urls"`
	UseCase          string             `json:"use_case" bson:"use_case"`
	Status           string             `json:"status" bson:"status"`
	History          []StatusChange     `json:"history" bson:"history"`
	SubmittedAt      *time.Time         `json:"submitted_at,omitempty" bson:"submitted_at,omitempty"`
	SLADue           *time.Time         `json:"sla_due,omitempty" bson:"sla_due,omitempty"`
	Reviewer         string             `json:"reviewer,omitempty" bson:"reviewer,omitempty"`
	Approved         []ApprovedProduct  `json:"approved,omitempty" bson:"approved,omitempty"`
	CreatedAt        time.Time          `json:"created_at" bson:"created_at"`
	CreatedBy        string             `json:"created_by" bson:"created_by"`
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// Validate returns EINVALID listing every field to fix before the request can be submitted.
func (r ProductionRequest) Validate() error {
	var details []ErrorDetail
	add := func(loc, msg string) { details = append(details, ErrorDetail{Location: loc, Message: msg}) }
	if strings.TrimSpace(r.LegalName) == "" {
		add("legal_name", "give the company's legal name")
	}
	if !countryPattern.MatchString(r.Country) {
		add("country", "give the two-letter country code, e.g. DE or GB")
	}
	if u, err := url.Parse(r.Website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("website", "give the company's website, e.g. https://partner.example")
	}
	if !PlainEmail(r.TechnicalContact) {
		add("technical_contact", "give the technical contact's e-mail address")
	}
	if !PlainEmail(r.SecurityContact) {
		add("security_contact", "give the security contact's e-mail address")
	}
	if len(r.Products) == 0 {
		add("products", "ask for at least one product")
	}
	for i, p := range r.Products {
		if p.Product == "" || p.Plan == "" {
			add("products["+strconv.Itoa(i)+"]", "name the product and the plan")
		}
		if p.MonthlyVolume <= 0 {
			add("products["+strconv.Itoa(i)+"].monthly_volume", "give the expected calls per month")
		}
	}
	for i, w := range r.WebhookURLs {
		u, err := url.Parse(w)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
			add("webhook_urls["+strconv.Itoa(i)+"]", "webhook URLs must be https://host/path, without credentials or fragment")
		}
	}
	if l := len(strings.TrimSpace(r.UseCase)); l < 10 || l > 4000 {
		add("use_case", "describe the use case in 10 to 4000 characters")
	}
	if len(details) > 0 {
		return &Error{Code: EINVALID, Message: "the request is incomplete: fix each field listed and submit again", Details: details}
	}
	return nil
}

// Approval is how a reviewer narrows what an approval grants: Grants says exactly what each
// requested product gets, or, simpler, Scopes and Quota narrow every requested product (each gets
// the listed scopes that are its own — a product none of whose scopes are listed is not granted —
// and the quota). All empty: what was asked, on the plans' terms.
type Approval struct {
	Grants []ApprovedProduct
	Scopes []string
	Quota  *Quota
}

// Narrow returns what approving r with a grants under plans: nil for what was asked, or the
// reviewer's narrowing of it. EINVALID (naming the field) for anything beyond the request — a
// product or plan not requested, a product twice, a scope outside the plan, an invalid quota or
// one above the plan's — or for grants given together with scopes or a quota. It is the one rule
// for the portal (production.Service) and the review workflow's grant (signals included), which
// would otherwise grant whatever it is sent.
func (r ProductionRequest) Narrow(plans []Plan, a Approval) ([]ApprovedProduct, error) {
	if len(a.Grants) == 0 && len(a.Scopes) == 0 && a.Quota == nil {
		return nil, nil
	}
	if len(a.Grants) > 0 && (len(a.Scopes) > 0 || a.Quota != nil) {
		return nil, wider("grants", "give either grants per product or scopes and a quota for every product, not both")
	}
	planGrant := func(product, plan string) (Grant, bool) {
		for _, p := range plans {
			if p.Name == plan {
				g, ok := p.Products[product]
				return g, ok
			}
		}
		return Grant{}, false
	}
	if len(a.Grants) > 0 {
		return r.grantsWithin(a.Grants, planGrant)
	}
	var out []ApprovedProduct
	used := map[string]bool{}
	for i, p := range r.Products {
		def, ok := planGrant(p.Product, p.Plan)
		if !ok {
			return nil, wider("products["+strconv.Itoa(i)+"]", "plan "+p.Plan+" no longer offers "+p.Product)
		}
		g := ApprovedProduct{Product: p.Product, Plan: p.Plan}
		for _, sc := range a.Scopes {
			if slices.Contains(def.Scopes, sc) {
				g.Scopes, used[sc] = append(g.Scopes, sc), true
			}
		}
		if len(a.Scopes) > 0 && len(g.Scopes) == 0 {
			continue // none of its scopes listed: not granted, rather than granted in full
		}
		if a.Quota != nil {
			if err := quotaWithin("quota", *a.Quota, def.Quota); err != nil {
				return nil, err
			}
			q := *a.Quota
			g.Quota = &q
		}
		out = append(out, g)
	}
	for _, sc := range a.Scopes {
		if !used[sc] {
			return nil, wider("scopes", sc+" is not a scope of a requested product on its plan")
		}
	}
	return out, nil
}

// grantsWithin checks a reviewer's grants one by one against the request and its plans.
func (r ProductionRequest) grantsWithin(grants []ApprovedProduct, planGrant func(product, plan string) (Grant, bool)) ([]ApprovedProduct, error) {
	var asked []string
	for _, p := range r.Products {
		asked = append(asked, p.Product+" on "+p.Plan)
	}
	out := make([]ApprovedProduct, 0, len(grants))
	seen := map[string]bool{}
	for i, g := range grants {
		loc := "grants[" + strconv.Itoa(i) + "]"
		if !slices.ContainsFunc(r.Products, func(p RequestedProduct) bool { return p.Product == g.Product && p.Plan == g.Plan }) {
			return nil, wider(loc, g.Product+" on "+g.Plan+" was not requested; requested: "+strings.Join(asked, ", "))
		}
		if seen[g.Product] {
			return nil, wider(loc, g.Product+" is granted twice")
		}
		seen[g.Product] = true
		def, ok := planGrant(g.Product, g.Plan)
		if !ok {
			return nil, wider(loc, "plan "+g.Plan+" no longer offers "+g.Product)
		}
		for _, sc := range g.Scopes {
			if !slices.Contains(def.Scopes, sc) {
				return nil, wider(loc+".scopes", sc+" is not among the "+g.Plan+" plan's scopes of "+g.Product+": "+strings.Join(def.Scopes, ", "))
			}
		}
		if g.Quota != nil {
			if err := quotaWithin(loc+".quota", *g.Quota, def.Quota); err != nil {
				return nil, err
			}
			q := *g.Quota
			g.Quota = &q
		}
		g.Scopes = slices.Clone(g.Scopes)
		out = append(out, g)
	}
	return out, nil
}

// quotaWithin refuses an invalid quota or one that admits more than the plan's: a daily quota
// counts as 31 days of it against a monthly one, a monthly one as one day against a daily one.
func quotaWithin(loc string, q, plan Quota) error {
	if err := q.Validate(); err != nil {
		return wider(loc, ErrorMessage(err))
	}
	limit := plan.Limit
	if q.Period == "day" && plan.Period == "month" {
		limit = plan.Limit / 31
	}
	if q.Limit > limit {
		return wider(loc, fmt.Sprintf("%d calls per %s is more than the plan's %d per %s", q.Limit, q.Period, plan.Limit, plan.Period))
	}
	return nil
}

func wider(loc, msg string) error {
	return &Error{Code: EINVALID, Message: "an approval can only narrow what was requested",
		Details: []ErrorDetail{{Location: loc, Message: msg}}}
}

// ProductionRequestStore keeps production requests.
type ProductionRequestStore interface {
	// SaveProductionRequest upserts r by ID.
	SaveProductionRequest(ctx context.Context, r ProductionRequest) error
	// FindProductionRequest returns ENOTFOUND for an unknown id.
	FindProductionRequest(ctx context.Context, id string) (ProductionRequest, error)
	// ProductionRequestsOf lists an organisation's requests, newest first.
	ProductionRequestsOf(ctx context.Context, orgID string) ([]ProductionRequest, error)
	// ProductionRequests returns a page of the requests in one of the statuses, in QueuePosition
	// order (soonest due first), reading no more than the page needs.
	ProductionRequests(ctx context.Context, statuses []string, page PageRequest) (Page[ProductionRequest], error)
	// SLACompliance is the compliance of every decided request, kept as requests are saved.
	SLACompliance(ctx context.Context) (SLACompliance, error)
}

// ReviewDecision is a reviewer's action on a production request (claim, approve, reject,
// request-changes) or the partner's resubmission.
type ReviewDecision struct {
	By      string            `json:"by"`
	Reason  string            `json:"reason,omitempty"`
	Changes string            `json:"changes,omitempty"`
	Grants  []ApprovedProduct `json:"grants,omitempty"`
}

// Reviews runs production reviews (lifecycles.Temporal).
type Reviews interface {
	// StartReview starts the review of a submitted request; ECONFLICT when one runs already.
	StartReview(ctx context.Context, r ProductionRequest) error
	// Review takes an action and returns once the review has recorded it; ECONFLICT (with the
	// reason) when the action is not possible in the request's state, EINVALID when an approval's
	// grants are wider than the request (ProductionRequest.Narrow) and nothing was recorded.
	Review(ctx context.Context, requestID, action string, d ReviewDecision) error
}

// Review outcomes: a request waits in OpenRequestStatuses; DecidedRequestStatuses end a review
// (a request sent back for changes counts as decided until it is resubmitted).
var (
	OpenRequestStatuses    = []string{RequestReceived, RequestInReview}
	DecidedRequestStatuses = []string{RequestApproved, RequestRejected, RequestChangesRequested}
)

// Position is where r sits in its organisation's list: newest first.
func (r ProductionRequest) Position() Position {
	return Position{Key: NewestFirst(r.CreatedAt), ID: r.ID}
}

// QueuePosition is where r sits in the review queue: soonest SLA due first (none first of all).
func (r ProductionRequest) QueuePosition() Position {
	if r.SLADue == nil {
		return Position{ID: r.ID}
	}
	return Position{Key: OldestFirst(*r.SLADue), ID: r.ID}
}

// SLAOutcome says whether r counts towards SLA compliance (decided, with a due time and a
// timeline) and whether its decision, its last step, came by the due time.
func (r ProductionRequest) SLAOutcome() (decided, onTime bool) {
	if !slices.Contains(DecidedRequestStatuses, r.Status) || r.SLADue == nil || len(r.History) == 0 {
		return false, false
	}
	return true, !r.History[len(r.History)-1].At.After(*r.SLADue)
}

// SLACompliance counts the decided requests and those decided by their SLA due time. Stores keep
// it as requests are saved (Count of the old version out, of the new one in).
type SLACompliance struct {
	Decided int64 `json:"decided" bson:"decided"`
	OnTime  int64 `json:"on_time" bson:"on_time"`
}

// Count adds r's outcome (sign 1) or takes it away (sign -1).
func (c *SLACompliance) Count(r ProductionRequest, sign int64) {
	decided, onTime := r.SLAOutcome()
	if decided {
		c.Decided += sign
	}
	if onTime {
		c.OnTime += sign
	}
}

// Percent is the share decided on time (0 when none was decided).
func (c SLACompliance) Percent() float64 {
	if c.Decided == 0 {
		return 0
	}
	return float64(c.OnTime) * 100 / float64(c.Decided)
}
