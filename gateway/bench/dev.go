package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/devenv"
	"github.com/onramp-dev/onramp/gateway/bench/seed"
	"github.com/onramp-dev/onramp/mongo"
)

// devStack is one `onramp dev`, exactly as a user starts it, on free ports and its own data directory.
type devStack struct {
	proc          *proc
	dir           string
	production    string // the production gateway's base URL
	ops           string // the gateway's operations listener
	mongoURI      string
	db            *mongo.DB // the bench's own client, to set up and to read the usage totals
	seededCalls   int
	seededProduct int
}

// startDev runs `onramp dev` in dir and connects to its MongoDB.
func startDev(ctx context.Context, bin, dir string) (*devStack, error) {
	args := []string{"dev", "--data", dir, "--bin", bin, "--portal-addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0", "--production-addr", "127.0.0.1:0",
		"--gateway-ops-addr", "127.0.0.1:0", "--temporal-port", "0", "--temporal-ui-port", "-1", "--mongo-port", "0",
		"--kratos-public-port", "0", "--kratos-admin-port", "0", "--log-level", "warn"}
	p, lines, err := startProc(ctx, "onramp dev", dir+".log", "Press Ctrl-C", 5*time.Minute, filepath.Join(bin, "onramp"), args...)
	if err != nil {
		return nil, err
	}
	d := &devStack{proc: p, dir: dir, production: field(lines, "Gateway (production)"), mongoURI: field(lines, "MongoDB"),
		ops: strings.TrimSuffix(field(lines, "Gateway metrics"), "/metrics")}
	if d.production == "" || d.ops == "" || d.mongoURI == "" {
		p.stop(time.Minute)
		return nil, fmt.Errorf("onramp dev printed no production gateway, metrics or MongoDB address: %v", lines)
	}
	if d.db, err = mongo.Open(ctx, d.mongoURI); err != nil {
		p.stop(time.Minute)
		return nil, err
	}
	return d, nil
}

// setup gives the bench organisation its key on the stack, through its MongoDB as the portal would.
func (d *devStack) setup(ctx context.Context, upstream string) (string, error) {
	secrets, err := devenv.LoadSecrets(d.dir)
	if err != nil {
		return "", err
	}
	keys, err := credentials.ParseKeyring(secrets.CredentialKeys)
	if err != nil {
		return "", err
	}
	org := onramp.Organization{ID: benchOrg, Name: "Bench", Tier: "standard", Status: onramp.OrgActive, ContactEmail: "bench@bench.example", InvitedAt: time.Now()}
	if err := mongo.NewOrganizations(d.db, keys).CreateOrganization(ctx, org); err != nil && onramp.ErrorCode(err) != onramp.ECONFLICT {
		return "", err // an earlier run's organisation is this one
	}
	cat := mongo.NewCatalog(d.db)
	return benchCredential(ctx, cat, cat, mongo.NewCredentials(d.db), keys, upstream)
}

// seed publishes products and records calls of other organisations, as months of use would.
func (d *devStack) seed(ctx context.Context, products, calls int) error {
	spec, err := deploy.Catalog.ReadFile("catalog/products/payments/v2.yaml")
	if err != nil {
		return err
	}
	started := time.Now()
	if err := seed.Products(ctx, mongo.NewCatalog(d.db), spec, products); err != nil {
		return err
	}
	progress("seeded %d products in %s", products, time.Since(started).Round(time.Second))
	started = time.Now()
	if err := seed.Calls(ctx, mongo.NewUsage(d.db), "payments", 1000, calls, 30*24*time.Hour, time.Now()); err != nil {
		return err
	}
	progress("seeded %d calls of 1000 organisations in %s", calls, time.Since(started).Round(time.Second))
	d.seededCalls, d.seededProduct = calls, products
	return nil
}

// stored is the bench organisation's calls in the stack's usage totals.
func (d *devStack) stored(ctx context.Context) int64 {
	return storedCalls(ctx, mongo.NewUsage(d.db), time.Now())
}

func (d *devStack) stop() {
	if d == nil {
		return
	}
	if d.db != nil {
		_ = d.db.Close(context.Background())
	}
	d.proc.stop(time.Minute)
}
