package normalize

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eltdev/elt/deadletter"
	"github.com/eltdev/elt/schemaevo"
)

func records(lines ...string) [][]byte {
	out := make([][]byte, len(lines))
	for i, l := range lines {
		out[i] = []byte(l)
	}
	return out
}

// colOf returns the named column of rec, failing the test when absent.
func colOf(t *testing.T, rec arrow.RecordBatch, name string) arrow.Array {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("column %q: found %d times in %s", name, len(idx), rec.Schema())
	}
	return rec.Column(idx[0])
}

func checkedAlloc(t *testing.T) *memory.CheckedAllocator {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	return alloc
}

func TestSystemColumnValues(t *testing.T) {
	alloc := checkedAlloc(t)
	n := New(Options{PrimaryKey: []string{"id"}, CursorPath: "updatedAt", DeleteFlag: "gone",
		KeepRaw: true, Allocator: alloc})
	ingested := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	res, err := n.Batch(records(
		`{"id":1,"updatedAt":"2024-01-01T10:00:00.5+01:00"}`,
		`{"id":2,"updatedAt":"2024-01-02T00:00:00Z","gone":true}`,
	), ingested)
	if err != nil {
		t.Fatal(err)
	}
	rec := res.Record
	defer rec.Release()

	wantNames := []string{"id", "ingested_at", "updated_at", "is_deleted", "deleted_at", "_raw"}
	for i, f := range rec.Schema().Fields() {
		if f.Name != wantNames[i] {
			t.Fatalf("field %d = %q, want %q (cursor field must be consumed)", i, f.Name, wantNames[i])
		}
	}
	ing := colOf(t, rec, "ingested_at").(*array.Timestamp)
	if got, want := int64(ing.Value(1)), ingested.UnixMicro(); got != want {
		t.Errorf("ingested_at = %d, want %d", got, want)
	}
	if tt := ing.DataType().(*arrow.TimestampType); tt.Unit != arrow.Microsecond || tt.TimeZone != "UTC" {
		t.Errorf("ingested_at type = %s, want timestamp[us, UTC]", tt)
	}
	upd := colOf(t, rec, "updated_at").(*array.Timestamp)
	if got, want := int64(upd.Value(0)), time.Date(2024, 1, 1, 9, 0, 0, 5e8, time.UTC).UnixMicro(); got != want {
		t.Errorf("updated_at[0] = %d, want %d", got, want)
	}
	del := colOf(t, rec, "is_deleted").(*array.Boolean)
	if del.Value(0) || !del.Value(1) || del.NullN() != 0 {
		t.Errorf("is_deleted = %v, want [false true] with no nulls", del)
	}
	delAt := colOf(t, rec, "deleted_at").(*array.Timestamp)
	if !delAt.IsNull(0) || delAt.Value(1) != upd.Value(1) {
		t.Errorf("deleted_at = %v, want [null, updated_at]", delAt)
	}
	raw := colOf(t, rec, "_raw").(*array.String)
	if raw.Value(1) != `{"id":2,"updatedAt":"2024-01-02T00:00:00Z","gone":true}` {
		t.Errorf("_raw = %q", raw.Value(1))
	}
	for _, name := range []string{"ingested_at", "updated_at", "is_deleted"} {
		if f := rec.Schema().Field(rec.Schema().FieldIndices(name)[0]); f.Nullable {
			t.Errorf("%s is nullable", name)
		}
	}
	if typ, _ := schemaevo.FieldType(rec.Schema().Field(5)); typ != schemaevo.JSON {
		t.Errorf("_raw type = %s, want json", typ)
	}
	if res.MaxCursor.Text != "2024-01-02T00:00:00Z" || !res.Ascending {
		t.Errorf("MaxCursor = %+v, Ascending = %v", res.MaxCursor, res.Ascending)
	}
}

func TestValueEncodings(t *testing.T) {
	alloc := checkedAlloc(t)
	n := New(Options{Allocator: alloc, Declared: map[string]schemaevo.Type{"price": schemaevo.Decimal, "note": schemaevo.JSON}})
	res, err := n.Batch(records(
		`{"price":"-12.5","big":123456789012345678901,"note":"say \"hi\"\n","obj":{"deep":{"deeper":{"deepest":{"x":[1, 2]}}}},"day":"2024-02-29","at":"2024-02-29T23:30:00-01:00"}`,
	), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Record.Release()
	rec := res.Record
	price := colOf(t, rec, "price").(*array.Decimal128)
	if got := price.Value(0).ToString(9); got != "-12.500000000" {
		t.Errorf("price = %s", got)
	}
	if dt := price.DataType().(*arrow.Decimal128Type); dt.Precision != 38 || dt.Scale != 9 {
		t.Errorf("decimal type = %s", dt)
	}
	big := colOf(t, rec, "big").(*array.Decimal128)
	if got := big.Value(0).ToString(9); got != "123456789012345678901.000000000" {
		t.Errorf("big = %s", got)
	}
	note := colOf(t, rec, "note").(*array.String)
	if got := note.Value(0); got != `"say \"hi\"\n"` {
		t.Errorf("note = %s, want a JSON string literal", got)
	}
	obj := colOf(t, rec, "obj__deep__deeper__deepest").(*array.String)
	if got := obj.Value(0); got != `{"x":[1,2]}` {
		t.Errorf("deep object = %s, want compact JSON", got)
	}
	day := colOf(t, rec, "day").(*array.Date32)
	if got := day.Value(0).ToTime().Format("2006-01-02"); got != "2024-02-29" {
		t.Errorf("day = %s", got)
	}
	at := colOf(t, rec, "at").(*array.Timestamp)
	if got, want := int64(at.Value(0)), time.Date(2024, 3, 1, 0, 30, 0, 0, time.UTC).UnixMicro(); got != want {
		t.Errorf("at = %d, want %d (UTC microseconds)", got, want)
	}
}

func TestDedupWinnerValues(t *testing.T) {
	alloc := checkedAlloc(t)
	n := New(Options{PrimaryKey: []string{"id", "region"}, CursorPath: "ts", Allocator: alloc})
	res, err := n.Batch(records(
		`{"id":1,"region":"eu","v":"a","ts":5}`,
		`{"id":1,"region":"us","v":"b","ts":1}`,
		`{"id":1,"region":"eu","v":"c","ts":3}`,
		`{"id":1,"region":"eu","v":"d","ts":5}`,
	), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Record.Release()
	if res.Duplicates != 2 || res.Record.NumRows() != 2 {
		t.Fatalf("duplicates = %d rows = %d, want 2 and 2", res.Duplicates, res.Record.NumRows())
	}
	v := colOf(t, res.Record, "v").(*array.String)
	// Output keeps input order of the winners: "b" (row 1) then "d" (row 3, ties row 0, later wins).
	if v.Value(0) != "b" || v.Value(1) != "d" {
		t.Errorf("winners = [%s %s], want [b d]", v.Value(0), v.Value(1))
	}
	if res.Ascending {
		t.Error("Ascending = true for cursors 5,1,3,5")
	}
	if got := n.KeyColumns(); len(got) != 2 || got[0] != "id" || got[1] != "region" {
		t.Errorf("KeyColumns = %v", got)
	}
}

func TestBatchesKeepNamesAndMemory(t *testing.T) {
	alloc := checkedAlloc(t)
	n := New(Options{Allocator: alloc, PrimaryKey: []string{"user_id"}})
	for i, batch := range [][][]byte{
		records(`{"userId":1,"a":1}`, `{"userId":2,"user_id":9}`),
		records(`{"user_id":7,"userId":3,"b":"x"}`),
		records(`not json`),
	} {
		res, err := n.Batch(batch, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if res.Record != nil || len(res.Rejected) != 1 || res.Rejected[0].Code != deadletter.MalformedJSON {
				t.Fatalf("all-rejected batch: %+v", res)
			}
			continue
		}
		if got := res.Record.Schema().Field(0).Name; got != "user_id" {
			t.Errorf("batch %d: first column %q, want user_id (first seen keeps the name)", i, got)
		}
		if got := res.Record.Schema().Field(1).Name; i == 1 && got != "user_id_2" {
			t.Errorf("batch %d: second column %q, want user_id_2", i, got)
		}
		res.Record.Release()
	}
	if m := n.Names(); m["userId"] != "user_id" || m["user_id"] != "user_id_2" {
		t.Errorf("Names = %v", m)
	}
	// Restored names survive a new Normalizer that sees the fields in the other order.
	again := New(Options{Allocator: alloc, Names: n.Names()})
	res, err := again.Batch(records(`{"user_id":1,"userId":2}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Record.Release()
	if got := colOf(t, res.Record, "user_id_2").(*array.Int64).Value(0); got != 1 {
		t.Errorf("restored user_id_2 = %d, want the source field user_id (1)", got)
	}
}

func TestRejectionReasonsNeverHoldValues(t *testing.T) {
	n := New(Options{PrimaryKey: []string{"id"}, CursorPath: "ts",
		Declared: map[string]schemaevo.Type{"n": schemaevo.Int64}, Allocator: checkedAlloc(t)})
	res, err := n.Batch(records(
		`{"id":"SECRET1","ts":"SECRET2"}`,
		`{"id":"x","ts":"2024-01-01","n":"SECRET3"}`,
		`{"SECRET4":`,
	), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Record != nil {
		res.Record.Release()
		t.Fatal("expected every record rejected")
	}
	for _, r := range res.Rejected {
		for _, s := range []string{"SECRET1", "SECRET2", "SECRET3", "SECRET4"} {
			if contains(r.Reason, s) {
				t.Errorf("reason %q holds a value", r.Reason)
			}
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestCursor(t *testing.T) {
	cases := []struct {
		text string
		want time.Time
	}{
		{"2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02T03:04:05.123456789+02:00", time.Date(2024, 1, 2, 1, 4, 5, 123456000, time.UTC)},
		{"2024-01-02 03:04:05", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"1704164645", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"1704164645123", time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC)},
		{"1704164645.5", time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC)},
		{"1900-03-01T00:00:00Z", time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got := ParseCursor(c.text)
		if !got.Time().Equal(c.want) || got.Text != c.text {
			t.Errorf("ParseCursor(%q) = %v (%q), want %v", c.text, got.Time(), got.Text, c.want)
		}
	}
	for _, bad := range []string{"2024-13-01", "2024-02-30", "yesterday", "2024-01-02T25:00:00Z"} {
		if c := ParseCursor(bad); !c.Time().IsZero() {
			t.Errorf("ParseCursor(%q) parsed as %v", bad, c.Time())
		}
	}
	a, b := ParseCursor("2024-01-01"), ParseCursor("2024-01-01T00:00:01Z")
	if CompareCursors(a, b) != -1 || CompareCursors(b, a) != 1 || CompareCursors(a, ParseCursor("1704067200")) != 0 {
		t.Error("CompareCursors orders by instant")
	}
	if !(Cursor{}).IsZero() || CompareCursors(Cursor{}, a) != -1 || CompareCursors(ParseCursor("junk"), a) != -1 {
		t.Error("zero and unparsed cursors sort first")
	}
}

func TestParseDecimal(t *testing.T) {
	cases := map[string]string{
		"0":                                "0.000000000",
		"1":                                "1.000000000",
		"-1.5":                             "-1.500000000",
		"0.0000000005":                     "0.000000001", // half away from zero
		"0.0000000004":                     "0.000000000",
		"1.23e3":                           "1230.000000000",
		"12345e-12":                        "0.000000012",
		"99999999999999999999999999999":    "99999999999999999999999999999.000000000",
		"-99999999999999999999999999999.5": "-99999999999999999999999999999.500000000",
		"99999999999999999999999999999.9999999995": "", // rounds up past 38 digits
		"100000000000000000000000000000":           "",
		"1e29":                                     "",
		"1e-2000":                                  "0.000000000",
		"abc":                                      "",
	}
	for in, want := range cases {
		d, ok := parseDecimal([]byte(in))
		got := ""
		if ok {
			got = d.ToString(9)
		}
		if got != want {
			t.Errorf("parseDecimal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassifyNumber(t *testing.T) {
	cases := map[string]kind{
		"0": kInt, "-0": kInt, "9223372036854775807": kInt, "-9223372036854775808": kInt,
		"9223372036854775808": kBigInt, "1.0": kFloat, "1e5": kFloat,
		"123456789012345678901234567890": kFloat,
	}
	for in, want := range cases {
		if got, ok := classifyNumber([]byte(in)); !ok || got != want {
			t.Errorf("classifyNumber(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"01", "1.", ".5", "1e", "--1", "1-2", "nan", "inf", "+1", ""} {
		if _, ok := classifyNumber([]byte(bad)); ok {
			t.Errorf("classifyNumber(%q) accepted", bad)
		}
	}
}
