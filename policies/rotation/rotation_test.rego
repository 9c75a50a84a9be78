package rotation_test

import rego.v1

import data.rotation

cred(env, scopes) := {"organization": {"id": "org_1"}, "credential": {"environment": env, "scopes": scopes}}

test_sandbox_write_rotation_allowed if rotation.decision.allow with input as cred("sandbox", {"payments:write": true})

test_production_readonly_rotation_allowed if rotation.decision.allow with input as cred("production", {"payments:read": true, "accounts:read": true})

test_production_write_rotation_denied if {
	d := rotation.decision with input as cred("production", {"payments:read": true, "payments:write": true})
	not d.allow
	d.reasons == {"a production key that can payments:write needs the security team's review before it is rotated"}
}
