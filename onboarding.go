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
	// NotificationsOf returns a page of an organisation's (or ProviderInbox's) notifications,
	// newest first.
	NotificationsOf(ctx context.Context, orgID string, page PageRequest) (Page[Notification], error)
	// ReachStage records when the organisation first reached a stage; later calls keep the first
	// time. The funnel's counters take the stage in once, whichever node records it.
	ReachStage(ctx context.Context, orgID, stage string, at time.Time) error
	// Journeys returns a page of the organisations' journeys, by organisation id.
	Journeys(ctx context.Context, page PageRequest) (Page[Journey], error)
	// FunnelStats returns the funnel's counters, kept as stages are reached.
	FunnelStats(ctx context.Context) (FunnelStats, error)
}

// Position is where n sits in its inbox: newest first.
func (n Notification) Position() Position { return Position{Key: NewestFirst(n.At), ID: n.ID} }

// Position is where j sits in the funnel's list of journeys: by organisation id.
func (j Journey) Position() Position { return Position{ID: j.OrgID} }
