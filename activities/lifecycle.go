package activities

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/onramp-dev/onramp"
)

// BrownoutChange sets a version's windows from At on: what lay before At stays (the history the
// pages show), Windows (none starting before At) follow. With no Windows it ends the schedule.
type BrownoutChange struct {
	Product string                  `json:"product"`
	Version string                  `json:"version"`
	At      time.Time               `json:"at"`
	Windows []onramp.BrownoutWindow `json:"windows"`
}

// StoreBrownouts writes the change into the catalog, where every gateway node reads it; running
// it again gives the same windows.
func (a *Activities) StoreBrownouts(ctx context.Context, ch BrownoutChange) error {
	v, err := a.Plans.FindVersion(ctx, ch.Product, ch.Version)
	if err != nil {
		return temporalError(err)
	}
	ws := append(onramp.BrownoutsBefore(v.Brownouts, ch.At), ch.Windows...)
	return temporalError(a.Brownouts.SetBrownouts(ctx, ch.Product, ch.Version, ws))
}

// BrownoutNotice announces window Number of Count of a version's schedule.
type BrownoutNotice struct {
	Product   string                `json:"product"`
	Version   string                `json:"version"`
	Window    onramp.BrownoutWindow `json:"window"`
	Number    int                   `json:"number"`
	Count     int                   `json:"count"`
	PortalURL string                `json:"portal_url"`
}

// brownoutRecipients are the roles whose members are e-mailed: those who build and run the
// integration (viewers see the notification centre).
var brownoutRecipients = []string{onramp.RoleOwner, onramp.RoleAdmin, onramp.RoleDeveloper}

// NotifyBrownout tells every organisation assigned the product of the coming window: one entry
// in its notification centre and an e-mail to each owner, admin and developer. Each e-mail is
// claimed in the notice log before it is sent (and released if sending fails), so a retry never
// sends one twice; an address the mailer refuses is skipped. Nothing goes out for a window that
// is over or no longer scheduled, or a version that is no longer deprecated.
func (a *Activities) NotifyBrownout(ctx context.Context, n BrownoutNotice) error {
	v, err := a.Plans.FindVersion(ctx, n.Product, n.Version)
	if err != nil {
		return temporalError(err)
	}
	scheduled := slices.ContainsFunc(v.Brownouts, func(w onramp.BrownoutWindow) bool { return w.Start.Equal(n.Window.Start) && w.End.Equal(n.Window.End) })
	if v.Status != onramp.VersionDeprecated || v.Sunset == nil || !scheduled || !time.Now().Before(n.Window.End) {
		return nil
	}
	versions, err := a.Plans.ListVersions(ctx, n.Product)
	if err != nil {
		return temporalError(err)
	}
	page := onramp.MigrationPage(n.PortalURL, n.Product, n.Version)
	move := "There is no current version to move to yet; the version's page says what to do: " + page
	if s, ok := onramp.Successor(versions, v); ok {
		move = "Move to " + s.Version + " before then; what changed and how to migrate: " + page
	}
	start, end := n.Window.Start.UTC(), n.Window.End.UTC()
	title := fmt.Sprintf("Brownout of %s %s on %s, %s–%s UTC", n.Product, n.Version, start.Format("Mon 2 Jan 2006"), start.Format("15:04:05"), end.Format("15:04:05"))
	body := fmt.Sprintf("%s %s is deprecated and is retired at its sunset (%s). From %s to %s (brownout %d of %d) it answers every call "+
		"with 410 Gone, in sandbox and production, exactly as it will for good after the sunset, so that calls still using it show up now. %s",
		n.Product, n.Version, v.Sunset.UTC().Format(http.TimeFormat), start.Format(time.RFC3339), end.Format(time.RFC3339), n.Number, n.Count, move)
	orgs, err := onramp.AllOrganizations(ctx, a.Organizations)
	if err != nil {
		return temporalError(err)
	}
	for _, o := range orgs {
		as, err := a.Assignments.AssignmentsOf(ctx, o.ID)
		if err != nil {
			return temporalError(err)
		}
		if !slices.ContainsFunc(as, func(x onramp.Assignment) bool { return x.Product == n.Product }) {
			continue
		}
		id := onramp.BrownoutNoticeID(n.Product, n.Version, n.Window, o.ID)
		if err := a.Onboarding.Notify(ctx, onramp.Notification{ID: id, OrgID: o.ID, Title: title, Body: body, Link: page, At: time.Now()}); err != nil {
			return temporalError(err)
		}
		members, err := a.Team.MembersOf(ctx, o.ID)
		if err != nil {
			return temporalError(err)
		}
		for _, m := range members {
			if !slices.Contains(brownoutRecipients, m.Role) {
				continue
			}
			if err := a.mailOnce(ctx, onramp.Message{ID: id + "-" + m.IdentityID, To: m.Email, Subject: title, Text: body + "\n\n" + page + "\n"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// mailOnce sends m unless its id was claimed before; a failed send gives the claim back, and a
// message the mailer refuses (EINVALID: no plain address) is skipped rather than failing the rest.
func (a *Activities) mailOnce(ctx context.Context, m onramp.Message) error {
	_, err := a.mailOnceSent(ctx, m)
	return err
}

// mailOnceSent is mailOnce, reporting whether this call sent m.
func (a *Activities) mailOnceSent(ctx context.Context, m onramp.Message) (bool, error) {
	first, err := a.Notices.ClaimNotice(ctx, m.ID, time.Now())
	if err != nil || !first {
		return false, temporalError(err)
	}
	err = a.Mailer.Send(ctx, m)
	if err == nil {
		return true, nil
	}
	if rerr := a.Notices.ReleaseNotice(ctx, m.ID); rerr != nil {
		return false, temporalError(rerr)
	}
	if onramp.ErrorCode(err) == onramp.EINVALID {
		return false, nil
	}
	return false, temporalError(err)
}
