// Package deadletter holds the records elt could not load: what they were, why, and
// a machine-readable code. A dead letter is written in the same transaction as the
// batch it came from, so it is never lost and never written twice.
package deadletter

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Code says why a record could not be loaded. The set is fixed: users filter and
// alert on these values.
type Code string

const (
	MissingPrimaryKey Code = "missing_primary_key" // a primary-key field is absent or null
	MissingCursor     Code = "missing_cursor"      // the incremental cursor field is absent, null or unparseable
	TypeMismatch      Code = "type_mismatch"       // a value violates its column's declared type
	MalformedJSON     Code = "malformed_json"      // the record is not valid JSON
	NotAnObject       Code = "not_an_object"       // the record is valid JSON but not an object
)

// Codes lists every code.
var Codes = []Code{MissingPrimaryKey, MissingCursor, TypeMismatch, MalformedJSON, NotAnObject}

// Letter is one record that could not be loaded.
type Letter struct {
	Stream     string
	RunID      string
	Batch      int64
	Code       Code
	Reason     string // says what is wrong without repeating the record's values
	Raw        []byte // the record as the source sent it
	IngestedAt time.Time
}

// ID identifies a letter by its stream, code and record, so that re-reading the same
// bad record (after a crash, or in a later run) does not write it twice.
func (l Letter) ID() string {
	h := sha256.New()
	h.Write([]byte(l.Stream))
	h.Write([]byte{0})
	h.Write([]byte(l.Code))
	h.Write([]byte{0})
	h.Write(l.Raw)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// RawJSON returns the record as a JSON document: the record itself when it is valid
// JSON, else the text as a JSON string, so that a JSON column can always hold it.
func (l Letter) RawJSON() string {
	if json.Valid(l.Raw) {
		return string(l.Raw)
	}
	quoted, _ := json.Marshal(string(l.Raw))
	return string(quoted)
}
