package demoapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
)

func start(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func get(t testing.TB, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Content-Length") != fmt.Sprint(len(b)) {
		t.Fatalf("%s: headers %v for %d bytes", u, resp.Header, len(b))
	}
	return resp, b
}

type cursorPage struct {
	Data       []map[string]any `json:"data"`
	NextCursor *string          `json:"next_cursor"`
	HasMore    bool             `json:"has_more"`
}

// walkCustomers follows next_cursor and returns all records and the page count.
func walkCustomers(t *testing.T, s *Server, limit int, since string) ([]map[string]any, int) {
	t.Helper()
	var all []map[string]any
	cursor, pages := "", 0
	for {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if since != "" {
			q.Set("updated_since", since)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, body := get(t, s.URL()+"/v1/customers?"+q.Encode())
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var p cursorPage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, p.Data...)
		if len(p.Data) > limit || p.HasMore != (p.NextCursor != nil) {
			t.Fatalf("page %d: %d records, has_more %v, cursor %v", pages, len(p.Data), p.HasMore, p.NextCursor)
		}
		if !p.HasMore {
			return all, pages
		}
		cursor = *p.NextCursor
	}
}

func checkUnique(t *testing.T, recs []map[string]any, key string, want int) {
	t.Helper()
	seen := map[any]bool{}
	for _, r := range recs {
		k, ok := r[key]
		if !ok || seen[k] {
			t.Fatalf("%s %v missing or duplicated", key, k)
		}
		seen[k] = true
	}
	if len(recs) != want {
		t.Fatalf("got %d records, want %d", len(recs), want)
	}
}

func TestCustomersWalk(t *testing.T) {
	s := start(t, Options{})
	for _, limit := range []int{1, 7, 100, 500} {
		recs, pages := walkCustomers(t, s, limit, "")
		checkUnique(t, recs, "id", 250)
		if want := (250 + limit - 1) / limit; pages != want {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, want)
		}
		sorted := slices.IsSortedFunc(recs, func(a, b map[string]any) int {
			if c := cmpStr(a["updatedAt"].(string), b["updatedAt"].(string)); c != 0 {
				return c
			}
			return int(a["id"].(float64) - b["id"].(float64))
		})
		if !sorted {
			t.Errorf("limit %d: not sorted by (updatedAt, id)", limit)
		}
	}
	// Ids and updatedAt orders differ, and timestamps tie in pairs.
	recs, _ := walkCustomers(t, s, 500, "")
	if recs[0]["id"] == float64(1) && recs[1]["id"] == float64(2) {
		t.Error("updatedAt order is the id order")
	}
	if recs[0]["updatedAt"] != recs[1]["updatedAt"] {
		t.Error("expected a tie on updatedAt")
	}
	if _, ok := recs[0]["Plan Type"]; !ok {
		t.Errorf("record shape: %v", recs[0])
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestUpdatedSinceInclusive(t *testing.T) {
	s := start(t, Options{})
	snap := s.Snapshot("customers")
	since := snap[100]["updatedAt"].(string)
	want, ties := 0, 0
	for _, r := range snap {
		if u := r["updatedAt"].(string); u >= since {
			want++
			if u == since {
				ties++
			}
		}
	}
	if want == 0 || want == len(snap) || ties != 2 {
		t.Fatalf("bad fixture: want %d ties %d", want, ties)
	}
	recs, _ := walkCustomers(t, s, 30, since)
	checkUnique(t, recs, "id", want)
	if recs[0]["updatedAt"] != since || recs[1]["updatedAt"] != since {
		t.Errorf("first records %v %v, want updatedAt %s", recs[0]["updatedAt"], recs[1]["updatedAt"], since)
	}
	resp, _ := get(t, s.URL()+"/v1/customers?updated_since=yesterday")
	if resp.StatusCode != 400 {
		t.Errorf("bad updated_since: %d", resp.StatusCode)
	}
	resp, _ = get(t, s.URL()+"/v1/customers?cursor=%21%21")
	if resp.StatusCode != 400 {
		t.Errorf("bad cursor: %d", resp.StatusCode)
	}
	resp, _ = get(t, s.URL()+"/v1/customers?limit=501")
	if resp.StatusCode != 400 {
		t.Errorf("limit 501: %d", resp.StatusCode)
	}
}

var linkRE = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

func walkEvents(t *testing.T, s *Server, perPage int) []map[string]any {
	t.Helper()
	var all []map[string]any
	next := fmt.Sprintf("%s/v1/events?per_page=%d", s.URL(), perPage)
	for pages := 0; next != ""; pages++ {
		if pages > 10000 {
			t.Fatal("endless pagination")
		}
		resp, body := get(t, next)
		var recs []map[string]any
		if err := json.Unmarshal(body, &recs); err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
		next = ""
		if l := resp.Header.Get("Link"); l != "" {
			m := linkRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link %q", l)
			}
			next = m[1]
		}
	}
	return all
}

func TestEventsWalk(t *testing.T) {
	s := start(t, Options{})
	for _, pp := range []int{1, 100, 101, 500} {
		recs := walkEvents(t, s, pp)
		checkUnique(t, recs, "eventId", 600)
		if recs[599]["eventId"] != "evt_000600" {
			t.Errorf("last event %v", recs[599]["eventId"])
		}
	}
}

func walkOrders(t *testing.T, s *Server, limit int) []map[string]any {
	t.Helper()
	var all []map[string]any
	for offset := 0; ; offset += limit {
		_, body := get(t, fmt.Sprintf("%s/v1/orders?offset=%d&limit=%d", s.URL(), offset, limit))
		var p struct {
			Items []map[string]any `json:"items"`
			Total int              `json:"total"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if offset+limit >= p.Total {
			return all
		}
	}
}

func TestOrdersWalk(t *testing.T) {
	s := start(t, Options{})
	for _, limit := range []int{1, 50, 500} {
		checkUnique(t, walkOrders(t, s, limit), "orderId", 180)
	}
}

func TestAdvance(t *testing.T) {
	s := start(t, Options{})
	before := s.Snapshot("customers")
	maxP1 := ""
	for _, r := range before {
		maxP1 = max(maxP1, r["updatedAt"].(string))
		if _, ok := r["loyaltyTier"]; ok {
			t.Fatal("loyaltyTier in phase 1")
		}
	}
	oldOrders := s.Snapshot("orders")
	if s.Phase() != 1 {
		t.Fatal("phase")
	}
	s.Advance()
	s.Advance() // idempotent
	if s.Phase() != 2 {
		t.Fatal("phase")
	}
	after := s.Snapshot("customers")
	checkUnique(t, after, "id", 275)
	var updated, deleted, added, tiered int
	for i, r := range after {
		if _, ok := r["loyaltyTier"]; ok {
			tiered++
		}
		if i >= len(before) {
			added++
			if r["id"] != int64(251+i-250) || r["updatedAt"].(string) <= maxP1 {
				t.Errorf("new customer %v", r)
			}
			continue
		}
		old := before[i]
		if r["updatedAt"] == old["updatedAt"] {
			continue
		}
		if r["updatedAt"].(string) <= maxP1 {
			t.Errorf("id %v: updatedAt %v not after phase 1 (%s)", r["id"], r["updatedAt"], maxP1)
		}
		if r["deleted"] == true {
			deleted++
			if r["deletedAt"] == nil || r["balanceCents"] != old["balanceCents"] {
				t.Errorf("deleted %v", r)
			}
		} else {
			updated++
			if r["balanceCents"] == old["balanceCents"] || r["Plan Type"] == old["Plan Type"] {
				t.Errorf("updated %v", r)
			}
		}
	}
	if updated != 25 || deleted != 10 || added != 25 || tiered != 60 {
		t.Errorf("updated %d deleted %d added %d tiered %d", updated, deleted, added, tiered)
	}

	// A second incremental sync sees exactly the changes, plus the inclusive tie at maxP1.
	want := 0
	for _, r := range after {
		if r["updatedAt"].(string) >= maxP1 {
			want++
		}
	}
	if want < 60 || want > 62 {
		t.Errorf("%d records at or after %s", want, maxP1)
	}
	recs, _ := walkCustomers(t, s, 100, maxP1)
	checkUnique(t, recs, "id", want)
	all, _ := walkCustomers(t, s, 100, "")
	checkUnique(t, all, "id", 275)

	checkUnique(t, walkEvents(t, s, 100), "eventId", 700)
	orders := walkOrders(t, s, 50)
	checkUnique(t, orders, "orderId", 200)
	changed := 0
	for i, o := range oldOrders {
		n := orders[i]
		if n["status"] != o["status"] {
			changed++
			if n["updatedAt"].(string) <= o["updatedAt"].(string) {
				t.Errorf("order %v: updatedAt not bumped", n["orderId"])
			}
		}
	}
	if changed != 18 {
		t.Errorf("%d orders changed status, want 18", changed)
	}
}

func TestDeterministic(t *testing.T) {
	a, b, c := start(t, Options{}), start(t, Options{}), start(t, Options{Seed: 2})
	_, ba := get(t, a.URL()+"/v1/customers?limit=500")
	_, bb := get(t, b.URL()+"/v1/customers?limit=500")
	_, bc := get(t, c.URL()+"/v1/customers?limit=500")
	if !bytes.Equal(ba, bb) || bytes.Equal(ba, bc) {
		t.Error("data is not a function of the seed")
	}
	a.Advance()
	b.Advance()
	_, ba = get(t, a.URL()+"/v1/orders?limit=500")
	_, bb = get(t, b.URL()+"/v1/orders?limit=500")
	if !bytes.Equal(ba, bb) {
		t.Error("phase 2 is not deterministic")
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	s := start(t, Options{})
	s.Snapshot("customers")[0]["address"].(map[string]any)["city"] = "Atlantis"
	if s.Snapshot("customers")[0]["address"].(map[string]any)["city"] == "Atlantis" {
		t.Error("Snapshot shares state")
	}
	if s.Snapshot("nope") != nil {
		t.Error("unknown stream")
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	if s, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil {
		s.Close()
		t.Fatal("listened on 0.0.0.0")
	}
}

func TestHealthz(t *testing.T) {
	s := start(t, Options{})
	if resp, _ := get(t, s.URL()+"/healthz"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	if resp, _ := get(t, s.URL()+"/v2/nothing"); resp.StatusCode != 404 {
		t.Fatal(resp.Status)
	}
}
