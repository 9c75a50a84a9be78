package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onramp-dev/onramp/activities"
	"github.com/onramp-dev/onramp/mongo"
	"github.com/onramp-dev/onramp/worker"
)

// The worker role: the Temporal worker running every workflow and activity, and the call
// history's retention.

// startWorkerRole builds the activities, starts the worker and the retention loop.
func (s *Stack) startWorkerRole(bg context.Context, d deps) (err error) {
	if d.mailer == nil {
		return errors.New("the worker sends e-mail: set SMTP_URL")
	}
	s.acts, err = activities.New(activities.Activities{Mailer: d.mailer, Organizations: d.orgs, Members: d.orgs, Identities: s.Kratos, Team: d.orgs,
		Sessions: s.Kratos, Credentials: d.keyring, Requests: d.onboarding, Onboarding: d.onboarding, Plans: d.catalog, Assignments: d.catalog,
		Calendar: s.cfg.Calendar, ReviewersEmail: s.cfg.ReviewersEmail, CredentialStore: d.creds, Rotations: d.creds, Policy: d.policy,
		QuotaRequests: d.onboarding, Brownouts: d.catalog, Notices: mongo.NewNotices(s.Mongo), Announcer: d.subs, Deliveries: d.subStore, Impacts: d.impacts})
	if err != nil {
		return err
	}
	if err := s.StartWorker(); err != nil {
		return err
	}
	go s.retainUsage(bg, d.usage)
	return nil
}

// retainUsage keeps the call history to UsageRetention: it asks MongoDB for a TTL index once
// (FerretDB refuses it) and purges older calls at start and every PurgeEvery in any case, until
// ctx ends.
func (s *Stack) retainUsage(ctx context.Context, usage *mongo.Usage) {
	retention, every := s.cfg.UsageRetention, s.cfg.PurgeEvery
	if retention <= 0 {
		retention = 720 * time.Hour
	}
	if every <= 0 {
		every = time.Hour
	}
	log := s.cfg.Logger.With("role", "worker")
	for {
		n, err := usage.PurgeUsage(ctx, time.Now().Add(-retention))
		if err != nil && ctx.Err() == nil {
			log.Error("purge usage events", "error", err)
		} else if n > 0 {
			log.Info("purged usage events", "deleted", n, "older_than", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// StartWorker starts the Temporal worker (again, after StopWorker).
func (s *Stack) StartWorker() error {
	if s.acts == nil {
		return errors.New("this stack runs no worker role")
	}
	w, err := worker.New(s.Temporal, s.acts)
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start Temporal worker: %w", err)
	}
	s.worker = w
	return nil
}

// StopWorker stops the Temporal worker; workflows wait, durably, until one runs again.
func (s *Stack) StopWorker() {
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
}
