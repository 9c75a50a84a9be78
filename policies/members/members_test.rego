package members_test

import rego.v1

import data.members

test_owner_change_role_allowed if members.decision.allow with input as {"role": "owner", "action": "member.role.change"}

test_admin_change_owner_role_denied if not members.decision.allow with input as {"role": "admin", "action": "member.role.change", "target_role": "owner", "new_role": "admin"}

test_admin_invite_allowed if members.decision.allow with input as {"role": "admin", "action": "member.invite"}

test_developer_invite_denied if {
	d := members.decision with input as {"role": "developer", "action": "member.invite"}
	not d.allow
	d.reasons == {"a developer may not member.invite; ask an owner or admin of your organisation"}
}

test_developer_sandbox_create_allowed if members.decision.allow with input as {"role": "developer", "action": "credential.create", "environment": "sandbox"}

test_developer_production_reveal_denied if {
	d := members.decision with input as {"role": "developer", "action": "credential.reveal", "environment": "production"}
	not d.allow
	d.reasons == {"a developer may not reveal production credentials; ask an owner or admin of your organisation"}
}

test_admin_production_rotate_allowed if members.decision.allow with input as {"role": "admin", "action": "credential.rotate", "environment": "production"}

test_viewer_sandbox_use_denied if not members.decision.allow with input as {"role": "viewer", "action": "credential.use", "environment": "sandbox"}

test_viewer_usage_view_allowed if members.decision.allow with input as {"role": "viewer", "action": "usage.view"}

test_stranger_view_denied if {
	d := members.decision with input as {"role": "stranger", "action": "catalog.view"}
	not d.allow
	count(d.reasons) == 1
}

test_owner_missing_environment_denied if not members.decision.allow with input as {"role": "owner", "action": "credential.create"}

test_admin_remove_developer_allowed if members.decision.allow with input as {"role": "admin", "action": "member.remove", "target_role": "developer"}

test_admin_remove_owner_denied if {
	d := members.decision with input as {"role": "admin", "action": "member.remove", "target_role": "owner"}
	not d.allow
	d.reasons == {"only an owner may remove or change an owner"}
}

test_owner_remove_owner_allowed if members.decision.allow with input as {"role": "owner", "action": "member.remove", "target_role": "owner"}

test_admin_role_change_developer_allowed if members.decision.allow with input as {"role": "admin", "action": "member.role.change", "target_role": "developer", "new_role": "viewer"}

test_owner_role_change_to_owner_denied if {
	d := members.decision with input as {"role": "owner", "action": "member.role.change", "target_role": "admin", "new_role": "owner"}
	not d.allow
	d.reasons == {"make someone owner by transferring ownership"}
}

test_admin_transfer_denied if not members.decision.allow with input as {"role": "admin", "action": "ownership.transfer"}

test_owner_transfer_allowed if members.decision.allow with input as {"role": "owner", "action": "ownership.transfer"}

test_viewer_team_view_allowed if members.decision.allow with input as {"role": "viewer", "action": "team.view"}

test_developer_audit_view_denied if not members.decision.allow with input as {"role": "developer", "action": "audit.view"}

test_viewer_invite_denied if not members.decision.allow with input as {"role": "viewer", "action": "member.invite"}

test_viewer_feed_read_allowed if members.decision.allow with input as {"role": "viewer", "action": "feed.read"}

test_viewer_subscription_manage_allowed if members.decision.allow with input as {"role": "viewer", "action": "subscription.manage"}

test_developer_feed_read_allowed if members.decision.allow with input as {"role": "developer", "action": "feed.read"}

test_stranger_feed_read_denied if {
	d := members.decision with input as {"role": "stranger", "action": "feed.read"}
	not d.allow
	count(d.reasons) == 1
}

test_stranger_subscription_manage_denied if not members.decision.allow with input as {"role": "stranger", "action": "subscription.manage"}
