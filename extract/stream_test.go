package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/eltdev/elt/config"
)

// api is a fake REST API on 127.0.0.1 that records the requests it receives.
type api struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // RequestURI of each request, in order
}

func newAPI(t *testing.T, h func(w http.ResponseWriter, r *http.Request, q url.Values)) *api {
	a := &api{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.reqs = append(a.reqs, r.URL.RequestURI())
		a.mu.Unlock()
		h(w, r, r.URL.Query())
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *api) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reqs)
}

// items returns records from..to-1 as a JSON array; names contain characters that
// a naive scanner would trip on.
func items(from, to int) string {
	var parts []string
	for i := from; i < to; i++ {
		parts = append(parts, fmt.Sprintf(`{"id":%d,"name":"item \"%d\" ]},[","tags":[{"k":[%d]}]}`, i, i, i))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// readAll runs the stream and returns the ids of its records and its pages.
func readAll(t *testing.T, a *api, r config.Resource, start string) ([]int, []Page, error) {
	t.Helper()
	c, _ := newTestClient(t, testConfig(a.URL))
	s, err := NewStream(c, r)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	var pages []Page
	for p, err := range s.Pages(context.Background(), start) {
		if err != nil {
			return ids, pages, err
		}
		pages = append(pages, p)
		for _, rec := range p.Records {
			var v struct{ ID int }
			if err := json.Unmarshal(rec, &v); err != nil {
				t.Fatalf("record %q: %v", rec, err)
			}
			ids = append(ids, v.ID)
		}
	}
	return ids, pages, nil
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func resource(path, selector string, p *config.Paginator) config.Resource {
	return config.Resource{Name: "items", Endpoint: config.Endpoint{Path: path, DataSelector: selector, Paginator: p}}
}

func bptr(b bool) *bool { return &b }

func TestHeaderLink(t *testing.T) {
	var a *api
	a = newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) {
		page := max(atoi(q.Get("page")), 1)
		switch page {
		case 1: // a relative link, after a link with a tricky quoted title
			w.Header().Add("Link", `<https://elsewhere.invalid/x>; title="a, <b>; rel=next"; rel="prev"`)
			w.Header().Add("Link", `</items?page=2&per_page=10>; rel="next", </items?page=3>; rel="last"`)
		case 2: // absolute, rel with several relations, unquoted
			w.Header().Set("Link", `<`+a.URL+`/items?page=1>; rel=prev, <`+a.URL+`/items?page=3&per_page=10>; rel="next last"`)
		}
		io.WriteString(w, items((page-1)*10, min(page*10, 25)))
	})
	ids, pages, err := readAll(t, a, resource("/items", "", &config.Paginator{Type: config.HeaderLink}), "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, seq(0, 25)) || len(pages) != 3 {
		t.Errorf("ids = %v, pages = %d", ids, len(pages))
	}
	for i, p := range pages {
		if p.Number != i+1 || p.Bytes == 0 || !strings.HasPrefix(p.URL, a.URL+"/items") {
			t.Errorf("page %d = %+v", i, p)
		}
	}
	if got := a.requests(); !slices.Equal(got, []string{"/items", "/items?page=2&per_page=10", "/items?page=3&per_page=10"}) {
		t.Errorf("requests = %q", got)
	}
}

func TestNextLinkParsing(t *testing.T) {
	tests := []struct {
		in   []string
		want string
		ok   bool
	}{
		{[]string{`<a>; rel="next"`}, "a", true},
		{[]string{`<a>; rel="prev", <b>; rel="next"`}, "b", true},
		{[]string{`<a>; rel=prev`, `<b>;rel=next`}, "b", true},
		{[]string{`<a>; title="rel=next, x"; rel="last"`}, "", false},
		{[]string{`<a>; rel="NEXT"`}, "a", true},
		{[]string{`<a>; crossorigin; rel="next"`}, "a", true},
		{[]string{`<a>; title="esc \" ; ,"; rel="next"`}, "a", true},
		{[]string{`garbage`}, "", false},
		{nil, "", false},
	}
	for _, tt := range tests {
		got, ok := nextLink(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("nextLink(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestJSONLink(t *testing.T) {
	var a *api
	a = newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) {
		after := atoi(q.Get("after"))
		next := "null"
		switch after {
		case 0:
			next = `"items?after=10"` // relative to the response URL
		case 10:
			next = `"` + a.URL + `/v1/items?after=20"`
		}
		fmt.Fprintf(w, `{"data": %s, "paging": {"next": %s}}`, items(after, min(after+10, 25)), next)
	})
	ids, pages, err := readAll(t, a, resource("/v1/items", "data", &config.Paginator{Type: config.JSONLink, NextURLPath: "paging.next"}), "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, seq(0, 25)) || len(pages) != 3 {
		t.Errorf("ids = %v, pages = %d, requests %q", ids, len(pages), a.requests())
	}
}

func TestCursor(t *testing.T) {
	// 25 items in pages of 10; the cursor is the last id (a number) or null.
	h := func(emptyAt int, hasMore bool) func(w http.ResponseWriter, r *http.Request, q url.Values) {
		return func(w http.ResponseWriter, r *http.Request, q url.Values) {
			from := 0
			if c := q.Get("cursor") + q.Get("after"); c != "" {
				from = atoi(c) + 1
			}
			to := min(from+10, 25)
			data := items(from, to)
			if from == emptyAt {
				data = "[]"
			}
			cursor := strconv.Itoa(to - 1)
			if to == 25 && !hasMore {
				cursor = "null"
			}
			fmt.Fprintf(w, `{"data": %s, "meta": {"next": %s, "has_more": %v}}`, data, cursor, to < 25)
		}
	}
	t.Run("null cursor stops", func(t *testing.T) {
		a := newAPI(t, h(-1, false))
		ids, _, err := readAll(t, a, resource("items", "data", &config.Paginator{Type: config.CursorPage, CursorPath: "meta.next"}), "")
		if err != nil || !slices.Equal(ids, seq(0, 25)) {
			t.Errorf("ids = %v, err = %v", ids, err)
		}
		if got := a.requests(); !slices.Equal(got, []string{"/items", "/items?cursor=9", "/items?cursor=19"}) {
			t.Errorf("requests = %q", got)
		}
	})
	t.Run("has_more false stops", func(t *testing.T) {
		a := newAPI(t, h(-1, true)) // the last page still carries a cursor
		ids, _, err := readAll(t, a, resource("items", "data", &config.Paginator{Type: config.CursorPage,
			CursorPath: "meta.next", CursorParam: "after", HasMorePath: "meta.has_more"}), "")
		if err != nil || len(a.requests()) != 3 {
			t.Errorf("ids = %v, err = %v, requests = %q", ids, err, a.requests())
		}
	})
	t.Run("empty page stops", func(t *testing.T) {
		a := newAPI(t, h(10, true))
		ids, _, err := readAll(t, a, resource("items", "data", &config.Paginator{Type: config.CursorPage, CursorPath: "meta.next"}), "")
		if err != nil || !slices.Equal(ids, seq(0, 10)) || len(a.requests()) != 2 {
			t.Errorf("ids = %v, err = %v, requests = %q", ids, err, a.requests())
		}
	})
	t.Run("empty page does not stop when told", func(t *testing.T) {
		a := newAPI(t, h(10, false))
		ids, _, err := readAll(t, a, resource("items", "data", &config.Paginator{Type: config.CursorPage, CursorPath: "meta.next",
			StopAfterEmptyPage: bptr(false)}), "")
		if err != nil || len(ids) != 15 || len(a.requests()) != 3 {
			t.Errorf("ids = %v, err = %v, requests = %q", ids, err, a.requests())
		}
	})
	t.Run("missing has_more is an error", func(t *testing.T) {
		a := newAPI(t, h(-1, false))
		_, _, err := readAll(t, a, resource("items", "data", &config.Paginator{Type: config.CursorPage, CursorPath: "meta.next",
			HasMorePath: "meta.more"}), "")
		if e := asError(t, err); e.Code != CodeParsing || !strings.Contains(err.Error(), "has_more_path") || e.URL == "" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("the same cursor twice is a loop", func(t *testing.T) {
		a := newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) {
			fmt.Fprintf(w, `{"data": [{"id":1}], "meta": {"next": "same"}}`)
		})
		_, pages, err := readAll(t, a, resource("items", "data", &config.Paginator{Type: config.CursorPage, CursorPath: "meta.next"}), "")
		if e := asError(t, err); e.Code != CodeInvalid || !strings.Contains(err.Error(), "same next page twice") || len(pages) != 2 {
			t.Errorf("err = %v, pages = %d", err, len(pages))
		}
	})
}

func TestOffset(t *testing.T) {
	h := func(n int) func(w http.ResponseWriter, r *http.Request, q url.Values) {
		return func(w http.ResponseWriter, r *http.Request, q url.Values) {
			off, lim := atoi(q.Get("skip")), atoi(q.Get("take"))
			fmt.Fprintf(w, `{"items": %s, "total": %d}`, items(min(off, n), min(off+lim, n)), n)
		}
	}
	p := func(mod func(*config.Paginator)) *config.Paginator {
		p := &config.Paginator{Type: config.OffsetPage, Limit: 10, OffsetParam: "skip", LimitParam: "take"}
		mod(p)
		return p
	}
	tests := []struct {
		name string
		n    int
		p    *config.Paginator
		want []string
		ids  []int
	}{
		{"total", 25, p(func(p *config.Paginator) { p.TotalPath = "total" }),
			[]string{"/items?skip=0&take=10", "/items?skip=10&take=10", "/items?skip=20&take=10"}, seq(0, 25)},
		{"short page", 25, p(func(p *config.Paginator) {}),
			[]string{"/items?skip=0&take=10", "/items?skip=10&take=10", "/items?skip=20&take=10"}, seq(0, 25)},
		{"empty page", 20, p(func(p *config.Paginator) {}),
			[]string{"/items?skip=0&take=10", "/items?skip=10&take=10", "/items?skip=20&take=10"}, seq(0, 20)},
		{"maximum offset", 100, p(func(p *config.Paginator) { p.MaximumOffset = 20; p.Offset = 5 }),
			[]string{"/items?skip=5&take=10", "/items?skip=15&take=10"}, seq(5, 25)},
		{"total exact multiple", 20, p(func(p *config.Paginator) { p.TotalPath = "total" }),
			[]string{"/items?skip=0&take=10", "/items?skip=10&take=10"}, seq(0, 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t, h(tt.n))
			ids, _, err := readAll(t, a, resource("items", "items", tt.p), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := a.requests(); !slices.Equal(got, tt.want) || !slices.Equal(ids, tt.ids) {
				t.Errorf("requests = %q, ids = %v", got, ids)
			}
		})
	}
	if _, err := NewPaginator(&config.Paginator{Type: config.OffsetPage}); asError(t, err).Code != CodeValidation {
		t.Errorf("offset without limit: err = %v", err)
	}
}

func TestPageNumber(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request, q url.Values) {
		p := atoi(q.Get("p")) // 1-based, 3 pages of 10 and 5
		fmt.Fprintf(w, `{"results": %s, "total_pages": "3"}`, items(min((p-1)*10, 25), min(p*10, 25)))
	}
	tests := []struct {
		name string
		p    config.Paginator
		want []string
	}{
		{"total pages", config.Paginator{TotalPath: "total_pages"}, []string{"/r?p=1", "/r?p=2", "/r?p=3"}},
		{"empty page", config.Paginator{}, []string{"/r?p=1", "/r?p=2", "/r?p=3", "/r?p=4"}},
		{"maximum page is inclusive", config.Paginator{MaximumPage: 2, StopAfterEmptyPage: bptr(false)}, []string{"/r?p=1", "/r?p=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t, h)
			tt.p.Type, tt.p.BasePage, tt.p.PageParam = config.PageNumber, 1, "p"
			ids, _, err := readAll(t, a, resource("r", "results", &tt.p), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := a.requests(); !slices.Equal(got, tt.want) || !slices.Equal(ids, seq(0, min(25, 10*len(tt.want)))) {
				t.Errorf("requests = %q, ids = %v", got, ids)
			}
		})
	}
	t.Run("base page 0 default", func(t *testing.T) {
		a := newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) {
			p := atoi(q.Get("page"))
			fmt.Fprintf(w, `{"results": %s, "pages": 2}`, items(p*10, p*10+10))
		})
		ids, _, err := readAll(t, a, resource("r", "results", &config.Paginator{Type: config.PageNumber, TotalPath: "pages"}), "")
		if err != nil || !slices.Equal(ids, seq(0, 20)) || !slices.Equal(a.requests(), []string{"/r?page=0", "/r?page=1"}) {
			t.Errorf("ids = %v, err = %v, requests = %q", ids, err, a.requests())
		}
	})
	if _, err := NewPaginator(&config.Paginator{Type: config.PageNumber, StopAfterEmptyPage: bptr(false)}); asError(t, err).Code != CodeValidation {
		t.Errorf("page_number that cannot stop: err = %v", err)
	}
	if _, err := NewPaginator(&config.Paginator{Type: "scroll"}); asError(t, err).Code != CodeUnsupported {
		t.Errorf("unknown paginator: err = %v", err)
	}
}

func TestJSONLinkLoopGuard(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) {
		fmt.Fprintf(w, `{"data": [{"id":1}], "next": "/items?page=2"}`)
	})
	_, pages, err := readAll(t, a, resource("items", "data", &config.Paginator{Type: config.JSONLink}), "")
	e := asError(t, err)
	if e.Code != CodeInvalid || len(pages) != 2 || len(a.requests()) != 2 || !strings.Contains(e.URL, "page=2") {
		t.Errorf("err = %v, pages = %d, requests = %q", err, len(pages), a.requests())
	}
}

func TestDataSelector(t *testing.T) {
	tests := []struct {
		body, selector string
		ids            []int
		errCode        Code
		retryable      bool
	}{
		{items(0, 3), "", seq(0, 3), "", false},
		{items(0, 3), "$", seq(0, 3), "", false},
		{`{"a": {"b": ` + items(0, 2) + `}}`, "a.b", seq(0, 2), "", false},
		{`{"data": null}`, "data", nil, "", false},
		{`{"other": 1}`, "data", nil, "", false},
		{`{"data": {"id": 1}}`, "data", nil, CodeParsing, false},
		{`{"id": 1}`, "", nil, CodeParsing, false},
		{`{"data": [{"id": 1}], "meta": {"x": "trunc`, "data", nil, CodeParsing, true},
		{`{"data": [{"id": 1}]} trailing`, "data", nil, CodeParsing, false},
		{`{"x": ]}`, "data", nil, CodeParsing, false},
	}
	for _, tt := range tests {
		a := newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) { io.WriteString(w, tt.body) })
		cfg := testConfig(a.URL)
		cfg.Retry.MaxAttempts = 2
		c, _ := newTestClient(t, cfg)
		s, err := NewStream(c, resource("items", tt.selector, nil))
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.FirstPage(context.Background(), "")
		if tt.errCode != "" {
			e := asError(t, err)
			if e.Code != tt.errCode || e.Retryable != tt.retryable || len(a.requests()) != map[bool]int{false: 1, true: 2}[tt.retryable] {
				t.Errorf("%s / %q: err = %v (retryable %v), requests %d", tt.body, tt.selector, err, e.Retryable, len(a.requests()))
			}
			if !tt.retryable && strings.Contains(tt.body, `"id": 1}`) && !strings.Contains(err.Error(), "data_selector") {
				t.Errorf("%s: %q does not name data_selector", tt.body, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s / %q: %v", tt.body, tt.selector, err)
			continue
		}
		if len(p.Records) != len(tt.ids) {
			t.Errorf("%s / %q: %d records, want %d", tt.body, tt.selector, len(p.Records), len(tt.ids))
		}
	}
}

func TestIncrementalAndURL(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) {
		io.WriteString(w, `[]`)
	})
	r := config.Resource{Name: "r", Endpoint: config.Endpoint{
		Path:        "customers?expand=plan",
		Params:      map[string]string{"filter": "updated_at>{incremental.start_value}", "sort": "updated_at"},
		Incremental: &config.Incremental{CursorPath: "updated_at", StartParam: "since"},
	}}
	cfg := testConfig(a.URL + "/v1?version=2")
	c, _ := newTestClient(t, cfg)
	s, err := NewStream(c, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, start := range []string{"2024-01-01T00:00:00Z", ""} {
		if _, err := s.FirstPage(context.Background(), start); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"/v1/customers?expand=plan&filter=updated_at%3E2024-01-01T00%3A00%3A00Z&since=2024-01-01T00%3A00%3A00Z&sort=updated_at&version=2",
		"/v1/customers?expand=plan&sort=updated_at&version=2",
	}
	if got := a.requests(); !slices.Equal(got, want) {
		t.Errorf("requests =\n%q\nwant\n%q", got, want)
	}

	// An absolute path ignores base_url; POST is sent as POST.
	r = config.Resource{Name: "r", Endpoint: config.Endpoint{Path: a.URL + "/other", Method: "post"}}
	c2, _ := newTestClient(t, testConfig("http://127.0.0.1:1/unused"))
	s, err = NewStream(c2, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FirstPage(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if got := a.requests(); got[len(got)-1] != "/other" {
		t.Errorf("requests = %q", got)
	}
	if _, err := NewStream(c, config.Resource{Name: "r", Endpoint: config.Endpoint{Path: "x", Method: "DELETE"}}); asError(t, err).Code != CodeUnsupported {
		t.Errorf("DELETE: err = %v", err)
	}
}

func TestStopReadingEarly(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) {
		p := atoi(q.Get("page"))
		fmt.Fprintf(w, `{"data": %s, "pages": 100}`, items(p*10, p*10+10))
	})
	c, _ := newTestClient(t, testConfig(a.URL))
	s, err := NewStream(c, resource("r", "data", &config.Paginator{Type: config.PageNumber, TotalPath: "pages"}))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range s.Pages(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	// Pages are fetched on demand: nothing was read ahead of the consumer.
	if got := len(a.requests()); got != 3 {
		t.Errorf("%d requests for 3 pages consumed", got)
	}
}

func TestCutMidBodyAcrossPages(t *testing.T) {
	// Page 2 is cut off mid-body on its first try; the stream must retry it and
	// deliver every record exactly once.
	var mu sync.Mutex
	cut := false
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, q url.Values) {
		from := atoi(q.Get("cursor"))
		body := fmt.Sprintf(`{"data": %s, "next": %s}`, items(from, min(from+10, 30)), map[bool]string{true: strconv.Itoa(from + 10), false: "null"}[from+10 < 30])
		mu.Lock()
		first := from == 10 && !cut
		cut = cut || first
		mu.Unlock()
		if first {
			hijack(t, w, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2]))
			return
		}
		io.WriteString(w, body)
	})
	ids, pages, err := readAll(t, a, resource("items", "data", &config.Paginator{Type: config.CursorPage, CursorPath: "next"}), "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, seq(0, 30)) || len(pages) != 3 || len(a.requests()) != 4 {
		t.Errorf("ids = %v, pages = %d, requests = %q", ids, len(pages), a.requests())
	}
}
