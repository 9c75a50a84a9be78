package stack

import (
	"context"
	"net"

	"go.temporal.io/sdk/client"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/api"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/kratos"
	"github.com/onramp-dev/onramp/partners"
	"github.com/onramp-dev/onramp/production"
	"github.com/onramp-dev/onramp/quota"
	"github.com/onramp-dev/onramp/team"
)

// The portal role: the services behind the partner portal and the admin, and the HTTP adapter.

// startPortal loads the catalog files, builds the services and serves the portal on l.
func (s *Stack) startPortal(ctx context.Context, d deps, l net.Listener) error {
	if err := s.loadCatalog(ctx, d.cat); err != nil {
		return err
	}
	apiCfg, err := s.portalConfig(d)
	if err != nil {
		return err
	}
	// Kratos forgets providers it was not started with: install every partner's again.
	if err := apiCfg.Partners.SyncSSO(ctx); err != nil {
		return err
	}
	portal, err := api.New(apiCfg)
	if err != nil {
		return err
	}
	s.serve(l, portal, "portal")
	return nil
}

// portalConfig builds the portal's services on the shared stores.
func (s *Stack) portalConfig(d deps) (cfg api.Config, err error) {
	log, lc := s.cfg.Logger.With("role", "portal"), d.lifecycles
	cfg = api.Config{Logger: log, Checks: s.checks(), AdminToken: s.cfg.AdminToken, DevMode: s.cfg.Dev, Registry: d.reg,
		PortalURL: s.portalURLOrDefault(), KratosPublicURL: s.cfg.KratosPublicURL, Identity: s.Kratos, Organizations: d.orgs,
		Policies: d.policy, Catalog: d.cat, Subscriptions: d.subs, Impact: d.impacts, Keys: d.keyring, SignInPerClient: s.cfg.SignInPerClient, TrustedProxies: s.cfg.TrustedProxies,
		HookToken: s.cfg.KratosHookToken}
	if s.cfg.Dev {
		cfg.HookToken, cfg.Mailbox, cfg.CourierToken = s.secrets.HookToken, d.devBox, s.secrets.CourierToken
	}
	if cfg.TeamService, err = team.New(team.Config{Policy: d.policy, Identities: s.Kratos, Sessions: s.Kratos, Organizations: d.orgs,
		Members: d.orgs, Team: d.orgs, Invitations: lc, MemberInvitations: lc, Logger: log}); err != nil {
		return cfg, err
	}
	if cfg.Partners, err = partners.New(partners.Config{Organizations: d.orgs, Team: d.orgs, Invitations: lc, Plans: d.cat,
		SSOProviders: s.ssoProviders(), Onboarding: d.onboarding, Logger: log}); err != nil {
		return cfg, err
	}
	if cfg.Production, err = production.New(production.Config{Policy: d.policy, Requests: d.onboarding, Reviews: lc, Plans: d.cat,
		Organizations: d.orgs, Onboarding: d.onboarding}); err != nil {
		return cfg, err
	}
	if cfg.Credentials, err = credentials.NewManager(credentials.ManagerConfig{Keys: d.keyring, Policy: d.policy, Plans: d.cat, Audit: d.orgs,
		Rotations: lc, RotationStore: d.creds, Usage: d.usage, Logger: log}); err != nil {
		return cfg, err
	}
	if cfg.Quota, err = quota.New(quota.Config{Policy: d.policy, Assignments: d.cat, Usage: d.usage, Requests: d.onboarding, Reviews: lc,
		Notifications: d.onboarding, Audit: d.orgs, Logger: log}); err != nil {
		return cfg, err
	}
	cfg.TryIt, err = catalog.NewTryIt(catalog.TryItConfig{Catalog: d.cat, Keys: d.keyring, Policy: d.policy, PortalURL: s.portalURLOrDefault()})
	return cfg, err
}

// ssoProviders is where partner identity providers are installed: the dev Kratos's own config,
// or the providers file shared with a production Kratos.
func (s *Stack) ssoProviders() onramp.SSOProviders {
	switch {
	case s.kratosP != nil:
		return s.kratosP
	case s.cfg.KratosProvidersFile != "":
		return kratos.ProvidersFile{Path: s.cfg.KratosProvidersFile, Mapper: deploy.OIDCMapper, PublicURL: s.cfg.KratosPublicURL}
	}
	return noSSO{}
}

// noSSO refuses partner SSO when no providers file is configured.
type noSSO struct{}

func (noSSO) SyncProviders(_ context.Context, orgs []onramp.Organization) error {
	for _, o := range orgs {
		if o.SSO != nil {
			return onramp.Errorf(onramp.EINVALID, "partner SSO is not set up on this portal: set KRATOS_PROVIDERS_FILE (see README)")
		}
	}
	return nil
}

// checks are what /readyz asks: every dependency the portal needs answers.
func (s *Stack) checks() []api.Check {
	return []api.Check{
		{Name: "mongodb", Fn: s.Mongo.Ping},
		{Name: "temporal", Fn: func(ctx context.Context) error {
			_, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
		{Name: "kratos", Fn: s.Kratos.Ready},
	}
}
