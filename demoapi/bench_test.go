package demoapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
)

func reencode(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return string(mustJSON(v))
}

func TestBenchMatchesNDJSON(t *testing.T) {
	const n = 2500
	s := start(t, Options{BenchRecords: n})
	var nd bytes.Buffer
	if err := WriteBenchNDJSON(&nd, n); err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(&nd)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if len(lines) != n {
		t.Fatalf("%d lines", len(lines))
	}
	for _, limit := range []int{1000, 5000, 7} {
		var got []json.RawMessage
		cursor := ""
		for {
			q := url.Values{"limit": {fmt.Sprint(limit)}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			_, body := get(t, s.URL()+"/v1/bench?"+q.Encode())
			var p struct {
				Data       []json.RawMessage `json:"data"`
				NextCursor *string           `json:"next_cursor"`
				HasMore    bool              `json:"has_more"`
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Data...)
			if !p.HasMore {
				break
			}
			cursor = *p.NextCursor
		}
		if len(got) != n {
			t.Fatalf("limit %d: %d records", limit, len(got))
		}
		size := 0
		for i, raw := range got {
			size += len(raw)
			if !bytes.Equal(raw, lines[i]) || reencode(t, raw) != reencode(t, lines[i]) {
				t.Fatalf("record %d differs:\n%s\n%s", i, raw, lines[i])
			}
		}
		if avg := size / n; avg < 300 || avg > 400 {
			t.Errorf("average record size %d bytes", avg)
		}
	}
	var first map[string]any
	json.Unmarshal(lines[0], &first)
	if first["id"] != float64(1) || first["updatedAt"] != "2024-01-01T00:00:00Z" || first["plan"] == nil {
		t.Errorf("first record %s", lines[0])
	}
	var last map[string]any
	json.Unmarshal(lines[n-1], &last)
	if last["updatedAt"].(string) <= first["updatedAt"].(string) {
		t.Error("updatedAt does not ascend")
	}
}

func TestBenchEmpty(t *testing.T) {
	s := start(t, Options{})
	_, body := get(t, s.URL()+"/v1/bench")
	if string(body) != `{"data":[],"next_cursor":null,"has_more":false}` {
		t.Errorf("%s", body)
	}
}

// BenchmarkBenchPage measures producing one full 5000-record /v1/bench page into a
// reused buffer (what the handler does before writing it).
func BenchmarkBenchPage(b *testing.B) {
	buf := appendBenchPage(nil, 0, 5000, 1_000_000)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	start := 0
	for b.Loop() {
		buf = appendBenchPage(buf[:0], start, start+5000, 1_000_000)
		start = (start + 5000) % 995_000
	}
}

// BenchmarkBenchHTTP measures whole pages over loopback HTTP, read and discarded.
func BenchmarkBenchHTTP(b *testing.B) {
	s := start(b, Options{BenchRecords: 1_000_000})
	c := &http.Client{}
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get(s.URL() + "/v1/bench?limit=5000")
		if err != nil {
			b.Fatal(err)
		}
		k, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		n = k
	}
	b.SetBytes(n)
}
