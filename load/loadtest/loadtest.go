// Package loadtest is the conformance suite every elt destination passes (DESIGN.md
// section 6): merge, replay, never older over newer, added and widened columns, dead
// letters, checkpoint atomicity, append, replace, soft deletes, runs and state,
// written once and run against DuckDB, Snowflake and BigQuery.
//
// A destination's test calls Run with a function that opens a fresh destination on an
// empty dataset together with a Reader of that dataset:
//
//	func TestConformance(t *testing.T) {
//		loadtest.Run(t, func(t *testing.T) (load.Destination, loadtest.Reader) {
//			d := open(t) // a new, empty dataset
//			return d, loadtest.ReaderFunc(func(ctx context.Context, table string) ([]loadtest.Row, error) {
//				return selectAll(ctx, d, table)
//			})
//		})
//	}
//
// Every case is a subtest on its own destination. The suite calls Setup itself and
// Close at the end of the case; Open registers any other cleanup with t.Cleanup.
// Every batch is built on a memory.CheckedAllocator, and the case fails when the
// destination leaves any of its bytes allocated after Close.
package loadtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eltdev/elt/deadletter"
	"github.com/eltdev/elt/load"
	"github.com/eltdev/elt/schemaevo"
	"github.com/eltdev/elt/state"
)

// Opener opens a new destination over an empty dataset (Setup not yet called) and a
// Reader of that dataset.
type Opener func(t *testing.T) (load.Destination, Reader)

// Case is one conformance case.
type Case struct {
	Name string
	Run  func(h *H)
}

// Cases lists the suite's cases, in the order Run runs them.
func Cases() []Case {
	return []Case{
		{"merge", testMerge},
		{"replay", testReplay},
		{"never_older_over_newer", testNeverOlder},
		{"add_column", testAddColumn},
		{"widen", testWiden},
		{"dead_letters", testDeadLetters},
		{"checkpoint_atomicity", testAtomicity},
		{"append", testAppend},
		{"replace", testReplace},
		{"soft_delete", testSoftDelete},
		{"runs", testRuns},
		{"state", testState},
		{"concurrent_streams", testConcurrent},
	}
}

// Run runs every case as a subtest, each on a destination of its own.
func Run(t *testing.T, open Opener) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			c.Run(NewHarness(t, open))
		})
	}
}

// H is one case's harness: an open, set-up destination, its Reader and a checked
// allocator. Destination-specific tests use it too.
type H struct {
	T     *testing.T
	Ctx   context.Context
	Dest  load.Destination
	Read  Reader
	Alloc *memory.CheckedAllocator
}

// NewHarness opens a destination with open, sets it up, and registers its Close and
// the allocator's leak check.
func NewHarness(t *testing.T, open Opener) *H {
	t.Helper()
	alloc := NewAllocator(t) // registered first: checked after Close
	dest, reader := open(t)
	t.Cleanup(func() {
		if err := dest.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	h := &H{T: t, Ctx: t.Context(), Dest: dest, Read: reader, Alloc: alloc}
	if err := dest.Setup(h.Ctx); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return h
}

// Write completes b the way the pipeline does and writes it: Plan is computed with
// schemaevo.Diff against Table(b.Table) (the staging table for Replace) and the
// incoming batch's shape, unless b.Plan already holds changes; the records are
// released after Write returns. It returns the plan it used with the result. It may
// be called from several goroutines.
func (h *H) Write(b load.Batch) (load.Result, schemaevo.Plan, error) {
	if b.Records != nil {
		defer b.Records.Release()
		if b.Plan.Empty() {
			cur, err := h.Dest.Table(h.Ctx, b.Table, b.Disposition == load.Replace)
			if err != nil {
				return load.Result{}, b.Plan, fmt.Errorf("Table(%q): %w", b.Table, err)
			}
			in, err := schemaevo.TableFromArrow(b.Table, b.Records.Schema())
			if err != nil {
				return load.Result{}, b.Plan, fmt.Errorf("TableFromArrow: %w", err)
			}
			b.Plan = schemaevo.Diff(cur, in)
		}
	}
	res, err := h.Dest.Write(h.Ctx, b)
	return res, b.Plan, err
}

// MustWrite is Write that fails the test on an error.
func (h *H) MustWrite(b load.Batch) (load.Result, schemaevo.Plan) {
	h.T.Helper()
	res, plan, err := h.Write(b)
	if err != nil {
		h.T.Fatalf("Write(%s batch %d): %v", b.Stream, b.Seq, err)
	}
	return res, plan
}

// Rows reads a table and projects it on cols (every column when cols is nil).
func (h *H) Rows(table string, cols []string) []Row {
	h.T.Helper()
	rows, err := h.Read.Rows(h.Ctx, table)
	if err != nil {
		h.T.Fatalf("read %s: %v", table, err)
	}
	return project(rows, cols)
}

// AssertRows compares a table's rows (projected on cols, every column when nil) with
// want, row by row and column by column, after sorting both by the columns in by.
func (h *H) AssertRows(table string, cols, by []string, want []Row) {
	h.T.Helper()
	got := h.Rows(table, cols)
	if d := diffRows(got, want, by); len(d) > 0 {
		h.T.Errorf("table %s does not hold what it should:\n  %s", table, joinLines(d))
	}
}

// AssertColumns compares Table(name, replace) with want, in order; nil want asserts
// that the table does not exist.
func (h *H) AssertColumns(name string, replace bool, want []Col) {
	h.T.Helper()
	tab, err := h.Dest.Table(h.Ctx, name, replace)
	if err != nil {
		h.T.Fatalf("Table(%q, %v): %v", name, replace, err)
	}
	if want == nil {
		if tab != nil {
			h.T.Errorf("Table(%q, %v) = %v, want no table", name, replace, tab.Columns)
		}
		return
	}
	if tab == nil {
		h.T.Errorf("Table(%q, %v) = nil, want columns %v", name, replace, want)
		return
	}
	got := make([]Col, len(tab.Columns))
	for i, c := range tab.Columns {
		got[i] = Col(c)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		h.T.Errorf("Table(%q, %v) columns:\n   got %v\n  want %v", name, replace, got, want)
	}
}

// AssertCheckpoint compares a stream's committed checkpoint with want; a zero want
// asserts that the stream has none.
func (h *H) AssertCheckpoint(pipeline, stream string, want state.Checkpoint) {
	h.T.Helper()
	got, ok, err := h.Dest.Checkpoint(h.Ctx, pipeline, stream)
	if err != nil {
		h.T.Fatalf("Checkpoint(%s, %s): %v", pipeline, stream, err)
	}
	if want == (state.Checkpoint{}) {
		if ok {
			h.T.Errorf("Checkpoint(%s, %s) = %+v, want none", pipeline, stream, got)
		}
		return
	}
	if !ok {
		h.T.Errorf("Checkpoint(%s, %s): none, want %+v", pipeline, stream, want)
		return
	}
	if !sameCheckpoint(got, want) {
		h.T.Errorf("Checkpoint(%s, %s)\n   got %+v\n  want %+v", pipeline, stream, got, want)
	}
}

func sameCheckpoint(a, b state.Checkpoint) bool {
	return a.Pipeline == b.Pipeline && a.Stream == b.Stream && a.Cursor == b.Cursor &&
		a.Batch == b.Batch && a.RunID == b.RunID && a.CommittedAt.Equal(b.CommittedAt)
}

func joinLines(lines []string) string {
	out := ""
	for i, l := range lines {
		if i > 0 {
			out += "\n  "
		}
		out += l
	}
	return out
}

// ---- the fixture every case uses: a "users" stream keyed by id ----

const (
	pipeline = "p"
	stream   = "users"
	runID    = "run-1"
)

// T0 is the fixture's clock origin; Ts(m) is m minutes after it. Timestamps carry
// microseconds, the precision every destination keeps.
var T0 = time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)

// Ts returns T0 plus m minutes.
func Ts(m int) time.Time { return T0.Add(time.Duration(m) * time.Minute) }

var userCols = StreamCols(C("id", schemaevo.Int64), C("name", schemaevo.String))

// user is one record of the users stream.
type user struct {
	id        int64
	name      any // string or nil
	ingested  time.Time
	updated   time.Time
	deleted   bool
	deletedAt any // time.Time or nil
}

func (u user) raw() string {
	if u.name == nil {
		return fmt.Sprintf(`{"id":%d}`, u.id)
	}
	return fmt.Sprintf(`{"id":%d,"name":%q}`, u.id, u.name)
}

// values is the user as a batch row in userCols order.
func (u user) values() []any {
	return []any{u.id, u.name, u.ingested, u.updated, u.deleted, u.deletedAt, JSON(u.raw())}
}

// row is the user as a stored row of the users table.
func (u user) row() Row {
	return Row{
		"id": u.id, "name": u.name,
		load.IngestedAt: u.ingested, load.UpdatedAt: u.updated,
		load.IsDeleted: u.deleted, load.DeletedAt: u.deletedAt, load.Raw: JSON(u.raw()),
	}
}

// u builds a live user ingested at Ts(ing) and updated at Ts(upd).
func u(id int64, name string, ing, upd int) user {
	return user{id: id, name: name, ingested: Ts(ing), updated: Ts(upd)}
}

func (h *H) users(us ...user) arrow.RecordBatch {
	rows := make([][]any, len(us))
	for i, x := range us {
		rows[i] = x.values()
	}
	return Batch(h.T, h.Alloc, userCols, rows...)
}

func rowsOf(us ...user) []Row {
	out := make([]Row, len(us))
	for i, x := range us {
		out[i] = x.row()
	}
	return out
}

// cp is the checkpoint that follows batch seq of the fixture's run.
func cp(seq int64, cursor string) state.Checkpoint {
	return state.Checkpoint{Pipeline: pipeline, Stream: stream, Cursor: cursor, Batch: seq, RunID: runID, CommittedAt: Ts(100 + int(seq))}
}

// batch is batch seq of the users stream, merged by id.
func batch(seq int64, rec arrow.RecordBatch) load.Batch {
	return load.Batch{
		Pipeline: pipeline, Stream: stream, RunID: runID, Seq: seq,
		Table: stream, Disposition: load.Merge, Keys: []string{"id"},
		Records: rec, Checkpoint: cp(seq, Ts(int(seq)).Format(time.RFC3339Nano)),
	}
}

var (
	byID        = []string{"id"}
	letterCols  = []string{"stream", "run_id", "batch", "error_code", "reason", "raw", "ingested_at"}
	letterOrder = []string{"error_code", "reason"}
	migCols     = []string{"stream", "run_id", "change", "column", "old_type", "new_type", "note", "applied_at"}
	migOrder    = []string{"change", "column"}
	runCols     = []string{"run_id", "pipeline", "started_at", "finished_at", "status", "rows_read", "rows_written", "rows_dead", "error"}
)

// migration is the expected _elt_migrations row for a change of the fixture's run.
func migration(c schemaevo.Change) Row {
	return Row{
		"stream": stream, "run_id": runID, "change": string(c.Kind), "column": nullIfEmpty(c.Column),
		"old_type": nullIfEmpty(string(c.OldType)), "new_type": nullIfEmpty(string(c.NewType)),
		"note": c.Note, "applied_at": NotNull,
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func letterRow(l deadletter.Letter) Row {
	return Row{
		"stream": l.Stream, "run_id": l.RunID, "batch": l.Batch, "error_code": string(l.Code),
		"reason": l.Reason, "raw": JSON(l.RawJSON()), "ingested_at": l.IngestedAt,
	}
}

func (h *H) wantResult(what string, got, want load.Result) {
	h.T.Helper()
	if got != want {
		h.T.Errorf("%s: Result = %+v, want %+v", what, got, want)
	}
}
