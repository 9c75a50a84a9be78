package catalog_test

import rego.v1

import data.catalog

payments := {"slug": "payments", "operations": {
	"listPayments": {"method": "GET", "path": "/payments", "scope": "payments:read"},
	"createPayment": {"method": "POST", "path": "/payments", "scope": "payments:write"},
}}

accounts := {"slug": "accounts", "operations": {"getAccount": {"method": "GET", "path": "/accounts/{id}", "scope": "accounts:read"}}}

insights := {"slug": "insights", "operations": {"getInsights": {"method": "GET", "path": "/insights", "scope": "insights:read"}}}

grant(plan, scopes) := {"plan": plan, "scopes": scopes, "environments": ["sandbox"]}

standard := {
	"payments": grant("standard", ["payments:read", "payments:write"]),
	"accounts": grant("standard", ["accounts:read"]),
}

premium := object.union(standard, {"insights": grant("premium", ["insights:read"])})

org := {"id": "org_1", "tier": "standard", "status": "active"}

sees(assignments, product) if catalog.decision.allow with input as {"organization": org, "assignments": assignments, "product": product}

test_standard_view_payments_allowed if sees(standard, payments)

test_standard_view_accounts_allowed if sees(standard, accounts)

test_standard_view_insights_denied if {
	d := catalog.decision with input as {"organization": org, "assignments": standard, "product": insights}
	not d.allow
	d.reasons == {"insights is not part of your organisation's plan"}
	not d.operations.getInsights.allow
}

test_premium_view_insights_allowed if sees(premium, insights)

test_premium_view_payments_allowed if sees(premium, payments)

test_readonly_write_operation_denied if {
	d := catalog.decision with input as {"organization": org, "assignments": {"payments": grant("standard", ["payments:read"])}, "product": payments}
	d.allow
	d.operations.listPayments.allow
	not d.operations.createPayment.allow
	d.operations.createPayment.reasons == {"needs scope payments:write; your standard plan grants payments:read; request it from your provider"}
}

test_full_write_operation_allowed if {
	d := catalog.decision with input as {"organization": org, "assignments": standard, "product": payments}
	d.operations.createPayment.allow
	d.operations.createPayment.reasons == set()
}

test_retired_view_allowed if {
	d := catalog.decision with input as {"organization": org, "assignments": standard, "product": object.union(payments, {"retired": true})}
	d.allow
	d.reasons == set()
}

test_retired_operation_denied if {
	d := catalog.decision with input as {"organization": org, "assignments": standard, "product": object.union(payments, {"retired": true})}
	not d.operations.listPayments.allow
	not d.operations.createPayment.allow
	d.operations.listPayments.reasons == {"this version is retired: it answers 410 Gone; move to its successor"}
}

test_retired_unassigned_view_denied if {
	d := catalog.decision with input as {"organization": org, "assignments": standard, "product": object.union(insights, {"retired": true})}
	not d.allow
	d.reasons == {"insights is not part of your organisation's plan"}
}

test_not_retired_operation_allowed if {
	d := catalog.decision with input as {"organization": org, "assignments": standard, "product": object.union(payments, {"retired": false})}
	d.operations.listPayments.allow
}

test_no_assignments_view_denied if not sees({}, payments)
