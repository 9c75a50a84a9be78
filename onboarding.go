package onramp

import (
	"context"
	"time"
)

// Notification is one entry of an organisation's (or the provider's) notification centre.
type Notification struct {
	ID    string    `json:"id" bson:"_id"` // idempotency key: a retried activity writes it once
	OrgID string    `json:"org_id" bson:"org_id"`
	Title string    `json:"title" bson:"title"`
	Body  string    `json:"body" bson:"body"`
	Link  string    `json:"link,omitempty" bson:"link,omitempty"`
	At    time.Time `json:"at" bson:"at"`
}

// ProviderInbox is the OrgID of the provider's own notifications (reviewer reminders, escalations).
const ProviderInbox = "provider"

// Funnel stages, in order: the onboarding journey the seed measures.
const (
	StageInvited             = "invited"
	StageFirstSignIn         = "first_sign_in"
	StageFirstSandboxCall    = "first_sandbox_call"
	StageProductionRequested = "production_requested"
	StageApproved            = "approved"
	StageFirstProductionCall = "first_production_call"
)

// FunnelStages lists the stages in order.
var FunnelStages = []string{StageInvited, StageFirstSignIn, StageFirstSandboxCall, StageProductionRequested, StageApproved, StageFirstProductionCall}

// Journey is when an organisation reached each funnel stage.
type Journey struct {
	OrgID  string               `json:"org_id" bson:"_id"`
	Stages map[string]time.Time `json:"stages" bson:"stages"`
}

// OnboardingStore keeps notifications and the onboarding funnel.
type OnboardingStore interface {
	// Notify stores n once (by ID).
	Notify(ctx context.Context, n Notification) error
	// NotificationsOf lists the newest notifications of an organisation (or ProviderInbox).
	NotificationsOf(ctx context.Context, orgID string, limit int) ([]Notification, error)
	// ReachStage records when the organisation first reached a stage; later calls keep the first time.
	ReachStage(ctx context.Context, orgID, stage string, at time.Time) error
	// Journeys lists every organisation's journey.
	Journeys(ctx context.Context) ([]Journey, error)
}
