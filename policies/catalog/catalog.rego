# Which products, and which of their operations, an organisation's members see in the catalog.
# The gateway decides with the same assignments and scopes, so the catalog never shows what
# production would refuse. Input:
#   {"organization": {"id", "tier", "status"},
#    "assignments": {"<product>": {"plan", "scopes": [..], "environments": [..]}},
#    "product": {"slug", "name", "retired": bool (the version asked about is past its sunset),
#                "operations": {"<operation id>": {"method", "path", "scope"}}}}
# Result: {"allow": the product exists for the organisation, "reasons": [..],
#          "operations": {"<id>": {"allow": callable with the granted scopes, "reasons": [..]}}}
# A read-only assignment hides nothing: its write operations are listed but marked unavailable,
# with the scope they need. Downloads contain only the allowed operations. A retired version
# stays listed (partners find its migration page and successor there) with none of its
# operations callable: the gateway answers them 410 Gone, by the same rule (onramp PhaseAt).
package catalog

import rego.v1

assignment := input.assignments[input.product.slug]

granted contains scope if some scope in assignment.scopes

# Products withheld whatever the assignments. The security team adds rules to this set, here or
# in another file of package catalog (e.g. `withheld contains input.product.slug if
# input.product.retired` hides retired versions instead of listing them as retired).
# None by default.
withheld contains input.product.slug if false

retired if input.product.retired == true

default visible := false

visible if {
	assignment
	not withheld[input.product.slug]
}

reasons contains sprintf("%s is not part of your organisation's plan", [input.product.slug]) if not assignment

reasons contains sprintf("%s is withheld from your organisation", [input.product.slug]) if {
	assignment
	withheld[input.product.slug]
}

operation_allowed(op) if {
	visible
	not retired
	granted[op.scope]
} else := false

operation_reasons(op) := set() if operation_allowed(op)

operation_reasons(op) := {"this version is retired: it answers 410 Gone; move to its successor"} if {
	visible
	retired
}

operation_reasons(op) := {sprintf("needs scope %s; your %s plan grants %s; request it from your provider", [op.scope, assignment.plan, concat(", ", sort(assignment.scopes))])} if {
	visible
	not retired
	not granted[op.scope]
}

operation_reasons(op) := reasons if not visible

operations[id] := {"allow": operation_allowed(op), "reasons": operation_reasons(op)} if some id, op in input.product.operations

decision := {"allow": visible, "reasons": reasons, "operations": operations}
