package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eltdev/elt/configs"
	"github.com/eltdev/elt/demoapi"
)

// demoConfig writes configs/demo.yaml pointed at srv and a database in a temp dir,
// with overrides appended to every resource (e.g. small batches).
func demoConfig(t *testing.T, srv *demoapi.Server, db string, replace map[string]string) string {
	t.Helper()
	text := string(configs.Demo)
	text = strings.ReplaceAll(text, "${DEMO_API}", srv.URL())
	text = strings.ReplaceAll(text, "${DEMO_DB:-./demo.duckdb}", db)
	for old, new := range replace {
		if !strings.Contains(text, old) {
			t.Fatalf("demo.yaml no longer contains %q", old)
		}
		text = strings.ReplaceAll(text, old, new)
	}
	path := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// elt runs the CLI in-process and returns its exit code and output.
func elt(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := elt(t, args...)
	if code != 0 {
		t.Fatalf("elt %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
	}
	return out
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// customerRow is what the customers table must hold for one source record.
type customerRow struct {
	balance     int64
	deleted     bool
	loyaltyTier string
	updatedAt   time.Time
}

func expectedCustomers(t *testing.T, srv *demoapi.Server) map[int64]customerRow {
	t.Helper()
	want := map[int64]customerRow{}
	for _, r := range srv.Snapshot("customers") {
		id := int64(toFloat(r["id"]))
		row := customerRow{balance: int64(toFloat(r["balanceCents"]))}
		row.deleted, _ = r["deleted"].(bool)
		row.loyaltyTier, _ = r["loyaltyTier"].(string)
		ts, err := time.Parse(time.RFC3339, r["updatedAt"].(string))
		if err != nil {
			t.Fatal(err)
		}
		row.updatedAt = ts.UTC()
		want[id] = row
	}
	return want
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return 0
}

func loadedCustomers(t *testing.T, db *sql.DB, withTier bool) map[int64]customerRow {
	t.Helper()
	tier := "NULL"
	if withTier {
		tier = "loyalty_tier"
	}
	rows, err := db.Query(`SELECT id, balance_cents, is_deleted, coalesce(` + tier + `, ''), updated_at FROM demo.customers`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int64]customerRow{}
	for rows.Next() {
		var id int64
		var r customerRow
		if err := rows.Scan(&id, &r.balance, &r.deleted, &r.loyaltyTier, &r.updatedAt); err != nil {
			t.Fatal(err)
		}
		if _, dup := got[id]; dup {
			t.Fatalf("customer %d loaded twice", id)
		}
		r.updatedAt = r.updatedAt.UTC()
		got[id] = r
	}
	return got
}

func compareCustomers(t *testing.T, got, want map[int64]customerRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("customers: %d rows, want %d", len(got), len(want))
	}
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("customer %d missing", id)
		} else if g != w {
			t.Errorf("customer %d = %+v, want %+v", id, g, w)
		} else {
			continue
		}
		if bad++; bad > 5 {
			t.Fatal("too many differences")
		}
	}
}

// A full sync, then a second one after the API changed (updates, soft deletes, a new
// field, new records), leaves exactly the source's rows.
func TestSyncThenIncrementalSync(t *testing.T) {
	srv, err := demoapi.Start(demoapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dbPath := filepath.Join(t.TempDir(), "elt.duckdb")
	cfg := demoConfig(t, srv, dbPath, nil)

	mustRun(t, "run", "-c", cfg, "-q")
	db := openDB(t, dbPath)
	compareCustomers(t, loadedCustomers(t, db, false), expectedCustomers(t, srv))
	if got, want := queryInt(t, db, "SELECT count(*) FROM demo.events"), len(srv.Snapshot("events")); got != want {
		t.Errorf("events: %d rows, want %d", got, want)
	}
	if got, want := queryInt(t, db, "SELECT count(*) FROM demo.orders"), len(srv.Snapshot("orders")); got != want {
		t.Errorf("orders: %d rows, want %d", got, want)
	}
	db.Close()

	srv.Advance()
	requestsBefore := srv.Requests()
	out := mustRun(t, "run", "-c", cfg, "-q")
	db = openDB(t, dbPath)
	compareCustomers(t, loadedCustomers(t, db, true), expectedCustomers(t, srv))
	if got, want := queryInt(t, db, "SELECT count(*) FROM demo.events"), len(srv.Snapshot("events")); got != want {
		t.Errorf("events after the change: %d rows, want %d", got, want)
	}
	if got, want := queryInt(t, db, "SELECT count(*) FROM demo.orders"), len(srv.Snapshot("orders")); got != want {
		t.Errorf("orders after the change: %d rows, want %d", got, want)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM demo._elt_migrations WHERE change = 'add_column' AND "column" = 'loyalty_tier'`); n != 1 {
		t.Errorf("add_column loyalty_tier recorded %d times, want 1\n%s", n, out)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM demo.customers WHERE is_deleted AND deleted_at IS NULL`); n != 0 {
		t.Errorf("%d deleted customers without deleted_at", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM demo._elt_runs WHERE status = 'succeeded'`); n != 2 {
		t.Errorf("%d succeeded runs recorded, want 2", n)
	}
	// The second run of customers read only what changed since the cursor.
	var read int
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[0] == "customers" {
			fmt.Sscan(f[3], &read)
		}
	}
	if total := len(srv.Snapshot("customers")); read == 0 || read >= total {
		t.Errorf("incremental run read %d customers of %d: want only the changed ones\n%s", read, total, out)
	}
	t.Logf("second run: %d requests", srv.Requests()-requestsBefore)
}

// 429s with Retry-After, 503s and bodies cut mid-way still give complete data with
// no duplicates.
func TestMisbehavingAPI(t *testing.T) {
	// Three streams share the server's request counter, so a stream can meet several
	// faults in a row: the test allows 12 attempts, as a config for a flaky API would.
	srv, err := demoapi.Start(demoapi.Options{Faults: demoapi.Faults{RateLimitEvery: 13, UnavailableEvery: 4, CutBodyEvery: 7}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dbPath := filepath.Join(t.TempDir(), "elt.duckdb")
	cfg := demoConfig(t, srv, dbPath, map[string]string{"max_attempts: 5, initial_delay: 200ms": "max_attempts: 12, initial_delay: 10ms"})
	_, _, stderr := func() (int, string, string) {
		code, out, errOut := elt(t, "run", "-c", cfg, "-q", "--log-level", "warn")
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		return code, out, errOut
	}()
	if !strings.Contains(stderr, "retrying request") {
		t.Errorf("no retry was logged:\n%s", stderr)
	}
	db := openDB(t, dbPath)
	compareCustomers(t, loadedCustomers(t, db, false), expectedCustomers(t, srv))
	for _, stream := range []string{"events", "orders"} {
		key := map[string]string{"events": "event_id", "orders": "order_id"}[stream]
		total := queryInt(t, db, "SELECT count(*) FROM demo."+stream)
		distinct := queryInt(t, db, fmt.Sprintf("SELECT count(DISTINCT %s) FROM demo.%s", key, stream))
		if want := len(srv.Snapshot(stream)); total != want || distinct != want {
			t.Errorf("%s: %d rows, %d distinct, want %d", stream, total, distinct, want)
		}
	}
}

// Malformed records land in _elt_dead_letters and nowhere else; the run goes on.
func TestMalformedRecordsBecomeDeadLetters(t *testing.T) {
	srv, err := demoapi.Start(demoapi.Options{Malformed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dbPath := filepath.Join(t.TempDir(), "elt.duckdb")
	cfg := demoConfig(t, srv, dbPath, nil)
	mustRun(t, "run", "-c", cfg, "-q")
	// And once more: re-reading the same bad records must not store them twice.
	mustRun(t, "run", "-c", cfg, "-q", "--full-refresh")

	db := openDB(t, dbPath)
	rows, err := db.Query(`SELECT error_code, count(*) FROM demo._elt_dead_letters GROUP BY 1 ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	total := 0
	for rows.Next() {
		var code string
		var n int
		rows.Scan(&code, &n)
		got = append(got, fmt.Sprintf("%s=%d", code, n))
		total += n
	}
	rows.Close()
	want := []string{"malformed_json=1", "missing_primary_key=2", "not_an_object=1", "type_mismatch=1"}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dead letters by code: %v, want %v", got, want)
	}
	if total != srv.MalformedCount() {
		t.Errorf("%d dead letters, the API served %d malformed records", total, srv.MalformedCount())
	}
	if n := queryInt(t, db, `SELECT count(*) FROM demo._elt_dead_letters WHERE raw IS NULL OR reason = ''`); n != 0 {
		t.Errorf("%d dead letters without raw record or reason", n)
	}
	// Every well-formed customer loaded; none of the bad ones did.
	if got, want := queryInt(t, db, "SELECT count(*) FROM demo.customers"), len(srv.Snapshot("customers")); got != want {
		t.Errorf("customers: %d rows, want the %d well-formed ones", got, want)
	}
	if n := queryInt(t, db, fmt.Sprintf("SELECT count(*) FROM demo.customers WHERE id IN (%d, %d)", demoapi.LotsID, demoapi.BrokenID)); n != 0 {
		t.Errorf("a malformed record was loaded")
	}
}

// Config errors exit 2 and name the key; a source that cannot be reached exits 1
// and says where and what to do.
func TestExitCodesAndMessages(t *testing.T) {
	t.Setenv("ELT_TEST_DB", filepath.Join(t.TempDir(), "x.duckdb"))
	bad := "../../testdata/cli/bad_key.yaml"
	code, _, stderr := elt(t, "run", "-c", bad)
	if code != 2 || !strings.Contains(stderr, "source.client.timeot") {
		t.Errorf("bad key: exit %d, stderr %q; want 2 naming source.client.timeot", code, stderr)
	}
	if code, _, _ := elt(t, "run"); code != 2 {
		t.Errorf("run without -c: exit %d, want 2", code)
	}
	if code, _, _ := elt(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}

	down := "../../testdata/cli/api_down.yaml"
	code, _, stderr = elt(t, "run", "-c", down, "-q")
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:1/a") || !strings.Contains(stderr, "stream a") {
		t.Errorf("unreachable API: exit %d, stderr %q; want 1 naming the stream and URL", code, stderr)
	}
}

func TestCheckDiscoverAndState(t *testing.T) {
	srv, err := demoapi.Start(demoapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dbPath := filepath.Join(t.TempDir(), "elt.duckdb")
	cfg := demoConfig(t, srv, dbPath, nil)

	out := mustRun(t, "check", "-c", cfg)
	for _, want := range []string{"writable", "source customers: reachable", "source events: reachable", "source orders: reachable"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "discover", "-c", cfg, "--stream", "customers")
	for _, want := range []string{"customers → table demo.customers", "address__geo__lat", "float64", "plan_type", "balance_cents", "int64", "updated_at", "timestamptz", "tags", "json"} {
		if !strings.Contains(out, want) {
			t.Errorf("discover output lacks %q:\n%s", want, out)
		}
	}
	mustRun(t, "run", "-c", cfg, "-q", "--stream", "customers")
	out = mustRun(t, "state", "show", "-c", cfg)
	if !strings.Contains(out, "customers") || strings.Contains(out, "events") {
		t.Errorf("state show after syncing only customers:\n%s", out)
	}
	mustRun(t, "state", "reset", "-c", cfg, "--stream", "customers")
	out = mustRun(t, "state", "show", "-c", cfg)
	if strings.Contains(out, "customers") {
		t.Errorf("state show after reset still lists customers:\n%s", out)
	}
	if code, _, stderr := elt(t, "run", "-c", cfg, "--stream", "nope"); code != 2 || !strings.Contains(stderr, `"nope"`) {
		t.Errorf("unknown stream: exit %d %q", code, stderr)
	}
}

// The README's first command: the demo runs from nothing and shows what landed.
func TestDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "elt.duckdb")
	out := mustRun(t, "demo", "--db", db, "-q")
	for _, want := range []string{"Run 1", "Run 2", "customers", "loyalty_tier", "add_column", "succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

// kill -9 in the middle of a run, then a re-run, leaves tables identical (row for
// row, all but ingested_at) to an uninterrupted run.
func TestKilledRunResumesExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "elt")
	build := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	small := map[string]string{"limit: 100": "limit: 25", "limit: 50": "limit: 20"}

	// The reference: an uninterrupted run.
	refSrv, err := demoapi.Start(demoapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer refSrv.Close()
	refDB := filepath.Join(t.TempDir(), "ref.duckdb")
	runBinary(t, bin, demoConfig(t, refSrv, refDB, small), nil)

	for _, killAt := range []int64{4, 9, 17} {
		t.Run(fmt.Sprintf("kill at request %d", killAt), func(t *testing.T) {
			srv, err := demoapi.Start(demoapi.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dbPath := filepath.Join(t.TempDir(), "killed.duckdb")
			cfg := demoConfig(t, srv, dbPath, small)
			killed := runBinary(t, bin, cfg, func(pid int) {
				srv.OnRequest(func(n int64) {
					if n == killAt {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				})
			})
			if !killed {
				t.Fatalf("the run finished before request %d", killAt)
			}
			srv.OnRequest(func(int64) {})
			runBinary(t, bin, cfg, nil)
			compareDatabases(t, refDB, dbPath, []string{"customers", "events", "orders"})
		})
	}
}

// runBinary runs `elt run` as a process; started is called with its pid. It reports
// whether the process was killed.
func runBinary(t *testing.T, bin, cfg string, started func(pid int)) (killed bool) {
	t.Helper()
	cmd := exec.Command(bin, "run", "-c", cfg, "-q")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if started != nil {
		started(cmd.Process.Pid)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return true
	}
	if err != nil {
		t.Fatalf("elt run: %v\n%s", err, out.String())
	}
	return false
}

// compareDatabases asserts the tables hold the same rows in both files, ignoring
// ingested_at (the connector clock differs between runs).
func compareDatabases(t *testing.T, a, b string, tables []string) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		fmt.Sprintf("ATTACH '%s' AS a (READ_ONLY)", a),
		fmt.Sprintf("ATTACH '%s' AS b (READ_ONLY)", b),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range tables {
		var na, nb, diff int
		q := func(s string) string { return strings.ReplaceAll(s, "{T}", "demo."+table) }
		conn.QueryRowContext(ctx, q("SELECT count(*) FROM a.{T}")).Scan(&na)
		conn.QueryRowContext(ctx, q("SELECT count(*) FROM b.{T}")).Scan(&nb)
		err := conn.QueryRowContext(ctx, q(`SELECT count(*) FROM (
			(SELECT * EXCLUDE (ingested_at) FROM a.{T} EXCEPT ALL SELECT * EXCLUDE (ingested_at) FROM b.{T})
			UNION ALL
			(SELECT * EXCLUDE (ingested_at) FROM b.{T} EXCEPT ALL SELECT * EXCLUDE (ingested_at) FROM a.{T}))`)).Scan(&diff)
		if err != nil {
			t.Fatalf("compare %s: %v", table, err)
		}
		if na != nb || diff != 0 || na == 0 {
			t.Errorf("%s: %d rows uninterrupted, %d after kill and re-run, %d rows differ", table, na, nb, diff)
		}
	}
}

// write_disposition: replace swaps in exactly the latest snapshot at the end of each
// complete run (rows the source no longer has are gone, which a merge would keep),
// and leaves no staging table behind.
func TestReplaceThroughCLI(t *testing.T) {
	replace := map[string]string{"      primary_key: orderId": "      primary_key: orderId\n      write_disposition: replace"}
	dbPath := filepath.Join(t.TempDir(), "elt.duckdb")
	before, err := demoapi.Start(demoapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	mustRun(t, "run", "-c", demoConfig(t, before, dbPath, replace), "-q", "--stream", "orders")

	srv, err := demoapi.Start(demoapi.Options{Orders: 40, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	mustRun(t, "run", "-c", demoConfig(t, srv, dbPath, replace), "-q", "--stream", "orders")

	db := openDB(t, dbPath)
	want := map[int64]string{}
	for _, r := range srv.Snapshot("orders") {
		want[int64(toFloat(r["orderId"]))] = r["status"].(string)
	}
	rows, err := db.Query("SELECT order_id, status FROM demo.orders")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int64]string{}
	for rows.Next() {
		var id int64
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		if _, dup := got[id]; dup {
			t.Errorf("order %d twice", id)
		}
		got[id] = status
	}
	if len(got) != len(want) {
		t.Errorf("%d orders after replace, want %d", len(got), len(want))
	}
	for id, status := range want {
		if got[id] != status {
			t.Errorf("order %d status %q, want %q", id, got[id], status)
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%__elt_replace'`); n != 0 {
		t.Errorf("%d staging tables left behind", n)
	}
}
