// Package duckdb is elt's embedded default destination. Batches enter DuckDB through
// its Arrow interface (a registered Arrow stream, scanned once by the MERGE), never
// row by row, and every batch commits in one DuckDB transaction together with its
// dead letters, migrations and checkpoint.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/eltdev/elt/load"
	"github.com/eltdev/elt/schemaevo"
	"github.com/eltdev/elt/state"
)

// Destination writes into one schema (the dataset) of a DuckDB database file.
//
// DuckDB allows one writing process per file and its optimistic transactions
// conflict when two of them touch the same system-table rows, so one connection
// serves every call and a mutex orders them; DuckDB parallelizes each statement
// internally, which is where the time goes anyway.
type Destination struct {
	catalog string // the attached database's name; qualifies every table, since a
	// file called demo.duckdb makes a catalog "demo" that a schema "demo" would shadow
	dataset string

	mu    sync.Mutex
	db    *sql.DB
	conn  *sql.Conn
	arrow *duckdb.Arrow
	views int64 // names the registered Arrow views uniquely
}

var _ load.Destination = (*Destination)(nil)

// Open opens (creating when missing) the database file at path and uses dataset as
// the schema for every table. An empty path opens an in-memory database.
func Open(ctx context.Context, path, dataset string) (*Destination, error) {
	if dataset == "" {
		return nil, errors.New("duckdb: dataset is empty")
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, fmt.Errorf("duckdb: open %s: %w", path, err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("duckdb: open %s: %w (is another elt process using this file?)", path, err)
	}
	d := &Destination{dataset: dataset, db: db, conn: conn}
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&d.catalog); err != nil {
		d.Close()
		return nil, fmt.Errorf("duckdb: open %s: %w", path, err)
	}
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		d.arrow = a
		return err
	})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("duckdb: arrow interface: %w", err)
	}
	return d, nil
}

// DB returns the database handle, for read-only reporting (elt demo, tests).
func (d *Destination) DB() *sql.DB { return d.db }

// Dataset returns the schema tables are written to.
func (d *Destination) Dataset() string { return d.dataset }

// Close releases the connection and the database.
func (d *Destination) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	if d.conn != nil {
		errs = append(errs, d.conn.Close())
		d.conn = nil
	}
	if d.db != nil {
		errs = append(errs, d.db.Close())
		d.db = nil
	}
	return errors.Join(errs...)
}

// Setup creates the dataset and the system tables.
func (d *Destination) Setup(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	stmts := []string{
		"CREATE SCHEMA IF NOT EXISTS " + ident(d.catalog) + "." + ident(d.dataset),
		`CREATE TABLE IF NOT EXISTS ` + d.qualify(load.StateTable) + ` (
			pipeline VARCHAR NOT NULL, stream VARCHAR NOT NULL, cursor VARCHAR,
			batch BIGINT NOT NULL, run_id VARCHAR NOT NULL, committed_at TIMESTAMPTZ NOT NULL,
			PRIMARY KEY (pipeline, stream))`,
		`CREATE TABLE IF NOT EXISTS ` + d.qualify(load.DeadLetterTable) + ` (
			id VARCHAR PRIMARY KEY, stream VARCHAR NOT NULL, run_id VARCHAR NOT NULL, batch BIGINT NOT NULL,
			error_code VARCHAR NOT NULL, reason VARCHAR NOT NULL, raw JSON, ingested_at TIMESTAMPTZ NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + d.qualify(load.MigrationTable) + ` (
			stream VARCHAR NOT NULL, run_id VARCHAR NOT NULL, change VARCHAR NOT NULL, "column" VARCHAR,
			old_type VARCHAR, new_type VARCHAR, note VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + d.qualify(load.RunTable) + ` (
			run_id VARCHAR PRIMARY KEY, pipeline VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
			finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, rows_read BIGINT NOT NULL DEFAULT 0,
			rows_written BIGINT NOT NULL DEFAULT 0, rows_dead BIGINT NOT NULL DEFAULT 0, error VARCHAR)`,
	}
	for _, s := range stmts {
		if _, err := d.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("duckdb: set up %s: %w", d.dataset, err)
		}
	}
	return nil
}

// Table describes a table's columns, or returns nil when it does not exist.
func (d *Destination) Table(ctx context.Context, name string, replace bool) (*schemaevo.Table, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if replace {
		name += load.ReplaceSuffix
	}
	return d.describe(ctx, d.conn, name)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (d *Destination) describe(ctx context.Context, q queryer, table string) (*schemaevo.Table, error) {
	dataset := d.dataset
	rows, err := q.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position`, d.catalog, dataset, table)
	if err != nil {
		return nil, fmt.Errorf("duckdb: describe %s.%s: %w", dataset, table, err)
	}
	defer rows.Close()
	t := schemaevo.Table{Name: table}
	for rows.Next() {
		var name, sqlType string
		if err := rows.Scan(&name, &sqlType); err != nil {
			return nil, err
		}
		typ, err := fromSQLType(sqlType)
		if err != nil {
			return nil, fmt.Errorf("duckdb: table %s.%s column %q: %w", dataset, table, name, err)
		}
		t.Columns = append(t.Columns, schemaevo.Column{Name: name, Type: typ})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(t.Columns) == 0 {
		return nil, nil
	}
	return &t, nil
}

// Write commits one batch in one transaction.
func (d *Destination) Write(ctx context.Context, b load.Batch) (res load.Result, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		table := b.Table
		if b.Disposition == load.Replace {
			table += load.ReplaceSuffix
		}
		if err := d.migrate(ctx, tx, b, table); err != nil {
			return err
		}
		if b.Records != nil && b.Records.NumRows() > 0 {
			written, err := d.writeRows(ctx, tx, b, table)
			if err != nil {
				return err
			}
			res.Written = written
			res.Skipped = b.Records.NumRows() - written
		}
		stored, err := d.insertDeadLetters(ctx, tx, b)
		if err != nil {
			return err
		}
		res.DeadLetters = stored
		return d.saveCheckpoint(ctx, tx, b.Checkpoint)
	})
	if err != nil {
		return load.Result{}, fmt.Errorf("duckdb: stream %s batch %d: %w", b.Stream, b.Seq, err)
	}
	return res, nil
}

// inTx runs fn in a transaction on the destination's connection and commits it, or
// rolls it back when fn fails.
func (d *Destination) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// writeRows stages the Arrow batch as a view and merges or appends it.
func (d *Destination) writeRows(ctx context.Context, tx *sql.Tx, b load.Batch, table string) (int64, error) {
	reader, err := array.NewRecordReader(b.Records.Schema(), []arrow.RecordBatch{b.Records})
	if err != nil {
		return 0, err
	}
	defer reader.Release()
	d.views++
	view := fmt.Sprintf("elt_stage_%d", d.views)
	release, err := d.arrow.RegisterView(reader, view)
	if err != nil {
		return 0, fmt.Errorf("stage arrow batch: %w", err)
	}
	defer func() {
		release()
		// The view outlives the stream it reads; drop it so names do not pile up.
		_, _ = tx.ExecContext(ctx, "DROP VIEW IF EXISTS "+ident(view))
	}()

	target, err := d.describe(ctx, tx, table)
	if err != nil {
		return 0, err
	}
	cols := make([]string, b.Records.Schema().NumFields())
	vals := make([]string, len(cols))
	for i, f := range b.Records.Schema().Fields() {
		cols[i] = f.Name
		vals[i] = "s." + ident(f.Name)
		// A batch narrower than the table is written into its wider columns (schemaevo.Diff
		// plans no change). A plain cast of a string into a JSON column would parse it as
		// JSON text and fail on "abc"; to_json stores it as the JSON string, as widening
		// the column stored the older values.
		if target == nil {
			continue
		}
		if c, ok := target.Column(f.Name); ok && c.Type == schemaevo.JSON {
			if t, err := schemaevo.FieldType(f); err == nil && t != schemaevo.JSON {
				vals[i] = "to_json(" + vals[i] + ")"
			}
		}
	}
	var stmt string
	switch {
	case b.Disposition == load.Append || (b.Disposition == load.Replace && len(b.Keys) == 0):
		stmt = appendSQL(d.qualify(table), view, cols, vals)
	default:
		stmt = mergeSQL(d.qualify(table), view, cols, vals, b.Keys, target)
	}
	r, err := tx.ExecContext(ctx, stmt)
	if err != nil {
		return 0, fmt.Errorf("load %d rows into %s: %w", b.Records.NumRows(), table, err)
	}
	return r.RowsAffected()
}

// appendSQL inserts every staged row; vals are the expressions that read cols from
// the view, aliased s.
func appendSQL(table, view string, cols, vals []string) string {
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s AS s", table, identList(cols, ""), strings.Join(vals, ", "), ident(view))
}

// mergeSQL upserts the staged rows by key. A stored row is replaced only when the
// incoming updated_at is at least as new (ties go to the incoming, later-ingested
// row): an older row never overwrites a newer one. The replacement is the whole row:
// table columns the batch does not carry become NULL, as the record no longer has
// them.
func mergeSQL(table, view string, cols, vals, keys []string, target *schemaevo.Table) string {
	var on []string
	for _, k := range keys {
		on = append(on, fmt.Sprintf("t.%s = s.%s", ident(k), ident(k)))
	}
	inBatch := make(map[string]bool, len(cols))
	var set []string
	for i, c := range cols {
		inBatch[c] = true
		set = append(set, fmt.Sprintf("%s = %s", ident(c), vals[i]))
	}
	if target != nil {
		for _, c := range target.Columns {
			if !inBatch[c.Name] && c.Name != load.IsDeleted {
				set = append(set, ident(c.Name)+" = NULL")
			}
		}
	}
	return fmt.Sprintf(`MERGE INTO %s AS t USING %s AS s ON %s
WHEN MATCHED AND s.%s >= t.%s THEN UPDATE SET %s
WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)`,
		table, ident(view), strings.Join(on, " AND "),
		ident(load.UpdatedAt), ident(load.UpdatedAt), strings.Join(set, ", "),
		identList(cols, ""), strings.Join(vals, ", "))
}

// migrate applies the batch's plan to the table and records every change.
func (d *Destination) migrate(ctx context.Context, tx *sql.Tx, b load.Batch, table string) error {
	if b.Plan.Empty() {
		return nil
	}
	if b.Plan.Create {
		var defs []string
		for _, c := range b.Plan.Target.Columns {
			defs = append(defs, ident(c.Name)+" "+sqlType(c.Type))
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", d.qualify(table), strings.Join(defs, ", "))); err != nil {
			return fmt.Errorf("create table %s: %w", table, err)
		}
	} else {
		for _, c := range b.Plan.Changes {
			if err := d.applyChange(ctx, tx, table, c); err != nil {
				return err
			}
		}
	}
	for _, c := range b.Plan.Changes {
		_, err := tx.ExecContext(ctx, `INSERT INTO `+d.qualify(load.MigrationTable)+
			` (stream, run_id, change, "column", old_type, new_type, note, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, now())`,
			b.Stream, b.RunID, string(c.Kind), nullable(c.Column), nullable(string(c.OldType)), nullable(string(c.NewType)), c.Note)
		if err != nil {
			return fmt.Errorf("record migration: %w", err)
		}
	}
	return nil
}

func (d *Destination) applyChange(ctx context.Context, tx *sql.Tx, table string, c schemaevo.Change) error {
	var stmt string
	switch c.Kind {
	case schemaevo.AddColumn:
		stmt = fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", d.qualify(table), ident(c.Column), sqlType(c.NewType))
	case schemaevo.WidenType:
		using := ""
		if c.NewType == schemaevo.JSON {
			// A plain cast would parse stored strings as JSON text and fail on "abc";
			// to_json keeps every stored value as the JSON value it was.
			using = " USING to_json(" + ident(c.Column) + ")"
		}
		stmt = fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s%s", d.qualify(table), ident(c.Column), sqlType(c.NewType), using)
	default:
		return fmt.Errorf("unknown schema change %q", c.Kind)
	}
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s %s.%s: %w", c.Kind, table, c.Column, err)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insertDeadLetters stores the batch's dead letters; one already stored (same stream,
// code and record: a re-read after a crash) is kept as it was.
func (d *Destination) insertDeadLetters(ctx context.Context, tx *sql.Tx, b load.Batch) (int64, error) {
	if len(b.DeadLetters) == 0 {
		return 0, nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+d.qualify(load.DeadLetterTable)+
		` (id, stream, run_id, batch, error_code, reason, raw, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("dead letters: %w", err)
	}
	defer stmt.Close()
	var stored int64
	for _, l := range b.DeadLetters {
		r, err := stmt.ExecContext(ctx, l.ID(), l.Stream, l.RunID, l.Batch, string(l.Code), l.Reason, l.RawJSON(), l.IngestedAt.UTC())
		if err != nil {
			return 0, fmt.Errorf("dead letters: %w", err)
		}
		n, _ := r.RowsAffected()
		stored += n
	}
	return stored, nil
}

func (d *Destination) saveCheckpoint(ctx context.Context, tx *sql.Tx, cp state.Checkpoint) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO `+d.qualify(load.StateTable)+
		` (pipeline, stream, cursor, batch, run_id, committed_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (pipeline, stream) DO UPDATE SET cursor = excluded.cursor, batch = excluded.batch,
		run_id = excluded.run_id, committed_at = excluded.committed_at`,
		cp.Pipeline, cp.Stream, nullable(cp.Cursor), cp.Batch, cp.RunID, cp.CommittedAt.UTC())
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// PrepareReplace drops a staging table an interrupted run left and creates a fresh
// one with the final table's columns.
func (d *Destination) PrepareReplace(ctx context.Context, table string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	staging := d.qualify(table + load.ReplaceSuffix)
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+staging); err != nil {
			return fmt.Errorf("duckdb: replace %s: %w", table, err)
		}
		current, err := d.describe(ctx, tx, table)
		if err != nil || current == nil {
			return err
		}
		_, err = tx.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM %s LIMIT 0", staging, d.qualify(table)))
		if err != nil {
			return fmt.Errorf("duckdb: replace %s: %w", table, err)
		}
		return nil
	})
}

// FinishReplace swaps the staging table in.
func (d *Destination) FinishReplace(ctx context.Context, table string, cp state.Checkpoint) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	staging := table + load.ReplaceSuffix
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		exists, err := d.describe(ctx, tx, staging)
		if err != nil {
			return err
		}
		if exists != nil {
			if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+d.qualify(table)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s RENAME TO %s", d.qualify(staging), ident(table))); err != nil {
				return err
			}
		}
		return d.saveCheckpoint(ctx, tx, cp)
	})
	if err != nil {
		return fmt.Errorf("duckdb: swap in %s: %w", table, err)
	}
	return nil
}

// Checkpoint returns a stream's checkpoint.
func (d *Destination) Checkpoint(ctx context.Context, pipeline, stream string) (state.Checkpoint, bool, error) {
	cps, err := d.checkpoints(ctx, pipeline, stream)
	if err != nil || len(cps) == 0 {
		return state.Checkpoint{}, false, err
	}
	return cps[0], true, nil
}

// Checkpoints lists the pipeline's checkpoints.
func (d *Destination) Checkpoints(ctx context.Context, pipeline string) ([]state.Checkpoint, error) {
	return d.checkpoints(ctx, pipeline, "")
}

func (d *Destination) checkpoints(ctx context.Context, pipeline, stream string) ([]state.Checkpoint, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rows, err := d.conn.QueryContext(ctx, `SELECT stream, coalesce(cursor, ''), batch, run_id, committed_at FROM `+
		d.qualify(load.StateTable)+` WHERE pipeline = ? AND (? = '' OR stream = ?) ORDER BY stream`, pipeline, stream, stream)
	if err != nil {
		return nil, fmt.Errorf("duckdb: read state: %w", err)
	}
	defer rows.Close()
	var out []state.Checkpoint
	for rows.Next() {
		cp := state.Checkpoint{Pipeline: pipeline}
		if err := rows.Scan(&cp.Stream, &cp.Cursor, &cp.Batch, &cp.RunID, &cp.CommittedAt); err != nil {
			return nil, fmt.Errorf("duckdb: read state: %w", err)
		}
		out = append(out, cp)
	}
	return out, rows.Err()
}

// ResetState deletes checkpoints.
func (d *Destination) ResetState(ctx context.Context, pipeline string, streams []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if len(streams) == 0 {
			_, err := tx.ExecContext(ctx, `DELETE FROM `+d.qualify(load.StateTable)+` WHERE pipeline = ?`, pipeline)
			return err
		}
		for _, s := range streams {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+d.qualify(load.StateTable)+` WHERE pipeline = ? AND stream = ?`, pipeline, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// BeginRun records a run and marks the pipeline's orphaned runs abandoned.
func (d *Destination) BeginRun(ctx context.Context, r state.Run) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE `+d.qualify(load.RunTable)+` SET status = ?, error = 'the process ended without finishing the run'
			WHERE pipeline = ? AND status = ?`, string(state.Abandoned), r.Pipeline, string(state.Running))
		if err != nil {
			return fmt.Errorf("duckdb: record run: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO `+d.qualify(load.RunTable)+` (run_id, pipeline, started_at, status) VALUES (?, ?, ?, ?)`,
			r.RunID, r.Pipeline, r.StartedAt.UTC(), string(state.Running))
		if err != nil {
			return fmt.Errorf("duckdb: record run: %w", err)
		}
		return nil
	})
}

// EndRun records a run's outcome.
func (d *Destination) EndRun(ctx context.Context, r state.Run) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := d.conn.ExecContext(ctx, `UPDATE `+d.qualify(load.RunTable)+` SET finished_at = ?, status = ?, rows_read = ?,
		rows_written = ?, rows_dead = ?, error = ? WHERE run_id = ?`,
		r.FinishedAt.UTC(), string(r.Status), r.RowsRead, r.RowsWritten, r.RowsDead, nullable(r.Error), r.RunID)
	if err != nil {
		return fmt.Errorf("duckdb: record run: %w", err)
	}
	return nil
}

// Qualify returns a table's fully qualified, quoted name, for queries of one's own.
func (d *Destination) Qualify(table string) string { return d.qualify(table) }

func (d *Destination) qualify(table string) string {
	return ident(d.catalog) + "." + ident(d.dataset) + "." + ident(table)
}

// ident quotes an identifier; generated SQL never contains an unquoted name.
func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func identList(names []string, prefix string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = prefix + ident(n)
	}
	return strings.Join(q, ", ")
}

func sqlType(t schemaevo.Type) string {
	switch t {
	case schemaevo.Bool:
		return "BOOLEAN"
	case schemaevo.Int64:
		return "BIGINT"
	case schemaevo.Float64:
		return "DOUBLE"
	case schemaevo.Decimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", schemaevo.DecimalPrecision, schemaevo.DecimalScale)
	case schemaevo.Date:
		return "DATE"
	case schemaevo.Timestamptz:
		return "TIMESTAMPTZ"
	case schemaevo.JSON:
		return "JSON"
	default:
		return "VARCHAR"
	}
}

// fromSQLType maps a DuckDB column type back to elt's type set. Types elt does not
// write (a column a user added by hand) map to the elt type that holds them.
func fromSQLType(s string) (schemaevo.Type, error) {
	switch u := strings.ToUpper(s); {
	case u == "BOOLEAN":
		return schemaevo.Bool, nil
	case u == "BIGINT" || u == "INTEGER" || u == "SMALLINT" || u == "TINYINT" || u == "UINTEGER" || u == "USMALLINT" || u == "UTINYINT":
		return schemaevo.Int64, nil
	case u == "DOUBLE" || u == "FLOAT" || u == "REAL":
		return schemaevo.Float64, nil
	case strings.HasPrefix(u, "DECIMAL") || u == "HUGEINT" || u == "UBIGINT":
		return schemaevo.Decimal, nil
	case u == "VARCHAR":
		return schemaevo.String, nil
	case u == "DATE":
		return schemaevo.Date, nil
	case u == "TIMESTAMP WITH TIME ZONE" || u == "TIMESTAMPTZ" || strings.HasPrefix(u, "TIMESTAMP"):
		return schemaevo.Timestamptz, nil
	case u == "JSON":
		return schemaevo.JSON, nil
	}
	return "", fmt.Errorf("column type %s is not one elt writes", s)
}
