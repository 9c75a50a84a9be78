package onramp

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Impact, per partner: when a change affects operations of a version — a published version breaks
// them, or the version is deprecated or given a (new) sunset — every organisation assigned the
// product that called one of them in the last ImpactDays is told which of its own calls the
// change hits: each operation, what changes for it, its call count, its last call and the
// credentials that made them. The calls are the gateways' usage aggregates per version ×
// operation × UTC day (UsageLine.Uses), never a scan of call logs; an organisation that called
// none of them gets the changelog (feed, subscription mail) and no alarm.

// Impact event kinds.
const (
	ImpactBreaking   = "breaking"   // Version is published and breaks operations of the version before it
	ImpactDeprecated = "deprecated" // Version became deprecated, going at Sunset
	ImpactSunset     = "sunset"     // deprecated Version's sunset was (re)scheduled to Sunset
)

// ImpactDays is how many UTC days of calls count: today and the 29 before it. The aggregates hold
// days, so the window starts at a midnight.
const ImpactDays = 30

// ImpactWindow is the range of calls that count for an alarm raised at at: [its first day's
// midnight, at].
func ImpactWindow(at time.Time) (from, to time.Time) {
	at = at.UTC()
	return at.Truncate(24*time.Hour).AddDate(0, 0, -(ImpactDays - 1)), at
}

// ImpactEvent is one change that may affect partners' calls.
type ImpactEvent struct {
	Kind    string     `json:"kind"`
	Product string     `json:"product"`
	Version string     `json:"version"`          // the version published, deprecated or given a sunset
	Sunset  *time.Time `json:"sunset,omitempty"` // deprecated and sunset: the sunset it announces
}

// Validate returns EINVALID naming what is missing.
func (e ImpactEvent) Validate() error {
	switch {
	case e.Product == "" || e.Version == "":
		return Errorf(EINVALID, "an impact event names a product and a version")
	case e.Kind == ImpactBreaking:
		return nil
	case e.Kind != ImpactDeprecated && e.Kind != ImpactSunset:
		return Errorf(EINVALID, "impact kind %q is unknown; use breaking, deprecated or sunset", e.Kind)
	case e.Sunset == nil:
		return Errorf(EINVALID, "a %s event names the sunset", e.Kind)
	}
	return nil
}

// Key identifies what the event announces, and so its alarm: once per key and organisation.
// Deprecating a version and scheduling a sunset announce the same thing — the version goes at
// that sunset — so they share a key, and saving the same sunset again raises nothing new.
func (e ImpactEvent) Key() string {
	if e.Kind == ImpactBreaking {
		return "impact-" + e.Product + "@" + e.Version + "-breaking"
	}
	return "impact-" + e.Product + "@" + e.Version + "-sunset-" + strconv.FormatInt(e.Sunset.Unix(), 10)
}

// AffectedOperation is an operation of the version partners call that an event affects.
type AffectedOperation struct {
	Operation string   `json:"operation"` // its id in the called version
	Method    string   `json:"method"`
	Path      string   `json:"path"`
	Changes   []string `json:"changes"` // what changes for it, in words
}

// ImpactPlan is what an event affects: operations of the version whose calls count.
type ImpactPlan struct {
	Event       ImpactEvent         `json:"event"`
	ProductName string              `json:"product_name"`
	Called      string              `json:"called"`              // breaking: the version before Event.Version; otherwise Event.Version
	Successor   string              `json:"successor,omitempty"` // the version to move to ("" when none)
	Operations  []AffectedOperation `json:"operations"`          // none: nobody is alarmed
	// At ends the window of calls that count (ImpactWindow). It is set once, when the plan is
	// made, so a retry counts the same days.
	At time.Time `json:"at"`
	// Organizations are the ids of the organisations assigned the product when the plan was made.
	Organizations []string `json:"organizations"`
}

// ImpactCredential is a credential an organisation called an affected operation with.
type ImpactCredential struct {
	ID          string    `json:"id"`
	Label       string    `json:"label"`
	Environment string    `json:"environment"`
	LastCall    time.Time `json:"last_call"` // its last call of the operation
}

// OperationImpact is an organisation's calls of one affected operation in the window.
type OperationImpact struct {
	AffectedOperation
	Calls        int64              `json:"calls"`
	LastCall     time.Time          `json:"last_call"`    // to the second: the credentials' last calls
	Environments []string           `json:"environments"` // where the calls were made
	Credentials  []ImpactCredential `json:"credentials"`  // newest last call first
}

// Impact is what an event means for one organisation: its own calls of the affected operations.
type Impact struct {
	OrgID      string            `json:"org_id"`
	Event      ImpactEvent       `json:"event"`
	Called     string            `json:"called"`
	From       time.Time         `json:"from"`
	To         time.Time         `json:"to"`
	Operations []OperationImpact `json:"operations"` // most called first
}

// Calls is the organisation's calls of every affected operation.
func (i Impact) Calls() int64 {
	var n int64
	for _, op := range i.Operations {
		n += op.Calls
	}
	return n
}

// NoticeID is the id of the organisation's alarm: its notification's, and the stem of its mails'.
func (i Impact) NoticeID() string { return i.Event.Key() + "-" + i.OrgID }

// ImpactOf is what plan means for one organisation, from its usage of the product: its calls of
// the plan's operations in plan.Called on the window's days (ImpactWindow(plan.At); its last day
// whole), each operation with its calls, last call, environments and credentials (ids and last
// calls: labels are the service's).
// No operation is listed without a call; an organisation with none has an empty Impact.
func ImpactOf(plan ImpactPlan, orgID string, usage []OperationUsage) Impact {
	from, to := ImpactWindow(plan.At)
	out := Impact{OrgID: orgID, Event: plan.Event, Called: plan.Called, From: from, To: to, Operations: []OperationImpact{}}
	affected := make(map[string]AffectedOperation, len(plan.Operations))
	for _, op := range plan.Operations {
		affected[op.Operation] = op
	}
	byOp := map[string]*OperationImpact{}
	creds := map[string]map[string]ImpactCredential{}
	for _, u := range usage {
		op, ok := affected[u.Operation]
		if !ok || u.Version != plan.Called {
			continue
		}
		var calls int64
		for _, d := range u.Days {
			if !d.Day.Before(from) && !d.Day.After(to) {
				calls += d.Calls
			}
		}
		if calls == 0 {
			continue
		}
		oi := byOp[op.Operation]
		if oi == nil {
			oi = &OperationImpact{AffectedOperation: op, Environments: []string{}, Credentials: []ImpactCredential{}}
			byOp[op.Operation], creds[op.Operation] = oi, map[string]ImpactCredential{}
		}
		oi.Calls += calls
		if !slices.Contains(oi.Environments, u.Environment) {
			oi.Environments = append(oi.Environments, u.Environment)
		}
		for _, c := range u.Credentials {
			if c.LastAt.Before(from) {
				continue
			}
			if c.LastAt.After(oi.LastCall) {
				oi.LastCall = c.LastAt.UTC()
			}
			if prev, ok := creds[op.Operation][c.CredentialID]; !ok || c.LastAt.After(prev.LastCall) {
				creds[op.Operation][c.CredentialID] = ImpactCredential{ID: c.CredentialID, Environment: u.Environment, LastCall: c.LastAt.UTC()}
			}
		}
	}
	for id, oi := range byOp {
		for _, c := range creds[id] {
			oi.Credentials = append(oi.Credentials, c)
		}
		slices.SortFunc(oi.Credentials, func(a, b ImpactCredential) int {
			if c := b.LastCall.Compare(a.LastCall); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		slices.Sort(oi.Environments)
		out.Operations = append(out.Operations, *oi)
	}
	slices.SortFunc(out.Operations, func(a, b OperationImpact) int {
		if c := cmp.Compare(b.Calls, a.Calls); c != 0 {
			return c
		}
		return strings.Compare(a.Operation, b.Operation)
	})
	return out
}

// ImpactAlarm is one organisation's impact with what it is told: its notification-centre entry
// (ID: Impact.NoticeID) and the mails to its members who asked for them (each ID the notice's
// and the member's, so a retry sends none twice).
type ImpactAlarm struct {
	Impact       Impact       `json:"impact"`
	Notification Notification `json:"notification"`
	Mails        []Message    `json:"mails"`
}

// ImpactAlarms raise impact alarms durably (a Temporal workflow per event).
type ImpactAlarms interface {
	// AlarmImpact schedules the alarms of e: once per e.Key(), however often it is asked.
	// EINVALID for an invalid event; EUNAVAILABLE when it cannot be scheduled.
	AlarmImpact(ctx context.Context, e ImpactEvent) error
}

// WeekStart is the Monday 00:00 UTC that starts t's week (the migration dashboard's columns).
func WeekStart(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// String names the event as a sentence's subject, e.g. "payments v2 (breaking)".
func (e ImpactEvent) String() string {
	if e.Sunset != nil {
		return fmt.Sprintf("%s %s (%s, sunset %s)", e.Product, e.Version, e.Kind, e.Sunset.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s %s (%s)", e.Product, e.Version, e.Kind)
}
