package catalog

import (
	"context"
	"time"

	"github.com/onramp-dev/onramp"
)

// Version lifecycle in the catalog: every version the catalog returns carries its phase at the
// catalog's clock (onramp.ProductVersion.PhaseAt, the rule the gateway applies to each call), and
// the provider schedules and cancels brownouts of a deprecated version.

// stamped returns v with its phase now.
func (c *Catalog) stamped(v onramp.ProductVersion) onramp.ProductVersion {
	v.Phase = v.PhaseAt(c.cfg.Now())
	return v
}

// stampedAll returns vs, each with its phase now.
func (c *Catalog) stampedAll(vs []onramp.ProductVersion) []onramp.ProductVersion {
	out := make([]onramp.ProductVersion, len(vs))
	for i, v := range vs {
		out[i] = c.stamped(v)
	}
	return out
}

// wholeSecond drops what an HTTP-date cannot say, so the Sunset header and the moment the gateway
// starts answering 410 are the same second.
func wholeSecond(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := t.UTC().Truncate(time.Second)
	return &s
}

// ScheduleBrownouts validates spec against the version (onramp.BrownoutSpec.Plan) and starts its
// schedule, returning the plan and the version with its windows stored. EFORBIDDEN unless the
// provider acts; ENOTFOUND for an unknown version; EINVALID naming what to fix; ECONFLICT while
// another schedule of the version runs; EUNAVAILABLE without a scheduler.
func (c *Catalog) ScheduleBrownouts(ctx context.Context, a onramp.Actor, product, version string, spec onramp.BrownoutSpec) (onramp.BrownoutPlan, onramp.ProductVersion, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.BrownoutPlan{}, onramp.ProductVersion{}, err
	}
	if c.cfg.Brownouts == nil {
		return onramp.BrownoutPlan{}, onramp.ProductVersion{}, onramp.Errorf(onramp.EUNAVAILABLE, "brownouts are scheduled by the worker's Temporal workflows, which this portal is not connected to")
	}
	v, err := c.cfg.Store.FindVersion(ctx, product, version)
	if err != nil {
		return onramp.BrownoutPlan{}, v, err
	}
	p, err := spec.Plan(v, c.cfg.Now())
	if err != nil {
		return p, v, err
	}
	p.By = a.Email
	if err := c.cfg.Brownouts.StartBrownouts(ctx, p); err != nil {
		return p, v, err
	}
	c.refresh(ctx, product) // the workflow stored the windows; the snapshot rereads them now
	v, err = c.cfg.Store.FindVersion(ctx, product, version)
	return p, c.stamped(v), err
}

// CancelBrownouts ends the version's running schedule: its windows not yet over leave the catalog
// (one under way ends now) and no more notices go out. It returns the version as it is then.
// EFORBIDDEN unless the provider acts; ENOTFOUND for an unknown version; ECONFLICT when no
// schedule runs; EUNAVAILABLE without a scheduler.
func (c *Catalog) CancelBrownouts(ctx context.Context, a onramp.Actor, product, version string) (onramp.ProductVersion, error) {
	if err := onramp.RequireProvider(a); err != nil {
		return onramp.ProductVersion{}, err
	}
	if c.cfg.Brownouts == nil {
		return onramp.ProductVersion{}, onramp.Errorf(onramp.EUNAVAILABLE, "brownouts are scheduled by the worker's Temporal workflows, which this portal is not connected to")
	}
	v, err := c.cfg.Store.FindVersion(ctx, product, version)
	if err != nil {
		return v, err
	}
	if err := c.cfg.Brownouts.CancelBrownouts(ctx, product, version, a.Email); err != nil {
		return v, err
	}
	c.refresh(ctx, product)
	v, err = c.cfg.Store.FindVersion(ctx, product, version)
	return c.stamped(v), err
}

// stopBrownouts cancels the schedule of a version that is no longer deprecated. Its windows
// already no longer apply (PhaseAt), and its notices check the status before going out, so a
// failure here (none running, Temporal away) leaves nothing a partner would meet.
func (c *Catalog) stopBrownouts(ctx context.Context, v onramp.ProductVersion) {
	if c.cfg.Brownouts == nil || len(v.Brownouts) == 0 {
		return
	}
	_ = c.cfg.Brownouts.CancelBrownouts(ctx, v.Product, v.Version, "catalog: "+v.Version+" is "+v.Status+" again")
}

// goneWillAnswer is try-it's prediction for a version the gateway answers 410 Gone at now (the
// same PhaseAt); nil when it does not.
func goneWillAnswer(v onramp.ProductVersion, now time.Time) *Prediction {
	switch v.PhaseAt(now) {
	case onramp.PhaseRetired:
		return &Prediction{Reasons: []string{v.Version + " is retired"}, Message: v.Version + " is past its sunset: the gateway will answer 410 Gone"}
	case onramp.PhaseBrownout:
		return &Prediction{Reasons: []string{v.Version + " is in a brownout"}, Message: v.Version + " is in a scheduled brownout: the gateway will answer 410 Gone until it ends"}
	}
	return nil
}
