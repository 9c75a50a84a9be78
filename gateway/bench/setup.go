package main

import (
	"context"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
)

// benchCredential gives the bench organisation payments in production (a quota that never runs
// out, no rate limit) with the demo product's upstream replaced by the bench's, and issues its key.
func benchCredential(ctx context.Context, cat onramp.CatalogStore, as onramp.AssignmentStore, store onramp.CredentialStore, keys *credentials.Keyring, upstream string) (string, error) {
	p, err := cat.FindProduct(ctx, "payments")
	if err != nil {
		return "", err
	}
	p.Upstreams = map[string]string{onramp.Production: upstream}
	if err := cat.SaveProduct(ctx, p); err != nil {
		return "", err
	}
	grant := onramp.Grant{Scopes: []string{"payments:read"}, Environments: []string{onramp.Production}, Quota: onramp.Quota{Limit: 1 << 40, Period: "month"}}
	if err := as.SaveAssignment(ctx, onramp.Assignment{OrgID: benchOrg, Product: "payments", Plan: "standard", Grant: grant, UpdatedAt: time.Now()}); err != nil {
		return "", err
	}
	svc, err := credentials.New(credentials.Config{Store: store, Assignments: as, Keys: keys, PortalURL: "http://portal"})
	if err != nil {
		return "", err
	}
	_, key, err := svc.Issue(ctx, credentials.Request{OrgID: benchOrg, Environment: onramp.Production, Label: "bench"})
	return key, err
}
