// Package schemaevo holds elt's column type set, the widening lattice over it, and
// the pure diff between a table as it is and a batch as it arrives. It imports
// nothing of ours: every stage may use its vocabulary, and every destination applies
// a Plan by its own rules.
package schemaevo

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Type is one of elt's column types (DESIGN.md section 5).
type Type string

const (
	Bool        Type = "bool"
	Int64       Type = "int64"
	Float64     Type = "float64"
	Decimal     Type = "decimal" // DECIMAL(38,9): integers past int64 and declared decimals
	String      Type = "string"
	Date        Type = "date"
	Timestamptz Type = "timestamptz"
	JSON        Type = "json"
)

// DecimalPrecision and DecimalScale fix the one decimal type elt writes.
const (
	DecimalPrecision = 38
	DecimalScale     = 9
)

// Types lists every type, in lattice order from narrowest to widest.
var Types = []Type{Bool, Int64, Decimal, Float64, Date, Timestamptz, String, JSON}

// Valid reports whether t is one of the known types.
func (t Type) Valid() bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Widen returns the narrowest type that holds every value of a and of b. It is
// commutative and never narrows: Widen(a, Widen(a, b)) == Widen(a, b).
//
//	int64 + decimal -> decimal; int64|decimal + float64 -> float64
//	date + timestamptz -> timestamptz
//	json + anything -> json (a scalar is a JSON value too)
//	anything else mixed -> string
func Widen(a, b Type) Type {
	switch {
	case a == b:
		return a
	case a == "":
		return b
	case b == "":
		return a
	case a == JSON || b == JSON:
		return JSON
	case isNumeric(a) && isNumeric(b):
		if a == Float64 || b == Float64 {
			return Float64
		}
		return Decimal
	case isTemporal(a) && isTemporal(b):
		return Timestamptz
	default:
		return String
	}
}

// CanWiden reports whether a column of type from may become type to without losing
// or narrowing a value.
func CanWiden(from, to Type) bool { return Widen(from, to) == to }

func isNumeric(t Type) bool  { return t == Int64 || t == Decimal || t == Float64 }
func isTemporal(t Type) bool { return t == Date || t == Timestamptz }

// MetadataKey is the Arrow field metadata key that carries a field's elt Type. Arrow
// alone cannot tell a JSON column from a string column, so every field elt builds
// carries it.
const MetadataKey = "elt.type"

// ArrowType is the Arrow type a column of type t is carried in.
func ArrowType(t Type) arrow.DataType {
	switch t {
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case Float64:
		return arrow.PrimitiveTypes.Float64
	case Decimal:
		return &arrow.Decimal128Type{Precision: DecimalPrecision, Scale: DecimalScale}
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Timestamptz:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	default: // String, JSON
		return arrow.BinaryTypes.String
	}
}

// Field returns the Arrow field for a column, with its elt type in the metadata.
// JSON columns also carry Arrow's canonical JSON extension name, so that engines that
// know it (DuckDB does) take the text as JSON as it is instead of parsing it again
// in a cast: normalize has already checked it.
func Field(name string, t Type, nullable bool) arrow.Field {
	keys, values := []string{MetadataKey}, []string{string(t)}
	if t == JSON {
		keys = append(keys, "ARROW:extension:name", "ARROW:extension:metadata")
		values = append(values, "arrow.json", "")
	}
	return arrow.Field{
		Name:     name,
		Type:     ArrowType(t),
		Nullable: nullable,
		Metadata: arrow.NewMetadata(keys, values),
	}
}

// FieldType reads the elt type of an Arrow field: from its metadata when present,
// else from its Arrow type.
func FieldType(f arrow.Field) (Type, error) {
	if i := f.Metadata.FindKey(MetadataKey); i >= 0 {
		t := Type(f.Metadata.Values()[i])
		if !t.Valid() {
			return "", fmt.Errorf("field %q: unknown elt type %q", f.Name, t)
		}
		return t, nil
	}
	switch f.Type.ID() {
	case arrow.BOOL:
		return Bool, nil
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32:
		return Int64, nil
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return Float64, nil
	case arrow.DECIMAL128, arrow.DECIMAL256, arrow.UINT64:
		return Decimal, nil
	case arrow.STRING, arrow.LARGE_STRING:
		return String, nil
	case arrow.DATE32, arrow.DATE64:
		return Date, nil
	case arrow.TIMESTAMP:
		return Timestamptz, nil
	}
	return "", fmt.Errorf("field %q: arrow type %s has no elt type", f.Name, f.Type)
}
