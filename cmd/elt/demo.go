package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eltdev/elt/config"
	"github.com/eltdev/elt/configs"
	"github.com/eltdev/elt/demoapi"
	"github.com/eltdev/elt/load/duckdb"
)

// cmdDemo starts the built-in demo API on 127.0.0.1, syncs it into a DuckDB file
// with configs/demo.yaml, changes the API (updates, soft deletes, a new field, new
// records), syncs again and shows what landed. No network and no setup.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&c.logLevel, "log-level", "warn", "debug|info|warn|error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text|json")
	fs.BoolVar(&c.quiet, "q", false, "no progress lines")
	dbPath := fs.String("db", "./demo.duckdb", "the DuckDB file to (re)create")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	srv, err := demoapi.Start(demoapi.Options{})
	if err != nil {
		return fmt.Errorf("start the demo API: %w", err)
	}
	defer srv.Close()

	// The demo owns its file: start from nothing so that every demo shows the same story.
	for _, p := range []string{*dbPath, *dbPath + ".wal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the previous demo database: %w", err)
		}
	}
	env := func(key string) (string, bool) {
		switch key {
		case "DEMO_API":
			return srv.URL(), true
		case "DEMO_DB":
			return *dbPath, true
		}
		return os.LookupEnv(key)
	}
	cfg, err := config.Parse(configs.Demo, "configs/demo.yaml", env)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "Demo API on %s, pipeline configs/demo.yaml, destination %s\n\n", srv.URL(), *dbPath)
	fmt.Fprintln(stdout, "== Run 1: the first sync reads everything ==")
	if _, err := syncOnce(ctx, cfg, c, false, stdout, stderr); err != nil {
		return err
	}
	srv.Advance()
	fmt.Fprintln(stdout, "\n== The API changed: customers updated and soft-deleted, new customers with a new field (loyaltyTier), new events, orders paid ==")
	fmt.Fprintln(stdout, "== Run 2: the incremental sync reads only what changed since the committed cursor ==")
	if _, err := syncOnce(ctx, cfg, c, false, stdout, stderr); err != nil {
		return err
	}
	return showDemo(ctx, cfg, stdout)
}

// showDemo prints what landed.
func showDemo(ctx context.Context, cfg *config.Config, w io.Writer) error {
	dest, err := duckdb.Open(ctx, cfg.Destination.Path, cfg.Destination.Dataset)
	if err != nil {
		return err
	}
	defer dest.Close()
	db, ds, q := dest.DB(), cfg.Destination.Dataset, dest.Qualify
	queries := []struct{ title, sql string }{
		{"Tables in " + cfg.Destination.Path, `SELECT table_name AS "table", estimated_size AS "rows", column_count AS columns
			FROM duckdb_tables() WHERE schema_name = '` + ds + `' AND database_name = current_database() ORDER BY table_name`},
		{"Schema migrations (_elt_migrations)", `SELECT stream, change, coalesce("column", '') AS "column", coalesce(old_type, '') AS old_type,
			coalesce(new_type, '') AS new_type FROM ` + q("_elt_migrations") + ` ORDER BY applied_at, stream`},
		{"Customers by plan (soft-deleted rows kept, flagged is_deleted)", `SELECT plan_type, count(*) FILTER (WHERE NOT is_deleted) AS active,
			count(*) FILTER (WHERE is_deleted) AS deleted, round(sum(balance_cents) FILTER (WHERE NOT is_deleted) / 100.0, 2) AS balance
			FROM ` + q("customers") + ` GROUP BY ALL ORDER BY active DESC`},
		{"The new field, as a nullable column", `SELECT loyalty_tier, count(*) AS customers FROM ` + q("customers") + ` GROUP BY ALL ORDER BY 2 DESC`},
		{"Runs (_elt_runs)", `SELECT run_id, status, rows_read, rows_written, rows_dead FROM ` + q("_elt_runs") + ` ORDER BY started_at`},
	}
	for _, q := range queries {
		fmt.Fprintf(w, "\n-- %s\n", q.title)
		if err := printQuery(ctx, db, w, q.sql); err != nil {
			return fmt.Errorf("%s: %w", q.title, err)
		}
	}
	// The catalog is named after the file, so spell out catalog.schema.table: with the
	// default names both are "demo" and a two-part name is ambiguous.
	fmt.Fprintf(w, "\nQuery it yourself with any DuckDB client, e.g.\n  duckdb %s \"SELECT * FROM %s LIMIT 5\"\n",
		cfg.Destination.Path, strings.ReplaceAll(q("customers"), `"`, ""))
	return nil
}

// printQuery prints a query's result as an aligned table.
func printQuery(ctx context.Context, db *sql.DB, w io.Writer, query string) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for i, c := range cols {
		fmt.Fprint(tw, c)
		if i < len(cols)-1 {
			fmt.Fprint(tw, "\t")
		}
	}
	fmt.Fprintln(tw)
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			fmt.Fprint(tw, cell(v))
			if i < len(vals)-1 {
				fmt.Fprint(tw, "\t")
			}
		}
		fmt.Fprintln(tw)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return tw.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprint(v)
}
