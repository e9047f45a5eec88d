// Command eltbench measures elt end to end: it serves generated records from the demo
// API's /v1/bench endpoint on 127.0.0.1, syncs them into a fresh DuckDB file by
// running the elt binary (so peak RSS is elt's alone), and times DuckDB's own
// read_json loading the same records from an NDJSON file, for a ratio.
//
// It runs the sync at two sizes to show whether peak memory grows with the source.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/eltdev/elt/demoapi"
)

func main() {
	eltBin := flag.String("elt", "bin/elt", "the elt binary")
	records := flag.Int("records", 1_000_000, "records to sync")
	dir := flag.String("dir", ".bench", "working directory for the databases and the NDJSON file")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	small := *records / 4
	fmt.Printf("elt bench: %d records (and %d to compare memory), nested JSON from a local API\n\n", *records, small)

	smallRun, err := syncBench(*eltBin, *dir, small)
	if err != nil {
		log.Fatal(err)
	}
	run, err := syncBench(*eltBin, *dir, *records)
	if err != nil {
		log.Fatal(err)
	}
	readJSON, bytes, err := duckdbReadJSON(*dir, *records)
	if err != nil {
		log.Fatal(err)
	}

	fmt.Printf("%-34s %12s %14s %12s %14s\n", "", "records", "seconds", "rows/s", "peak RSS MiB")
	fmt.Printf("%-34s %12d %14.2f %12.0f %14.1f\n", "elt run (API -> DuckDB MERGE)", small, smallRun.elapsed.Seconds(), rate(small, smallRun.elapsed), smallRun.rssMiB)
	fmt.Printf("%-34s %12d %14.2f %12.0f %14.1f\n", "elt run (API -> DuckDB MERGE)", *records, run.elapsed.Seconds(), rate(*records, run.elapsed), run.rssMiB)
	fmt.Printf("%-34s %12d %14.2f %12.0f %14s\n", "duckdb read_json (NDJSON -> table)", *records, readJSON.Seconds(), rate(*records, readJSON), "-")
	fmt.Printf("\nsource size %.1f MiB (%.0f bytes/record)\n", float64(bytes)/(1<<20), float64(bytes)/float64(*records))
	fmt.Printf("elt / read_json speed ratio: %.2f (above 1 = elt is faster)\n", readJSON.Seconds()/run.elapsed.Seconds())
	fmt.Printf("peak RSS growth from %d to %d records: %.1f MiB -> %.1f MiB (x%.2f for x%.0f the records)\n",
		small, *records, smallRun.rssMiB, run.rssMiB, run.rssMiB/smallRun.rssMiB, float64(*records)/float64(small))
}

type measured struct {
	elapsed time.Duration
	rssMiB  float64
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

const benchConfig = `pipeline: bench
source:
  type: rest
  client:
    base_url: %s
  resources:
    - name: bench
      endpoint:
        path: /v1/bench
        params: {limit: 5000}
        data_selector: data
        paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor, has_more_path: has_more}
      primary_key: id
destination:
  type: duckdb
  path: %s
`

// syncBench serves n records and runs `elt run` on them into a fresh database.
func syncBench(eltBin, dir string, n int) (measured, error) {
	srv, err := demoapi.Start(demoapi.Options{BenchRecords: n})
	if err != nil {
		return measured{}, err
	}
	defer srv.Close()
	db := filepath.Join(dir, fmt.Sprintf("bench-%d.duckdb", n))
	os.Remove(db)
	os.Remove(db + ".wal")
	cfgPath := filepath.Join(dir, fmt.Sprintf("bench-%d.yaml", n))
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, benchConfig, srv.URL(), db), 0o644); err != nil {
		return measured{}, err
	}
	cmd := exec.Command(eltBin, "run", "-c", cfgPath, "-q")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return measured{}, fmt.Errorf("elt run: %w", err)
	}
	elapsed := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if err := checkCount(db, "bench.bench", n); err != nil {
		return measured{}, err
	}
	return measured{elapsed: elapsed, rssMiB: float64(ru.Maxrss) / 1024}, nil
}

// duckdbReadJSON writes the same records as NDJSON and times DuckDB loading them.
func duckdbReadJSON(dir string, n int) (time.Duration, int64, error) {
	path := filepath.Join(dir, "bench.ndjson")
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := demoapi.WriteBenchNDJSON(w, n); err != nil {
		return 0, 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	info, _ := f.Stat()
	f.Close()

	dbPath := filepath.Join(dir, "readjson.duckdb")
	os.Remove(dbPath)
	os.Remove(dbPath + ".wal")
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	start := time.Now()
	_, err = db.ExecContext(context.Background(), fmt.Sprintf(
		`CREATE TABLE bench AS SELECT * FROM read_json('%s', format = 'newline_delimited')`, path))
	if err != nil {
		return 0, 0, fmt.Errorf("read_json: %w", err)
	}
	elapsed := time.Since(start)
	db.Close()
	if err := checkCount(dbPath, "bench", n); err != nil {
		return 0, 0, err
	}
	return elapsed, info.Size(), nil
}

func checkCount(dbPath, table string, want int) error {
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var got int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&got); err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s in %s has %d rows, want %d", table, dbPath, got, want)
	}
	return nil
}
