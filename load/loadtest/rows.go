package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
)

// Row is one stored row, by column name.
type Row map[string]any

// Reader reads back what a destination stored, independently of the destination's
// own code paths where it can (DuckDB: plain SQL through DB()).
type Reader interface {
	// Rows returns every row of a table in the destination's dataset (a stream table,
	// a replace staging table or one of the _elt_ system tables), in any order, with
	// every column of the table. Values may be returned as the destination's client
	// gives them; the suite normalizes these:
	//
	//	NULL                            nil
	//	BOOLEAN                         bool
	//	integers                        any Go integer type
	//	floats                          float32, float64
	//	text                            string, []byte
	//	JSON                            its JSON text: string, []byte or json.RawMessage
	//	                                (never a decoded value: "abc" and abc differ)
	//	DATE, TIMESTAMP(TZ)             time.Time
	//	DECIMAL                         string, *big.Int, or a fmt.Stringer
	//
	// A table that does not exist is an error.
	Rows(ctx context.Context, table string) ([]Row, error)
}

// ReaderFunc adapts a function to Reader.
type ReaderFunc func(ctx context.Context, table string) ([]Row, error)

// Rows calls f.
func (f ReaderFunc) Rows(ctx context.Context, table string) ([]Row, error) { return f(ctx, table) }

// matcher sentinels for expected rows.
type matcher int

const (
	// NotNull matches any non-NULL value (a clock the test does not control).
	NotNull matcher = iota + 1
	// NonEmpty matches any non-empty text.
	NonEmpty
	// Any matches any value, NULL included (what the contract leaves open).
	Any
)

func (m matcher) String() string {
	switch m {
	case NotNull:
		return "<not null>"
	case NonEmpty:
		return "<non-empty text>"
	}
	return "<any>"
}

// Normalize converts a value as a Reader returns it (or as a test writes it in an
// expected Row) to the form rows are compared in: nil, bool, int64, float64, string,
// timestamps as RFC 3339 UTC text with microseconds. JSON and matchers pass through.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case JSON, matcher:
		return x
	case bool, string, int64, float64:
		return x
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case float32:
		return float64(x)
	case []byte:
		return string(x)
	case json.RawMessage:
		return string(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000000Z")
	case *time.Time:
		if x == nil {
			return nil
		}
		return Normalize(*x)
	case *big.Int:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprintf("<unsupported %T: %v>", v, v)
}

// valueMatches reports whether a stored value (normalized) matches an expected one.
func valueMatches(want, got any) bool {
	want, got = Normalize(want), Normalize(got)
	switch w := want.(type) {
	case nil:
		return got == nil
	case matcher:
		switch w {
		case NotNull:
			return got != nil
		case NonEmpty:
			s, ok := got.(string)
			return ok && s != ""
		}
		return true
	case JSON:
		s, ok := got.(string)
		if !ok {
			return false
		}
		var a, b any
		if json.Unmarshal([]byte(w), &a) != nil || json.Unmarshal([]byte(s), &b) != nil {
			return false
		}
		return reflect.DeepEqual(a, b)
	}
	return want == got
}

func show(v any) string {
	switch x := Normalize(v).(type) {
	case nil:
		return "NULL"
	case JSON:
		return "json " + string(x)
	case string:
		return fmt.Sprintf("%q", x)
	case matcher:
		return x.String()
	default:
		return fmt.Sprintf("%v (%T)", x, x)
	}
}

// sortKey orders rows by the named columns' normalized values.
func sortKey(r Row, by []string) string {
	parts := make([]string, len(by))
	for i, c := range by {
		v := Normalize(r[c])
		switch x := v.(type) {
		case int64:
			// Zero-pad so that numeric order is text order for the test's small values.
			parts[i] = fmt.Sprintf("%020d", x)
		case nil:
			parts[i] = ""
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, "\x00")
}

// project keeps only the named columns of each row; all when cols is nil.
func project(rows []Row, cols []string) []Row {
	if cols == nil {
		return rows
	}
	out := make([]Row, len(rows))
	for i, r := range rows {
		p := Row{}
		for _, c := range cols {
			v, ok := r[c]
			if !ok {
				v = missing{}
			}
			p[c] = v
		}
		out[i] = p
	}
	return out
}

type missing struct{}

func (missing) String() string { return "<column missing>" }

// diffRows compares stored rows with expected rows, both sorted by the columns in by,
// and returns one line per difference (none when they match exactly).
func diffRows(got, want []Row, by []string) []string {
	got = slices.Clone(got)
	want = slices.Clone(want)
	sort.SliceStable(got, func(i, j int) bool { return sortKey(got[i], by) < sortKey(got[j], by) })
	sort.SliceStable(want, func(i, j int) bool { return sortKey(want[i], by) < sortKey(want[j], by) })
	var out []string
	if len(got) != len(want) {
		out = append(out, fmt.Sprintf("got %d rows, want %d", len(got), len(want)))
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			out = append(out, fmt.Sprintf("row %d missing: want %s", i, showRow(want[i])))
			continue
		case i >= len(want):
			out = append(out, fmt.Sprintf("row %d unexpected: got %s", i, showRow(got[i])))
			continue
		}
		g, w := got[i], want[i]
		for _, c := range unionKeys(g, w) {
			gv, gok := g[c]
			wv, wok := w[c]
			switch {
			case !gok:
				out = append(out, fmt.Sprintf("row %d: column %q missing (want %s)", i, c, show(wv)))
			case !wok:
				out = append(out, fmt.Sprintf("row %d: unexpected column %q = %s", i, c, show(gv)))
			case !valueMatches(wv, gv):
				out = append(out, fmt.Sprintf("row %d%s: column %q = %s, want %s", i, label(w, by), c, show(gv), show(wv)))
			}
		}
	}
	return out
}

// label names a row by its sort columns: " (id=5)".
func label(r Row, by []string) string {
	if len(by) == 0 {
		return ""
	}
	parts := make([]string, len(by))
	for i, c := range by {
		parts[i] = c + "=" + show(r[c])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func unionKeys(a, b Row) []string {
	seen := map[string]bool{}
	var keys []string
	for _, r := range []Row{a, b} {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func showRow(r Row) string {
	keys := unionKeys(r, nil)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + show(r[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
