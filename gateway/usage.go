package gateway

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onramp-dev/onramp"
)

// Recorder writes usage events in batches off the request path: Record never blocks, and an
// event that does not fit the buffer is counted as dropped rather than slowing a call.
type Recorder struct {
	store     onramp.UsageStore
	creds     onramp.CredentialStore
	log       *slog.Logger
	events    chan onramp.UsageEvent
	dropped   atomic.Int64
	done      chan struct{}
	stopOnce  sync.Once
	interval  time.Duration
	batchSize int
}

// NewRecorder starts the batch writer; Stop flushes what is buffered.
func NewRecorder(store onramp.UsageStore, creds onramp.CredentialStore, log *slog.Logger) *Recorder {
	r := &Recorder{store: store, creds: creds, log: log, events: make(chan onramp.UsageEvent, 10000), done: make(chan struct{}),
		interval: 200 * time.Millisecond, batchSize: 500}
	go r.run()
	return r
}

// Record queues an event without blocking.
func (r *Recorder) Record(e onramp.UsageEvent) {
	select {
	case r.events <- e:
	default:
		r.dropped.Add(1)
	}
}

// Dropped is how many events did not fit the buffer.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

func (r *Recorder) run() {
	defer close(r.done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	var batch []onramp.UsageEvent
	for {
		select {
		case e, ok := <-r.events:
			if !ok {
				r.flush(batch)
				return
			}
			if batch = append(batch, e); len(batch) >= r.batchSize {
				r.flush(batch)
				batch = nil
			}
		case <-t.C:
			r.flush(batch)
			batch = nil
		}
	}
}

func (r *Recorder) flush(batch []onramp.UsageEvent) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.store.RecordUsage(ctx, batch); err != nil {
		r.log.Error("record usage", "events", len(batch), "error", err)
	}
	last := map[string]time.Time{}
	for _, e := range batch {
		if e.CredentialID != "" && e.At.After(last[e.CredentialID]) {
			last[e.CredentialID] = e.At
		}
	}
	if err := r.creds.TouchCredentials(ctx, last); err != nil {
		r.log.Error("record credential use", "error", err)
	}
}

// Stop flushes the buffered events and stops the writer.
func (r *Recorder) Stop() {
	r.stopOnce.Do(func() { close(r.events) })
	<-r.done
}
