package pipeline

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/eltdev/elt/config"
	"github.com/eltdev/elt/configs"
	"github.com/eltdev/elt/demoapi"
	"github.com/eltdev/elt/load/duckdb"
)

// A batch that cannot be written fails its stream at once: the source is not read
// to the end first, and nothing of the stream is committed.
func TestFailedWriteStopsReadingTheSource(t *testing.T) {
	srv, err := demoapi.Start(demoapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dbPath := filepath.Join(t.TempDir(), "elt.duckdb")
	// A view holds the stream's table name, so the first batch's migration fails.
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE SCHEMA demo", "CREATE VIEW demo.customers AS SELECT 1 AS x"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	text := strings.Replace(string(configs.Demo), "params: {limit: 100,", "params: {limit: 5,", 1)
	text = strings.Replace(text, "      primary_key: id\n", "      primary_key: id\n      batch: {max_rows: 5}\n", 1)
	env := map[string]string{"DEMO_API": srv.URL(), "DEMO_DB": dbPath}
	cfg, err := config.Parse([]byte(text), "demo.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	dest, err := duckdb.Open(context.Background(), dbPath, cfg.Destination.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer dest.Close()

	sum, err := Run(context.Background(), cfg, dest, Options{Streams: []string{"customers"}})
	if err == nil {
		t.Fatal("the run succeeded although no batch could be written")
	}
	st := sum.Streams[0]
	// 250 customers in pages of 5 is 50 pages. The stages hold at most a few pages
	// between them when the first write fails.
	if st.Pages > 6 {
		t.Errorf("the stream read %d pages after its first write failed", st.Pages)
	}
	if st.Batches != 0 || st.RowsWritten != 0 {
		t.Errorf("committed %d batches, %d rows", st.Batches, st.RowsWritten)
	}
	if _, ok, _ := dest.Checkpoint(context.Background(), cfg.Pipeline, "customers"); ok {
		t.Error("a checkpoint was committed for the failed stream")
	}
}
