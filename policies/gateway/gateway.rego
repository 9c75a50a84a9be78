# Whether the gateway lets one call through. The same assignments and scopes decide the catalog
# (policies/catalog), so the catalog never shows what the gateway refuses. It runs on every call,
# so sets arrive as objects (looked up, not scanned). Input:
#   {"environment": "sandbox|production" (the listener),
#    "portal_url": "https://portal.example",
#    "credential": {"org_id", "environment", "scopes": {"<scope>": true, …}},
#    "assignment": {"plan", "scopes": {"<scope>": true, …}, "environments": {"<env>": true, …}},
#    "product": "<slug>",
#    "operation": {"id", "scope"}}
# Result: {"allow": bool, "reasons": [..]}; each reason says what to do next.
package gateway

import rego.v1

scope := input.operation.scope

same_environment if input.credential.environment == input.environment

default allow := false

allow if {
	input.credential.environment == input.environment
	input.assignment.environments[input.environment]
	input.assignment.scopes[input.operation.scope]
	input.credential.scopes[input.operation.scope]
}

reasons contains sprintf("this is a %s key; the %s gateway takes %s keys", [input.credential.environment, input.environment, input.environment]) if {
	not same_environment
}

reasons contains sprintf("your organisation has no %s access to %s; request it at %s/production", [input.environment, input.product, input.portal_url]) if {
	same_environment
	not input.assignment.environments[input.environment]
}

reasons contains sprintf("credential lacks scope %s; your %s plan grants %s; request access at %s/catalog/%s", [scope, input.assignment.plan, concat(", ", sort(object.keys(input.assignment.scopes))), input.portal_url, input.product]) if {
	same_environment
	input.assignment.environments[input.environment]
	not input.assignment.scopes[scope]
}

reasons contains sprintf("credential lacks scope %s (it has %s); your plan grants it: create a key with %s at %s/credentials", [scope, concat(", ", sort(object.keys(input.credential.scopes))), scope, input.portal_url]) if {
	same_environment
	input.assignment.environments[input.environment]
	input.assignment.scopes[scope]
	not input.credential.scopes[scope]
}

# The reasons are worked out only for a refusal: an allowed call, the common case, skips them,
# and with else a decision evaluates one body, not both (allow has a default, so it is defined).
decision := {"allow": true, "reasons": set()} if allow
else := {"allow": false, "reasons": reasons}
