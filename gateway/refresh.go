package gateway

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/changefeed"
)

// How the caches follow the store. With a change feed the refresher reads the last moments'
// changes every feedPoll (see internal/changefeed) and reloads
// only what changed, so a revocation reaches every node within about feedPoll plus a store round
// trip. After an outage longer than the feed keeps changes, or without a feed, it reloads
// everything cached. While the store is unreachable the caches keep serving what they hold.
const feedPoll = 250 * time.Millisecond

// refresh runs the refresher until ctx ends.
func (g *Gateway) refresh(ctx context.Context) {
	every := g.cfg.RefreshEvery
	if g.cfg.Changes != nil {
		every = feedPoll
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var feed *changefeed.Reader
	if g.cfg.Changes != nil {
		feed = changefeed.NewReader(g.cfg.Changes, g.cfg.Now())
	}
	policy := g.policyVersion()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if v := g.policyVersion(); v != policy { // decisions follow a policy reload at once
			policy = v
			g.decisions.remove(func(string) bool { return true })
			g.visible.remove(func(string) bool { return true })
		}
		g.reloadSunsetRoutes(ctx)
		var err error
		if g.cfg.Changes == nil {
			err = g.reloadAll(ctx)
		} else {
			err = feed.Read(ctx, g.cfg.Now(), g.reloadAll, g.apply)
		}
		was := g.storeUp.Swap(err == nil)
		g.cfg.Metrics.store(g.cfg.Environment, err == nil)
		switch {
		case err != nil && was && ctx.Err() == nil:
			g.cfg.Logger.Warn("the store is unreachable; serving what is cached", "environment", g.cfg.Environment, "error", err)
		case err == nil && !was:
			g.cfg.Logger.Info("the store answers again", "environment", g.cfg.Environment)
		}
	}
}

// apply reloads what one change names, if it is cached.
func (g *Gateway) apply(ctx context.Context, c onramp.Change) {
	switch c.Kind {
	case onramp.ChangeCredential:
		if err := g.reloadCredential(ctx, c.Key, g.credentialKeys()[c.Key]); err != nil {
			g.cfg.Logger.Warn("reload a changed credential", "credential", c.Key, "error", err)
		}
	case onramp.ChangeAssignments:
		if _, _, cached := g.assignments.lookup(c.Key); cached {
			as, err := g.cfg.Assignments.AssignmentsOf(ctx, c.Key)
			if err == nil {
				g.assignments.replace(c.Key, as, nil)
			}
		}
		g.visible.remove(func(k string) bool { return strings.HasPrefix(k, c.Key+"\x00") })
	case onramp.ChangeOrganization:
		if _, _, cached := g.orgs.lookup(c.Key); cached {
			o, err := g.cfg.Organizations.FindOrganization(ctx, c.Key)
			if err == nil || onramp.ErrorCode(err) == onramp.ENOTFOUND {
				g.orgs.replace(c.Key, o, err)
			}
		}
		g.visible.remove(func(k string) bool { return strings.HasPrefix(k, c.Key+"\x00") })
	case onramp.ChangeProduct:
		for key := range g.routes.snapshot() {
			if slug, version, _ := strings.Cut(key, "/"); slug == c.Key {
				if err := g.reloadRoute(ctx, slug, version); err != nil {
					g.cfg.Logger.Warn("reload a changed product", "product", slug, "error", err)
				}
			}
		}
	}
}

// credentialKeys maps each cached credential's id to its cache keys (key hash, "id:" subject).
func (g *Gateway) credentialKeys() map[string][]string {
	out := map[string][]string{}
	for key, cred := range g.creds.snapshot() {
		out[cred.ID] = append(out[cred.ID], key)
	}
	return out
}

// reloadCredential re-reads one credential into its cache entries (keys).
func (g *Gateway) reloadCredential(ctx context.Context, id string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	cred, err := g.cfg.Credentials.Find(ctx, id)
	if onramp.ErrorCode(err) == onramp.ENOTFOUND {
		g.creds.remove(func(k string) bool { return slices.Contains(keys, k) })
		return nil
	} else if err != nil {
		return err // kept as it was; the next full reload tries again
	}
	for _, k := range keys {
		g.creds.replace(k, cred, nil)
	}
	return nil
}

func (g *Gateway) reloadRoute(ctx context.Context, slug, version string) error {
	rt, err := g.load(ctx, slug, version)
	switch onramp.ErrorCode(err) {
	case "":
		g.routes.replace(slug+"/"+version, rt, nil)
	case onramp.ENOTFOUND:
		g.routes.remove(func(k string) bool { return k == slug+"/"+version })
	default:
		return err
	}
	return nil
}

// reloadSunsetRoutes reloads the routes one of whose versions has just passed its sunset: no write
// announces that, and whether the product is retired (hidden) may have changed.
func (g *Gateway) reloadSunsetRoutes(ctx context.Context) {
	now := g.cfg.Now()
	for key, rt := range g.routes.snapshot() {
		if rt == nil || rt.until.IsZero() || now.Before(rt.until) {
			continue
		}
		slug, version, _ := strings.Cut(key, "/")
		if err := g.reloadRoute(ctx, slug, version); err != nil {
			continue // tried again at the next tick
		}
		g.visible.remove(func(k string) bool { return strings.HasSuffix(k, "\x00"+slug) })
	}
}

// reloadAll re-reads everything cached; what cannot be read stays as it was.
func (g *Gateway) reloadAll(ctx context.Context) error {
	for id, keys := range g.credentialKeys() {
		if err := g.reloadCredential(ctx, id, keys); err != nil {
			return err
		}
	}
	for org := range g.assignments.snapshot() {
		as, err := g.cfg.Assignments.AssignmentsOf(ctx, org)
		if err != nil {
			return err
		}
		g.assignments.replace(org, as, nil)
	}
	for id := range g.orgs.snapshot() {
		o, err := g.cfg.Organizations.FindOrganization(ctx, id)
		if err != nil && onramp.ErrorCode(err) != onramp.ENOTFOUND {
			return err
		}
		g.orgs.replace(id, o, err)
	}
	g.visible.remove(func(string) bool { return true })
	for key := range g.routes.snapshot() {
		slug, version, _ := strings.Cut(key, "/")
		if err := g.reloadRoute(ctx, slug, version); err != nil {
			return err
		}
	}
	return nil
}

// policyVersion names the running policies when the policy engine says (policies.Engine does).
func (g *Gateway) policyVersion() string {
	if v, ok := g.cfg.Policy.(interface{ Version() string }); ok {
		return v.Version()
	}
	return ""
}
