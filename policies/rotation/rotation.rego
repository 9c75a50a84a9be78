# Whether rotating a credential may proceed at once, or waits for the security team's review.
# Default: production credentials with any scope beyond reading are elevated. Input:
#   {"organization": {"id"}, "credential": {"environment", "scopes": {"<scope>": true, …}}}
# Result: {"allow": true when no review is needed, "reasons": why a review is needed}.
package rotation

import rego.v1

write_scopes contains s if {
	some s, _ in input.credential.scopes
	not endswith(s, ":read")
}

elevated if {
	input.credential.environment == "production"
	count(write_scopes) > 0
}

default allow := false

allow if not elevated

reasons contains sprintf("a production key that can %s needs the security team's review before it is rotated", [concat(", ", sort(write_scopes))]) if elevated

decision := {"allow": allow, "reasons": reasons}
