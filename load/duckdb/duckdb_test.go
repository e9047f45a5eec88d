package duckdb_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eltdev/elt/deadletter"
	"github.com/eltdev/elt/load"
	"github.com/eltdev/elt/load/duckdb"
	"github.com/eltdev/elt/load/loadtest"
	"github.com/eltdev/elt/schemaevo"
	"github.com/eltdev/elt/state"
)

// TestConformance runs the destination suite, each case on a database file of its own.
func TestConformance(t *testing.T) {
	loadtest.Run(t, opener("ds"))
}

// opener opens a fresh database file in the test's temporary directory.
func opener(dataset string) loadtest.Opener {
	return func(t *testing.T) (load.Destination, loadtest.Reader) {
		return openAt(t, filepath.Join(t.TempDir(), "elt.duckdb"), dataset)
	}
}

func openAt(t *testing.T, path, dataset string) (load.Destination, loadtest.Reader) {
	t.Helper()
	d, err := duckdb.Open(context.Background(), path, dataset)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return d, reader(d)
}

// reader reads tables with plain SQL on the destination's database handle. JSON and
// DECIMAL columns are read as text, so that a JSON string and plain text differ.
func reader(d *duckdb.Destination) loadtest.Reader {
	return loadtest.ReaderFunc(func(ctx context.Context, table string) ([]loadtest.Row, error) {
		return selectAll(ctx, d.DB(), d.Dataset(), table)
	})
}

func selectAll(ctx context.Context, db *sql.DB, dataset, table string) ([]loadtest.Row, error) {
	var catalog string
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&catalog); err != nil {
		return nil, err
	}
	crows, err := db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position`, catalog, dataset, table)
	if err != nil {
		return nil, err
	}
	var names, exprs []string
	for crows.Next() {
		var name, typ string
		if err := crows.Scan(&name, &typ); err != nil {
			crows.Close()
			return nil, err
		}
		e := quote(name)
		if typ == "JSON" || strings.HasPrefix(typ, "DECIMAL") {
			e = "CAST(" + e + " AS VARCHAR)"
		}
		names = append(names, name)
		exprs = append(exprs, e)
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("table %s.%s does not exist", dataset, table)
	}
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+quote(catalog)+"."+quote(dataset)+"."+quote(table))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []loadtest.Row
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := loadtest.Row{}
		for i, n := range names {
			r[n] = vals[i]
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func ts(m int) time.Time { return loadtest.Ts(m) }

// TestWeirdIdentifiers: a dataset, table and columns with quotes, spaces and capitals
// go through every statement the destination generates.
func TestWeirdIdentifiers(t *testing.T) {
	const (
		dataset = `My "DS" x`
		table   = `Weird "Name"`
		key     = `Weird "Name"`
	)
	h := loadtest.NewHarness(t, opener(dataset))
	cols1 := loadtest.StreamCols(loadtest.C(key, schemaevo.Int64), loadtest.C("Has Space", schemaevo.String), loadtest.C("UPPER", schemaevo.Int64))
	cols2 := append(loadtest.StreamCols(loadtest.C(key, schemaevo.Int64), loadtest.C("Has Space", schemaevo.String),
		loadtest.C("UPPER", schemaevo.Float64)), loadtest.C(`New "Col"`, schemaevo.String))
	raw := loadtest.JSON(`{"k":1}`)
	cp := func(seq int64) state.Checkpoint {
		return state.Checkpoint{Pipeline: `P "1"`, Stream: table, Cursor: `c"` + fmt.Sprint(seq), Batch: seq, RunID: `run "x"`, CommittedAt: ts(int(seq))}
	}
	batch := func(seq int64, disp load.Disposition, cols []loadtest.Col, rows ...[]any) load.Batch {
		return load.Batch{Pipeline: `P "1"`, Stream: table, RunID: `run "x"`, Seq: seq, Table: table,
			Disposition: disp, Keys: []string{key}, Records: loadtest.Batch(t, h.Alloc, cols, rows...), Checkpoint: cp(seq)}
	}
	letter := deadletter.Letter{Stream: table, RunID: `run "x"`, Batch: 1, Code: deadletter.MalformedJSON,
		Reason: "bad", Raw: []byte(`it's "bad`), IngestedAt: ts(1)}

	b1 := batch(1, load.Merge, cols1,
		[]any{int64(1), "a b", int64(5), ts(1), ts(1), false, nil, raw},
		[]any{int64(2), "c", int64(6), ts(1), ts(1), false, nil, raw})
	b1.DeadLetters = []deadletter.Letter{letter}
	res, _ := h.MustWrite(b1)
	if res != (load.Result{Written: 2, DeadLetters: 1}) {
		t.Errorf("batch 1: %+v", res)
	}
	res, plan2 := h.MustWrite(batch(2, load.Merge, cols2,
		[]any{int64(2), "c2", 6.5, ts(2), ts(2), false, nil, raw, `x "y"`},
		[]any{int64(3), "d", 7.0, ts(2), ts(2), false, nil, raw, nil}))
	if res != (load.Result{Written: 2}) || len(plan2.Changes) != 2 {
		t.Errorf("batch 2: %+v, plan %+v", res, plan2)
	}
	h.AssertColumns(table, false, cols2)
	row := func(id int64, space string, upper float64, newCol any, m int) loadtest.Row {
		return loadtest.Row{key: id, "Has Space": space, "UPPER": upper, `New "Col"`: newCol,
			load.IngestedAt: ts(m), load.UpdatedAt: ts(m), load.IsDeleted: false, load.DeletedAt: nil, load.Raw: raw}
	}
	h.AssertRows(table, nil, []string{key}, []loadtest.Row{
		row(1, "a b", 5, nil, 1), row(2, "c2", 6.5, `x "y"`, 2), row(3, "d", 7, nil, 2),
	})
	h.AssertRows(load.DeadLetterTable, []string{"stream", "raw"}, nil, []loadtest.Row{
		{"stream": table, "raw": loadtest.JSON(`"it's \"bad"`)},
	})
	h.AssertCheckpoint(`P "1"`, table, cp(2))
	mig := h.Rows(load.MigrationTable, []string{"change", "column"})
	if len(mig) != 3 {
		t.Errorf("migrations: %v, want create_table, widen_type UPPER, add_column New \"Col\"", mig)
	}

	// Replace through the same names.
	if err := h.Dest.PrepareReplace(h.Ctx, table); err != nil {
		t.Fatalf("PrepareReplace: %v", err)
	}
	h.MustWrite(batch(3, load.Replace, cols2, []any{int64(9), "z", 1.5, ts(3), ts(3), false, nil, raw, "n"}))
	if err := h.Dest.FinishReplace(h.Ctx, table, cp(3)); err != nil {
		t.Fatalf("FinishReplace: %v", err)
	}
	h.AssertRows(table, nil, []string{key}, []loadtest.Row{row(9, "z", 1.5, "n", 3)})
	h.AssertCheckpoint(`P "1"`, table, cp(3))

	run := state.Run{RunID: `run "x"`, Pipeline: `P "1"`, StartedAt: ts(0)}
	if err := h.Dest.BeginRun(h.Ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := h.Dest.ResetState(h.Ctx, `P "1"`, []string{table}); err != nil {
		t.Fatal(err)
	}
	h.AssertCheckpoint(`P "1"`, table, state.Checkpoint{})
}

// TestReopen: everything a batch committed is there after Close and Open of the same
// file, and the reopened destination goes on writing.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "elt.duckdb")
	open := func(t *testing.T) (load.Destination, loadtest.Reader) { return openAt(t, path, "ds") }
	h := loadtest.NewHarness(t, open)
	cols := loadtest.StreamCols(loadtest.C("id", schemaevo.Int64), loadtest.C("v", schemaevo.String))
	cp := func(seq int64) state.Checkpoint {
		return state.Checkpoint{Pipeline: "p", Stream: "s", Cursor: fmt.Sprint("cur", seq), Batch: seq, RunID: "r1", CommittedAt: ts(int(seq))}
	}
	letter := deadletter.Letter{Stream: "s", RunID: "r1", Batch: 1, Code: deadletter.TypeMismatch,
		Reason: "v is not a string", Raw: []byte(`{"id":3,"v":1}`), IngestedAt: ts(1)}
	run := state.Run{RunID: "r1", Pipeline: "p", StartedAt: ts(0)}
	if err := h.Dest.BeginRun(h.Ctx, run); err != nil {
		t.Fatal(err)
	}
	b := load.Batch{Pipeline: "p", Stream: "s", RunID: "r1", Seq: 1, Table: "s", Disposition: load.Merge, Keys: []string{"id"},
		Records: loadtest.Batch(t, h.Alloc, cols,
			[]any{1, "a", ts(1), ts(1), false, nil, `{"id":1}`},
			[]any{2, "b", ts(1), ts(1), false, nil, `{"id":2}`}),
		DeadLetters: []deadletter.Letter{letter}, Checkpoint: cp(1)}
	h.MustWrite(b)
	run.FinishedAt, run.Status, run.RowsRead, run.RowsWritten, run.RowsDead = ts(5), state.Succeeded, 3, 2, 1
	if err := h.Dest.EndRun(h.Ctx, run); err != nil {
		t.Fatal(err)
	}
	snapshot := map[string][]loadtest.Row{}
	for _, tab := range []string{"s", load.DeadLetterTable, load.MigrationTable, load.RunTable, load.StateTable} {
		snapshot[tab] = h.Rows(tab, nil)
	}
	if err := h.Dest.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	h2 := loadtest.NewHarness(t, open) // Setup again on the existing file
	by := map[string][]string{
		"s": {"id"}, load.DeadLetterTable: {"id"}, load.MigrationTable: {"change"},
		load.RunTable: {"run_id"}, load.StateTable: {"stream"},
	}
	for tab, rows := range snapshot {
		if len(rows) == 0 {
			t.Errorf("table %s was empty before Close", tab)
		}
		h2.AssertRows(tab, nil, by[tab], rows)
	}
	h2.AssertCheckpoint("p", "s", cp(1))

	b2 := load.Batch{Pipeline: "p", Stream: "s", RunID: "r2", Seq: 1, Table: "s", Disposition: load.Merge, Keys: []string{"id"},
		Records:    loadtest.Batch(t, h2.Alloc, cols, []any{2, "b2", ts(2), ts(2), false, nil, `{"id":2}`}),
		Checkpoint: state.Checkpoint{Pipeline: "p", Stream: "s", Batch: 1, RunID: "r2", CommittedAt: ts(9)}}
	if res, _ := h2.MustWrite(b2); res.Written != 1 {
		t.Errorf("write after reopen: %+v", res)
	}
	h2.AssertRows("s", []string{"id", "v"}, []string{"id"}, []loadtest.Row{{"id": int64(1), "v": "a"}, {"id": int64(2), "v": "b2"}})
}

// TestWidenStringToJSONKeepsText: widening a string column to JSON keeps every stored
// text as the JSON string it was, even text that would parse as JSON.
func TestWidenStringToJSONKeepsText(t *testing.T) {
	h := loadtest.NewHarness(t, opener("ds"))
	d := h.Dest.(*duckdb.Destination)
	colsS := loadtest.StreamCols(loadtest.C("id", schemaevo.Int64), loadtest.C("s", schemaevo.String))
	colsJ := loadtest.StreamCols(loadtest.C("id", schemaevo.Int64), loadtest.C("s", schemaevo.JSON))
	b := func(seq int64, cols []loadtest.Col, rows ...[]any) load.Batch {
		return load.Batch{Pipeline: "p", Stream: "t", RunID: "r", Seq: seq, Table: "t", Disposition: load.Merge, Keys: []string{"id"},
			Records:    loadtest.Batch(t, h.Alloc, cols, rows...),
			Checkpoint: state.Checkpoint{Pipeline: "p", Stream: "t", Batch: seq, RunID: "r", CommittedAt: ts(int(seq))}}
	}
	h.MustWrite(b(1, colsS,
		[]any{1, "abc", ts(1), ts(1), false, nil, `{}`},
		[]any{2, `{"a":1}`, ts(1), ts(1), false, nil, `{}`},
		[]any{3, "123", ts(1), ts(1), false, nil, `{}`},
		[]any{4, nil, ts(1), ts(1), false, nil, `{}`}))
	_, plan := h.MustWrite(b(2, colsJ, []any{5, loadtest.JSON(`[true]`), ts(2), ts(2), false, nil, `{}`}))
	if len(plan.Changes) != 1 || plan.Changes[0].NewType != schemaevo.JSON {
		t.Fatalf("test setup: plan %+v", plan)
	}
	rows, err := d.DB().QueryContext(h.Ctx, `SELECT id, CAST(s AS VARCHAR), json_type(s) FROM ds.t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int64
		var s, typ sql.NullString
		if err := rows.Scan(&id, &s, &typ); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s %s", id, s.String, typ.String))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{`1 "abc" VARCHAR`, `2 "{\"a\":1}" VARCHAR`, `3 "123" VARCHAR`, `4  `, `5 [true] ARRAY`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after widening to json:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStagingViewsDropped: the Arrow views batches are staged through do not pile up.
func TestStagingViewsDropped(t *testing.T) {
	h := loadtest.NewHarness(t, opener("ds"))
	d := h.Dest.(*duckdb.Destination)
	cols := loadtest.StreamCols(loadtest.C("id", schemaevo.Int64))
	for seq := int64(1); seq <= 3; seq++ {
		h.MustWrite(load.Batch{Pipeline: "p", Stream: "t", RunID: "r", Seq: seq, Table: "t", Disposition: load.Merge, Keys: []string{"id"},
			Records:    loadtest.Batch(t, h.Alloc, cols, []any{seq, ts(1), ts(1), false, nil, `{}`}),
			Checkpoint: state.Checkpoint{Pipeline: "p", Stream: "t", Batch: seq, RunID: "r", CommittedAt: ts(1)}})
	}
	var n int
	if err := d.DB().QueryRowContext(h.Ctx, `SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'elt_stage_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d staging views left", n)
	}
}
