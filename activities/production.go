package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// ReviewStep is one step of a production request's review, as the workflow decided it.
type ReviewStep struct {
	RequestID string    `json:"request_id"`
	OrgID     string    `json:"org_id"`
	Status    string    `json:"status"`
	By        string    `json:"by"`
	Note      string    `json:"note,omitempty"`
	At        time.Time `json:"at"`
	SLADue    time.Time `json:"sla_due"`
	Reviewer  string    `json:"reviewer,omitempty"`
	PortalURL string    `json:"portal_url"`
	MessageID string    `json:"message_id"` // idempotency key of the notification and e-mails
}

// ReviewDue is when a request submitted at `at` must be decided, on the provider's calendar.
func (a *Activities) ReviewDue(_ context.Context, at time.Time) (time.Time, error) {
	return a.Calendar.Due(at).UTC(), nil
}

var stepTitles = map[string]string{
	onramp.RequestReceived:         "Production request received",
	onramp.RequestInReview:         "Production request in review",
	onramp.RequestApproved:         "Production access approved",
	onramp.RequestRejected:         "Production request rejected",
	onramp.RequestChangesRequested: "Changes requested on your production request",
}

// RecordReviewStep stores the step in the request's timeline (once), moves the funnel, and tells
// the organisation's owners and admins (e-mail and notification centre).
func (a *Activities) RecordReviewStep(ctx context.Context, s ReviewStep) error {
	r, err := a.Requests.FindProductionRequest(ctx, s.RequestID)
	if err != nil {
		return temporalError(err)
	}
	step := onramp.StatusChange{Status: s.Status, At: s.At.UTC().Truncate(time.Millisecond), By: s.By, Note: s.Note}
	if !slices.ContainsFunc(r.History, func(h onramp.StatusChange) bool { return h.Status == step.Status && h.At.Equal(step.At) }) {
		r.History = append(r.History, step)
	}
	r.Status, r.Reviewer = s.Status, s.Reviewer
	due := s.SLADue.UTC()
	r.SLADue = &due
	if s.Status == onramp.RequestReceived {
		r.SubmittedAt = &step.At
	}
	if err := a.Requests.SaveProductionRequest(ctx, r); err != nil {
		return temporalError(err)
	}
	switch s.Status {
	case onramp.RequestReceived:
		err = a.Onboarding.ReachStage(ctx, s.OrgID, onramp.StageProductionRequested, s.At)
	case onramp.RequestApproved:
		err = a.Onboarding.ReachStage(ctx, s.OrgID, onramp.StageApproved, s.At)
	}
	if err != nil {
		return temporalError(err)
	}
	body := map[string]string{
		onramp.RequestReceived:         "We received your request. Expect a decision by " + due.Format("Mon 2 Jan 2006, 15:04 MST") + ".",
		onramp.RequestInReview:         s.By + " is reviewing your request.",
		onramp.RequestApproved:         "Production access is granted (" + s.Note + "). Your first production key is ready on the Credentials page.",
		onramp.RequestRejected:         "Reason: " + s.Note + " You can submit a new request.",
		onramp.RequestChangesRequested: "Please change: " + s.Note + " Then resubmit the request.",
	}[s.Status]
	link := s.PortalURL + "/production?org=" + s.OrgID
	return a.notifyOrg(ctx, s.OrgID, onramp.Notification{ID: s.MessageID, OrgID: s.OrgID, Title: stepTitles[s.Status], Body: body, Link: link, At: s.At})
}

// notifyOrg stores the notification and e-mails the organisation's owners and admins.
func (a *Activities) notifyOrg(ctx context.Context, orgID string, n onramp.Notification) error {
	if err := a.Onboarding.Notify(ctx, n); err != nil {
		return temporalError(err)
	}
	members, err := a.Team.MembersOf(ctx, orgID)
	if err != nil {
		return temporalError(err)
	}
	for _, m := range members {
		if m.Role != onramp.RoleOwner && m.Role != onramp.RoleAdmin {
			continue
		}
		msg := onramp.Message{ID: n.ID + "-" + m.IdentityID, To: m.Email, Subject: n.Title, Text: n.Body + "\n\n" + n.Link + "\n"}
		if err := a.Mailer.Send(ctx, msg); err != nil {
			return temporalError(err)
		}
	}
	return nil
}

// ReviewerNotice is a reminder (half the SLA gone) or an escalation (SLA breached) to reviewers.
type ReviewerNotice struct {
	RequestID string    `json:"request_id"`
	OrgID     string    `json:"org_id"`
	Kind      string    `json:"kind"` // reminder or escalation
	SLADue    time.Time `json:"sla_due"`
	PortalURL string    `json:"portal_url"`
	MessageID string    `json:"message_id"`
}

// NotifyReviewers tells the provider's reviewers (REVIEWERS_EMAIL and the admin notifications).
func (a *Activities) NotifyReviewers(ctx context.Context, n ReviewerNotice) error {
	org, err := a.Organizations.FindOrganization(ctx, n.OrgID)
	if err != nil {
		return temporalError(err)
	}
	title := "Reminder: production request of " + org.Name + " is due " + n.SLADue.UTC().Format("Mon 2 Jan 15:04 MST")
	if n.Kind == "escalation" {
		title = "SLA breached: production request of " + org.Name + " was due " + n.SLADue.UTC().Format("Mon 2 Jan 15:04 MST")
	}
	link := n.PortalURL + "/admin/reviews#" + n.RequestID
	if err := a.Onboarding.Notify(ctx, onramp.Notification{ID: n.MessageID, OrgID: onramp.ProviderInbox, Title: title, Body: "Claim and decide it in the review queue.", Link: link, At: time.Now()}); err != nil {
		return temporalError(err)
	}
	if a.ReviewersEmail == "" {
		return nil
	}
	return temporalError(a.Mailer.Send(ctx, onramp.Message{ID: n.MessageID, To: a.ReviewersEmail, Subject: title, Text: "Claim and decide it in the review queue:\n" + link + "\n"}))
}

// GrantInput is what an approval grants: the given products, or else everything requested.
type GrantInput struct {
	RequestID string                   `json:"request_id"`
	OrgID     string                   `json:"org_id"`
	Grants    []onramp.ApprovedProduct `json:"grants,omitempty"`
}

// GrantProduction adds production to the organisation's assignment of each approved product (the
// plan's scopes and quota unless the approval narrows them), records what was granted on the
// request, and returns a summary. The grants are checked first, all of them, under the portal's
// rule (onramp.ProductionRequest.Narrow against the plans as they are now), because a Signal from
// the Web UI reaches the review without the portal: anything wider is a non-retryable EINVALID
// naming the field, and nothing is written. Idempotent: it sets the same assignments again.
func (a *Activities) GrantProduction(ctx context.Context, in GrantInput) (string, error) {
	r, err := a.Requests.FindProductionRequest(ctx, in.RequestID)
	if err != nil {
		return "", temporalError(err)
	}
	plans, err := a.Plans.ListPlans(ctx)
	if err != nil {
		return "", temporalError(err)
	}
	grants, err := r.Narrow(plans, onramp.Approval{Grants: in.Grants})
	if err != nil {
		return "", temporalError(err)
	}
	if len(grants) == 0 {
		for _, p := range r.Products {
			grants = append(grants, onramp.ApprovedProduct{Product: p.Product, Plan: p.Plan})
		}
	}
	assignments := make([]onramp.Assignment, 0, len(grants))
	for _, g := range grants {
		i := slices.IndexFunc(plans, func(p onramp.Plan) bool { return p.Name == g.Plan })
		if i < 0 {
			return "", temporalError(onramp.Errorf(onramp.EINVALID, "plan %q is unknown", g.Plan))
		}
		def, ok := plans[i].Products[g.Product]
		if !ok {
			return "", temporalError(onramp.Errorf(onramp.EINVALID, "plan %s does not include %s", g.Plan, g.Product))
		}
		grant := onramp.Grant{Scopes: def.Scopes, Environments: []string{onramp.Sandbox, onramp.Production}, Quota: def.Quota, RateLimit: def.RateLimit}
		if len(g.Scopes) > 0 {
			grant.Scopes = g.Scopes
		}
		if g.Quota != nil {
			grant.Quota = *g.Quota
		}
		if err := grant.Validate(); err != nil {
			return "", temporalError(err)
		}
		assignments = append(assignments, onramp.Assignment{OrgID: in.OrgID, Product: g.Product, Plan: g.Plan, Grant: grant})
	}
	var summary []string
	for _, as := range assignments {
		as.UpdatedAt = time.Now()
		if err := a.Assignments.SaveAssignment(ctx, as); err != nil {
			return "", temporalError(err)
		}
		summary = append(summary, fmt.Sprintf("%s on %s: %s, %d calls/%s", as.Product, as.Plan, strings.Join(as.Scopes, " "), as.Quota.Limit, as.Quota.Period))
		q := as.Quota
		g := onramp.ApprovedProduct{Product: as.Product, Plan: as.Plan, Scopes: as.Scopes, Quota: &q}
		r.Approved = append(slices.DeleteFunc(r.Approved, func(x onramp.ApprovedProduct) bool { return x.Product == g.Product }), g)
	}
	if err := a.Requests.SaveProductionRequest(ctx, r); err != nil {
		return "", temporalError(err)
	}
	return strings.Join(summary, "; "), nil
}

// IssueProductionCredential issues the organisation's first production key, once.
func (a *Activities) IssueProductionCredential(ctx context.Context, orgID string) (string, error) {
	c, err := a.Credentials.IssueFirstProduction(ctx, orgID)
	if err != nil {
		return "", temporalError(err)
	}
	return c.ID, nil
}
