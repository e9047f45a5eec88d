package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSplitArray(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // nil with wantErr
		// wantErr: 0 ok, 1 error (not truncated), 2 truncated error
		wantErr int
	}{
		{"empty", `[]`, []string{}, 0},
		{"empty with space", " \n[ \t ]\r\n", []string{}, 0},
		{"scalars", `[1, "a", true, null, -2.5e3]`, []string{`1`, `"a"`, `true`, `null`, `-2.5e3`}, 0},
		{"objects", `[{"id":1},{"id":2}]`, []string{`{"id":1}`, `{"id":2}`}, 0},
		{"escaped quote and bracket", `["a\"]", {"k":"}\\"}]`, []string{`"a\"]"`, `{"k":"}\\"}`}, 0},
		{"escaped backslash before quote", `["a\\", "b"]`, []string{`"a\\"`, `"b"`}, 0},
		{"brackets in strings", `[{"a":"[{"}, "]"]`, []string{`{"a":"[{"}`, `"]"`}, 0},
		{"nested arrays", `[[1,[2,[3]]], [], [[]]]`, []string{`[1,[2,[3]]]`, `[]`, `[[]]`}, 0},
		{"whitespace everywhere", "[ \n {\"a\" : 1 } \n , \t 2 ]", []string{`{"a" : 1 }`, `2`}, 0},
		{"unicode", `["héllo", {"é":"\u00e9"}]`, []string{`"héllo"`, `{"é":"\u00e9"}`}, 0},
		{"malformed element tolerated", `[{"id": 1, "x": }, {"id": 2}]`, []string{`{"id": 1, "x": }`, `{"id": 2}`}, 0},
		{"NaN tolerated", `[NaN, 1]`, []string{`NaN`, `1`}, 0},
		{"deep nesting", `[` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `]`, []string{strings.Repeat("[", 100) + strings.Repeat("]", 100)}, 0},

		{"not an array", `{"a":1}`, nil, 1},
		{"empty element", `[1,,2]`, nil, 1},
		{"trailing comma", `[1,2,]`, nil, 1},
		{"missing comma", `["a" "b"]`, nil, 1},
		{"mismatched bracket", `[{"a":1]]`, nil, 1},
		{"trailing garbage", `[1] x`, nil, 1},
		{"leading comma", `[,1]`, nil, 1},

		{"empty doc", ``, nil, 2},
		{"unterminated array", `[1, 2`, nil, 2},
		{"unterminated after comma", `[1, `, nil, 2},
		{"unterminated string", `["abc`, nil, 2},
		{"unterminated object", `[{"a": [1, 2]`, nil, 2},
		{"escape at end", `["abc\`, nil, 2},
		{"escaped closing quote", `["abc\"]`, nil, 2},
		{"only bracket", `[`, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitArray([]byte(tt.in))
			if tt.wantErr != 0 {
				var e *Error
				var se *SyntaxError
				if !errors.As(err, &e) || e.Code != CodeParsing || !errors.As(err, &se) {
					t.Fatalf("err = %v, want a PARSING_ERROR with a SyntaxError", err)
				}
				if trunc := tt.wantErr == 2; e.Retryable != trunc || se.Truncated != trunc {
					t.Fatalf("retryable = %v, truncated = %v, want %v (%v)", e.Retryable, se.Truncated, trunc, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got == nil || len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if string(got[i]) != tt.want[i] {
					t.Errorf("element %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSplitArrayNoCopy(t *testing.T) {
	in := []byte(`[{"a":1},{"b":2}]`)
	got, err := SplitArray(in)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0][0] != &in[1] {
		t.Error("element is a copy, want a sub-slice of the input")
	}
	// Capacity is limited: appending to one element must not clobber the next.
	_ = append(got[0], 'X')
	if string(got[1]) != `{"b":2}` {
		t.Errorf("append to element 0 overwrote element 1: %q", got[1])
	}
}

func TestLookup(t *testing.T) {
	doc := []byte(` {"data": [{"id":1},{"id":2}], "meta": {"next_cursor": "abc", "n": 42, "f": 4.0, "s": "17",
		"nil": null, "more": true, "k\"ey": 1, "x.y": 2, "esc": "a\u00e9\"b"}, "items": [[1,2],[3]], "e": {} }`)
	tests := []struct {
		path  string
		want  string
		found bool
	}{
		{"data", `[{"id":1},{"id":2}]`, true},
		{"$.data", `[{"id":1},{"id":2}]`, true},
		{"meta.next_cursor", `"abc"`, true},
		{"meta.n", `42`, true},
		{"meta.nil", `null`, true},
		{"meta.missing", ``, false},
		{"missing.deeper", ``, false},
		{"meta.n.deeper", ``, false},
		{"data.1.id", `2`, true},
		{"data.2", ``, false},
		{"data.x", ``, false},
		{"items.1.0", `3`, true},
		{`meta.k"ey`, `1`, true},
		{"e.a", ``, false},
	}
	for _, tt := range tests {
		v, found, err := Lookup(doc, tt.path)
		if err != nil {
			t.Errorf("Lookup(%q): %v", tt.path, err)
			continue
		}
		if found != tt.found || string(v) != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.path, v, found, tt.want, tt.found)
		}
	}
	for _, p := range []string{"", "$"} {
		v, found, err := Lookup(doc, p)
		if err != nil || !found || !bytes.Equal(v, bytes.TrimSpace(doc)) {
			t.Errorf("Lookup(%q) = %.20q, %v, %v; want the whole document", p, v, found, err)
		}
	}

	if s, ok, err := LookupString(doc, "meta.esc"); err != nil || !ok || s != "aé\"b" {
		t.Errorf("LookupString(esc) = %q, %v, %v", s, ok, err)
	}
	if s, ok, err := LookupString(doc, "meta.n"); err != nil || !ok || s != "42" {
		t.Errorf("LookupString(n) = %q, %v, %v; numbers are returned as text", s, ok, err)
	}
	if _, ok, err := LookupString(doc, "meta.nil"); err != nil || ok {
		t.Errorf("LookupString(nil) found = %v, %v; null is absent", ok, err)
	}
	if _, _, err := LookupString(doc, "data"); err == nil {
		t.Error("LookupString of an array: want an error")
	}
	for _, p := range []string{"meta.n", "meta.f", "meta.s"} {
		n, ok, err := LookupInt(doc, p)
		if err != nil || !ok || (n != 42 && n != 4 && n != 17) {
			t.Errorf("LookupInt(%q) = %d, %v, %v", p, n, ok, err)
		}
	}
	if _, _, err := LookupInt(doc, "meta.next_cursor"); err == nil {
		t.Error(`LookupInt("abc"): want an error`)
	}
	if b, ok, err := LookupBool(doc, "meta.more"); err != nil || !ok || !b {
		t.Errorf("LookupBool(more) = %v, %v, %v", b, ok, err)
	}
	if _, ok, err := LookupBool(doc, "meta.nil"); err != nil || ok {
		t.Errorf("LookupBool(nil) found = %v, %v", ok, err)
	}

	// A truncated document is an error, not "not found": a missing next cursor would
	// otherwise end the stream early without a word.
	trunc := []byte(`{"data": [1, 2], "meta": {"next_cursor": "ab`)
	if _, _, err := Lookup(trunc, "meta.next_cursor"); !isTruncated(err) {
		t.Errorf("Lookup in a truncated doc: err = %v, want truncated", err)
	}
	if _, _, err := Lookup([]byte(`{"data": [1, 2], "me`), "meta"); !isTruncated(err) {
		t.Errorf("Lookup of a key cut off: err = %v, want truncated", err)
	}
	if err := CheckStructure(trunc); !isTruncated(err) {
		t.Errorf("CheckStructure(truncated) = %v", err)
	}
	if err := CheckStructure(doc); err != nil {
		t.Errorf("CheckStructure(doc) = %v", err)
	}
}

func isTruncated(err error) bool {
	var se *SyntaxError
	return errors.As(err, &se) && se.Truncated
}

func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[]`, `[1,2,3]`, `[{"a":"b\"]"},[1,[2]],null]`, `["\\", "\u00e9"]`, `[ {"x": {"y": []}} ]`, `[1,`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := SplitArray(in) // must never panic, whatever the input
		_, _, _ = Lookup(in, "a.0.b")
		if serr := CheckStructure(in); serr != nil && json.Valid(in) {
			t.Fatalf("CheckStructure(%q) = %v; encoding/json accepts it", in, serr)
		}
		var want []json.RawMessage
		if json.Unmarshal(in, &want) != nil {
			return // only valid JSON arrays have a reference answer
		}
		if err != nil {
			t.Fatalf("SplitArray(%q): %v; encoding/json accepts it", in, err)
		}
		if len(got) != len(want) {
			t.Fatalf("SplitArray(%q): %d elements, encoding/json %d", in, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], bytes.TrimSpace(want[i])) {
				t.Fatalf("element %d = %q, encoding/json %q", i, got[i], want[i])
			}
		}
	})
}

// benchPage is a ~1 MB page of ~350-byte nested records.
func benchPage() []byte {
	var b bytes.Buffer
	b.WriteString(`[`)
	for i := 0; b.Len() < 1<<20; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"id":%d,"email":"user%d@example.com","name":"Customer \"%d\" Ltd","created_at":"2024-05-01T12:00:%02dZ",`+
			`"address":{"street":"%d Main St","city":"Springfield","zip":"%05d","geo":{"lat":37.77,"lon":-122.41}},`+
			`"tags":["a","b\\c","[x]"],"plan":{"name":"pro","seats":%d,"features":["sso","audit"]},"active":true,"balance":1234.56,"notes":null}`,
			i, i, i, i%60, i, i, i%50)
	}
	b.WriteString(`]`)
	return b.Bytes()
}

func BenchmarkSplitArray(b *testing.B) {
	page := benchPage()
	recs, err := SplitArray(page)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SplitArray(page); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(page))/float64(len(recs)), "bytes/record")
}

// BenchmarkPageRecords is what a Stream does per page: check, select, split.
func BenchmarkPageRecords(b *testing.B) {
	page := append(append([]byte(`{"meta":{"next_cursor":"x"},"data":`), benchPage()...), '}')
	s := &Stream{selector: "data"}
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.records(&Response{Status: 200, Body: page}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitArrayEncodingJSON is the baseline SplitArray avoids.
func BenchmarkSplitArrayEncodingJSON(b *testing.B) {
	page := benchPage()
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var out []json.RawMessage
		if err := json.Unmarshal(page, &out); err != nil {
			b.Fatal(err)
		}
	}
}
