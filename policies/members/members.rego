# Which member of a partner organisation may do what. Input:
#   {"role": "<actor's role>", "action": "<action>",
#    "environment": "sandbox|production" (credential actions),
#    "target_role": "<role of the member acted on>" (member.remove, member.role.change)}
# Result: {"allow": bool, "reasons": [string]} — reasons say why not, in words a partner can act on.
package members

import rego.v1

# Actions each role may take, whatever the environment. Every member may follow the catalog they
# see: read its feeds (feed.read, with a feed token of their own) and choose their own e-mail
# subscriptions (subscription.manage).
grants := {
	"owner": {
		"catalog.view": true, "usage.view": true, "tryit.use": true, "team.view": true, "audit.view": true,
		"member.invite": true, "member.remove": true, "member.role.change": true, "ownership.transfer": true,
		"production.request": true, "quota.request": true,
		"feed.read": true, "subscription.manage": true,
	},
	"admin": {
		"catalog.view": true, "usage.view": true, "tryit.use": true, "team.view": true, "audit.view": true,
		"member.invite": true, "member.remove": true, "member.role.change": true,
		"production.request": true, "quota.request": true,
		"feed.read": true, "subscription.manage": true,
	},
	"developer": {
		"catalog.view": true, "usage.view": true, "tryit.use": true, "team.view": true,
		"feed.read": true, "subscription.manage": true,
	},
	"viewer": {"catalog.view": true, "usage.view": true, "team.view": true, "feed.read": true, "subscription.manage": true},
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

# Actions on another member: only an owner may act on an owner, or make someone one.
member_actions := {"member.remove": true, "member.role.change": true}

protects_owner if {
	member_actions[input.action]
	input.target_role == "owner"
	input.role != "owner"
}

protects_owner if makes_owner

makes_owner if {
	input.action == "member.role.change"
	input.new_role == "owner"
}

default allow := false

allow if {
	grants[input.role][input.action]
	not protects_owner
}

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
	not protects_owner
	msg := sprintf("a %s may not %s; ask an owner or admin of your organisation", [input.role, input.action])
}

reasons contains "only an owner may remove or change an owner" if {
	grants[input.role]
	not makes_owner
	protects_owner
}

reasons contains "make someone owner by transferring ownership" if {
	grants[input.role]
	makes_owner
}

reasons contains msg if {
	grants[input.role]
	not allow
	credential_actions[input.action]
	msg := sprintf("a %s may not %s %s credentials; ask an owner or admin of your organisation", [input.role, trim_prefix(input.action, "credential."), input.environment])
}

decision := {"allow": allow, "reasons": reasons}
