package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/onramp-dev/onramp/worker"
)

// MustReplayLiveHistory fetches a finished workflow's history from the real server and replays it
// against the registered workflow code. With ONRAMP_RECORD_HISTORY=1 it also writes the history to
// workflows/testdata/histories/<name>, where the offline replay test picks it up.
func MustReplayLiveHistory(tb testing.TB, c client.Client, workflowID, name string) {
	tb.Helper()
	h := &historypb.History{}
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			tb.Fatalf("history of %s: %v", workflowID, err)
		}
		h.Events = append(h.Events, ev)
	}
	r := sdkworker.NewWorkflowReplayer()
	worker.RegisterWorkflows(r)
	if err := r.ReplayWorkflowHistory(nil, h); err != nil {
		tb.Fatalf("replaying the live history of %s: %v", workflowID, err)
	}
	if os.Getenv("ONRAMP_RECORD_HISTORY") == "" {
		return
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(repoRoot(tb), "workflows", "testdata", "histories", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("recorded %s", path)
}
