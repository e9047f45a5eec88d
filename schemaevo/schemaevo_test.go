package schemaevo

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestWidenLattice(t *testing.T) {
	cases := []struct{ a, b, want Type }{
		{Int64, Int64, Int64},
		{Int64, Float64, Float64},
		{Int64, Decimal, Decimal},
		{Decimal, Float64, Float64},
		{Date, Timestamptz, Timestamptz},
		{Bool, Int64, String},
		{Timestamptz, String, String},
		{Int64, JSON, JSON},
		{String, JSON, JSON},
		{Date, Float64, String},
		{"", Bool, Bool},
	}
	for _, c := range cases {
		if got := Widen(c.a, c.b); got != c.want {
			t.Errorf("Widen(%s, %s) = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}

// The lattice's laws: commutative, idempotent, and never narrowing.
func TestWidenLaws(t *testing.T) {
	for _, a := range Types {
		for _, b := range Types {
			w := Widen(a, b)
			if w != Widen(b, a) {
				t.Errorf("Widen(%s, %s) is not commutative", a, b)
			}
			if !CanWiden(a, w) || !CanWiden(b, w) {
				t.Errorf("Widen(%s, %s) = %s narrows one of them", a, b, w)
			}
			if Widen(w, a) != w || Widen(w, b) != w {
				t.Errorf("Widen(%s, %s) = %s is not a fixed point", a, b, w)
			}
		}
	}
	if CanWiden(Float64, Int64) || CanWiden(String, Int64) || CanWiden(JSON, String) {
		t.Error("CanWiden allows a narrowing")
	}
}

func TestDiff(t *testing.T) {
	incoming := Table{Name: "t", Columns: []Column{{"id", Int64}, {"amount", Float64}, {"tier", String}}}
	create := Diff(nil, incoming)
	if !create.Create || len(create.Changes) != 1 || create.Changes[0].Kind != CreateTable || len(create.Target.Columns) != 3 {
		t.Fatalf("Diff(nil) = %+v", create)
	}

	current := Table{Name: "t", Columns: []Column{{"id", Int64}, {"amount", Int64}, {"legacy", Bool}}}
	p := Diff(&current, incoming)
	if p.Create || len(p.Changes) != 2 {
		t.Fatalf("changes = %+v, want widen amount and add tier", p.Changes)
	}
	if c := p.Changes[0]; c.Kind != WidenType || c.Column != "amount" || c.OldType != Int64 || c.NewType != Float64 || c.Note == "" {
		t.Errorf("first change = %+v", c)
	}
	if c := p.Changes[1]; c.Kind != AddColumn || c.Column != "tier" || c.NewType != String || c.Note == "" {
		t.Errorf("second change = %+v", c)
	}
	// Nothing is dropped: the column the batch lacks stays, in place.
	want := []Column{{"id", Int64}, {"amount", Float64}, {"legacy", Bool}, {"tier", String}}
	if len(p.Target.Columns) != len(want) {
		t.Fatalf("target = %+v", p.Target.Columns)
	}
	for i := range want {
		if p.Target.Columns[i] != want[i] {
			t.Errorf("target column %d = %+v, want %+v", i, p.Target.Columns[i], want[i])
		}
	}
	// Nothing narrows: an int batch into a float column changes nothing.
	if p := Diff(&Table{Name: "t", Columns: []Column{{"x", Float64}}}, Table{Name: "t", Columns: []Column{{"x", Int64}}}); !p.Empty() {
		t.Errorf("narrower batch planned %+v", p.Changes)
	}
	if current.Columns[1].Type != Int64 {
		t.Error("Diff modified its input")
	}
}

func TestArrowRoundTrip(t *testing.T) {
	var fields []arrow.Field
	for _, typ := range Types {
		fields = append(fields, Field(string(typ), typ, true))
	}
	got, err := TableFromArrow("t", arrow.NewSchema(fields, nil))
	if err != nil {
		t.Fatal(err)
	}
	for i, typ := range Types {
		if got.Columns[i].Type != typ {
			t.Errorf("%s came back as %s", typ, got.Columns[i].Type)
		}
	}
	if _, err := FieldType(arrow.Field{Name: "x", Type: arrow.BinaryTypes.String, Metadata: arrow.NewMetadata([]string{MetadataKey}, []string{"nope"})}); err == nil {
		t.Error("an unknown elt type was accepted")
	}
}
