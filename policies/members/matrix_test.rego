package members_test

import rego.v1

import data.members

# Every role × action, in one table: changing who may do what means changing this table too.
# Credential actions are listed per environment; member actions on an owner are covered below.
matrix := {
	"owner": {
		"catalog.view": true, "usage.view": true, "tryit.use": true, "team.view": true, "audit.view": true,
		"member.invite": true, "member.remove": true, "member.role.change": true, "ownership.transfer": true,
		"production.request": true, "quota.request": true, "feed.read": true, "subscription.manage": true,
		"credential.create@sandbox": true, "credential.reveal@sandbox": true, "credential.rotate@sandbox": true,
		"credential.revoke@sandbox": true, "credential.use@sandbox": true,
		"credential.create@production": true, "credential.reveal@production": true, "credential.rotate@production": true,
		"credential.revoke@production": true, "credential.use@production": true,
	},
	"admin": {
		"catalog.view": true, "usage.view": true, "tryit.use": true, "team.view": true, "audit.view": true,
		"member.invite": true, "member.remove": true, "member.role.change": true, "ownership.transfer": false,
		"production.request": true, "quota.request": true, "feed.read": true, "subscription.manage": true,
		"credential.create@sandbox": true, "credential.reveal@sandbox": true, "credential.rotate@sandbox": true,
		"credential.revoke@sandbox": true, "credential.use@sandbox": true,
		"credential.create@production": true, "credential.reveal@production": true, "credential.rotate@production": true,
		"credential.revoke@production": true, "credential.use@production": true,
	},
	"developer": {
		"catalog.view": true, "usage.view": true, "tryit.use": true, "team.view": true, "audit.view": false,
		"member.invite": false, "member.remove": false, "member.role.change": false, "ownership.transfer": false,
		"production.request": false, "quota.request": false, "feed.read": true, "subscription.manage": true,
		"credential.create@sandbox": true, "credential.reveal@sandbox": true, "credential.rotate@sandbox": true,
		"credential.revoke@sandbox": true, "credential.use@sandbox": true,
		"credential.create@production": false, "credential.reveal@production": false, "credential.rotate@production": false,
		"credential.revoke@production": false, "credential.use@production": false,
	},
	"viewer": {
		"catalog.view": true, "usage.view": true, "tryit.use": false, "team.view": true, "audit.view": false,
		"member.invite": false, "member.remove": false, "member.role.change": false, "ownership.transfer": false,
		"production.request": false, "quota.request": false, "feed.read": true, "subscription.manage": true,
		"credential.create@sandbox": false, "credential.reveal@sandbox": false, "credential.rotate@sandbox": false,
		"credential.revoke@sandbox": false, "credential.use@sandbox": false,
		"credential.create@production": false, "credential.reveal@production": false, "credential.rotate@production": false,
		"credential.revoke@production": false, "credential.use@production": false,
	},
}

decide(role, key) := d.allow if {
	parts := split(key, "@")
	count(parts) == 2
	d := members.decision with input as {"role": role, "action": parts[0], "environment": parts[1], "target_role": "developer"}
}

decide(role, key) := d.allow if {
	not contains(key, "@")
	d := members.decision with input as {"role": role, "action": key, "target_role": "developer", "new_role": "viewer"}
}

mismatches contains sprintf("%s %s: got %v, want %v", [role, key, got, want]) if {
	some role, actions in matrix
	some key, want in actions
	got := decide(role, key)
	got != want
}

test_every_role_action_matches_matrix if {
	count(mismatches) == 0
}

# Acting on an owner needs an owner, whatever else the role may do.
test_every_role_acting_on_owner_matches if {
	every role in ["admin", "developer", "viewer"] {
		not members.decision.allow with input as {"role": role, "action": "member.remove", "target_role": "owner"}
		not members.decision.allow with input as {"role": role, "action": "member.role.change", "target_role": "owner", "new_role": "admin"}
	}
	members.decision.allow with input as {"role": "owner", "action": "member.remove", "target_role": "owner"}
}
