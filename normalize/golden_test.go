package normalize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eltdev/elt/schemaevo"
)

// goldenOptions is options.json in a testdata/infer case.
type goldenOptions struct {
	PrimaryKey []string                  `json:"primary_key"`
	Cursor     string                    `json:"cursor"`
	DeleteFlag string                    `json:"delete_flag"`
	DeletedAt  string                    `json:"deleted_at"`
	Declared   map[string]schemaevo.Type `json:"declared"`
	NotNull    []string                  `json:"not_null"`
	MaxNesting int                       `json:"max_nesting"`
	KeepRaw    bool                      `json:"keep_raw"`
}

var goldenIngestedAt = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// TestInferGolden runs every testdata/infer/<case>: input.jsonl (one record per line)
// through one batch and compares a text dump of the result with expected.txt.
// UPDATE_GOLDEN=1 rewrites the expected files; review the diff by eye.
func TestInferGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/infer/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 12 {
		t.Fatalf("only %d inference cases", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer alloc.AssertSize(t, 0)
			opts := readGoldenOptions(t, dir)
			opts.Allocator = alloc
			input, err := os.ReadFile(filepath.Join(dir, "input.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			var records [][]byte
			for _, line := range bytes.Split(bytes.TrimRight(input, "\n"), []byte("\n")) {
				records = append(records, line)
			}
			res, err := New(opts).Batch(records, goldenIngestedAt)
			if err != nil {
				t.Fatal(err)
			}
			got := dumpResult(res)
			if res.Record != nil {
				res.Record.Release()
			}
			path := filepath.Join(dir, "expected.txt")
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("result differs from %s\n--- got ---\n%s--- want ---\n%s", path, got, want)
			}
		})
	}
}

func readGoldenOptions(t *testing.T, dir string) Options {
	var g goldenOptions
	raw, err := os.ReadFile(filepath.Join(dir, "options.json"))
	switch {
	case os.IsNotExist(err):
	case err != nil:
		t.Fatal(err)
	default:
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&g); err != nil {
			t.Fatalf("options.json: %v", err)
		}
	}
	opts := Options{
		Stream: filepath.Base(dir), PrimaryKey: g.PrimaryKey, CursorPath: g.Cursor,
		DeleteFlag: g.DeleteFlag, DeletedAt: g.DeletedAt, Declared: g.Declared,
		MaxNesting: g.MaxNesting, KeepRaw: g.KeepRaw,
	}
	for _, k := range g.NotNull {
		if opts.NotNull == nil {
			opts.NotNull = map[string]bool{}
		}
		opts.NotNull[k] = true
	}
	return opts
}

// dumpResult renders a Result as stable text: counts, cursor, schema, rows, rejections.
func dumpResult(res Result) string {
	var b strings.Builder
	rows := int64(0)
	if res.Record != nil {
		rows = res.Record.NumRows()
	}
	fmt.Fprintf(&b, "rows: %d\nduplicates: %d\n", rows, res.Duplicates)
	if !res.MaxCursor.IsZero() {
		fmt.Fprintf(&b, "max_cursor: %s (%s)\nascending: %v\n", res.MaxCursor.Text,
			res.MaxCursor.Time().Format(time.RFC3339Nano), res.Ascending)
	}
	if rec := res.Record; rec != nil {
		b.WriteString("columns:\n")
		for _, f := range rec.Schema().Fields() {
			typ, err := schemaevo.FieldType(f)
			if err != nil {
				typ = schemaevo.Type("?" + err.Error())
			}
			null := ""
			if !f.Nullable {
				null = " not null"
			}
			fmt.Fprintf(&b, "  %s: %s%s\n", f.Name, typ, null)
		}
		b.WriteString("values:\n")
		for r := 0; r < int(rec.NumRows()); r++ {
			var parts []string
			for c, f := range rec.Schema().Fields() {
				if f.Name == ColIngestedAt {
					continue
				}
				parts = append(parts, f.Name+"="+cellString(rec.Column(c), r))
			}
			fmt.Fprintf(&b, "  %d: %s\n", r, strings.Join(parts, " "))
		}
	}
	if len(res.Rejected) > 0 {
		b.WriteString("rejected:\n")
		for _, rj := range res.Rejected {
			fmt.Fprintf(&b, "  %d %s: %s\n", rj.Index, rj.Code, rj.Reason)
		}
	}
	return b.String()
}

// cellString renders one Arrow value for golden files.
func cellString(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(i))).UTC().Format(time.RFC3339Nano)
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Decimal128:
		return a.Value(i).ToString(schemaevo.DecimalScale)
	case *array.String:
		return fmt.Sprintf("%q", a.Value(i))
	}
	return a.ValueStr(i)
}
