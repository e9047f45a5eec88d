// Package demoapi is elt's built-in demo REST API: a small, deterministic (seeded)
// HTTP server on 127.0.0.1 that `elt demo` starts in-process, that end-to-end tests
// sync against (with faults and malformed records on purpose), and that serves the
// benchmark's generated records from their index without storing them.
//
// Endpoints (all JSON with Content-Length):
//
//	GET /v1/customers?limit=&updated_since=&cursor=  {"data":[...],"next_cursor":..,"has_more":..}
//	GET /v1/events?per_page=&page=                   [...] with an RFC 8288 Link rel="next" header
//	GET /v1/orders?offset=&limit=                    {"items":[...],"total":N}
//	GET /v1/bench?cursor=&limit=                     {"data":[...],"next_cursor":..,"has_more":..}
//	GET /healthz                                     {"ok":true}
//
// Record counts with the default options (Customers 250, Events 600, Orders 180):
//
//	phase 1: 250 customers, 600 events, 180 orders.
//	phase 2 (Advance): 275 customers (Customers/10 = 25 updated: new balanceCents and
//	Plan Type; Customers/25 = 10 soft-deleted: deleted true, deletedAt set; 25 new ids
//	Customers+1..Customers+25; all 60 carry the new field loyaltyTier and an updatedAt
//	later than any phase-1 value), 700 events (100 appended), 200 orders (Orders/10 = 18
//	change status open→paid or paid→refunded with updatedAt bumped, 20 new, open).
package demoapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a demo server. Zero values take the documented defaults.
type Options struct {
	Addr         string // listen address; the host must be a loopback IP. Default "127.0.0.1:0"
	Customers    int    // default 250
	Events       int    // default 600
	Orders       int    // default 180
	Seed         int64  // default 1
	BenchRecords int    // records served by /v1/bench (0 = the endpoint answers empty)
	Faults       Faults
	// Malformed adds five bad elements to the customers data array (they are extra:
	// the good customers are still exactly Customers, and Snapshot leaves the bad ones
	// out). Element k (1..5) directly follows the phase-1 customer at 0-based position
	// ⌊k·Customers/6⌋ of the (updatedAt, id) order and shares its updatedAt (with the
	// defaults: positions 41, 83, 125, 166, 208):
	//
	//	1, 2: customer-shaped objects without "id" (emails nobody1@, nobody2@example.com)
	//	3:    a customer with id LotsID (9000001) whose balanceCents is the string "lots"
	//	4:    the number 42
	//	5:    the syntactically broken `{"id": 9000002, "email": }` (BrokenID), written
	//	      by hand so that the rest of its page stays structurally balanced
	//
	// They stay in place in phase 2 (so an incremental second sync no longer sees them).
	Malformed bool
}

// Faults makes requests misbehave deterministically by request number n, counted per
// server across all endpoints (including /healthz and unknown paths) starting at 1.
// For each kind with Every > 0, request n misbehaves when n%Every == 0; the retry is
// request n+1 and is served normally (unless it is itself scheduled; use Every >= 2).
// 429 and 503 win over the others (checked in that order); a stall delays whatever is
// then served, which may be a cut body.
type Faults struct {
	RateLimitEvery   int // answer 429 with Retry-After: 1 (seconds)
	UnavailableEvery int // answer 503
	// CutBodyEvery sends the headers with the full Content-Length and about half the
	// body, then closes the connection: clients see io.ErrUnexpectedEOF.
	CutBodyEvery int
	StallEvery   int           // sleep Stall before answering (aborted by the request's context)
	Stall        time.Duration // default 1s
}

// Server is a running demo API.
type Server struct {
	opts  Options
	ln    net.Listener
	srv   *http.Server
	url   string
	reqs  atomic.Int64
	busy  atomic.Int64 // handlers running, for tests
	hook  atomic.Pointer[func(int64)]
	mu    sync.Mutex // serialises Advance
	data  atomic.Pointer[dataset]
	bench benchPool
}

// Start listens on opts.Addr and serves the demo API until Close.
func Start(opts Options) (*Server, error) {
	if opts.Customers < 0 || opts.Events < 0 || opts.Orders < 0 || opts.BenchRecords < 0 {
		return nil, errors.New("demoapi: negative record count")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&opts.Customers, 250)
	def(&opts.Events, 600)
	def(&opts.Orders, 180)
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Faults.Stall == 0 {
		opts.Faults.Stall = time.Second
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("demoapi: address %q: %w", opts.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("demoapi: address %q: only loopback IPs are allowed", opts.Addr)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("demoapi: %w", err)
	}
	s := &Server{opts: opts, ln: ln, url: "http://" + ln.Addr().String()}
	s.data.Store(build(opts, 1))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/customers", s.serve(s.customers))
	mux.HandleFunc("GET /v1/events", s.serve(s.events))
	mux.HandleFunc("GET /v1/orders", s.serve(s.orders))
	mux.HandleFunc("GET /v1/bench", s.serve(s.benchPage))
	mux.HandleFunc("GET /healthz", s.serve(func(*http.Request) response {
		return response{status: http.StatusOK, body: []byte(`{"ok":true}`)}
	}))
	mux.HandleFunc("/", s.serve(func(*http.Request) response { return errResp(http.StatusNotFound, "not found") }))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	return s, nil
}

// URL is the base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// Close stops the server and drops open connections.
func (s *Server) Close() error {
	if err := s.srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Advance moves the data to phase 2 (see the package doc). It is idempotent.
func (s *Server) Advance() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data.Load().phase < 2 {
		s.data.Store(build(s.opts, 2))
	}
}

// Phase is the current data phase, 1 or 2.
func (s *Server) Phase() int { return s.data.Load().phase }

// Requests is the number of requests received so far, faulted ones included.
func (s *Server) Requests() int64 { return s.reqs.Load() }

// OnRequest sets a hook called with the request number at the start of each request,
// before any fault. nil removes it. Safe for concurrent use.
func (s *Server) OnRequest(f func(n int64)) {
	if f == nil {
		s.hook.Store(nil)
		return
	}
	s.hook.Store(&f)
}

// MalformedCount is the number of bad customer elements served (5 with
// Options.Malformed, else 0).
func (s *Server) MalformedCount() int {
	if s.opts.Malformed {
		return 5
	}
	return 0
}

// Snapshot returns deep copies of all records of "customers", "events" or "orders" as
// of the current phase, ordered by id, soft-deleted customers included, malformed ones
// excluded. Integers are int64, other numbers float64. Unknown streams give nil.
func (s *Server) Snapshot(stream string) []map[string]any {
	d := s.data.Load()
	var recs []map[string]any
	switch stream {
	case "customers":
		recs = d.custRecs
	case "events":
		recs = d.eventRecs
	case "orders":
		recs = d.orderRecs
	default:
		return nil
	}
	out := make([]map[string]any, len(recs))
	for i, r := range recs {
		out[i] = clone(r)
	}
	return out
}

// response is what a route produces; serve writes it (or a fault instead).
type response struct {
	status  int
	body    []byte
	link    string
	release func() // returns a pooled body after writing
}

func errResp(status int, msg string) response {
	return response{status: status, body: mustJSON(map[string]string{"error": msg})}
}

func every(n int, req int64) bool { return n > 0 && req%int64(n) == 0 }

func (s *Server) serve(route func(*http.Request) response) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := s.reqs.Add(1)
		s.busy.Add(1)
		defer s.busy.Add(-1)
		if f := s.hook.Load(); f != nil {
			(*f)(n)
		}
		f := s.opts.Faults
		switch {
		case every(f.RateLimitEvery, n):
			w.Header().Set("Retry-After", "1")
			write(w, errResp(http.StatusTooManyRequests, "rate limited"))
			return
		case every(f.UnavailableEvery, n):
			write(w, errResp(http.StatusServiceUnavailable, "temporarily unavailable"))
			return
		}
		if every(f.StallEvery, n) {
			t := time.NewTimer(f.Stall)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		resp := route(r)
		if resp.release != nil {
			defer resp.release()
		}
		if every(f.CutBodyEvery, n) {
			setHeaders(w, resp)
			w.WriteHeader(resp.status)
			w.Write(resp.body[:len(resp.body)/2]) //nolint:errcheck // aborting anyway
			http.NewResponseController(w).Flush() //nolint:errcheck
			panic(http.ErrAbortHandler)           // closes the connection mid-body, not logged
		}
		write(w, resp)
	}
}

func setHeaders(w http.ResponseWriter, resp response) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	if resp.link != "" {
		h.Set("Link", resp.link)
	}
}

func write(w http.ResponseWriter, resp response) {
	setHeaders(w, resp)
	w.WriteHeader(resp.status)
	w.Write(resp.body) //nolint:errcheck // the client went away
}

// intParam reads an integer query parameter in [lo, hi], def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be an integer in [%d, %d]", name, lo, hi)
	}
	return n, nil
}

// appendList appends `[e1,e2,...]` built from raw entries.
func appendList(b []byte, es []entry) []byte {
	b = append(b, '[')
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.raw...)
	}
	return append(b, ']')
}

// appendPageTail appends `,"next_cursor":..,"has_more":..}`.
func appendPageTail(b []byte, cursor string) []byte {
	if cursor == "" {
		return append(b, `,"next_cursor":null,"has_more":false}`...)
	}
	b = append(b, `,"next_cursor":"`...)
	b = append(b, cursor...)
	return append(b, `","has_more":true}`...)
}

// Customer cursors are base64url("<updatedAt unix nanos>.<id>.<sub>") of the last
// element served; the next page starts strictly after that position.
func (s *Server) customers(r *http.Request) response {
	limit, err := intParam(r, "limit", 100, 1, 500)
	if err != nil {
		return errResp(http.StatusBadRequest, err.Error())
	}
	es := s.data.Load().customers
	start := 0
	if v := r.URL.Query().Get("updated_since"); v != "" {
		since, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return errResp(http.StatusBadRequest, "updated_since must be an RFC 3339 timestamp")
		}
		start, _ = slices.BinarySearchFunc(es, since.UnixNano(), func(e entry, t int64) int { return cmpInt(e.t, t) })
	}
	if v := r.URL.Query().Get("cursor"); v != "" {
		var last entry
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err == nil {
			_, err = fmt.Sscanf(string(raw), "%d.%d.%d", &last.t, &last.id, &last.sub)
		}
		if err != nil {
			return errResp(http.StatusBadRequest, "invalid cursor")
		}
		after := func(e entry) bool {
			return e.t > last.t || e.t == last.t && (e.id > last.id || e.id == last.id && e.sub > last.sub)
		}
		i, _ := slices.BinarySearchFunc(es, true, func(e entry, _ bool) int {
			if after(e) {
				return 1
			}
			return -1
		})
		start = max(start, i)
	}
	end := min(start+limit, len(es))
	page := es[start:end]
	b := appendList([]byte(`{"data":`), page)
	cursor := ""
	if end < len(es) && len(page) > 0 {
		e := page[len(page)-1]
		cursor = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d.%d", e.t, e.id, e.sub))
	}
	return response{status: http.StatusOK, body: appendPageTail(b, cursor)}
}

func (s *Server) events(r *http.Request) response {
	perPage, err := intParam(r, "per_page", 100, 1, 500)
	if err != nil {
		return errResp(http.StatusBadRequest, err.Error())
	}
	page, err := intParam(r, "page", 1, 1, 1<<30)
	if err != nil {
		return errResp(http.StatusBadRequest, err.Error())
	}
	es := s.data.Load().events
	start := min((page-1)*perPage, len(es))
	end := min(start+perPage, len(es))
	resp := response{status: http.StatusOK, body: appendList(nil, es[start:end])}
	if end < len(es) {
		resp.link = fmt.Sprintf(`<%s/v1/events?page=%d&per_page=%d>; rel="next"`, s.url, page+1, perPage)
	}
	return resp
}

func (s *Server) orders(r *http.Request) response {
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		return errResp(http.StatusBadRequest, err.Error())
	}
	limit, err := intParam(r, "limit", 100, 1, 500)
	if err != nil {
		return errResp(http.StatusBadRequest, err.Error())
	}
	es := s.data.Load().orders
	start := min(offset, len(es))
	end := min(start+limit, len(es))
	b := appendList([]byte(`{"items":`), es[start:end])
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(len(es)), 10)
	return response{status: http.StatusOK, body: append(b, '}')}
}
