package demoapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
)

// splitData checks that body is structurally balanced (brackets and braces nest,
// strings close) and splits the array that follows `{"data":` into its raw elements,
// returning them and the rest of the object after the array.
func splitData(body []byte) (elems [][]byte, tail []byte, err error) {
	const prefix = `{"data":[`
	if !bytes.HasPrefix(body, []byte(prefix)) {
		return nil, nil, fmt.Errorf("body starts %q", body[:min(len(body), 20)])
	}
	var stack []byte
	inStr, esc, elemStart, arrayEnd := false, false, len(prefix), -1
	for i, c := range body {
		switch {
		case esc:
			esc = false
		case inStr:
			esc = c == '\\'
			inStr = c != '"'
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			stack = append(stack, c)
		case c == '}' || c == ']':
			if len(stack) == 0 || stack[len(stack)-1] != map[byte]byte{'}': '{', ']': '['}[c] {
				return nil, nil, fmt.Errorf("unbalanced %q at %d", c, i)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 1 && arrayEnd < 0 {
				if e := bytes.TrimSpace(body[elemStart:i]); len(e) > 0 {
					elems = append(elems, e)
				}
				arrayEnd = i
			}
		case c == ',' && len(stack) == 2 && arrayEnd < 0:
			elems = append(elems, bytes.TrimSpace(body[elemStart:i]))
			elemStart = i + 1
		}
	}
	if inStr || len(stack) != 0 || arrayEnd < 0 {
		return nil, nil, fmt.Errorf("unterminated structure (in string %v, open %q)", inStr, stack)
	}
	return elems, body[arrayEnd+1:], nil
}

func TestSplitDataCanFail(t *testing.T) {
	for _, bad := range []string{`{"data":[{"a":1}`, `{"data":[{"a":"1}]}`, `{"data":[{"a":1]]}`} {
		if _, _, err := splitData([]byte(bad)); err == nil {
			t.Errorf("scanner accepted %s", bad)
		}
	}
}

func TestMalformed(t *testing.T) {
	s := start(t, Options{Malformed: true})
	if s.MalformedCount() != 5 {
		t.Fatal(s.MalformedCount())
	}
	var good, noID, lots, notObject, broken, invalidPages int
	ids := map[float64]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		_, body := get(t, s.URL()+"/v1/customers?"+q.Encode())
		elems, tail, err := splitData(body)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(body) {
			invalidPages++
		}
		for _, e := range elems {
			if !json.Valid(e) {
				broken++
				if string(e) != fmt.Sprintf(`{"id": %d, "email": }`, BrokenID) {
					t.Errorf("broken element %s", e)
				}
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal(e, &rec); err != nil {
				notObject++
				continue
			}
			id, ok := rec["id"].(float64)
			switch {
			case !ok:
				noID++
			case rec["balanceCents"] == "lots":
				lots++
				if id != LotsID {
					t.Errorf("lots id %v", id)
				}
			default:
				good++
				ids[id] = true
			}
		}
		var p cursorPage
		if err := json.Unmarshal(append([]byte(`{"data":[]`), tail...), &p); err != nil {
			t.Fatalf("tail %s: %v", tail, err)
		}
		if !p.HasMore {
			break
		}
		cursor = *p.NextCursor
	}
	if good != 250 || len(ids) != 250 || noID != 2 || lots != 1 || notObject != 1 || broken != 1 || invalidPages != 1 {
		t.Errorf("good %d (unique %d) noID %d lots %d notObject %d broken %d invalid pages %d",
			good, len(ids), noID, lots, notObject, broken, invalidPages)
	}
	if n := len(s.Snapshot("customers")); n != 250 {
		t.Errorf("Snapshot has %d customers", n)
	}

	// An incremental sync after Advance starts past every malformed element.
	maxP1 := ""
	for _, r := range s.Snapshot("customers") {
		maxP1 = max(maxP1, r["updatedAt"].(string))
	}
	s.Advance()
	_, body := get(t, s.URL()+"/v1/customers?limit=500&updated_since="+url.QueryEscape(maxP1))
	if !json.Valid(body) || bytes.Contains(body, []byte("lots")) || bytes.Contains(body, []byte("nobody")) {
		t.Error("malformed elements after the phase-1 cursor")
	}
}
