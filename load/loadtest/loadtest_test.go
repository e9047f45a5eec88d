package loadtest

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/eltdev/elt/schemaevo"
)

func TestValueMatches(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)
	cases := []struct {
		want, got any
		match     bool
	}{
		{JSON(`"abc"`), `"abc"`, true},
		{JSON(`"abc"`), ` "abc" `, true},
		{JSON(`"abc"`), `abc`, false},
		{JSON(`{"a":1,"b":[2]}`), []byte(`{"b": [2], "a": 1}`), true},
		{JSON(`{"a":1}`), `{"a":2}`, false},
		{JSON(`1`), int64(1), false},
		{nil, nil, true},
		{nil, "", false},
		{"", nil, false},
		{int64(1), int32(1), true},
		{int64(1), 1.0, false},
		{10.0, float32(10), true},
		{ts, ts.In(time.FixedZone("x", 3600)), true},
		{ts, ts.Add(time.Microsecond), false},
		{NotNull, "", true},
		{NotNull, nil, false},
		{NonEmpty, "", false},
		{NonEmpty, "x", true},
		{Any, nil, true},
		{true, false, false},
	}
	for _, c := range cases {
		if got := valueMatches(c.want, c.got); got != c.match {
			t.Errorf("valueMatches(%#v, %#v) = %v, want %v", c.want, c.got, got, c.match)
		}
	}
}

func TestDiffRows(t *testing.T) {
	by := []string{"id"}
	rows := []Row{{"id": int64(1), "v": "a"}, {"id": int64(2), "v": nil}}
	if d := diffRows([]Row{rows[1], rows[0]}, rows, by); len(d) != 0 {
		t.Errorf("same rows in another order: %v", d)
	}
	for name, got := range map[string][]Row{
		"missing row":    rows[:1],
		"extra row":      append([]Row{{"id": int64(3), "v": "c"}}, rows...),
		"value differs":  {{"id": int64(1), "v": "a"}, {"id": int64(2), "v": "b"}},
		"extra column":   {{"id": int64(1), "v": "a", "w": nil}, {"id": int64(2), "v": nil}},
		"missing column": {{"id": int64(1)}, {"id": int64(2), "v": nil}},
		"type differs":   {{"id": 1.0, "v": "a"}, {"id": int64(2), "v": nil}},
	} {
		if d := diffRows(got, rows, by); len(d) == 0 {
			t.Errorf("%s: no difference found", name)
		}
	}
}

func TestBatch(t *testing.T) {
	alloc := NewAllocator(t)
	ts := time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)
	cols := []Col{C("b", schemaevo.Bool), C("i", schemaevo.Int64), C("f", schemaevo.Float64), C("d", schemaevo.Decimal),
		C("s", schemaevo.String), C("j", schemaevo.JSON), C("day", schemaevo.Date), C("t", schemaevo.Timestamptz)}
	rec := Batch(t, alloc, cols,
		[]any{true, 1, 1.5, "12.5", "x", JSON(`{"a":1}`), ts, ts},
		[]any{nil, nil, nil, nil, nil, nil, nil, nil},
		[]any{false, int64(-2), 3, 7, "", map[string]int{"b": 2}, ts, ts},
	)
	defer rec.Release()
	tab, err := schemaevo.TableFromArrow("x", rec.Schema())
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range tab.Columns {
		if Col(c) != cols[i] {
			t.Errorf("column %d = %v, want %v", i, c, cols[i])
		}
	}
	if rec.NumRows() != 3 {
		t.Fatalf("%d rows", rec.NumRows())
	}
	for i := range cols {
		if !rec.Column(i).IsNull(1) || rec.Column(i).IsNull(0) {
			t.Errorf("column %s: nulls wrong", cols[i].Name)
		}
	}
	if got := rec.Column(5).(*array.String).Value(2); got != `{"b":2}` {
		t.Errorf("marshaled json = %s", got)
	}
	if got := rec.Column(7).(*array.Timestamp).Value(0); int64(got) != ts.UnixMicro() {
		t.Errorf("timestamp = %d", got)
	}
	if got := rec.Column(3).(*array.Decimal128).ValueStr(0); got != "12.5" {
		t.Errorf("decimal = %s", got)
	}
}
