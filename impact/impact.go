// Package impact tells each partner what a change means for its own integration. When a version
// is published with breaking changes, deprecated, or given a (new) sunset, it works out which
// operations of the version partners call the change affects (onramp.ImpactPlan), and then, for
// the organisations assigned the product, batch by batch, which of those each one called in the
// last onramp.ImpactDays — from the gateways' usage aggregates per version × operation × day, read
// by id — and composes the alarm of each organisation that did: a notification-centre entry and a
// mail to its owners, admins and developers who asked to hear of breaking changes. It also
// answers the provider's migration dashboard (who still calls a version, per week) and the
// partner's own view of its calls to deprecated operations.
//
// An organisation sees only its own calls: every read of usage names one organisation (the
// partner's, authorised) or is the provider's.
package impact

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/specs"
)

// Config holds the service's dependencies.
type Config struct {
	Catalog       *catalog.Catalog    // changelogs between versions, and what an organisation sees
	Versions      onramp.CatalogStore // products and their versions (catalog.Catalog.Versions: from memory)
	Assignments   onramp.AssignmentStore
	Usage         onramp.UsageReader
	Credentials   onramp.CredentialStore // the labels of the credentials that made the calls
	Organizations onramp.OrganizationStore
	Team          onramp.TeamStore         // who is mailed an alarm
	Subscriptions onramp.SubscriptionStore // … if they asked to hear of breaking changes
	Policy        onramp.Policy            // policies/members decides who reads usage
	Notifications Notifications            // the organisation's alarms, on its product page
	PortalURL     string                   // what alarms link to
	Now           func() time.Time
	// DashboardTTL is how long a computed migration dashboard is served before it is computed
	// again (0: DefaultDashboardTTL).
	DashboardTTL time.Duration
}

// Notifications reads a page of an organisation's notification centre, newest first.
type Notifications interface {
	NotificationsOf(ctx context.Context, orgID string, page onramp.PageRequest) (onramp.Page[onramp.Notification], error)
}

// DefaultDashboardTTL bounds how stale the migration dashboard is: computing it reads every
// assigned organisation's usage, so a page of it, or its CSV, reuses one computation meanwhile.
const DefaultDashboardTTL = time.Minute

// Service answers impact questions.
type Service struct {
	cfg      Config
	compared sync.Map // "<product>@<from>><to>" → []specs.Change (published versions never change)

	mu         sync.Mutex
	dashboards map[string]*dashboardEntry
}

// New fails fast on a missing dependency.
func New(cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.Versions == nil || cfg.Assignments == nil || cfg.Usage == nil || cfg.Credentials == nil || cfg.Organizations == nil ||
		cfg.Team == nil || cfg.Subscriptions == nil || cfg.Policy == nil || cfg.Notifications == nil || cfg.PortalURL == "" {
		return nil, errors.New("impact.New: Catalog, Versions, Assignments, Usage, Credentials, Organizations, Team, Subscriptions, Policy, Notifications and PortalURL are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DashboardTTL <= 0 {
		cfg.DashboardTTL = DefaultDashboardTTL
	}
	cfg.PortalURL = strings.TrimRight(cfg.PortalURL, "/")
	return &Service{cfg: cfg, dashboards: map[string]*dashboardEntry{}}, nil
}

// MaxChangesPerOperation is how many changes an alarm lists per operation before it points to
// the changelog.
const MaxChangesPerOperation = 5

// Plan works out what e affects: the operations of the version partners call, each with what
// changes for it, and the organisations assigned the product (none when nothing is affected). A
// breaking version affects the operations of the version before it that its breaking changes
// locate; a deprecation or sunset every operation of the version, with the breaking changes met
// moving to its successor. A deprecation or sunset the stored version no longer has (a later
// change superseded it) affects nothing. Only the provider asks: EFORBIDDEN otherwise; EINVALID
// for an invalid event; ENOTFOUND while the version is not stored.
func (s *Service) Plan(ctx context.Context, a onramp.Actor, e onramp.ImpactEvent) (onramp.ImpactPlan, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.ImpactPlan{}, err
	}
	plan, err := s.affectedBy(ctx, e)
	if err != nil || len(plan.Operations) == 0 {
		return plan, err
	}
	plan.Organizations, err = s.cfg.Assignments.AssignedTo(ctx, e.Product)
	return plan, err
}

// affectedBy is Plan without the organisations.
func (s *Service) affectedBy(ctx context.Context, e onramp.ImpactEvent) (onramp.ImpactPlan, error) {
	if err := e.Validate(); err != nil {
		return onramp.ImpactPlan{}, err
	}
	// The changelog is the catalog's: it must hold the version the store holds (and Versions may
	// be the catalog's snapshot).
	if err := s.cfg.Catalog.Sync(ctx, e.Product, e.Version); err != nil {
		return onramp.ImpactPlan{}, err
	}
	p, err := s.cfg.Versions.FindProduct(ctx, e.Product)
	if err != nil {
		return onramp.ImpactPlan{}, err
	}
	versions, err := s.cfg.Versions.ListVersions(ctx, e.Product)
	if err != nil {
		return onramp.ImpactPlan{}, err
	}
	i := slices.IndexFunc(versions, func(v onramp.ProductVersion) bool { return v.Version == e.Version })
	if i < 0 {
		return onramp.ImpactPlan{}, onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q (yet)", e.Product, e.Version)
	}
	plan := onramp.ImpactPlan{Event: e, ProductName: p.Name, Called: e.Version, Operations: []onramp.AffectedOperation{}, At: s.cfg.Now().UTC(), Organizations: []string{}}
	v := versions[i]
	switch e.Kind {
	case onramp.ImpactBreaking:
		if i == 0 {
			return plan, nil
		}
		prev := versions[i-1]
		plan.Called, plan.Successor = prev.Version, v.Version
		changes, err := s.compare(ctx, e.Product, prev.Version, v.Version)
		if err != nil {
			return plan, err
		}
		byOp := BreakingByOperation(changes, prev.Operations)
		for _, op := range prev.Operations {
			if cs := byOp[op.ID]; len(cs) > 0 {
				plan.Operations = append(plan.Operations, affected(op, cs))
			}
		}
	default:
		if v.Status != onramp.VersionDeprecated || v.Sunset == nil || !v.Sunset.Equal(*e.Sunset) {
			return plan, nil // superseded: the version's lifecycle changed again since
		}
		gone := "From " + v.Version + "'s sunset at " + v.Sunset.UTC().Format(http.TimeFormat) + " every call of it answers 410 Gone."
		var byOp map[string][]string
		if succ, ok := onramp.Successor(versions, v); ok {
			plan.Successor = succ.Version
			changes, err := s.compare(ctx, e.Product, v.Version, succ.Version)
			if err != nil {
				return plan, err
			}
			byOp = BreakingByOperation(changes, v.Operations)
		}
		for _, op := range v.Operations {
			cs := []string{gone}
			switch {
			case plan.Successor == "":
				cs = append(cs, "There is no current version to move to yet.")
			case len(byOp[op.ID]) == 0:
				cs = append(cs, "In "+plan.Successor+" it has no breaking change: calls move as they are.")
			default:
				for _, c := range byOp[op.ID] {
					cs = append(cs, "In "+plan.Successor+": "+c)
				}
			}
			plan.Operations = append(plan.Operations, affected(op, cs))
		}
	}
	return plan, nil
}

func affected(op onramp.Operation, changes []string) onramp.AffectedOperation {
	if len(changes) > MaxChangesPerOperation {
		changes = append(changes[:MaxChangesPerOperation:MaxChangesPerOperation], fmt.Sprintf("… and %d more in the changelog.", len(changes)-MaxChangesPerOperation))
	}
	return onramp.AffectedOperation{Operation: op.ID, Method: op.Method, Path: op.Path, Changes: changes}
}

// compare is the catalog's changelog between two published versions, kept.
func (s *Service) compare(ctx context.Context, product, from, to string) ([]specs.Change, error) {
	key := product + "@" + from + ">" + to
	if c, ok := s.compared.Load(key); ok {
		return c.([]specs.Change), nil
	}
	changes, err := s.cfg.Catalog.Compare(ctx, product, from, to)
	if err != nil {
		return nil, err
	}
	s.compared.Store(key, changes)
	return changes, nil
}

// BreakingByOperation maps the breaking changes to the operations of ops they are located at
// ("GET /entries/{id}": the method, and the path with its parameters' names aside, so a renamed
// parameter still finds its operation), each operation's texts in changelog order. A breaking
// change located at no operation (a document-wide one) affects every operation; one located at
// an operation ops does not have (added by the new version) affects none of them.
func BreakingByOperation(changes []specs.Change, ops []onramp.Operation) map[string][]string {
	byRoute := map[string][]string{}
	for _, op := range ops {
		r := route(op.Method, op.Path)
		byRoute[r] = append(byRoute[r], op.ID)
	}
	out := map[string][]string{}
	add := func(id, text string) {
		if !slices.Contains(out[id], text) {
			out[id] = append(out[id], text)
		}
	}
	for _, c := range changes {
		if c.Level != specs.Breaking {
			continue
		}
		if c.Operation == "" {
			for _, op := range ops {
				add(op.ID, c.Text)
			}
			continue
		}
		method, path, _ := strings.Cut(c.Operation, " ")
		for _, id := range byRoute[route(method, path)] {
			add(id, c.Text)
		}
	}
	return out
}

// route is an operation's method and path with path parameters unnamed: /entries/{} for
// /entries/{id} and /entries/{entryId}.
func route(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(method))
	b.WriteByte(' ')
	for {
		open := strings.IndexByte(path, '{')
		if open < 0 {
			b.WriteString(path)
			return b.String()
		}
		end := strings.IndexByte(path[open:], '}')
		if end < 0 {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:open+1])
		b.WriteByte('}')
		path = path[open+end+1:]
	}
}

// alarmRoles are the roles whose members are mailed an alarm: those who build and run the
// integration (viewers see the notification centre).
var alarmRoles = []string{onramp.RoleOwner, onramp.RoleAdmin, onramp.RoleDeveloper}

// Alarms assesses plan for orgIDs, one batch: each organisation's own calls of the affected
// operations in the plan's window, and for each that made any, its alarm. Organisations with no
// such call, or no longer there, get none. A member is mailed when they are an owner, admin or
// developer whom policy lets read usage and keep subscriptions, and their subscription to the
// product asks for breaking changes ("all" or "breaking"): the level that already decides their
// changelog mails; everyone in the organisation sees the notification. Only the provider asks:
// EFORBIDDEN otherwise.
func (s *Service) Alarms(ctx context.Context, a onramp.Actor, plan onramp.ImpactPlan, orgIDs []string) ([]onramp.ImpactAlarm, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return nil, err
	}
	out := []onramp.ImpactAlarm{}
	if len(plan.Operations) == 0 || len(orgIDs) == 0 {
		return out, nil
	}
	impacts, err := s.impacts(ctx, plan, orgIDs)
	if err != nil || len(impacts) == 0 {
		return out, err
	}
	affected := make([]string, len(impacts))
	for i, imp := range impacts {
		affected[i] = imp.OrgID
	}
	orgs, err := s.organizations(ctx, affected)
	if err != nil {
		return nil, err
	}
	all, err := s.cfg.Team.MembersOfAll(ctx, affected)
	if err != nil {
		return nil, err
	}
	members := map[string][]onramp.Member{}
	for _, m := range all {
		members[m.OrgID] = append(members[m.OrgID], m)
	}
	for _, imp := range impacts {
		org, ok := orgs[imp.OrgID]
		if !ok {
			continue
		}
		al := onramp.ImpactAlarm{Impact: imp, Notification: s.notification(plan, org, imp), Mails: []onramp.Message{}}
		for _, m := range members[org.ID] {
			ok, err := s.wantsAlarm(ctx, m, plan.Event.Product)
			if err != nil {
				return nil, err
			}
			if ok && onramp.PlainEmail(m.Email) {
				al.Mails = append(al.Mails, onramp.Message{ID: imp.NoticeID() + "-" + m.IdentityID, To: m.Email, Subject: al.Notification.Title,
					Text: s.mailText(plan, org, imp)})
			}
		}
		out = append(out, al)
	}
	return out, nil
}

// organizations finds the organisations of ids that still exist: by id when they are few, in one
// listing when they are many (FerretDB reads each by id in a round trip, and lists in one scan).
func (s *Service) organizations(ctx context.Context, ids []string) (map[string]onramp.Organization, error) {
	out := make(map[string]onramp.Organization, len(ids))
	if len(ids) > organizationsByID {
		all, err := onramp.AllOrganizations(ctx, s.cfg.Organizations)
		for _, o := range all {
			if slices.Contains(ids, o.ID) {
				out[o.ID] = o
			}
		}
		return out, err
	}
	for _, id := range ids {
		o, err := s.cfg.Organizations.FindOrganization(ctx, id)
		switch onramp.ErrorCode(err) {
		case "":
			out[id] = o
		case onramp.ENOTFOUND:
		default:
			return nil, err
		}
	}
	return out, nil
}

// organizationsByID is how many organisations organizations reads one by one.
const organizationsByID = 100

func (s *Service) wantsAlarm(ctx context.Context, m onramp.Member, product string) (bool, error) {
	if !slices.Contains(alarmRoles, m.Role) || !onramp.Allows(ctx, s.cfg.Policy, m.Role, onramp.ActionUsageView, onramp.Target{}) ||
		!onramp.Allows(ctx, s.cfg.Policy, m.Role, onramp.ActionSubscriptionManage, onramp.Target{}) {
		return false, nil
	}
	subs, err := s.cfg.Subscriptions.Subscriptions(ctx, m.ID)
	if err != nil {
		return false, err
	}
	return onramp.WantsVersion(subs.Level(product), true), nil
}

// impacts reads the organisations' usage in the plan's window (its last day whole) and keeps
// those with calls of affected operations, credentials named.
func (s *Service) impacts(ctx context.Context, plan onramp.ImpactPlan, orgIDs []string) ([]onramp.Impact, error) {
	from, to := onramp.ImpactWindow(plan.At)
	usage, err := s.cfg.Usage.OperationUsage(ctx, plan.Event.Product, orgIDs, from, to.Truncate(24*time.Hour).AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	var out []onramp.Impact
	for _, org := range orgIDs {
		imp := onramp.ImpactOf(plan, org, usage[org])
		if len(imp.Operations) == 0 {
			continue
		}
		if err := s.nameCredentials(ctx, org, imp.Operations); err != nil {
			return nil, err
		}
		out = append(out, imp)
	}
	return out, nil
}

// nameCredentials labels the credentials of ops, which must be the organisation's own (one that
// is not, or is gone, keeps its id only, without a label).
func (s *Service) nameCredentials(ctx context.Context, orgID string, ops []onramp.OperationImpact) error {
	known := map[string]onramp.Credential{}
	for i := range ops {
		for j := range ops[i].Credentials {
			c := &ops[i].Credentials[j]
			cred, ok := known[c.ID]
			if !ok {
				found, err := s.cfg.Credentials.FindCredential(ctx, c.ID)
				switch onramp.ErrorCode(err) {
				case "":
					if found.OrgID == orgID {
						cred = found
					}
				case onramp.ENOTFOUND:
				default:
					return err
				}
				known[c.ID] = cred
			}
			if cred.ID != "" {
				c.Label = cred.Label
			}
		}
	}
	return nil
}

// productPage is the partner's page of the product at version, at its impact section.
func (s *Service) productPage(orgID, product, version, anchor string) string {
	return s.cfg.PortalURL + "/catalog/" + url.PathEscape(product) + "?org=" + url.QueryEscape(orgID) + "&version=" + url.QueryEscape(version) + "#" + anchor
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// title is the alarm's headline, e.g. "Payments v2 breaks 2 operations your organisation called
// 45 times in the last 30 days".
func title(plan onramp.ImpactPlan, imp onramp.Impact) string {
	ops, calls := plural(int64(len(imp.Operations)), "operation", "operations"), plural(imp.Calls(), "time", "times")
	e := plan.Event
	switch e.Kind {
	case onramp.ImpactBreaking:
		return fmt.Sprintf("%s %s breaks %s your organisation called %s in the last %d days", plan.ProductName, e.Version, ops, calls, onramp.ImpactDays)
	case onramp.ImpactDeprecated:
		return fmt.Sprintf("%s %s is deprecated and retires on %s: %s you called %s in the last %d days", plan.ProductName, e.Version, e.Sunset.UTC().Format(time.DateOnly), ops, calls, onramp.ImpactDays)
	default:
		return fmt.Sprintf("%s %s now retires on %s: %s you called %s in the last %d days", plan.ProductName, e.Version, e.Sunset.UTC().Format(time.DateOnly), ops, calls, onramp.ImpactDays)
	}
}

// link is where the alarm sends the partner: the new version's changelog, or the deprecated
// version's page (its migration page, which lists the organisation's calls to it).
func (s *Service) link(plan onramp.ImpactPlan, orgID string) string {
	if plan.Event.Kind == onramp.ImpactBreaking {
		return s.productPage(orgID, plan.Event.Product, plan.Event.Version, "changelog")
	}
	return s.productPage(orgID, plan.Event.Product, plan.Event.Version, "deprecated-calls")
}

func (s *Service) notification(plan onramp.ImpactPlan, org onramp.Organization, imp onramp.Impact) onramp.Notification {
	return onramp.Notification{ID: imp.NoticeID(), OrgID: org.ID, Title: title(plan, imp), Body: body(plan, imp), Link: s.link(plan, org.ID), At: plan.At}
}

// lead says what happened and what to do, before the list of operations.
func lead(plan onramp.ImpactPlan, imp onramp.Impact) string {
	e := plan.Event
	from := imp.From.Format(time.DateOnly)
	switch {
	case e.Kind == onramp.ImpactBreaking:
		return fmt.Sprintf("%s %s has breaking changes against %s, and your organisation's own calls of %s since %s hit them. Update these calls before you move to %s:",
			plan.ProductName, e.Version, plan.Called, plan.Called, from, e.Version)
	case plan.Successor != "":
		return fmt.Sprintf("%s %s is deprecated; from its sunset at %s it answers every call with 410 Gone. Your organisation called it since %s; move these calls to %s:",
			plan.ProductName, e.Version, e.Sunset.UTC().Format(http.TimeFormat), from, plan.Successor)
	default:
		return fmt.Sprintf("%s %s is deprecated; from its sunset at %s it answers every call with 410 Gone. Your organisation called it since %s:",
			plan.ProductName, e.Version, e.Sunset.UTC().Format(http.TimeFormat), from)
	}
}

// operationLines lists each operation: its calls, last call, credentials and what changes.
func operationLines(imp onramp.Impact) string {
	var b strings.Builder
	for _, op := range imp.Operations {
		fmt.Fprintf(&b, "\n- %s (%s %s): %s, the last at %s UTC", op.Operation, op.Method, op.Path, plural(op.Calls, "call", "calls"), op.LastCall.UTC().Format("2006-01-02 15:04"))
		if len(op.Credentials) > 0 {
			names := make([]string, len(op.Credentials))
			for i, c := range op.Credentials {
				names[i] = credentialName(c)
			}
			fmt.Fprintf(&b, ", with %s", strings.Join(names, ", "))
		}
		b.WriteString(".")
		for _, c := range op.Changes {
			fmt.Fprintf(&b, "\n  %s", c)
		}
	}
	return b.String()
}

func credentialName(c onramp.ImpactCredential) string {
	if c.Label == "" {
		return fmt.Sprintf("credential %s (%s)", c.ID, c.Environment)
	}
	return fmt.Sprintf("%q (%s, %s)", c.Label, c.Environment, c.ID)
}

func body(plan onramp.ImpactPlan, imp onramp.Impact) string {
	return lead(plan, imp) + operationLines(imp)
}

func (s *Service) mailText(plan onramp.ImpactPlan, org onramp.Organization, imp onramp.Impact) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", lead(plan, imp), strings.TrimPrefix(operationLines(imp), "\n"))
	fmt.Fprintf(&b, "\nCalls count from the gateways' totals per UTC day (%s to today); the last call is to the second.\n", imp.From.Format(time.DateOnly))
	fmt.Fprintf(&b, "\nWhat changed, and your calls: %s\n", s.link(plan, org.ID))
	fmt.Fprintf(&b, "\nYou receive this because your e-mail subscription to %s asks for breaking changes. Change it at %s/subscriptions?org=%s\n",
		plan.ProductName, s.cfg.PortalURL, url.QueryEscape(org.ID))
	return b.String()
}
