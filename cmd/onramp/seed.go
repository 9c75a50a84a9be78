package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/devenv"
	"github.com/onramp-dev/onramp/mongo"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/seed"
)

// seedMain runs `onramp seed`: with --check it validates the settings only.
func seedMain(v values, stdout, stderr io.Writer) int {
	size, err := seedSize(v)
	if err != nil {
		fmt.Fprintln(stderr, "onramp:", err)
		return 2
	}
	if v.bool("check") {
		printSettings(stdout, cmdSeed, v)
		return 0
	}
	if v["mongodb-uri"] == "" {
		fmt.Fprintln(stderr, "onramp: seed writes to MONGODB_URI: set it (with `onramp dev` running, to the MongoDB URI it prints)")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(stderr, runSeed(ctx, v, size, stdout))
}

func seedSize(v values) (seed.Size, error) {
	var size seed.Size
	for name, dst := range map[string]*int{"products": &size.Products, "versions": &size.Versions, "operations": &size.Operations,
		"orgs": &size.Orgs, "keys-per-org": &size.KeysPerOrg, "calls": &size.Calls} {
		n, err := v.int(name)
		if err != nil {
			return size, err
		}
		*dst = n
	}
	return size, size.Validate()
}

// credentialKeys are CREDENTIAL_KEYS, else those `onramp dev` generated into the data directory,
// so the portal can reveal the seeded keys.
func credentialKeys(v values) (*credentials.Keyring, error) {
	keys := v["credential-keys"]
	if keys == "" {
		if _, err := os.Stat(filepath.Join(v["data"], "secrets.json")); err != nil {
			return nil, fmt.Errorf("set CREDENTIAL_KEYS to the portal's (or run `onramp dev` once, whose keys are in %s)", filepath.Join(v["data"], "secrets.json"))
		}
		secrets, err := devenv.LoadSecrets(v["data"])
		if err != nil {
			return nil, err
		}
		keys = secrets.CredentialKeys
	}
	return credentials.ParseKeyring(keys)
}

func runSeed(ctx context.Context, v values, size seed.Size, stdout io.Writer) error {
	keys, err := credentialKeys(v)
	if err != nil {
		return err
	}
	db, err := mongo.Open(ctx, v["mongodb-uri"])
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("MongoDB does not answer: %w", err)
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := db.EnsureReadModels(ctx); err != nil {
		return err
	}
	policy, err := policies.New(ctx, policies.Embedded())
	if err != nil {
		return err
	}
	creds := mongo.NewCredentials(db)
	s, err := seed.New(seed.Config{Orgs: mongo.NewOrganizations(db, keys), Catalog: mongo.NewCatalog(db), Credentials: creds, Onboarding: mongo.NewOnboarding(db),
		Rotations: creds, Usage: mongo.NewUsage(db), Keys: keys, Policy: policy, Progress: stdout, Rand: nil})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Seeding %d products × %d versions × %d operations, %d partners × %d keys, %d calls\n",
		size.Products, size.Versions, size.Operations, size.Orgs, size.KeysPerOrg, size.Calls)
	started := time.Now()
	r, err := s.Run(ctx, size)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Seeded in %s: %d products with %d versions and %d plans in %s; %d partners with %d keys in %s; %d calls in %s\n",
		time.Since(started).Round(time.Second), r.Products, r.Versions, r.Plans, r.Catalog.Round(time.Second), r.Orgs, r.Keys, r.Partners.Round(time.Second),
		r.Calls, r.Usage.Round(time.Second))
	return nil
}
