// Package activities holds Onramp's Temporal activities: methods on *Activities, whose fields are
// the injected dependencies. Every activity is idempotent (it may run more than once).
package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/sla"
)

// Activities carries the dependencies of every activity.
type Activities struct {
	Mailer        onramp.Mailer
	Organizations onramp.OrganizationStore
	Members       onramp.MemberStore
	Identities    onramp.Identities
	Team          onramp.TeamStore
	Sessions      onramp.Sessions
	Credentials   Credentials
	// Production reviews.
	Requests       onramp.ProductionRequestStore
	Onboarding     onramp.OnboardingStore
	Plans          onramp.CatalogStore
	Assignments    onramp.AssignmentStore
	Calendar       sla.Calendar
	ReviewersEmail string // where reviewer reminders and escalations go; may be empty
	// Credential rotations.
	CredentialStore onramp.CredentialStore
	Rotations       onramp.RotationStore
	Policy          onramp.Policy
	// Quota requests.
	QuotaRequests onramp.QuotaRequestStore
	// Brownout schedules: the versions' windows, and which notices went out.
	Brownouts onramp.BrownoutStore
	Notices   onramp.NoticeLog
	// Version announcements: who hears of a version, and which of their mails went out.
	Announcer  Announcer
	Deliveries onramp.DeliveryLog
	// Impact alarms: which organisations' own calls a change hits (their mails claimed in Notices).
	Impacts Impacts
}

// Credentials issues organisations' credentials (credentials.Service).
type Credentials interface {
	IssueFirstSandbox(ctx context.Context, orgID string) (onramp.Credential, error)
	IssueFirstProduction(ctx context.Context, orgID string) (onramp.Credential, error)
	IssueRotated(ctx context.Context, orgID, oldID, newID string) (onramp.Credential, error)
}

// New returns a copy of deps ready to register; it fails on a missing dependency.
func New(deps Activities) (*Activities, error) {
	if deps.Mailer == nil || deps.Organizations == nil || deps.Members == nil || deps.Identities == nil || deps.Team == nil || deps.Sessions == nil || deps.Credentials == nil ||
		deps.Requests == nil || deps.Onboarding == nil || deps.Plans == nil || deps.Assignments == nil || deps.Calendar.Location == nil ||
		deps.CredentialStore == nil || deps.Rotations == nil || deps.Policy == nil || deps.QuotaRequests == nil || deps.Brownouts == nil || deps.Notices == nil ||
		deps.Announcer == nil || deps.Deliveries == nil || deps.Impacts == nil {
		return nil, errors.New("activities.New: Mailer, Organizations, Members, Identities, Team, Sessions, Credentials, Requests, Onboarding, Plans, Assignments, Calendar, CredentialStore, Rotations, Policy, QuotaRequests, Brownouts, Notices, Announcer, Deliveries and Impacts are required")
	}
	return &deps, nil
}

// temporalError maps onramp error codes to Temporal: a caller's mistake will not fix itself on
// retry, so EINVALID, ENOTFOUND, EFORBIDDEN and ECONFLICT are non-retryable, typed with the code
// and with the located problems in the message (what the workflow and the Web UI show).
func temporalError(err error) error {
	switch code := onramp.ErrorCode(err); code {
	case "":
		return nil
	case onramp.EINVALID, onramp.ENOTFOUND, onramp.EFORBIDDEN, onramp.ECONFLICT:
		msg := onramp.ErrorMessage(err)
		for _, d := range onramp.ErrorDetails(err) {
			msg += "; " + d.Location + ": " + d.Message
		}
		return temporal.NewNonRetryableApplicationError(msg, code, err)
	default:
		return err
	}
}
