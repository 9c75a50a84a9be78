# Which member of a partner organisation may do what. Input:
#   {"role": "owner|admin|developer|viewer", "action": "<action>", "environment": "sandbox|production" (credential actions)}
# Result: {"allow": bool, "reasons": [string]} — reasons say why not, in words a partner can act on.
package members

import rego.v1

# Actions each role may take, whatever the environment.
grants := {
	"owner": {
		"catalog.view": true, "usage.view": true, "tryit.use": true,
		"member.invite": true, "member.remove": true, "member.role.change": true,
		"production.request": true, "quota.request": true,
	},
	"admin": {
		"catalog.view": true, "usage.view": true, "tryit.use": true,
		"member.invite": true, "member.remove": true,
		"production.request": true, "quota.request": true,
	},
	"developer": {"catalog.view": true, "usage.view": true, "tryit.use": true},
	"viewer": {"catalog.view": true, "usage.view": true},
}

# Credential actions per role and environment: developers work freely in the sandbox, while
# production keys stay with the organisation's owners and admins.
credential_grants := {
	"owner": {"sandbox": true, "production": true},
	"admin": {"sandbox": true, "production": true},
	"developer": {"sandbox": true},
}

credential_actions := {
	"credential.create": true, "credential.reveal": true,
	"credential.rotate": true, "credential.revoke": true, "credential.use": true,
}

default allow := false

allow if grants[input.role][input.action]

allow if {
	credential_actions[input.action]
	credential_grants[input.role][input.environment]
}

reasons contains sprintf("unknown role %q; roles are owner, admin, developer and viewer", [input.role]) if {
	not grants[input.role]
}

reasons contains msg if {
	grants[input.role]
	not allow
	not credential_actions[input.action]
	msg := sprintf("a %s may not %s; ask an owner or admin of your organisation", [input.role, input.action])
}

reasons contains msg if {
	grants[input.role]
	not allow
	credential_actions[input.action]
	msg := sprintf("a %s may not %s %s credentials; ask an owner or admin of your organisation", [input.role, trim_prefix(input.action, "credential."), input.environment])
}

decision := {"allow": allow, "reasons": reasons}
