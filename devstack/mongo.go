package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

type mongoServer struct {
	URI    string
	cancel context.CancelFunc
	done   chan struct{}
}

// startMongo runs FerretDB on SQLite files in dir. The URI it hands out allows one pooled
// connection: FerretDB's SQLite backend loses concurrent updates of one document otherwise.
//
// Its files commit as Temporal's do here: WAL (FerretDB's default) with synchronous=NORMAL, so a
// commit does not wait for an fsync. A crashed process loses nothing; a power cut may lose the
// last commits, never the file. Every write waited for one before, and the gateway's quota
// exchange, whose freshness is a few write and read round trips, with it.
func startMongo(ctx context.Context, dir, addr string, logger *slog.Logger) (*mongoServer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mongo data directory: %w", err)
	}
	db, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(normal)",
		Logger:    logger.With("component", "ferretdb"),
	})
	if err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			return nil, fmt.Errorf("mongo listener %s is already in use; stop what uses it or choose another port", addr)
		}
		return nil, fmt.Errorf("start FerretDB: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &mongoServer{cancel: cancel, done: make(chan struct{})}
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		indexIDs(runCtx, dir, 200*time.Millisecond, logger)
	}()
	go func() {
		defer close(s.done)
		_ = db.Run(runCtx)
		<-indexed
	}()
	uri := db.MongoDBURI()
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	s.URI = uri + sep + "maxPoolSize=1"
	return s, nil
}

// Stop closes the listener and waits for the SQLite backend to close its files.
func (s *mongoServer) Stop() {
	s.cancel()
	<-s.done
}
