package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// This file scans JSON without decoding it. A page is split into the raw bytes of
// its records, which normalize decodes one by one: decoding the whole document first
// would cost a second full parse and an allocation per value for a million records.
//
// The scanner knows strings (with their escapes) and nesting only. That is on
// purpose: a record that is itself invalid JSON ({"id": 1, "x": }, NaN) is still
// returned as its raw bytes so that normalize can dead-letter that one record,
// whereas a document whose structure is broken (unterminated string, array or
// object; mismatched brackets; a truncated body) is an error for the whole page.

// SyntaxError is a structural defect in a JSON document. It is the cause (Err) of
// the *Error, with Code PARSING_ERROR, that the functions of this file return.
type SyntaxError struct {
	Offset int    // byte offset at which the defect was found
	Msg    string // what was wrong
	// Truncated reports that the document ended before its structure did: the
	// signature of a connection closed mid-body, hence worth another attempt.
	Truncated bool
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

func truncErr(off int, what string) error {
	return syntaxErr(off, true, "the document ends inside %s (truncated body?)", what)
}

func syntaxErr(off int, truncated bool, format string, args ...any) error {
	e := &Error{Code: CodeParsing, Retryable: truncated,
		Err: &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...), Truncated: truncated}}
	if truncated {
		e.hint = "the response was cut short (connection closed mid-body?); try again later or raise source.client.retry.max_attempts"
	}
	return e
}

// special marks the bytes skipContainer must look at; everything else is skipped by
// a tight loop.
var special = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// delim marks the bytes that end a bare scalar (number, true, NaN, ...).
var delim = [256]bool{' ': true, '\t': true, '\n': true, '\r': true, ',': true, ']': true, '}': true}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string that opens at b[i] (a quote),
// or -1 when the document ends inside it. It jumps quote to quote with IndexByte
// (vectorised) and counts the backslashes before each quote: an odd count escapes it.
func skipString(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// skipValue returns the index just past the value that starts at b[i], which is
// not white space.
func skipValue(b []byte, i int) (int, error) {
	switch c := b[i]; c {
	case '"':
		j := skipString(b, i)
		if j < 0 {
			return 0, truncErr(i, "a string")
		}
		return j, nil
	case '{', '[':
		return skipContainer(b, i, -1, 0)
	case '}', ']', ',', ':':
		return 0, syntaxErr(i, false, "unexpected %q where a value should be", c)
	default:
		j := i + 1
		for j < len(b) && !delim[b[j]] {
			j++
		}
		return j, nil
	}
}

// skipContainer returns the index just past the object or array that opens at
// b[i]. Only brackets and strings are tracked; a stack of expected closers catches
// mismatches such as [1}. An array opening at skipFrom is taken as already checked
// and jumped to skipTo, so that a page is scanned once (see Stream.records).
func skipContainer(b []byte, i, skipFrom, skipTo int) (int, error) {
	var buf [64]byte
	stack := buf[:0]
	j := i
	for {
		for j < len(b) && !special[b[j]] {
			j++
		}
		if j >= len(b) {
			if stack[0] == '}' {
				return 0, truncErr(i, "an object")
			}
			return 0, truncErr(i, "an array")
		}
		switch c := b[j]; c {
		case '"':
			k := skipString(b, j)
			if k < 0 {
				return 0, truncErr(j, "a string")
			}
			j = k
			continue
		case '{':
			stack = append(stack, '}')
		case '[':
			if j == skipFrom && len(stack) > 0 {
				j = skipTo
				continue
			}
			stack = append(stack, ']')
		default: // '}' or ']'
			if stack[len(stack)-1] != c {
				return 0, syntaxErr(j, false, "%q closes a bracket opened as %q", c, opener(stack[len(stack)-1]))
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return j + 1, nil
			}
		}
		j++
	}
}

func opener(closer byte) byte {
	if closer == '}' {
		return '{'
	}
	return '['
}

// CheckStructure reports whether doc is one structurally complete JSON value with
// nothing but white space around it. Lookup stops reading at the value it finds, so
// a page is checked once with CheckStructure first: a body cut short after the
// records would otherwise look like a last page with no next link.
func CheckStructure(doc []byte) error { return checkStructure(doc, -1, 0) }

func checkStructure(doc []byte, skipFrom, skipTo int) error {
	i := skipSpace(doc, 0)
	if i == len(doc) {
		return syntaxErr(i, true, "the document is empty (truncated body?)")
	}
	var end int
	var err error
	switch {
	case i == skipFrom:
		end = skipTo
	case doc[i] == '{' || doc[i] == '[':
		end, err = skipContainer(doc, i, skipFrom, skipTo)
	default:
		end, err = skipValue(doc, i)
	}
	if err != nil {
		return err
	}
	if k := skipSpace(doc, end); k != len(doc) {
		return syntaxErr(k, false, "unexpected data after the JSON value")
	}
	return nil
}

// SplitArray returns the raw bytes of each element of the JSON array arr, in
// order, without copying: each element is a sub-slice of arr (capacity-limited, so
// appending to one cannot overwrite the next). White space around elements is not
// included. A malformed element is returned as it is; a broken array is an error.
// An empty array yields an empty, non-nil slice.
func SplitArray(arr []byte) ([][]byte, error) {
	i := skipSpace(arr, 0)
	if i == len(arr) {
		return nil, syntaxErr(i, true, "the document is empty (truncated body?)")
	}
	out, end, err := splitArray(arr, i)
	if err != nil {
		return nil, err
	}
	return out, trailing(arr, end)
}

// splitArray splits the array that opens at arr[i] and returns the index just past it.
func splitArray(arr []byte, i int) ([][]byte, int, error) {
	if arr[i] != '[' {
		return nil, 0, syntaxErr(i, false, "expected an array, found %s", kindOf(arr[i:]))
	}
	// One allocation for a typical page; append grows it if records are small.
	out := make([][]byte, 0, min(len(arr)/64+1, 4096))
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return out, i + 1, nil
	}
	for {
		if i == len(arr) {
			return nil, 0, truncErr(len(arr), "an array")
		}
		if c := arr[i]; c == ',' || c == ']' {
			return nil, 0, syntaxErr(i, false, "empty array element")
		}
		end, err := skipValue(arr, i)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, arr[i:end:end])
		i = skipSpace(arr, end)
		if i == len(arr) {
			return nil, 0, truncErr(len(arr), "an array")
		}
		switch arr[i] {
		case ',':
			i = skipSpace(arr, i+1)
		case ']':
			return out, i + 1, nil
		default:
			return nil, 0, syntaxErr(i, false, "expected ',' or ']' after an array element, found %q", arr[i])
		}
	}
}

func trailing(b []byte, i int) error {
	if k := skipSpace(b, i); k != len(b) {
		return syntaxErr(k, false, "unexpected data after the JSON value")
	}
	return nil
}

// Lookup returns the raw bytes of the value at path in doc. Path is dotted
// (meta.next_cursor); "" or "$" is the whole document, and a leading "$." is
// ignored. A segment that is a non-negative integer indexes an array (items.0).
// found is false when a key is missing or the path goes through a scalar. A JSON
// null is found, with value "null"; the typed helpers treat it as absent.
//
// Lookup reads only as far as it needs and checks the structure of what it reads;
// use CheckStructure for the whole document. With duplicate keys the first wins.
func Lookup(doc []byte, path string) (value []byte, found bool, err error) {
	i, found, err := lookup(doc, path)
	if err != nil || !found {
		return nil, false, err
	}
	end, err := skipValue(doc, i)
	if err != nil {
		return nil, false, err
	}
	return doc[i:end:end], true, nil
}

// lookup returns the index at which the value at path starts.
func lookup(doc []byte, path string) (start int, found bool, err error) {
	path = strings.TrimPrefix(path, "$")
	path = strings.TrimPrefix(path, ".")
	i := skipSpace(doc, 0)
	for path != "" {
		var seg string
		seg, path, _ = strings.Cut(path, ".")
		if i == len(doc) {
			return 0, false, syntaxErr(i, true, "the document ends before %q", seg)
		}
		switch doc[i] {
		case '{':
			i, found, err = findKey(doc, i, seg)
		case '[':
			n, cerr := strconv.Atoi(seg)
			if cerr != nil || n < 0 {
				return 0, false, nil
			}
			i, found, err = findIndex(doc, i, n)
		default:
			return 0, false, nil
		}
		if err != nil || !found {
			return 0, false, err
		}
	}
	if i == len(doc) {
		return 0, false, syntaxErr(i, true, "the document is empty (truncated body?)")
	}
	return i, true, nil
}

// findKey returns the index of the value of key in the object at doc[i].
func findKey(doc []byte, i int, key string) (int, bool, error) {
	j := skipSpace(doc, i+1)
	if j < len(doc) && doc[j] == '}' {
		return 0, false, nil
	}
	for {
		if j == len(doc) {
			return 0, false, truncErr(i, "an object")
		}
		if doc[j] != '"' {
			return 0, false, syntaxErr(j, false, "expected an object key, found %q", doc[j])
		}
		kend := skipString(doc, j)
		if kend < 0 {
			return 0, false, truncErr(j, "a string")
		}
		match := keyEquals(doc[j:kend], key)
		j = skipSpace(doc, kend)
		if j == len(doc) {
			return 0, false, truncErr(i, "an object")
		}
		if doc[j] != ':' {
			return 0, false, syntaxErr(j, false, "expected ':' after an object key, found %q", doc[j])
		}
		j = skipSpace(doc, j+1)
		if j == len(doc) {
			return 0, false, truncErr(i, "an object")
		}
		if match {
			return j, true, nil
		}
		next, more, err := skipMember(doc, i, j, '}', "an object")
		if err != nil || !more {
			return 0, false, err
		}
		j = next
	}
}

// findIndex returns the index of element n of the array at doc[i].
func findIndex(doc []byte, i, n int) (int, bool, error) {
	j := skipSpace(doc, i+1)
	if j < len(doc) && doc[j] == ']' {
		return 0, false, nil
	}
	for k := 0; ; k++ {
		if j == len(doc) {
			return 0, false, truncErr(i, "an array")
		}
		if k == n {
			return j, true, nil
		}
		next, more, err := skipMember(doc, i, j, ']', "an array")
		if err != nil || !more {
			return 0, false, err
		}
		j = next
	}
}

// skipMember skips the value at doc[j], a member of the container that opens at
// doc[open] and closes with closer, and the separator after it. It returns where
// the next member starts, or more == false when the container closed.
func skipMember(doc []byte, open, j int, closer byte, what string) (next int, more bool, err error) {
	end, err := skipValue(doc, j)
	if err != nil {
		return 0, false, err
	}
	j = skipSpace(doc, end)
	if j == len(doc) {
		return 0, false, truncErr(open, what)
	}
	switch doc[j] {
	case ',':
		return skipSpace(doc, j+1), true, nil
	case closer:
		return 0, false, nil
	}
	return 0, false, syntaxErr(j, false, "expected ',' or '%c' in %s, found %q", closer, what, doc[j])
}

// keyEquals compares a quoted JSON key with key, decoding escapes only when the key
// has some (rare), so the common case does not allocate.
func keyEquals(quoted []byte, key string) bool {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == key
	}
	s, err := unquote(quoted)
	return err == nil && s == key
}

// unquote decodes a quoted JSON string.
func unquote(quoted []byte) (string, error) {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw), nil
	}
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err
}

// kindOf names the JSON kind of the value starting at v[0], for error messages.
func kindOf(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "invalid JSON"
}

func isNull(v []byte) bool { return string(v) == "null" }

func typeErr(path string, v []byte, want string) error {
	return &Error{Code: CodeParsing, Err: fmt.Errorf("%q is %s, expected %s", path, kindOf(v), want)}
}

// LookupString returns the string at path. A number is returned as its literal
// text, since cursors are often numeric ids; null or a missing key is absent
// (found false). Any other kind is an error.
func LookupString(doc []byte, path string) (s string, found bool, err error) {
	v, found, err := Lookup(doc, path)
	if err != nil || !found || isNull(v) {
		return "", false, err
	}
	switch kindOf(v) {
	case "a string":
		s, err := unquote(v)
		if err != nil {
			return "", false, typeErr(path, v, "a valid string")
		}
		return s, true, nil
	case "a number":
		return string(v), true, nil
	}
	return "", false, typeErr(path, v, "a string or a number")
}

// LookupBool returns the boolean at path: true/false, the strings "true"/"false",
// or a number (non-zero is true), as APIs spell has_more in all of these ways. Null
// or a missing key is absent.
func LookupBool(doc []byte, path string) (b bool, found bool, err error) {
	v, found, err := Lookup(doc, path)
	if err != nil || !found || isNull(v) {
		return false, false, err
	}
	switch string(v) {
	case "true", `"true"`:
		return true, true, nil
	case "false", `"false"`:
		return false, true, nil
	}
	if kindOf(v) == "a number" {
		f, perr := strconv.ParseFloat(string(v), 64)
		if perr == nil {
			return f != 0, true, nil
		}
	}
	return false, false, typeErr(path, v, "a boolean")
}

// LookupInt returns the integer at path: a JSON number with no fractional part
// (100 or 100.0) or a string holding one. Null or a missing key is absent.
func LookupInt(doc []byte, path string) (n int64, found bool, err error) {
	v, found, err := Lookup(doc, path)
	if err != nil || !found || isNull(v) {
		return 0, false, err
	}
	text := string(v)
	if kindOf(v) == "a string" {
		if text, err = unquote(v); err != nil {
			return 0, false, typeErr(path, v, "an integer")
		}
	}
	if n, perr := strconv.ParseInt(text, 10, 64); perr == nil {
		return n, true, nil
	}
	if f, perr := strconv.ParseFloat(text, 64); perr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return int64(f), true, nil
	}
	return 0, false, typeErr(path, v, "an integer")
}
