package normalize

import (
	"bytes"
	"hash/maphash"
	"math"
	"math/bits"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/eltdev/elt/schemaevo"
)

// dedupIndex finds rows with equal primary keys. It maps key hashes rather than keys
// so that a batch costs no allocation per row; different keys that share a hash are
// settled by their bytes in overflow.
type dedupIndex struct {
	seed     maphash.Seed
	first    map[uint64]int32
	overflow map[string]int32
}

// collapse keeps, for each primary key, the row with the greatest updated_at (ties:
// the later one) and marks the others dead. It returns how many rows it collapsed.
func (n *Normalizer) collapse() int {
	if len(n.pk) == 0 || len(n.rows) < 2 {
		return 0
	}
	d := &n.dedup
	if d.first == nil {
		d.seed, d.first = maphash.MakeSeed(), make(map[uint64]int32, len(n.rows))
	} else {
		clear(d.first)
		clear(d.overflow)
	}
	dups := 0
	for j := range n.rows {
		key := n.key(j)
		h := maphash.Bytes(d.seed, key)
		prev, ok := d.first[h]
		switch {
		case !ok:
			d.first[h] = int32(j)
		case bytes.Equal(n.key(int(prev)), key):
			d.first[h] = n.pick(prev, int32(j))
			dups++
		default:
			if d.overflow == nil {
				d.overflow = make(map[string]int32)
			}
			if prev, ok := d.overflow[string(key)]; ok {
				d.overflow[string(key)] = n.pick(prev, int32(j))
				dups++
			} else {
				d.overflow[string(key)] = int32(j)
			}
		}
	}
	return dups
}

func (n *Normalizer) key(j int) []byte {
	r := &n.rows[j]
	return n.keyBuf[r.keyOff : r.keyOff+r.keyLen]
}

// pick settles two rows with one key: the newer updated_at wins, a tie goes to the
// later row. It returns the winner.
func (n *Normalizer) pick(prev, j int32) int32 {
	if n.rows[j].updated >= n.rows[prev].updated {
		n.rows[prev].dead = true
		return j
	}
	n.rows[j].dead = true
	return prev
}

// build assembles the Arrow record of the out rows that survived: the batch's
// columns, then the system columns.
func (n *Normalizer) build(records [][]byte, out int, ingested int64) (rec arrow.RecordBatch, err error) {
	idx := n.layout(out)
	fields := make([]arrow.Field, 0, len(n.batchCols)+len(SystemColumns))
	arrs := make([]arrow.Array, 0, cap(fields))
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	for p, ci := range n.batchCols {
		col := &n.cols[ci]
		fields = append(fields, schemaevo.Field(col.name, col.typ, true))
		arrs = append(arrs, n.buildColumn(col.typ, idx[p*out:(p+1)*out]))
	}
	sys, sysArrs := n.buildSystem(records, out, ingested)
	fields, arrs = append(fields, sys...), append(arrs, sysArrs...)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(out)), nil
}

// layout returns, column-major, the cell index of every (batch column, output row),
// or -1 where the record had no such field.
func (n *Normalizer) layout(out int) []int32 {
	if cap(n.colPos) < len(n.cols) {
		n.colPos = make([]int32, len(n.cols))
	}
	n.colPos = n.colPos[:len(n.cols)]
	for i := range n.colPos {
		n.colPos[i] = -1
	}
	for p, ci := range n.batchCols {
		n.colPos[ci] = int32(p)
	}
	size := len(n.batchCols) * out
	if cap(n.matrix) < size {
		n.matrix = make([]int32, size)
	}
	idx := n.matrix[:size]
	for i := range idx {
		idx[i] = -1
	}
	r := 0
	for _, rw := range n.rows {
		if rw.dead {
			continue
		}
		for ci := rw.cellStart; ci < rw.cellEnd; ci++ {
			if p := n.colPos[n.cells[ci].col]; p >= 0 {
				idx[int(p)*out+r] = ci
			}
		}
		r++
	}
	return idx
}

// buildColumn builds one column of type t from cells. Every value has been checked
// against t already (declared types when read, inferred types by construction), so
// conversions cannot fail here.
func (n *Normalizer) buildColumn(t schemaevo.Type, idx []int32) arrow.Array {
	mem := n.alloc
	switch t {
	case schemaevo.Bool:
		return buildFixed(n, array.NewBooleanBuilder(mem), idx, n.toBool)
	case schemaevo.Int64:
		return buildFixed(n, array.NewInt64Builder(mem), idx, n.toInt64)
	case schemaevo.Float64:
		return buildFixed(n, array.NewFloat64Builder(mem), idx, n.toFloat64)
	case schemaevo.Decimal:
		return buildFixed(n, array.NewDecimal128Builder(mem, schemaevo.ArrowType(t).(*arrow.Decimal128Type)), idx, n.toDecimal)
	case schemaevo.Date:
		return buildFixed(n, array.NewDate32Builder(mem), idx, n.toDate)
	case schemaevo.Timestamptz:
		return buildFixed(n, array.NewTimestampBuilder(mem, schemaevo.ArrowType(t).(*arrow.TimestampType)), idx,
			func(c cell) (arrow.Timestamp, string) { v, reason := n.toMicros(c); return arrow.Timestamp(v), reason })
	}
	return n.buildText(t == schemaevo.JSON, idx)
}

// fixedBuilder is what every fixed-width Arrow builder offers.
type fixedBuilder[T any] interface {
	Reserve(n int)
	UnsafeAppend(v T)
	UnsafeAppendBoolToBitmap(valid bool)
	NewArray() arrow.Array
	Release()
}

// buildFixed fills a fixed-width column: one reserved slot per row, each cell
// converted by conv (whose failure reason cannot occur here, see buildColumn).
func buildFixed[T any](n *Normalizer, b fixedBuilder[T], idx []int32, conv func(cell) (T, string)) arrow.Array {
	defer b.Release()
	b.Reserve(len(idx))
	n.each(idx, b.UnsafeAppendBoolToBitmap, func(c cell) { v, _ := conv(c); b.UnsafeAppend(v) })
	return b.NewArray()
}

// each calls set for every present, non-null cell and null(false) for the rest. The
// builder has room reserved for every row.
func (n *Normalizer) each(idx []int32, null func(bool), set func(cell)) {
	for _, ci := range idx {
		if ci < 0 || n.cells[ci].kind == kNull {
			null(false)
			continue
		}
		set(n.cells[ci])
	}
}

// buildText builds a string or JSON column straight from the arena.
func (n *Normalizer) buildText(asJSON bool, idx []int32) arrow.Array {
	b := array.NewStringBuilder(n.alloc)
	defer b.Release()
	size := 0
	for _, ci := range idx {
		if ci >= 0 {
			size += int(n.cells[ci].n) + 2 // room for the quotes of a JSON string
		}
	}
	b.Reserve(len(idx))
	b.ReserveData(size)
	for _, ci := range idx {
		if ci < 0 || n.cells[ci].kind == kNull {
			b.AppendNull()
			continue
		}
		b.BinaryBuilder.Append(n.text(n.cells[ci], asJSON))
	}
	return b.NewArray()
}

// text is a value as a string column holds it (the source text; numbers as their
// literal, booleans as true/false) or, asJSON, as compact JSON text.
func (n *Normalizer) text(c cell, asJSON bool) []byte {
	switch c.kind {
	case kTrue:
		return trueText
	case kFalse:
		return falseText
	case kString, kDate, kTime:
		if asJSON {
			n.scratch = appendJSONString(n.scratch[:0], n.arena[c.off:c.off+c.n])
			return n.scratch
		}
	}
	return n.arena[c.off : c.off+c.n]
}

var trueText, falseText = []byte("true"), []byte("false")

// buildSystem builds ingested_at, updated_at, is_deleted, deleted_at and, with
// KeepRaw, _raw.
func (n *Normalizer) buildSystem(records [][]byte, out int, ingested int64) ([]arrow.Field, []arrow.Array) {
	mem := n.alloc
	tsType := schemaevo.ArrowType(schemaevo.Timestamptz).(*arrow.TimestampType)
	ing, upd, del := array.NewTimestampBuilder(mem, tsType), array.NewTimestampBuilder(mem, tsType), array.NewTimestampBuilder(mem, tsType)
	isDel := array.NewBooleanBuilder(mem)
	defer ing.Release()
	defer upd.Release()
	defer del.Release()
	defer isDel.Release()
	ing.Reserve(out)
	upd.Reserve(out)
	del.Reserve(out)
	isDel.Reserve(out)
	var raw *array.StringBuilder
	if n.opts.KeepRaw {
		raw = array.NewStringBuilder(mem)
		defer raw.Release()
		raw.Reserve(out)
		size := 0
		for _, r := range n.rows {
			if !r.dead {
				size += len(records[r.rec])
			}
		}
		raw.ReserveData(size)
	}
	for _, r := range n.rows {
		if r.dead {
			continue
		}
		ing.UnsafeAppend(arrow.Timestamp(ingested))
		upd.UnsafeAppend(arrow.Timestamp(r.updated))
		isDel.UnsafeAppend(r.isDeleted)
		if r.hasDelAt {
			del.UnsafeAppend(arrow.Timestamp(r.deletedAt))
		} else {
			del.UnsafeAppendBoolToBitmap(false)
		}
		if raw != nil {
			n.scratch = appendValidUTF8(n.scratch[:0], records[r.rec])
			raw.BinaryBuilder.Append(n.scratch)
		}
	}
	fields := []arrow.Field{
		schemaevo.Field(ColIngestedAt, schemaevo.Timestamptz, false),
		schemaevo.Field(ColUpdatedAt, schemaevo.Timestamptz, false),
		schemaevo.Field(ColIsDeleted, schemaevo.Bool, false),
		schemaevo.Field(ColDeletedAt, schemaevo.Timestamptz, true),
	}
	arrs := []arrow.Array{ing.NewArray(), upd.NewArray(), isDel.NewArray(), del.NewArray()}
	if raw != nil {
		fields = append(fields, schemaevo.Field(ColRaw, schemaevo.JSON, true))
		arrs = append(arrs, raw.NewArray())
	}
	return fields, arrs
}

// The conversions below take a cell to a column type. They return a problem that
// describes the kind of value, never the value, when the cell does not fit; the
// reader turns it into a TypeMismatch for declared columns.

func (n *Normalizer) bytesOf(c cell) []byte { return n.arena[c.off : c.off+c.n] }

func (n *Normalizer) toBool(c cell) (bool, string) {
	switch c.kind {
	case kTrue:
		return true, ""
	case kFalse:
		return false, ""
	case kString:
		switch string(n.bytesOf(c)) {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return false, "the value is a string other than \"true\" or \"false\""
	}
	return false, kindProblem(c, n.arena)
}

func (n *Normalizer) toInt64(c cell) (int64, string) {
	text := n.bytesOf(c)
	switch c.kind {
	case kInt:
		v, _ := parseInt64(text)
		return v, ""
	case kBigInt:
		return 0, "the value is an integer out of range for bigint"
	case kFloat:
		f, err := strconv.ParseFloat(string(text), 64)
		switch {
		case err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63:
			return int64(f), ""
		case err == nil && f != math.Trunc(f):
			return 0, "the value is a fractional number"
		}
		return 0, "the value is a number out of range for bigint"
	case kString, kDate, kTime:
		if v, ok := parseInt64(text); ok {
			return v, ""
		}
		return 0, "the value is a string that does not hold an integer"
	}
	return 0, kindProblem(c, n.arena)
}

func (n *Normalizer) toFloat64(c cell) (float64, string) {
	switch c.kind {
	case kInt, kBigInt, kFloat:
		f, err := strconv.ParseFloat(string(n.bytesOf(c)), 64)
		if err != nil {
			return 0, "the value is a number out of range for double"
		}
		return f, ""
	case kString, kDate, kTime:
		f, err := strconv.ParseFloat(string(n.bytesOf(c)), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, "the value is a string that does not hold a number"
		}
		return f, ""
	}
	return 0, kindProblem(c, n.arena)
}

func (n *Normalizer) toDecimal(c cell) (decimal128.Num, string) {
	switch c.kind {
	case kInt:
		// Any int64 times 10^9 fits in 128 bits, well inside 38 digits.
		v, _ := parseInt64(n.bytesOf(c))
		abs := uint64(v)
		if v < 0 {
			abs = -abs
		}
		hi, lo := bits.Mul64(abs, 1_000_000_000)
		return signed(hi, lo, v < 0), ""
	case kBigInt, kFloat:
		if d, ok := parseDecimal(n.bytesOf(c)); ok {
			return d, ""
		}
		return decimal128.Num{}, "the value is a number that does not fit decimal(38,9)"
	case kString, kDate, kTime:
		if d, ok := parseDecimal(n.bytesOf(c)); ok {
			return d, ""
		}
		return decimal128.Num{}, "the value is a string that does not hold a number that fits decimal(38,9)"
	}
	return decimal128.Num{}, kindProblem(c, n.arena)
}

func (n *Normalizer) toDate(c cell) (arrow.Date32, string) {
	switch c.kind {
	case kDate:
		us, _, _ := parseTime(n.bytesOf(c))
		return arrow.Date32(us / 86_400_000_000), ""
	case kString, kTime:
		return 0, "the value is a string that is not a YYYY-MM-DD date"
	}
	return 0, kindProblem(c, n.arena)
}

func (n *Normalizer) toMicros(c cell) (int64, string) {
	switch c.kind {
	case kInt, kBigInt, kFloat, kString, kDate, kTime:
		if us, ok := n.cellTime(c); ok {
			return us, ""
		}
		if c.kind == kString {
			return 0, "the value is a string that is not a date or time"
		}
		return 0, "the value is a number out of range for an epoch time"
	}
	return 0, kindProblem(c, n.arena)
}

// check reports why a cell does not fit a declared type, or "".
func (n *Normalizer) check(t schemaevo.Type, c cell) string {
	var problem string
	switch t {
	case schemaevo.Bool:
		_, problem = n.toBool(c)
	case schemaevo.Int64:
		_, problem = n.toInt64(c)
	case schemaevo.Float64:
		_, problem = n.toFloat64(c)
	case schemaevo.Decimal:
		_, problem = n.toDecimal(c)
	case schemaevo.Date:
		_, problem = n.toDate(c)
	case schemaevo.Timestamptz:
		_, problem = n.toMicros(c)
	case schemaevo.String:
		if c.kind == kJSON {
			problem = kindProblem(c, n.arena)
		}
	}
	return problem
}

func kindProblem(c cell, arena []byte) string { return "the value is " + kindNoun(c, arena) }

// kindNoun names the kind of a value for a rejection reason.
func kindNoun(c cell, arena []byte) string {
	switch c.kind {
	case kNull:
		return "null"
	case kTrue, kFalse:
		return "a boolean"
	case kInt, kBigInt, kFloat:
		return "a number"
	case kJSON:
		if c.n > 0 && arena[c.off] == '[' {
			return "an array"
		}
		return "an object"
	}
	return "a string"
}

// sqlName spells a type the way users declare it in config.
func sqlName(t schemaevo.Type) string {
	switch t {
	case schemaevo.Bool:
		return "boolean"
	case schemaevo.Int64:
		return "bigint"
	case schemaevo.Float64:
		return "double"
	case schemaevo.Decimal:
		return "decimal(38,9)"
	case schemaevo.String:
		return "text"
	}
	return string(t)
}
