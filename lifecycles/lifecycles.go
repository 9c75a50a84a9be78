// Package lifecycles starts and signals Onramp's Temporal workflows on behalf of the portal. It
// implements the onramp interfaces for long-running lifecycles, so the api package never speaks
// Temporal itself.
package lifecycles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/workflows"
)

// Config sets the invitation timings (zero: the workflow's defaults) and the portal URL that
// e-mails link to.
type Config struct {
	PortalURL     string
	ReminderAfter time.Duration
	ExpireAfter   time.Duration
}

// Temporal drives lifecycles through a Temporal client.
type Temporal struct {
	c   client.Client
	cfg Config
}

var _ onramp.Invitations = (*Temporal)(nil)

// New returns the adapter; it fails on a nil client or a missing portal URL.
func New(c client.Client, cfg Config) (*Temporal, error) {
	if c == nil || cfg.PortalURL == "" {
		return nil, errors.New("lifecycles.New: client and PortalURL are required")
	}
	return &Temporal{c: c, cfg: cfg}, nil
}

// InvitePartner starts the organisation's invitation; ECONFLICT when one is already running.
func (t *Temporal) InvitePartner(ctx context.Context, o onramp.Organization) error {
	// The SSO client secret stays in MongoDB: workflow inputs are visible in Temporal's history.
	if o.SSO != nil {
		sso := *o.SSO
		sso.ClientSecret = ""
		o.SSO = &sso
	}
	return t.start(ctx, workflows.PartnerInvitationID(o.ID), enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, workflows.PartnerInvitationWorkflowName,
		workflows.PartnerInvitationInput{Organization: o, PortalURL: t.cfg.PortalURL, ReminderAfter: t.cfg.ReminderAfter, ExpireAfter: t.cfg.ExpireAfter},
		"an invitation for "+o.Name+" is already running")
}

// start starts a workflow under id. While one runs under it (or, with reject-duplicate, ever ran)
// it answers ECONFLICT with conflict; "" treats that as done (an idempotent start).
func (t *Temporal) start(ctx context.Context, id string, reuse enums.WorkflowIdReusePolicy, name string, input any, conflict string) error {
	_, err := t.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    reuse,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without it the SDK hands back the existing run as if this one had started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, name, input)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started) && conflict == "":
		return nil
	case errors.As(err, &started):
		return onramp.Errorf(onramp.ECONFLICT, "%s", conflict)
	case err != nil:
		return fmt.Errorf("start %s %s: %w", name, id, err)
	}
	return nil
}

// startRecorded starts a workflow that takes actions together with its UpdateStarted
// (Update-with-Start): it returns once the workflow has recorded its first step in the read model,
// so the caller reads what is there instead of polling. While one runs under id (or, with
// reject-duplicate, ever ran) it answers ECONFLICT with conflict.
func (t *Temporal) startRecorded(ctx context.Context, id string, reuse enums.WorkflowIdReusePolicy, name string, input any, conflict string) error {
	op := t.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, WorkflowIDReusePolicy: reuse,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}, name, input)
	h, err := t.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateStarted, WaitForStage: client.WorkflowUpdateStageCompleted}})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	var multi *serviceerror.MultiOperationExecution
	switch {
	case errors.As(err, &started) || (errors.As(err, &multi) && alreadyStarted(multi)):
		return onramp.Errorf(onramp.ECONFLICT, "%s", conflict)
	case err != nil:
		return fmt.Errorf("start %s %s: %w", name, id, err)
	}
	return nil
}

// alreadyStarted reports whether a multi-operation failed because the workflow id runs already.
func alreadyStarted(m *serviceerror.MultiOperationExecution) bool {
	for _, err := range m.OperationErrors() {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return true
		}
	}
	return false
}

// ResendInvitation signals a running invitation, or starts a new one when it has ended
// (expired). ECONFLICT when the organisation is already active.
func (t *Temporal) ResendInvitation(ctx context.Context, o onramp.Organization) error {
	if o.Status == onramp.OrgActive {
		return onramp.Errorf(onramp.ECONFLICT, "%s has already signed in; invite more people from the team page", o.Name)
	}
	err := t.c.SignalWorkflow(ctx, workflows.PartnerInvitationID(o.ID), "", workflows.SignalResendInvitation, nil)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return t.InvitePartner(ctx, o)
	}
	if err != nil {
		return fmt.Errorf("resend invitation: %w", err)
	}
	return nil
}

// ContactSignedIn completes the organisation's invitation; a finished one ignores it.
func (t *Temporal) ContactSignedIn(ctx context.Context, orgID string, at time.Time) error {
	err := t.c.SignalWorkflow(ctx, workflows.PartnerInvitationID(orgID), "", workflows.SignalContactSignedIn, workflows.ContactSignedIn{At: at})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	return err
}

// CancelInvitation withdraws the organisation's running invitation; ECONFLICT when none runs.
func (t *Temporal) CancelInvitation(ctx context.Context, orgID string) error {
	err := t.c.SignalWorkflow(ctx, workflows.PartnerInvitationID(orgID), "", workflows.SignalCancelInvitation, nil)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return onramp.Errorf(onramp.ECONFLICT, "the invitation is not running (it was accepted, or it has ended); re-send it to invite the organisation again")
	}
	return err
}

var _ onramp.MemberInvitations = (*Temporal)(nil)

// InviteMember starts a member invitation.
func (t *Temporal) InviteMember(ctx context.Context, inv onramp.MemberInvitation, orgName string) error {
	return t.start(ctx, workflows.MemberInvitationID(inv.ID), enums.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED, workflows.MemberInvitationWorkflowName,
		workflows.MemberInvitationInput{Invitation: inv, OrgName: orgName, PortalURL: t.cfg.PortalURL, ReminderAfter: t.cfg.ReminderAfter, ExpireAfter: t.cfg.ExpireAfter},
		"the invitation to "+inv.Email+" is already running")
}

// ResendMemberInvitation e-mails a pending invitation again; ECONFLICT when it has ended.
func (t *Temporal) ResendMemberInvitation(ctx context.Context, inv onramp.MemberInvitation) error {
	return t.signalPending(ctx, inv, workflows.SignalResendInvitation, nil)
}

// CancelMemberInvitation withdraws a pending invitation; ECONFLICT when it has ended.
func (t *Temporal) CancelMemberInvitation(ctx context.Context, inv onramp.MemberInvitation) error {
	return t.signalPending(ctx, inv, workflows.SignalCancelInvitation, nil)
}

// MemberAccepted tells the invitation that its invitee joined; a finished one ignores it.
func (t *Temporal) MemberAccepted(ctx context.Context, invitationID string) error {
	err := t.c.SignalWorkflow(ctx, workflows.MemberInvitationID(invitationID), "", workflows.SignalMemberAccepted, workflows.ContactSignedIn{})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	return err
}

func (t *Temporal) signalPending(ctx context.Context, inv onramp.MemberInvitation, signal string, arg any) error {
	if inv.Status != onramp.InvitationPending {
		return onramp.Errorf(onramp.ECONFLICT, "the invitation to %s is already %s", inv.Email, inv.Status)
	}
	err := t.c.SignalWorkflow(ctx, workflows.MemberInvitationID(inv.ID), "", signal, arg)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return onramp.Errorf(onramp.ECONFLICT, "the invitation to %s has ended; invite them again", inv.Email)
	}
	return err
}
