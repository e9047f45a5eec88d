// Package normalize turns a stream's JSON records into Arrow record batches: column
// names (names.go), flattening, type inference and coercion, validation into
// rejections, in-batch deduplication by primary key, and the system columns
// (DESIGN.md sections 2 to 5).
//
// Inference (undeclared columns), per batch over the rows that will be written:
// integers that fit int64 are int64; larger integers are decimal while they fit
// DECIMAL(38,9) (29 integer digits), float64 beyond; other numbers float64; strings
// are timestamptz only when every value is RFC 3339 with a zone, date only when every
// value is YYYY-MM-DD, and a column mixing both is timestamptz (the lattice's
// date + timestamp rule); everything else widens with schemaevo.Widen. A column null
// in every row is left out of the batch. An object within MaxNesting always
// flattens, even when the same field is a scalar in another record: the scalar keeps
// the parent's column and the children theirs, so no column changes after the fact.
// A field declared json is kept whole, never flattened.
//
// One Normalizer serves one stream for the life of a run. It keeps the column names it
// gave out, so a field keeps its column across batches, and it reuses its buffers, so
// a batch costs memory in proportion to its own size.
package normalize

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/valyala/fastjson"

	"github.com/eltdev/elt/deadletter"
	"github.com/eltdev/elt/schemaevo"
)

// DefaultMaxNesting is how deep nested objects flatten into columns when
// Options.MaxNesting is 0.
const DefaultMaxNesting = 3

// Options configure a Normalizer. Field references (PrimaryKey, CursorPath,
// DeleteFlag, DeletedAt and the keys of Declared and NotNull) name a source field by
// its dotted path ("address.city"), or by its normalized name ("address__city",
// "created_at" for "createdAt"): a reference matches every source path that
// normalizes to what the reference normalizes to, and an exact dotted match is
// preferred when a record has several.
type Options struct {
	Stream     string
	PrimaryKey []string
	CursorPath string // the incremental cursor, consumed into updated_at; "" = none
	DeleteFlag string // a truthy value (true, 1, "true", "yes", "1") marks the record deleted
	DeletedAt  string // the deletion time, consumed into deleted_at; non-null marks deleted
	Declared   map[string]schemaevo.Type
	NotNull    map[string]bool
	// MaxNesting is how many levels of nested objects flatten into parent__child
	// columns. A top-level field is level 0; an object at level MaxNesting is kept
	// whole as one JSON column. 0 means DefaultMaxNesting; a negative value turns
	// flattening off (every object is a JSON column).
	MaxNesting int
	KeepRaw    bool
	Allocator  memory.Allocator // memory.DefaultAllocator when nil
	// MaxNameLen caps column names (DefaultMaxLen when 0).
	MaxNameLen int
	// Names seeds the column names from an earlier run (Normalizer.Names), so a field
	// keeps its column across runs.
	Names map[string]string
}

// Result is what one batch became.
type Result struct {
	Record     arrow.RecordBatch // nil when no record was accepted; the caller owns it and must Release it
	Rejected   []Rejection       // records that cannot be loaded, in input order
	Duplicates int               // accepted records collapsed into a later one with the same primary key
	MaxCursor  Cursor            // greatest cursor among accepted records (zero Cursor when no cursor)
	MinCursor  Cursor            // least cursor among accepted records: with MaxCursor it tells whether batches follow each other in order
	Ascending  bool              // cursor values never decreased within the batch, in input order (true without a cursor)
}

// Rejection is one record that cannot be loaded. Reason names the column and the
// problem, never the value: it is stored and shown where the data may not be.
type Rejection struct {
	Index  int
	Code   deadletter.Code
	Reason string
}

// role marks a field consumed into a system column instead of a column of its own.
type role uint8

const (
	roleNone role = iota
	roleCursor
	roleDeleteFlag
	roleDeletedAt
	nRoles
)

// node is one source path seen so far; nodes form a tree keyed by raw source keys so
// that a field costs one map lookup per record, without building its name.
type node struct {
	children map[string]*node
	// seq[i] is the child met last at position i of this object. Records of one
	// stream mostly repeat their key order, so comparing one key beats hashing it.
	seq      []*node
	path     []string
	col      int32 // index into Normalizer.cols; -1 until a value lands here
	role     role
	exact    bool // its dotted path is the role's reference as written
	declared schemaevo.Type
}

// column is one output column for the Normalizer's lifetime.
type column struct {
	name     string
	declared schemaevo.Type
	typ      schemaevo.Type // inferred over the current batch
	seen     bool           // appears in a written row of the current batch
	mark     uint64         // record stamp of the last record that set cellIdx
	cellIdx  int32
}

// cell is one value of one record; its text lives in Normalizer.arena.
type cell struct {
	col  int32
	kind kind
	off  uint32
	n    uint32
}

// row is one accepted record.
type row struct {
	rec                 int32 // index in the batch input
	cellStart, cellEnd  int32
	keyOff, keyLen      uint32
	curOff, curLen      uint32
	updated, deletedAt  int64 // microseconds UTC
	isDeleted, hasDelAt bool
	dead                bool // collapsed into a later duplicate
}

// spec is one configured field reference and the nodes it matched.
type spec struct {
	text  string
	canon string
	nodes []*node // exact dotted matches first
}

// Normalizer turns one stream's records into batches. Not safe for concurrent use.
type Normalizer struct {
	opts       Options
	alloc      memory.Allocator
	maxNesting int
	namer      *Namer

	parser fastjson.Parser
	visit  func(key []byte, v *fastjson.Value) // made once: a closure per object would allocate
	root   *node
	cols   []column

	pk, notNull []*spec
	roleSpecs   [nRoles]*spec
	declared    []declSpec

	// per record
	cur     *node
	level   int
	pos     int // position of the next key within the current object
	stamp   uint64
	roleVal [nRoles]cell
	failed  bool
	failRej Rejection

	// per batch, reused
	cells     []cell
	arena     []byte
	rows      []row
	keyBuf    []byte
	batchCols []int32
	dedup     dedupIndex
	colPos    []int32 // column -> position in the batch, -1 when absent
	matrix    []int32 // see layout
	scratch   []byte
}

type declSpec struct {
	key, canon string
	typ        schemaevo.Type
}

// New returns a Normalizer for one stream.
func New(opts Options) *Normalizer {
	n := &Normalizer{opts: opts, alloc: opts.Allocator, maxNesting: opts.MaxNesting}
	if n.alloc == nil {
		n.alloc = memory.DefaultAllocator
	}
	switch {
	case n.maxNesting == 0:
		n.maxNesting = DefaultMaxNesting
	case n.maxNesting < 0:
		n.maxNesting = 0
	}
	n.namer = NewNamer(opts.Names)
	n.namer.MaxLen = opts.MaxNameLen
	n.root = &node{col: -1}
	n.visit = n.visitField
	for _, p := range opts.PrimaryKey {
		n.pk = append(n.pk, newSpec(p))
	}
	for k, nn := range opts.NotNull {
		if nn {
			n.notNull = append(n.notNull, newSpec(k))
		}
	}
	// Map order would make the first failing reason vary from run to run.
	slices.SortFunc(n.notNull, func(a, b *spec) int { return strings.Compare(a.text, b.text) })
	for r, p := range map[role]string{roleCursor: opts.CursorPath, roleDeleteFlag: opts.DeleteFlag, roleDeletedAt: opts.DeletedAt} {
		if p != "" {
			n.roleSpecs[r] = newSpec(p)
		}
	}
	for k, t := range opts.Declared {
		n.declared = append(n.declared, declSpec{key: k, canon: canonRef(k), typ: t})
	}
	return n
}

func newSpec(ref string) *spec { return &spec{text: ref, canon: canonRef(ref)} }

// canonRef normalizes a field reference: dotted paths split on ".", normalized names
// on "__", each part snake-cased.
func canonRef(ref string) string {
	sep := "."
	if !strings.Contains(ref, ".") && strings.Contains(ref, PathSeparator) {
		sep = PathSeparator
	}
	return canonPath(strings.Split(ref, sep))
}

func canonPath(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = snakeCase(p, 0)
	}
	return strings.Join(parts, PathSeparator)
}

// Names returns the source-key -> column map to persist and pass back as
// Options.Names in a later run.
func (n *Normalizer) Names() map[string]string { return n.namer.Mapping() }

// KeyColumns returns the normalized primary-key column names. A key field already
// seen in a batch reports the column it was given (which may carry a collision
// suffix); one not seen yet reports the name its reference normalizes to. Call it
// after the first batch for names that match the batch's schema.
func (n *Normalizer) KeyColumns() []string {
	out := make([]string, 0, len(n.pk))
	for _, s := range n.pk {
		name := shorten(s.canon, n.namer.maxLen())
		for _, nd := range s.nodes {
			if nd.col >= 0 {
				name = n.cols[nd.col].name
				break
			}
		}
		out = append(out, name)
	}
	return out
}

// childAt is child with a guess: the key met at the same position last time.
func (n *Normalizer) childAt(parent *node, pos int, key []byte) *node {
	if pos < len(parent.seq) {
		if nd := parent.seq[pos]; nd.path[len(nd.path)-1] == string(key) {
			return nd
		}
	}
	nd := n.child(parent, key)
	if pos < len(parent.seq) {
		parent.seq[pos] = nd
	} else if pos == len(parent.seq) {
		parent.seq = append(parent.seq, nd)
	}
	return nd
}

// child finds or creates the node for key under parent, binding it to the field
// references it matches. Binding happens once per path for the Normalizer's life.
func (n *Normalizer) child(parent *node, key []byte) *node {
	if nd := parent.children[string(key)]; nd != nil {
		return nd
	}
	path := append(parent.path[:len(parent.path):len(parent.path)], string(key))
	nd := &node{path: path, col: -1}
	if parent.children == nil {
		parent.children = make(map[string]*node)
	}
	parent.children[path[len(path)-1]] = nd
	dotted, canon := strings.Join(path, "."), canonPath(path)
	for r, s := range n.roleSpecs {
		if s != nil && nd.role == roleNone && bind(s, nd, dotted, canon) {
			nd.role, nd.exact = role(r), s.text == dotted
		}
	}
	for _, s := range n.pk {
		bind(s, nd, dotted, canon)
	}
	for _, s := range n.notNull {
		bind(s, nd, dotted, canon)
	}
	nd.declared = n.declaredFor(dotted, canon)
	return nd
}

func bind(s *spec, nd *node, dotted, canon string) bool {
	switch {
	case s.text == dotted:
		s.nodes = append([]*node{nd}, s.nodes...)
	case s.canon == canon:
		s.nodes = append(s.nodes, nd)
	default:
		return false
	}
	return true
}

func (n *Normalizer) declaredFor(dotted, canon string) schemaevo.Type {
	if t, ok := n.opts.Declared[dotted]; ok {
		return t
	}
	for _, d := range n.declared {
		if d.canon == canon {
			return d.typ
		}
	}
	return ""
}

// Batch normalizes records. ingestedAt stamps every row's ingested_at (and its
// updated_at when no cursor is configured). Records that cannot be loaded come back
// as Rejected; the error is for failures of the batch as a whole.
func (n *Normalizer) Batch(records [][]byte, ingestedAt time.Time) (Result, error) {
	if len(records) > math.MaxInt32 {
		return Result{}, fmt.Errorf("normalize %s: batch of %d records is too large", n.opts.Stream, len(records))
	}
	n.reset()
	res := Result{Ascending: true}
	ingested := ingestedAt.UnixMicro()
	best, least, prev := -1, -1, -1
	for i, raw := range records {
		if !n.read(i, raw, ingested) {
			res.Rejected = append(res.Rejected, n.failRej)
			continue
		}
		if len(n.arena) > math.MaxUint32 {
			return Result{}, fmt.Errorf("normalize %s: batch holds more than 4 GiB of values", n.opts.Stream)
		}
		if n.roleSpecs[roleCursor] != nil {
			cur := len(n.rows) - 1
			if prev >= 0 && n.rows[cur].updated < n.rows[prev].updated {
				res.Ascending = false
			}
			if best < 0 || n.rows[cur].updated >= n.rows[best].updated {
				best = cur
			}
			if least < 0 || n.rows[cur].updated < n.rows[least].updated {
				least = cur
			}
			prev = cur
		}
	}
	if best >= 0 {
		r := n.rows[best]
		res.MaxCursor = Cursor{Text: string(n.arena[r.curOff : r.curOff+r.curLen]), micros: r.updated, ok: true}
		r = n.rows[least]
		res.MinCursor = Cursor{Text: string(n.arena[r.curOff : r.curOff+r.curLen]), micros: r.updated, ok: true}
	}
	res.Duplicates = n.collapse()
	out := n.infer()
	if out == 0 {
		return res, nil
	}
	rec, err := n.build(records, out, ingested)
	if err != nil {
		return Result{}, fmt.Errorf("normalize %s: %w", n.opts.Stream, err)
	}
	res.Record = rec
	return res, nil
}

func (n *Normalizer) reset() {
	n.cells, n.arena, n.rows, n.keyBuf = n.cells[:0], n.arena[:0], n.rows[:0], n.keyBuf[:0]
	n.batchCols = n.batchCols[:0]
	for i := range n.cols {
		n.cols[i].typ, n.cols[i].seen = "", false
	}
}

// read takes one record into cells and rows. It returns false, with n.failRej set,
// when the record is rejected; nothing of a rejected record stays behind.
func (n *Normalizer) read(i int, raw []byte, ingested int64) bool {
	n.failed = false
	v, err := n.parser.ParseBytes(raw)
	if err != nil {
		return n.fail(i, deadletter.MalformedJSON, "the record is not valid JSON")
	}
	obj, err := v.Object()
	if err != nil {
		return n.fail(i, deadletter.NotAnObject, fmt.Sprintf("the record is a JSON %s, not an object", v.Type()))
	}
	cellStart, arenaStart := len(n.cells), len(n.arena)
	n.stamp++
	n.roleVal = [nRoles]cell{}
	n.cur, n.level, n.pos = n.root, 0, 0
	n.failRej.Index = i
	obj.Visit(n.visit)
	r := row{rec: int32(i), cellStart: int32(cellStart), updated: ingested}
	ok := !n.failed && n.checkKey(i, &r) && n.checkNotNull(i) && n.readRoles(i, &r)
	if !ok {
		n.cells, n.arena = n.cells[:cellStart], n.arena[:arenaStart]
		return false
	}
	r.cellEnd = int32(len(n.cells))
	n.rows = append(n.rows, r)
	return true
}

func (n *Normalizer) fail(i int, code deadletter.Code, reason string) bool {
	if !n.failed {
		n.failed = true
		n.failRej = Rejection{Index: i, Code: code, Reason: reason}
	}
	return false
}

// visitField is the fastjson visitor for every object key: it flattens objects within
// MaxNesting and hands every other value to leaf.
func (n *Normalizer) visitField(key []byte, v *fastjson.Value) {
	if n.failed {
		return
	}
	nd := n.childAt(n.cur, n.pos, key)
	n.pos++
	if v.Type() == fastjson.TypeObject && nd.role == roleNone && nd.declared == "" && n.level < n.maxNesting {
		obj, _ := v.Object()
		if obj.Len() == 0 {
			return // an empty object has no field to give a column
		}
		parent, level, pos := n.cur, n.level, n.pos
		n.cur, n.level, n.pos = nd, level+1, 0
		obj.Visit(n.visit)
		n.cur, n.level, n.pos = parent, level, pos
		return
	}
	n.leaf(nd, v)
}

// leaf copies one value's text into the arena and records it as a cell of its column
// (or as a role value), checking a declared type on the way.
func (n *Normalizer) leaf(nd *node, v *fastjson.Value) {
	off := len(n.arena)
	k := kNull
	switch v.Type() {
	case fastjson.TypeNull:
	case fastjson.TypeTrue:
		k = kTrue
	case fastjson.TypeFalse:
		k = kFalse
	case fastjson.TypeNumber:
		n.arena = v.MarshalTo(n.arena)
		var ok bool
		if k, ok = classifyNumber(n.arena[off:]); !ok {
			n.fail(n.failRej.Index, deadletter.MalformedJSON, "the record holds a number that is not valid JSON")
			return
		}
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		n.arena = appendValidUTF8(n.arena, s)
		k = classifyString(n.arena[off:])
	default: // object or array
		n.arena = v.MarshalTo(n.arena)
		k = kJSON
	}
	c := cell{col: nd.col, kind: k, off: uint32(off), n: uint32(len(n.arena) - off)}
	if nd.role != roleNone {
		n.setRole(nd, c)
		return
	}
	if nd.col < 0 {
		nd.col = int32(len(n.cols))
		n.cols = append(n.cols, column{name: n.namer.Column(nd.path), declared: nd.declared, cellIdx: -1})
		c.col = nd.col
	}
	col := &n.cols[nd.col]
	if col.declared != "" && k != kNull {
		if problem := n.check(col.declared, c); problem != "" {
			n.fail(n.failRej.Index, deadletter.TypeMismatch,
				fmt.Sprintf("column %q is declared %s; %s", col.name, sqlName(col.declared), problem))
			return
		}
	}
	if col.mark == n.stamp { // the key repeats within the object: the last one wins, as in most parsers
		n.cells[col.cellIdx] = c
		return
	}
	col.mark, col.cellIdx = n.stamp, int32(len(n.cells))
	n.cells = append(n.cells, c)
}

// setRole keeps a consumed field's value. When several paths match the reference,
// an exact dotted match wins over a normalized one, and a value over a null.
func (n *Normalizer) setRole(nd *node, c cell) {
	cur := &n.roleVal[nd.role]
	present := cur.col != 0
	if !present || (c.kind != kNull && (cur.kind == kNull || nd.exact)) {
		*cur = c
		cur.col = 1 // marks the role value present
	}
}

// valueOf returns the cell a column got in the current record.
func (n *Normalizer) valueOf(nd *node) (cell, bool) {
	if nd.col < 0 {
		return cell{}, false
	}
	col := &n.cols[nd.col]
	if col.mark != n.stamp {
		return cell{}, false
	}
	c := n.cells[col.cellIdx]
	return c, c.kind != kNull
}

// checkKey requires every primary-key field and appends the key's bytes (each part
// length-prefixed, so ("ab","c") and ("a","bc") differ) for deduplication.
func (n *Normalizer) checkKey(i int, r *row) bool {
	if len(n.pk) == 0 {
		return true
	}
	start := len(n.keyBuf)
	for _, s := range n.pk {
		found := false
		for _, nd := range s.nodes {
			if c, ok := n.valueOf(nd); ok {
				text := n.arena[c.off : c.off+c.n]
				n.keyBuf = binary.AppendUvarint(n.keyBuf, uint64(len(text)))
				n.keyBuf = append(n.keyBuf, text...)
				found = true
				break
			}
		}
		if !found {
			n.keyBuf = n.keyBuf[:start]
			return n.fail(i, deadletter.MissingPrimaryKey, fmt.Sprintf("primary key field %q is missing or null", s.text))
		}
	}
	r.keyOff, r.keyLen = uint32(start), uint32(len(n.keyBuf)-start)
	return true
}

func (n *Normalizer) checkNotNull(i int) bool {
	for _, s := range n.notNull {
		name := s.canon
		ok := false
		for _, nd := range s.nodes {
			if nd.col >= 0 {
				name = n.cols[nd.col].name
			}
			if _, present := n.valueOf(nd); present || nd.role != roleNone {
				ok = true
				break
			}
		}
		if !ok {
			return n.fail(i, deadletter.TypeMismatch, fmt.Sprintf("column %q is declared not null; the value is missing or null", name))
		}
	}
	return true
}

// readRoles turns the consumed fields into updated_at, is_deleted and deleted_at.
func (n *Normalizer) readRoles(i int, r *row) bool {
	if s := n.roleSpecs[roleCursor]; s != nil {
		c := n.roleVal[roleCursor]
		us, ok := n.cellTime(c)
		if !ok {
			return n.fail(i, deadletter.MissingCursor,
				fmt.Sprintf("cursor field %q is missing, null, or not a date, time or epoch number", s.text))
		}
		r.updated, r.curOff, r.curLen = us, c.off, c.n
	}
	if c := n.roleVal[roleDeleteFlag]; c.col != 0 {
		r.isDeleted = truthy(c.kind, n.arena[c.off:c.off+c.n])
	}
	if c := n.roleVal[roleDeletedAt]; c.col != 0 && c.kind != kNull {
		us, ok := n.cellTime(c)
		if !ok {
			return n.fail(i, deadletter.TypeMismatch, fmt.Sprintf("deletion time field %q is %s, not a date, time or epoch number",
				n.roleSpecs[roleDeletedAt].text, kindNoun(c, n.arena)))
		}
		r.isDeleted, r.hasDelAt, r.deletedAt = true, true, us
	}
	if r.isDeleted && !r.hasDelAt {
		r.hasDelAt, r.deletedAt = true, r.updated
	}
	return true
}

// cellTime reads a cursor-like value: a date/time string or an epoch number.
func (n *Normalizer) cellTime(c cell) (int64, bool) {
	text := n.arena[c.off : c.off+c.n]
	switch c.kind {
	case kInt, kBigInt, kFloat:
		return parseCursorBytes(text, true)
	case kString, kDate, kTime:
		return parseCursorBytes(text, false)
	}
	return 0, false
}

// infer widens each column's type over the rows that will be written (after
// deduplication: a collapsed record's values never reach the table) and returns how
// many rows that is. n.batchCols becomes the batch's columns in first-seen order.
func (n *Normalizer) infer() int {
	out := 0
	for _, r := range n.rows {
		if r.dead {
			continue
		}
		out++
		for _, c := range n.cells[r.cellStart:r.cellEnd] {
			col := &n.cols[c.col]
			if !col.seen {
				col.seen = true
				n.batchCols = append(n.batchCols, c.col)
			}
			if col.declared == "" {
				col.typ = schemaevo.Widen(col.typ, inferred[c.kind])
			}
		}
	}
	// Column indexes follow first sight over the Normalizer's life: sorting keeps the
	// column order stable from batch to batch.
	slices.Sort(n.batchCols)
	kept := n.batchCols[:0]
	for _, ci := range n.batchCols {
		col := &n.cols[ci]
		if col.declared != "" {
			col.typ = col.declared
		}
		if col.typ != "" { // null in every row: no type to give it, so not in this batch
			kept = append(kept, ci)
		}
	}
	n.batchCols = kept
	return out
}
