// Package workflows holds Onramp's workflow functions. Workflows decide; activities act. This file
// holds the names (pinned, so renaming a Go function cannot break running executions), task
// queue, and the payloads of signals, updates and queries.
package workflows

import (
	"time"

	"github.com/onramp-dev/onramp"
)

// TaskQueue is the task queue every Onramp workflow and activity runs on.
const TaskQueue = "onramp"

// Registered workflow names.
const (
	SmokeWorkflowName = "onramp.Smoke"
)

// SmokeInput asks the smoke workflow to e-mail To, proving worker, activities and mail work.
type SmokeInput struct {
	To string `json:"to"`
}

// SmokeResult names the message the smoke workflow delivered.
type SmokeResult struct {
	MessageID string `json:"message_id"`
}

// UpdateStarted (no payload) answers a workflow's state once it has recorded its first step (a
// review received, a rotation's review decided, a quota request stored): the portal sends it with
// the start (Update-with-Start), so it answers with what is recorded, without polling.
const UpdateStarted = "started"

// Partner invitation: workflow id "partner-invitation-<organisation id>".
const (
	PartnerInvitationWorkflowName = "onramp.PartnerInvitation"
	// SignalContactSignedIn carries ContactSignedIn: the contact's first sign-in completes the invitation.
	SignalContactSignedIn = "contact-signed-in"
	// SignalResendInvitation (no payload) sends the invitation again and restarts its expiry.
	SignalResendInvitation = "resend-invitation"
	// QueryInvitationState answers InvitationState.
	QueryInvitationState = "state"
)

// PartnerInvitationID is the workflow id of an organisation's invitation.
func PartnerInvitationID(orgID string) string { return "partner-invitation-" + orgID }

// PartnerInvitationInput starts an invitation. Zero durations take the defaults (3 and 14 days).
type PartnerInvitationInput struct {
	Organization  onramp.Organization `json:"organization"`
	PortalURL     string              `json:"portal_url"`
	ReminderAfter time.Duration       `json:"reminder_after"`
	ExpireAfter   time.Duration       `json:"expire_after"`
}

// ContactSignedIn is the payload of SignalContactSignedIn.
type ContactSignedIn struct {
	At time.Time `json:"at"`
}

// InvitationState is the invitation as the query and the result report it.
type InvitationState struct {
	Status          string     `json:"status"` // invited, active or expired
	InvitationsSent int        `json:"invitations_sent"`
	RemindersSent   int        `json:"reminders_sent"`
	ExpiresAt       time.Time  `json:"expires_at"`
	SignedInAt      *time.Time `json:"signed_in_at,omitempty"`
	// SandboxCredential is the id of the credential issued at the first sign-in (partner invitations).
	SandboxCredential string `json:"sandbox_credential,omitempty"`
}

// Member invitation: workflow id "member-invitation-<invitation id>".
const (
	MemberInvitationWorkflowName = "onramp.MemberInvitation"
	// SignalMemberAccepted carries ContactSignedIn: the invitee signed in and joined.
	SignalMemberAccepted = "member-accepted"
	// SignalCancelInvitation (no payload) withdraws a member invitation, or a partner invitation
	// (the organisation ends expired, as if it had run out).
	SignalCancelInvitation = "cancel-invitation"
)

// MemberInvitationID is the workflow id of a member invitation.
func MemberInvitationID(invitationID string) string { return "member-invitation-" + invitationID }

// MemberInvitationInput starts a member invitation. Zero durations take the defaults.
type MemberInvitationInput struct {
	Invitation    onramp.MemberInvitation `json:"invitation"`
	OrgName       string                  `json:"org_name"`
	PortalURL     string                  `json:"portal_url"`
	ReminderAfter time.Duration           `json:"reminder_after"`
	ExpireAfter   time.Duration           `json:"expire_after"`
}

// Workflow change ids (workflow.GetVersion), so running executions replay as they were recorded.
const (
	changeFirstSandboxCredential = "first-sandbox-credential"
	// changeRefusedGrantWaits: an approval whose grant GrantProduction refuses (EINVALID, e.g. a
	// Signal wider than the request) is refused and the review waits on, instead of failing.
	changeRefusedGrantWaits = "refused-grant-waits"
	// changeVersionImpact: a version's announcement also alarms the organisations whose own calls
	// its breaking changes hit (announcements recorded before it mailed subscribers only).
	changeVersionImpact = "version-impact"
)

// Production review: workflow id "production-review-<request id>". Each action is both an Update
// (the portal: validated, answered) and a Signal of the same name and payload (the Temporal Web
// UI's signal dialog), with exactly the same effect.
const (
	ProductionReviewWorkflowName = "onramp.ProductionReview"
	ReviewClaim                  = "claim"
	ReviewApprove                = "approve"
	ReviewReject                 = "reject"
	ReviewRequestChanges         = "request-changes"
	ReviewResubmit               = "resubmit"
	// QueryReviewState answers ReviewState.
	QueryReviewState = "state"
)

// ReviewActions lists the actions in the order an admin meets them.
var ReviewActions = []string{ReviewClaim, ReviewApprove, ReviewReject, ReviewRequestChanges, ReviewResubmit}

// ProductionReviewID is the workflow id of a production request's review.
func ProductionReviewID(requestID string) string { return "production-review-" + requestID }

// ProductionReviewInput starts a review of a submitted request.
type ProductionReviewInput struct {
	RequestID string `json:"request_id"`
	OrgID     string `json:"org_id"`
	PortalURL string `json:"portal_url"`
}

// ReviewAction is the payload of every review action, e.g. for the Web UI's signal dialog:
// approve {"by": "ana@provider.example"}, reject {"by": "…", "reason": "…"},
// request-changes {"by": "…", "changes": "…"}; approve may narrow with "grants", under the
// portal's rule (onramp.ProductionRequest.Narrow): a wider one is refused, ReviewState.Refused
// says why, and the review waits for another decision.
type ReviewAction struct {
	By      string                   `json:"by"`
	Reason  string                   `json:"reason,omitempty"`
	Changes string                   `json:"changes,omitempty"`
	Grants  []onramp.ApprovedProduct `json:"grants,omitempty"`
}

// ReviewState is the review's state (query "state", and each Update's answer).
type ReviewState struct {
	Status    string    `json:"status"`
	SLADue    time.Time `json:"sla_due"`
	Reviewer  string    `json:"reviewer,omitempty"`
	Reminded  bool      `json:"reminded"`
	Escalated bool      `json:"escalated"`
	Round     int       `json:"round"` // 1, then +1 per resubmission
	// Refused is this round's last refused decision, so an admin who signalled it from the Web UI
	// can query why nothing happened (an Update gets the error itself).
	Refused *RefusedDecision `json:"refused,omitempty"`
}

// RefusedDecision is a decision the review refused when applying it: nothing was recorded.
type RefusedDecision struct {
	Action string    `json:"action"`
	By     string    `json:"by"`
	Reason string    `json:"reason"` // the field to fix, e.g. "…; grants[0].quota: …"
	At     time.Time `json:"at"`
}

// Credential rotation: workflow id "credential-rotation-<rotation id>". Actions are Updates (the
// portal) and same-name Signals (the Web UI), with an onramp.RotationAction payload, e.g. approve
// {"by": "sec@provider.example"}, extend {"by": "…", "overlap": "48h"}.
const (
	CredentialRotationWorkflowName = "onramp.CredentialRotation"
	RotationApprove                = "approve"
	RotationReject                 = "reject"
	RotationRevokeNow              = "revoke-old-now"
	RotationExtend                 = "extend"
	RotationCancel                 = "cancel"
	// QueryRotationState answers RotationState.
	QueryRotationState = "state"
)

// RotationActions lists every rotation action.
var RotationActions = []string{RotationApprove, RotationReject, RotationRevokeNow, RotationExtend, RotationCancel}

// CredentialRotationID is the workflow id of a rotation.
func CredentialRotationID(rotationID string) string { return "credential-rotation-" + rotationID }

// CredentialRotationOf is the workflow id of a credential's rotation: the id allows one running
// rotation per credential (a new one only once the last has closed).
func CredentialRotationOf(credentialID string) string { return "credential-rotation-" + credentialID }

// RotationWorkflowID is the workflow of a rotation record (rotations from before WorkflowID was
// kept ran under their own id).
func RotationWorkflowID(r onramp.Rotation) string {
	if r.WorkflowID != "" {
		return r.WorkflowID
	}
	return CredentialRotationID(r.ID)
}

// CredentialRotationInput starts a rotation (its Rotation is already stored, pending).
type CredentialRotationInput struct {
	Rotation  onramp.Rotation `json:"rotation"`
	PortalURL string          `json:"portal_url"`
	// ReviewReminder is when reviewers are reminded of a pending review (0: 24h).
	ReviewReminder time.Duration `json:"review_reminder"`
}

// RotationState is the rotation's state (query "state", and each Update's answer).
type RotationState struct {
	Status          string     `json:"status"`
	NewCredentialID string     `json:"new_credential_id,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	ReviewRequired  bool       `json:"review_required"`
}

// Quota alert: workflow id onramp.QuotaAlert.Key(), started by every gateway node that sees the
// threshold crossed; the server refuses the duplicates, so the organisation hears it once.
const QuotaAlertWorkflowName = "onramp.QuotaAlert"

// QuotaAlertInput raises one alert.
type QuotaAlertInput struct {
	Alert     onramp.QuotaAlert `json:"alert"`
	PortalURL string            `json:"portal_url"`
}

// Quota-increase review: workflow id "quota-review-<organisation id>-<product>", so one request
// per product is pending at a time. Actions are Updates (the portal) and same-name Signals (the
// Web UI) with an onramp.QuotaDecision payload, e.g. approve {"by": "ana@provider.example"} or
// {"by": "…", "limit": 50000} for another value than asked, reject {"by": "…", "reason": "…"}.
const (
	QuotaIncreaseReviewWorkflowName = "onramp.QuotaIncreaseReview"
	QuotaApprove                    = "approve"
	QuotaReject                     = "reject"
	// QueryQuotaReviewState answers the request as it stands.
	QueryQuotaReviewState = "state"
)

// QuotaActions lists the quota review's actions.
var QuotaActions = []string{QuotaApprove, QuotaReject}

// QuotaIncreaseReviewID is the workflow id of an organisation's quota review of a product.
func QuotaIncreaseReviewID(orgID, product string) string {
	return "quota-review-" + orgID + "-" + product
}

// QuotaIncreaseReviewInput starts a review; the workflow stores the request first.
type QuotaIncreaseReviewInput struct {
	Request   onramp.QuotaRequest `json:"request"`
	PortalURL string              `json:"portal_url"`
	// ReviewReminder is when reviewers are reminded of a waiting request (0: 24h).
	ReviewReminder time.Duration `json:"review_reminder"`
}

// Brownout schedule: workflow id BrownoutScheduleID(product, version), one running schedule per
// version. It stores the windows in the catalog (every gateway node reads them from there and
// compares with its clock: no gateway asks Temporal anything), e-mails the partners assigned the
// product Notice before each window, and ends after the last. Cancel is an Update (the portal)
// and a same-name Signal (the Web UI) with a BrownoutAction payload, e.g. {"by":
// "ana@provider.example"}: windows not yet over leave the catalog (one under way ends now) and no
// more notices go out.
const (
	BrownoutScheduleWorkflowName = "onramp.BrownoutSchedule"
	BrownoutCancel               = "cancel"
	// QueryBrownoutState answers BrownoutState.
	QueryBrownoutState = "state"
)

// Brownout schedule statuses.
const (
	BrownoutScheduled = "scheduled"
	BrownoutCompleted = "completed"
	BrownoutCancelled = "cancelled"
)

// BrownoutScheduleID is the workflow id of a version's brownout schedule ("@" appears in neither
// a product slug nor a version).
func BrownoutScheduleID(product, version string) string {
	return "brownouts-" + product + "@" + version
}

// BrownoutScheduleInput starts a schedule of a validated plan (onramp.BrownoutSpec.Plan).
type BrownoutScheduleInput struct {
	Plan      onramp.BrownoutPlan `json:"plan"`
	PortalURL string              `json:"portal_url"`
}

// BrownoutAction is the payload of cancel.
type BrownoutAction struct {
	By string `json:"by"`
}

// BrownoutState is the schedule's state (query "state", and each Update's answer).
type BrownoutState struct {
	Status      string                  `json:"status"` // scheduled, completed or cancelled
	Windows     []onramp.BrownoutWindow `json:"windows"`
	Notified    int                     `json:"notified"` // windows whose notice went out
	Ended       int                     `json:"ended"`    // windows over
	CancelledBy string                  `json:"cancelled_by,omitempty"`
	CancelledAt *time.Time              `json:"cancelled_at,omitempty"`
}

// Version announcement: workflow id VersionAnnouncementID, started by a publication before it
// stores the version. The id is refused while a run is open or after one completed, so each
// version is announced once; a run that failed (the version was never stored) makes room for the
// publication's retry.
const VersionAnnouncementWorkflowName = "onramp.VersionAnnouncement"

// VersionAnnouncementID is the workflow id of the announcement of product's version.
func VersionAnnouncementID(product, version string) string {
	return "version-announcement-" + onramp.VersionID(product, version)
}

// VersionAnnouncementInput names the version to announce.
type VersionAnnouncementInput struct {
	Product string `json:"product"`
	Version string `json:"version"`
}

// VersionAnnouncementResult counts the mails: sent, skipped (already sent, or the recipient no
// longer wants it or may see it) and the member ids whose mail failed for good; and the impact
// alarms of the version's breaking changes (nil in announcements from before them).
type VersionAnnouncementResult struct {
	Recipients int                  `json:"recipients"`
	Sent       int                  `json:"sent"`
	Skipped    int                  `json:"skipped"`
	Failed     []string             `json:"failed,omitempty"`
	Impact     *VersionImpactResult `json:"impact,omitempty"`
}

// Version impact: workflow id VersionImpactID(event), started when a version is deprecated or its
// sunset (re)scheduled (a published version's breaking changes are alarmed by its announcement).
// The id is refused once a run completed, so a sunset is alarmed once however often it is saved.
const VersionImpactWorkflowName = "onramp.VersionImpact"

// VersionImpactID is the workflow id of an event's alarms: the event's key.
func VersionImpactID(e onramp.ImpactEvent) string { return e.Key() }

// VersionImpactInput names the event.
type VersionImpactInput struct {
	Event onramp.ImpactEvent `json:"event"`
}

// VersionImpactResult counts what the alarms did: operations affected, organisations assessed,
// organisations alarmed and mails sent by this run, and the organisations whose batch failed
// for good.
type VersionImpactResult struct {
	Operations    int      `json:"operations"`
	Organizations int      `json:"organizations"`
	Alarmed       int      `json:"alarmed"`
	Mailed        int      `json:"mailed"`
	Failed        []string `json:"failed,omitempty"`
}
