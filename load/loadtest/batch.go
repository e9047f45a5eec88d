package loadtest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eltdev/elt/load"
	"github.com/eltdev/elt/schemaevo"
)

// Col is one column of a batch built by Batch: its normalized name and elt type.
type Col struct {
	Name string
	Type schemaevo.Type
}

// C is shorthand for Col{name, typ}.
func C(name string, typ schemaevo.Type) Col { return Col{Name: name, Type: typ} }

// SystemCols are the system columns every stream table carries (DESIGN.md section 3),
// in the order StreamCols appends them.
var SystemCols = []Col{
	{load.IngestedAt, schemaevo.Timestamptz},
	{load.UpdatedAt, schemaevo.Timestamptz},
	{load.IsDeleted, schemaevo.Bool},
	{load.DeletedAt, schemaevo.Timestamptz},
	{load.Raw, schemaevo.JSON},
}

// StreamCols returns cols followed by the system columns.
func StreamCols(cols ...Col) []Col {
	return append(append([]Col(nil), cols...), SystemCols...)
}

// JSON is a JSON document given as its text. In a batch it fills a JSON column as is;
// in an expected Row it matches a stored value that is the same JSON value (compared
// after parsing, so formatting does not matter, but a plain string that is not the
// same JSON value does not match).
type JSON string

// NewAllocator returns a checked allocator that fails the test when any of its bytes
// are still allocated at the end of the test (after every cleanup registered later
// than this call has run).
func NewAllocator(t testing.TB) *memory.CheckedAllocator {
	t.Helper()
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	return alloc
}

// Batch builds an Arrow record batch with one nullable field per column (built with
// schemaevo.Field, so the elt type is in the field metadata) and one row per rows
// element, each holding one Go value per column:
//
//	nil                 NULL, in any column
//	bool                bool
//	int64               int, int64
//	float64             float64, int
//	decimal             string ("12.5"), int, int64
//	string              string
//	json                JSON, string (taken as JSON text), or any other value (marshaled)
//	date, timestamptz   time.Time
//
// The caller owns the batch and releases it.
func Batch(t testing.TB, alloc memory.Allocator, cols []Col, rows ...[]any) arrow.RecordBatch {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = schemaevo.Field(c.Name, c.Type, true)
	}
	b := array.NewRecordBuilder(alloc, arrow.NewSchema(fields, nil))
	defer b.Release()
	for r, row := range rows {
		if len(row) != len(cols) {
			t.Fatalf("loadtest.Batch: row %d has %d values for %d columns", r, len(row), len(cols))
		}
		for i, v := range row {
			if err := appendValue(b.Field(i), cols[i].Type, v); err != nil {
				t.Fatalf("loadtest.Batch: row %d column %q: %v", r, cols[i].Name, err)
			}
		}
	}
	return b.NewRecordBatch()
}

func appendValue(fb array.Builder, typ schemaevo.Type, v any) error {
	if v == nil {
		fb.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("%T value for a %s column", v, typ) }
	switch typ {
	case schemaevo.Bool:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		fb.(*array.BooleanBuilder).Append(x)
	case schemaevo.Int64:
		switch x := v.(type) {
		case int:
			fb.(*array.Int64Builder).Append(int64(x))
		case int64:
			fb.(*array.Int64Builder).Append(x)
		default:
			return bad()
		}
	case schemaevo.Float64:
		switch x := v.(type) {
		case float64:
			fb.(*array.Float64Builder).Append(x)
		case int:
			fb.(*array.Float64Builder).Append(float64(x))
		default:
			return bad()
		}
	case schemaevo.Decimal:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case int:
			s = fmt.Sprint(x)
		case int64:
			s = fmt.Sprint(x)
		default:
			return bad()
		}
		n, err := decimal128.FromString(s, schemaevo.DecimalPrecision, schemaevo.DecimalScale)
		if err != nil {
			return err
		}
		fb.(*array.Decimal128Builder).Append(n)
	case schemaevo.String:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		fb.(*array.StringBuilder).Append(x)
	case schemaevo.JSON:
		var s string
		switch x := v.(type) {
		case JSON:
			s = string(x)
		case string:
			s = x
		default:
			j, err := json.Marshal(x)
			if err != nil {
				return err
			}
			s = string(j)
		}
		if !json.Valid([]byte(s)) {
			return fmt.Errorf("%q is not JSON", s)
		}
		fb.(*array.StringBuilder).Append(s)
	case schemaevo.Date:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		fb.(*array.Date32Builder).Append(arrow.Date32FromTime(x))
	case schemaevo.Timestamptz:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		fb.(*array.TimestampBuilder).Append(arrow.Timestamp(x.UTC().UnixMicro()))
	default:
		return fmt.Errorf("unknown elt type %q", typ)
	}
	return nil
}
