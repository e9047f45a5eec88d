package schemaevo

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Column is one column of a destination table, by its normalized name.
type Column struct {
	Name string
	Type Type
}

// Table is a destination table's columns, in order.
type Table struct {
	Name    string
	Columns []Column
}

// Column returns the column called name, if the table has it.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// TableFromArrow reads a table shape from an Arrow schema built by elt.
func TableFromArrow(name string, s *arrow.Schema) (Table, error) {
	t := Table{Name: name, Columns: make([]Column, 0, s.NumFields())}
	for _, f := range s.Fields() {
		typ, err := FieldType(f)
		if err != nil {
			return Table{}, err
		}
		t.Columns = append(t.Columns, Column{Name: f.Name, Type: typ})
	}
	return t, nil
}

// ChangeKind names a migration; the names are the values written to _elt_migrations.
type ChangeKind string

const (
	CreateTable ChangeKind = "create_table"
	AddColumn   ChangeKind = "add_column"
	WidenType   ChangeKind = "widen_type"
)

// Change is one additive migration of a table.
type Change struct {
	Kind    ChangeKind
	Column  string // empty for CreateTable
	OldType Type   // empty for CreateTable and AddColumn
	NewType Type   // empty for CreateTable
	Note    string // a sentence a human understands
}

// Plan is what must happen to a table before a batch can be written to it. An empty
// plan means the table already holds the batch as it is.
type Plan struct {
	Table   string
	Create  bool  // the table does not exist; Target is its full shape
	Target  Table // the table's shape after the plan is applied
	Changes []Change
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return !p.Create && len(p.Changes) == 0 }

// Diff compares the table as it is (nil when it does not exist) with the shape of an
// incoming batch and returns the additive changes that make the table hold the batch:
// new columns are added (nullable) and types widen along the lattice. Nothing is ever
// dropped or narrowed: a column the batch lacks stays, and a batch type narrower
// than the table's is written into the wider column as it is.
func Diff(current *Table, incoming Table) Plan {
	if current == nil {
		target := Table{Name: incoming.Name, Columns: append([]Column(nil), incoming.Columns...)}
		return Plan{
			Table:  incoming.Name,
			Create: true,
			Target: target,
			Changes: []Change{{
				Kind: CreateTable,
				Note: fmt.Sprintf("created table %q with %d columns", incoming.Name, len(incoming.Columns)),
			}},
		}
	}
	p := Plan{Table: current.Name, Target: Table{Name: current.Name, Columns: append([]Column(nil), current.Columns...)}}
	for _, in := range incoming.Columns {
		i := indexOf(p.Target.Columns, in.Name)
		if i < 0 {
			p.Target.Columns = append(p.Target.Columns, in)
			p.Changes = append(p.Changes, Change{
				Kind: AddColumn, Column: in.Name, NewType: in.Type,
				Note: fmt.Sprintf("added nullable column %q (%s): it first appeared in the source; earlier rows hold NULL", in.Name, in.Type),
			})
			continue
		}
		old := p.Target.Columns[i].Type
		wide := Widen(old, in.Type)
		if wide == old {
			continue
		}
		p.Target.Columns[i].Type = wide
		p.Changes = append(p.Changes, Change{
			Kind: WidenType, Column: in.Name, OldType: old, NewType: wide,
			Note: fmt.Sprintf("widened column %q from %s to %s: the source sent %s values; existing values were converted, none lost", in.Name, old, wide, in.Type),
		})
	}
	return p
}

func indexOf(cols []Column, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}
