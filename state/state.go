// Package state holds the checkpoint elt keeps per (pipeline, stream): how far the
// stream has been loaded. A checkpoint is written in the same destination
// transaction as the batch it follows, so it never runs ahead of the data.
package state

import "time"

// Checkpoint is the committed position of one stream.
type Checkpoint struct {
	Pipeline string
	Stream   string
	// Cursor is the incremental cursor value the next run starts from (inclusive), as
	// the source wrote it; empty when the stream has none or has not moved yet.
	Cursor string
	// Batch is the sequence number of the last committed batch of RunID.
	Batch       int64
	RunID       string
	CommittedAt time.Time
}

// Run is one row of _elt_runs.
type Run struct {
	RunID       string
	Pipeline    string
	StartedAt   time.Time
	FinishedAt  time.Time // zero while running
	Status      RunStatus
	RowsRead    int64
	RowsWritten int64
	RowsDead    int64
	Error       string
}

// RunStatus is the outcome of a run.
type RunStatus string

const (
	Running   RunStatus = "running"
	Succeeded RunStatus = "succeeded"
	Failed    RunStatus = "failed"
	// Abandoned marks a run found still "running" by a later run: its process died.
	Abandoned RunStatus = "abandoned"
)
