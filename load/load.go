// Package load defines what a destination must do for elt, and the batch it receives.
// Each destination (DuckDB here; Snowflake and BigQuery later) lives in a package of
// its own below this one and passes the conformance suite in load/loadtest.
package load

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/eltdev/elt/deadletter"
	"github.com/eltdev/elt/schemaevo"
	"github.com/eltdev/elt/state"
)

// Disposition says how a batch's rows meet the rows already in the table.
type Disposition string

const (
	// Merge upserts by primary key, never letting an older row overwrite a newer one.
	Merge Disposition = "merge"
	// Append inserts every row.
	Append Disposition = "append"
	// Replace writes into a staging table that FinishReplace swaps in atomically at
	// the end of a complete run. Rows are merged into the staging table by primary key
	// when there is one, else appended.
	Replace Disposition = "replace"
)

// Batch is one unit of exactly-once delivery: its rows, its dead letters, the
// migrations its shape needs and the checkpoint that follows it commit together or
// not at all.
type Batch struct {
	Pipeline string
	Stream   string
	RunID    string
	Seq      int64 // 1-based within the run
	// Table is the stream's table. For Replace it is the final table's name; the
	// destination writes into its staging table.
	Table       string
	Disposition Disposition
	// Keys are the primary-key columns. Rows are unique by them (normalize collapsed
	// in-batch duplicates), and never null.
	Keys []string
	// Records holds the rows; nil when every record of the batch was rejected. The
	// caller keeps ownership and releases it after Write returns.
	Records arrow.RecordBatch
	// Plan brings the table to a shape that holds Records; computed by the caller with
	// schemaevo.Diff against Table(ctx, Table). Empty when nothing changes.
	Plan        schemaevo.Plan
	DeadLetters []deadletter.Letter
	Checkpoint  state.Checkpoint
}

// Result counts what a committed batch did.
type Result struct {
	Written     int64 // rows inserted or updated
	Skipped     int64 // rows not written: an equal key with a newer updated_at is stored
	DeadLetters int64 // dead letters stored (a letter already stored is not counted)
}

// Destination is a warehouse elt loads.
//
// Lifecycle: a destination is opened by its package's constructor; Setup is called
// once before anything else and creates the dataset and elt's system tables when
// missing (it is idempotent); then any number of calls follow, from one goroutine or
// several (implementations serialize what their engine needs serialized); Close
// releases the connection. Every write method is atomic: it commits entirely or
// leaves the destination as it was.
type Destination interface {
	Setup(ctx context.Context) error
	// Table returns a table's columns, or nil when the table does not exist. For a
	// Replace stream, pass the final table's name with replace set: the staging table
	// is described.
	Table(ctx context.Context, name string, replace bool) (*schemaevo.Table, error)
	// Write commits one batch in one transaction: the plan's migrations (and their
	// _elt_migrations rows), the rows, the dead letters and the checkpoint.
	Write(ctx context.Context, b Batch) (Result, error)
	// PrepareReplace discards what an interrupted replace left behind and creates the
	// staging table with the final table's columns, so that a replace is additive too.
	PrepareReplace(ctx context.Context, table string) error
	// FinishReplace swaps the staging table in for the table and stores the checkpoint,
	// in one transaction.
	FinishReplace(ctx context.Context, table string, cp state.Checkpoint) error
	// Checkpoint returns a stream's committed checkpoint; ok is false when none exists.
	Checkpoint(ctx context.Context, pipeline, stream string) (cp state.Checkpoint, ok bool, err error)
	// Checkpoints lists the pipeline's checkpoints, by stream.
	Checkpoints(ctx context.Context, pipeline string) ([]state.Checkpoint, error)
	// ResetState deletes the checkpoints of the named streams (all when none named).
	ResetState(ctx context.Context, pipeline string, streams []string) error
	// BeginRun records a run as running, and marks runs of the same pipeline that are
	// still "running" as abandoned: their process died.
	BeginRun(ctx context.Context, r state.Run) error
	// EndRun records a run's outcome.
	EndRun(ctx context.Context, r state.Run) error
	Close() error
}

// System table names, the same in every destination.
const (
	StateTable      = "_elt_state"
	DeadLetterTable = "_elt_dead_letters"
	MigrationTable  = "_elt_migrations"
	RunTable        = "_elt_runs"
	ReplaceSuffix   = "__elt_replace"
)

// System columns of every stream table (DESIGN.md section 3).
const (
	IngestedAt = "ingested_at"
	UpdatedAt  = "updated_at"
	IsDeleted  = "is_deleted"
	DeletedAt  = "deleted_at"
	Raw        = "_raw"
)
