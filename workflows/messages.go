// Package workflows holds Onramp's workflow functions. Workflows decide; activities act. This file
// holds the names (pinned, so renaming a Go function cannot break running executions), task
// queue, and the payloads of signals, updates and queries.
package workflows

// TaskQueue is the task queue every Onramp workflow and activity runs on.
const TaskQueue = "onramp"

// Registered workflow names.
const (
	SmokeWorkflowName = "onramp.Smoke"
)

// SmokeInput asks the smoke workflow to e-mail To, proving worker, activities and mail work.
type SmokeInput struct {
	To string `json:"to"`
}

// SmokeResult names the message the smoke workflow delivered.
type SmokeResult struct {
	MessageID string `json:"message_id"`
}
