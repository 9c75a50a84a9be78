package gateway_test

import rego.v1

import data.gateway

# call builds an input; object.union would merge the scope objects instead of replacing them.
call(env, cred_env, cred_scopes, plan_scopes, plan_envs, op_scope) := {
	"environment": env,
	"portal_url": "http://portal.test",
	"credential": {"org_id": "org_1", "environment": cred_env, "scopes": cred_scopes},
	"assignment": {"plan": "standard", "scopes": plan_scopes, "environments": plan_envs},
	"product": "payments",
	"operation": {"id": "op", "method": "POST", "path": "/payments", "scope": op_scope},
}

rw := {"payments:read": true, "payments:write": true}

sandbox := {"sandbox": true}

test_sandbox_key_write_allowed if gateway.decision.allow with input as call("sandbox", "sandbox", rw, rw, sandbox, "payments:write")

test_readonly_key_write_denied if {
	d := gateway.decision with input as call("sandbox", "sandbox", {"payments:read": true}, rw, sandbox, "payments:write")
	not d.allow
	d.reasons == {"credential lacks scope payments:write (it has payments:read); your plan grants it: create a key with payments:write at http://portal.test/credentials"}
}

test_plan_without_scope_denied if {
	d := gateway.decision with input as call("sandbox", "sandbox", rw, rw, sandbox, "payments:refund")
	not d.allow
	d.reasons == {"credential lacks scope payments:refund; your standard plan grants payments:read, payments:write; request access at http://portal.test/catalog/payments"}
}

test_sandbox_key_on_production_denied if {
	d := gateway.decision with input as call("production", "sandbox", rw, rw, sandbox, "payments:write")
	not d.allow
	d.reasons == {"this is a sandbox key; the production gateway takes production keys"}
}

test_production_without_access_denied if {
	d := gateway.decision with input as call("production", "production", rw, rw, sandbox, "payments:write")
	not d.allow
	d.reasons == {"your organisation has no production access to payments; request it at http://portal.test/production"}
}

test_production_with_access_allowed if {
	gateway.decision.allow with input as call("production", "production", rw, rw, {"sandbox": true, "production": true}, "payments:write")
}
