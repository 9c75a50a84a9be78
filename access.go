package onramp

import (
	"context"
	"strings"
	"time"
)

// Decision is a policy's answer: allowed or not, and why not in words a partner can act on.
type Decision struct {
	Allow   bool     `json:"allow"`
	Reasons []string `json:"reasons"`
	// Operations holds per-operation decisions when the policy gives them (catalog, gateway),
	// keyed by operation id.
	Operations map[string]Decision `json:"operations,omitempty"`
}

// Policy evaluates a named decision (policies/<name>) for an input.
type Policy interface {
	Decide(ctx context.Context, decision string, input any) (Decision, error)
}

// Policy decisions (policies/<name>) and the one place each decision's input is built, so every
// caller asks the same question: the catalog and the gateway about visibility, the gateway and
// try-it's prediction about a call.
const (
	DecisionMembers  = "members"
	DecisionCatalog  = "catalog"
	DecisionGateway  = "gateway"
	DecisionRotation = "rotation"
)

// set is a policy input set: an object to look members up in, not an array to scan.
func set(members []string) map[string]any {
	out := make(map[string]any, len(members))
	for _, m := range members {
		out[m] = true
	}
	return out
}

// CatalogInput is policies/catalog's input: whether org sees product (and which of its operations
// it may call) under its assignments. retired says the version these operations belong to is
// retired (ProductVersion.PhaseAt, the rule the gateway answers 410 Gone by).
func CatalogInput(org Organization, assignments []Assignment, p Product, retired bool, ops []Operation) map[string]any {
	granted := make(map[string]any, len(assignments))
	for _, a := range assignments {
		granted[a.Product] = map[string]any{"plan": a.Plan, "scopes": a.Scopes, "environments": a.Environments}
	}
	operations := make(map[string]any, len(ops))
	for _, op := range ops {
		operations[op.ID] = map[string]any{"method": op.Method, "path": op.Path, "scope": op.Scope}
	}
	return map[string]any{
		"organization": map[string]any{"id": org.ID, "tier": org.Tier, "status": org.Status},
		"assignments":  granted,
		"product":      map[string]any{"slug": p.Slug, "name": p.Name, "retired": retired, "operations": operations},
	}
}

// GatewayInput is policies/gateway's input: whether a call with cred to one operation of product,
// under its assignment, passes the gateway of environment.
func GatewayInput(environment, portalURL, product string, cred Credential, a Assignment, operationID, scope string) map[string]any {
	return map[string]any{
		"environment": environment, "portal_url": portalURL, "product": product,
		"credential": map[string]any{"org_id": cred.OrgID, "environment": cred.Environment, "scopes": set(cred.Scopes)},
		"assignment": map[string]any{"plan": a.Plan, "scopes": set(a.Scopes), "environments": set(a.Environments)},
		"operation":  map[string]any{"id": operationID, "scope": scope},
	}
}

// Action is something a member does in an organisation; policies/members decides who may.
type Action string

// The actions of policies/members.
const (
	ActionCatalogView       Action = "catalog.view"
	ActionUsageView         Action = "usage.view"
	ActionTryIt             Action = "tryit.use"
	ActionTeamView          Action = "team.view"
	ActionAuditView         Action = "audit.view"
	ActionMemberInvite      Action = "member.invite"
	ActionMemberRemove      Action = "member.remove"
	ActionRoleChange        Action = "member.role.change"
	ActionOwnershipTransfer Action = "ownership.transfer"
	ActionProductionRequest Action = "production.request"
	ActionQuotaRequest      Action = "quota.request"
	// ActionFeedRead is reading the Atom feeds of the catalog, and holding the feed token that
	// reads them; ActionSubscriptionManage is choosing one's own e-mail subscriptions.
	ActionFeedRead           Action = "feed.read"
	ActionSubscriptionManage Action = "subscription.manage"
	// Credential actions are decided per environment (Target.Environment).
	ActionCredentialCreate Action = "credential.create"
	ActionCredentialReveal Action = "credential.reveal"
	ActionCredentialRotate Action = "credential.rotate"
	ActionCredentialRevoke Action = "credential.revoke"
	ActionCredentialUse    Action = "credential.use"
)

// Target is what an action is about, as far as policies/members looks at it: the member acted on
// (their role, and the role they would get) or the environment of a credential.
type Target struct {
	Role, NewRole, Environment string
}

// MembersInput is policies/members' input: may role take action on target.
func MembersInput(role string, action Action, t Target) map[string]any {
	in := map[string]any{"role": role, "action": string(action)}
	for k, v := range map[string]string{"target_role": t.Role, "new_role": t.NewRole, "environment": t.Environment} {
		if v != "" {
			in[k] = v
		}
	}
	return in
}

// Authorize returns the actor's membership of orgID when policies/members lets them take action
// on target. ENOTFOUND when they are not a member — an organisation one is not in does not exist
// for one — and EFORBIDDEN with the policy's reasons otherwise. Every service asks it, first.
func Authorize(ctx context.Context, p Policy, a Actor, orgID string, action Action, t Target) (Membership, error) {
	m, ok := a.In(orgID)
	if !ok {
		return m, NotYourOrganization(orgID)
	}
	d, err := p.Decide(ctx, DecisionMembers, MembersInput(m.Role, action, t))
	if err != nil {
		return m, err
	}
	if !d.Allow {
		return m, Errorf(EFORBIDDEN, "%s", strings.Join(d.Reasons, "; "))
	}
	return m, nil
}

// Allows reports whether policies/members lets role take action on target; for what a page
// offers (a button shown or not), never as the check before the action itself (Authorize).
func Allows(ctx context.Context, p Policy, role string, action Action, t Target) bool {
	d, err := p.Decide(ctx, DecisionMembers, MembersInput(role, action, t))
	return err == nil && d.Allow
}

// NotYourOrganization is how an organisation the caller is not in answers: as one that does not
// exist (the same text for any id).
func NotYourOrganization(orgID string) error {
	return Errorf(ENOTFOUND, "no organisation %q among yours", orgID)
}

// RequireProvider returns EFORBIDDEN unless the provider acts.
func RequireProvider(a Actor) error {
	if !a.Provider {
		return Errorf(EFORBIDDEN, "only the provider may do this")
	}
	return nil
}

// PolicyStatus is the running policies' version and the last refused change: what the
// admin "Policies" page shows.
type PolicyStatus struct {
	Source      string     `json:"source"`  // "embedded" or the watched directory
	Version     string     `json:"version"` // SHA-256 over the running files' names and contents
	LoadedAt    time.Time  `json:"loaded_at"`
	Decisions   []string   `json:"decisions"`
	Tests       int        `json:"tests"` // Rego tests that passed at the last install
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// LastErrorVersion is the version of the files that were refused.
	LastErrorVersion string `json:"last_error_version,omitempty"`
}
