package gateway_test

import rego.v1

import data.gateway

base := {
	"environment": "sandbox",
	"portal_url": "http://portal.test",
	"credential": {"org_id": "org_1", "environment": "sandbox", "scopes": ["payments:read", "payments:write"]},
	"assignment": {"plan": "standard", "scopes": ["payments:read", "payments:write"], "environments": ["sandbox"]},
	"product": "payments",
	"operation": {"id": "createPayment", "method": "POST", "path": "/payments", "scope": "payments:write"},
}

test_sandbox_key_write_allowed if gateway.decision.allow with input as base

test_readonly_key_write_denied if {
	d := gateway.decision with input as object.union(base, {"credential": {"org_id": "org_1", "environment": "sandbox", "scopes": ["payments:read"]}})
	not d.allow
	d.reasons == {"credential lacks scope payments:write (it has payments:read); your plan grants it: create a key with payments:write at http://portal.test/credentials"}
}

test_plan_without_scope_denied if {
	d := gateway.decision with input as object.union(base, {"operation": {"id": "refundPayment", "method": "POST", "path": "/payments/{id}/refunds", "scope": "payments:refund"}})
	not d.allow
	d.reasons == {"credential lacks scope payments:refund; your standard plan grants payments:read, payments:write; request access at http://portal.test/catalog/payments"}
}

test_sandbox_key_on_production_denied if {
	d := gateway.decision with input as object.union(base, {"environment": "production"})
	not d.allow
	d.reasons == {"this is a sandbox key; the production gateway takes production keys"}
}

test_production_without_access_denied if {
	d := gateway.decision with input as object.union(base, {"environment": "production", "credential": {"org_id": "org_1", "environment": "production", "scopes": ["payments:write"]}})
	not d.allow
	d.reasons == {"your organisation has no production access to payments; request it at http://portal.test/production"}
}

test_production_with_access_allowed if {
	gateway.decision.allow with input as object.union(base, {
		"environment": "production",
		"credential": {"org_id": "org_1", "environment": "production", "scopes": ["payments:write"]},
		"assignment": {"plan": "standard", "scopes": ["payments:write"], "environments": ["sandbox", "production"]},
	})
}
