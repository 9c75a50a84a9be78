# Whether the gateway lets one call through. The same assignments and scopes decide the catalog
# (policies/catalog), so the catalog never shows what the gateway refuses. Input:
#   {"environment": "sandbox|production" (the listener),
#    "portal_url": "https://portal.example",
#    "credential": {"org_id", "environment", "scopes": [..]},
#    "assignment": {"plan", "scopes": [..], "environments": [..]}  (the organisation's, for this product),
#    "product": "<slug>",
#    "operation": {"id", "method", "path", "scope"}}
# Result: {"allow": bool, "reasons": [..]}; each reason says what to do next.
package gateway

import rego.v1

credential_scopes contains s if some s in input.credential.scopes

plan_scopes contains s if some s in input.assignment.scopes

plan_environments contains e if some e in input.assignment.environments

scope := input.operation.scope

default allow := false

allow if {
	input.credential.environment == input.environment
	plan_environments[input.environment]
	plan_scopes[scope]
	credential_scopes[scope]
}

reasons contains sprintf("this is a %s key; the %s gateway takes %s keys", [input.credential.environment, input.environment, input.environment]) if {
	input.credential.environment != input.environment
}

reasons contains sprintf("your organisation has no %s access to %s; request it at %s/production", [input.environment, input.product, input.portal_url]) if {
	input.credential.environment == input.environment
	not plan_environments[input.environment]
}

reasons contains sprintf("credential lacks scope %s; your %s plan grants %s; request access at %s/catalog/%s", [scope, input.assignment.plan, concat(", ", sort(input.assignment.scopes)), input.portal_url, input.product]) if {
	input.credential.environment == input.environment
	plan_environments[input.environment]
	not plan_scopes[scope]
}

reasons contains sprintf("credential lacks scope %s (it has %s); your plan grants it: create a key with %s at %s/credentials", [scope, concat(", ", sort(input.credential.scopes)), scope, input.portal_url]) if {
	input.credential.environment == input.environment
	plan_environments[input.environment]
	plan_scopes[scope]
	not credential_scopes[scope]
}

decision := {"allow": allow, "reasons": reasons}
