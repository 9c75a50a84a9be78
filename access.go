package onramp

import "context"

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
// it may call) under its assignments. retired says every version is past its sunset.
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
