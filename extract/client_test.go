package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eltdev/elt/config"
)

// recorder takes the place of sleeping: it records the waits the client asks for
// and returns at once, so retry tests are deterministic and fast.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
	events []RetryEvent
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.sleeps = append(r.sleeps, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recorder) onRetry(e RetryEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func testConfig(base string) config.Client {
	return config.Client{
		BaseURL: base,
		Timeout: config.Duration(2 * time.Second),
		Retry: config.Retry{MaxAttempts: 5, InitialDelay: config.Duration(time.Millisecond),
			MaxDelay: config.Duration(30 * time.Second)},
	}
}

func newTestClient(t *testing.T, cfg config.Client, opts ...Option) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := NewClient(cfg, append([]Option{WithSleep(rec.sleep), WithOnRetry(rec.onRetry)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c, rec
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(fmt.Errorf("wrapped: %w", err), &e) {
		t.Fatalf("err = %v (%T), want an *Error", err, err)
	}
	return e
}

// hijack writes raw bytes as the whole response and closes the connection: the
// way to send a response that lies about its length.
func hijack(t *testing.T, w http.ResponseWriter, raw string) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	buf.WriteString(raw)
	buf.Flush()
	conn.Close()
}

// stall blocks until the client goes away (or a generous safety limit).
func stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `[{"id":1}]`)
	}))
	defer srv.Close()
	c, rec := newTestClient(t, testConfig(srv.URL))
	resp, err := c.Get(context.Background(), srv.URL+"/x")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 2 || string(resp.Body) != `[{"id":1}]` {
		t.Errorf("attempts = %d, body = %q", resp.Attempts, resp.Body)
	}
	if len(rec.sleeps) != 1 || rec.sleeps[0] != 7*time.Second {
		t.Errorf("sleeps = %v, want exactly [7s] from Retry-After", rec.sleeps)
	}
	if len(rec.events) != 1 || rec.events[0].Status != 429 || asError(t, rec.events[0].Err).Code != CodeRateLimit {
		t.Errorf("events = %+v", rec.events)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", time.Now().Add(20*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	c, rec := newTestClient(t, testConfig(srv.URL))
	if _, err := c.Get(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	// The date has a resolution of one second, hence the range.
	if len(rec.sleeps) != 1 || rec.sleeps[0] <= 18*time.Second || rec.sleeps[0] > 20*time.Second {
		t.Errorf("sleeps = %v, want the Retry-After date (~20s)", rec.sleeps)
	}
}

func TestBackoff(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	hdr := func(status int, ra string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {ra}}}
	}
	tests := []struct {
		name    string
		attempt int
		jitter  float64
		resp    *http.Response
		want    time.Duration
	}{
		{"first retry, low jitter", 0, 0, nil, 500 * time.Millisecond},
		{"first retry, high jitter", 0, 0.5, nil, 750 * time.Millisecond},
		{"third retry", 2, 0, nil, 2 * time.Second},
		{"capped at max", 20, 0, nil, 2500 * time.Millisecond},
		{"capped at max, high jitter", 20, 0.5, nil, 3750 * time.Millisecond},
		{"huge attempt does not overflow", 1000, 0, nil, 2500 * time.Millisecond},
		{"retry-after seconds on 429", 0, 0.3, hdr(429, "3"), 3 * time.Second},
		{"retry-after date on 503", 0, 0.3, hdr(503, now.Add(4*time.Second).Format(http.TimeFormat)), 4 * time.Second},
		{"retry-after capped at max", 0, 0, hdr(429, "3600"), 10 * time.Second},
		{"retry-after in the past", 0, 0, hdr(503, now.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{"retry-after ignored on 500", 0, 0, hdr(500, "3"), 500 * time.Millisecond},
		{"bad retry-after falls back", 0, 0, hdr(429, "soon"), 500 * time.Millisecond},
	}
	for _, tt := range tests {
		max := 10 * time.Second
		if tt.resp == nil {
			max = 5 * time.Second
		}
		if got := backoffAt(now, tt.jitter, tt.attempt, time.Second, max, tt.resp); got != tt.want {
			t.Errorf("%s: backoff = %v, want %v", tt.name, got, tt.want)
		}
	}
	for range 100 {
		if d := DefaultBackoff(1, time.Second, time.Minute, nil); d < time.Second || d >= 2*time.Second {
			t.Fatalf("DefaultBackoff(1) = %v, want in [1s, 2s)", d)
		}
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 3 {
			w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(int(hits.Load())))
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `[1]`)
	}))
	defer srv.Close()
	c, rec := newTestClient(t, testConfig(srv.URL))
	resp, err := c.Get(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 4 || hits.Load() != 4 || len(rec.sleeps) != 3 || len(rec.events) != 3 {
		t.Fatalf("attempts = %d, hits = %d, sleeps = %v, events = %d", resp.Attempts, hits.Load(), rec.sleeps, len(rec.events))
	}
	for i, ev := range rec.events {
		e := asError(t, ev.Err)
		if ev.Attempt != i+1 || ev.Status != 503 || e.Code != CodeServer || e.RequestID != "req-"+strconv.Itoa(i+1) || ev.Wait != rec.sleeps[i] {
			t.Errorf("event %d = %+v (%v)", i, ev, e)
		}
	}
}

func TestServerErrorForever(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("X-Request-ID", "abc123")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.Retry.MaxAttempts = 4
	c, rec := newTestClient(t, cfg)
	_, err := c.Get(context.Background(), srv.URL+"/v1/customers?cursor=abc")
	e := asError(t, err)
	if e.Code != CodeServer || e.Attempts != 4 || e.Status != 503 || !e.Retryable || e.RequestID != "abc123" || hits.Load() != 4 {
		t.Errorf("err = %+v, hits = %d", e, hits.Load())
	}
	want := "GET " + srv.URL + "/v1/customers?cursor=abc: HTTP 503 Service Unavailable after 4 attempts [request id abc123] (SERVER_ERROR): " +
		"the API kept failing; try again later or raise source.client.retry.max_attempts"
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}
	if len(rec.sleeps) != 3 {
		t.Errorf("sleeps = %v, want 3 (none after the last attempt)", rec.sleeps)
	}
}

func TestNotRetried(t *testing.T) {
	tests := []struct {
		status int
		code   Code
		advice string
	}{
		{401, CodeAuth, "check source.client.auth"},
		{403, CodeAuth, "check source.client.auth"},
		{404, CodeInvalid, "check the endpoint path and params"},
		{400, CodeInvalid, "check the endpoint path and params"},
		{501, CodeUnsupported, ""},
	}
	for _, tt := range tests {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			http.Error(w, `{"error":"nope"}`, tt.status)
		}))
		c, rec := newTestClient(t, testConfig(srv.URL))
		_, err := c.Get(context.Background(), srv.URL+"/things")
		srv.Close()
		e := asError(t, err)
		if e.Code != tt.code || e.Status != tt.status || e.Retryable || e.Attempts != 1 || hits.Load() != 1 || len(rec.sleeps) != 0 {
			t.Errorf("%d: err = %+v, hits = %d", tt.status, e, hits.Load())
		}
		if !strings.Contains(err.Error(), tt.advice) || strings.Contains(err.Error(), "after") {
			t.Errorf("%d: message %q", tt.status, err)
		}
	}
}

func TestDefaultCheckRetry(t *testing.T) {
	ctx := context.Background()
	for status, want := range map[int]bool{200: false, 301: false, 400: false, 401: false, 404: false, 408: true,
		425: true, 429: true, 500: true, 501: false, 502: true, 503: true, 504: true, 507: true} {
		if got, _ := DefaultCheckRetry(ctx, &http.Response{StatusCode: status}, nil); got != want {
			t.Errorf("status %d: retry = %v, want %v", status, got, want)
		}
	}
	if got, _ := DefaultCheckRetry(ctx, nil, io.ErrUnexpectedEOF); !got {
		t.Error("unexpected EOF: want a retry")
	}
	if got, _ := DefaultCheckRetry(ctx, nil, &Error{Code: CodeParsing, Retryable: false}); got {
		t.Error("non-retryable *Error: want no retry")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if got, _ := DefaultCheckRetry(cctx, &http.Response{StatusCode: 503}, nil); got {
		t.Error("cancelled context: want no retry")
	}
}

func TestCustomPolicy(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusConflict)
	}))
	defer srv.Close()
	reason := errors.New("409 means the export is still being prepared")
	c, rec := newTestClient(t, testConfig(srv.URL),
		WithCheckRetry(func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			if resp != nil && resp.StatusCode == http.StatusConflict {
				return true, &Error{Code: CodeServer, Retryable: true, Err: reason}
			}
			return DefaultCheckRetry(ctx, resp, err)
		}),
		WithBackoff(func(int, time.Duration, time.Duration, *http.Response) time.Duration { return 42 * time.Millisecond }))
	_, err := c.Get(context.Background(), srv.URL)
	e := asError(t, err)
	if !errors.Is(err, reason) || e.Code != CodeServer || e.Status != 409 || e.Attempts != 5 || hits.Load() != 5 {
		t.Errorf("err = %v (%+v)", err, e)
	}
	if len(rec.sleeps) != 4 || rec.sleeps[0] != 42*time.Millisecond {
		t.Errorf("sleeps = %v", rec.sleeps)
	}
}

func TestBodyCutShortIsRetried(t *testing.T) {
	const full = `[{"id":1},{"id":2},{"id":3}]`
	cases := map[string]string{
		// Content-Length promises more than is sent: io.ErrUnexpectedEOF.
		"content-length": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + full[:12],
		// Chunked, connection closed before the last chunk.
		"chunked": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nc\r\n" + full[:12] + "\r\n",
		// Delimited by the connection's close: the body reads "successfully" and
		// only the JSON shows it is cut short.
		"close-delimited": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + full[:12],
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) == 1 {
					hijack(t, w, raw)
					return
				}
				io.WriteString(w, full)
			}))
			defer srv.Close()
			c, rec := newTestClient(t, testConfig(srv.URL))
			s, err := NewStream(c, config.Resource{Name: "r", Endpoint: config.Endpoint{Path: "/items"}})
			if err != nil {
				t.Fatal(err)
			}
			page, err := s.FirstPage(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%s", page.Records); got != `[{"id":1} {"id":2} {"id":3}]` {
				t.Errorf("records = %s", got)
			}
			if hits.Load() != 2 || len(rec.events) != 1 {
				t.Fatalf("hits = %d, events = %+v", hits.Load(), rec.events)
			}
			want := CodeNetwork
			if name == "close-delimited" {
				want = CodeParsing
			}
			if e := asError(t, rec.events[0].Err); e.Code != want || !e.Retryable {
				t.Errorf("retry event error = %v, want a retryable %s", e, want)
			}
		})
	}
}

func TestMalformedJSONNotRetried(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `<html>maintenance</html>`)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, testConfig(srv.URL))
	s, _ := NewStream(c, config.Resource{Name: "r", Endpoint: config.Endpoint{Path: "items"}})
	_, err := s.FirstPage(context.Background(), "")
	if e := asError(t, err); e.Code != CodeParsing || e.Retryable || hits.Load() != 1 || e.Status != 200 {
		t.Errorf("err = %v (%+v), hits = %d", err, e, hits.Load())
	}
	if !strings.Contains(err.Error(), "data_selector") {
		t.Errorf("message %q does not point at data_selector", err)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	for _, where := range []string{"headers", "body"} {
		t.Run(where, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) == 1 {
					if where == "body" {
						w.Header().Set("Content-Length", "100")
						io.WriteString(w, `[{"id":`)
						w.(http.Flusher).Flush()
					}
					stall(r)
					return
				}
				io.WriteString(w, `[{"id":1}]`)
			}))
			defer srv.Close()
			cfg := testConfig(srv.URL)
			cfg.Timeout = config.Duration(50 * time.Millisecond)
			c, rec := newTestClient(t, cfg)
			resp, err := c.Get(context.Background(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Attempts != 2 || len(rec.events) != 1 {
				t.Fatalf("attempts = %d, events = %+v", resp.Attempts, rec.events)
			}
			if e := asError(t, rec.events[0].Err); e.Code != CodeTimeout || !e.Retryable {
				t.Errorf("retry event error = %v, want a retryable TIMEOUT", e)
			}
		})
	}
}

func TestTimeoutForever(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stall(r) }))
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.Timeout = config.Duration(20 * time.Millisecond)
	cfg.Retry.MaxAttempts = 2
	c, _ := newTestClient(t, cfg)
	_, err := c.Get(context.Background(), srv.URL)
	if e := asError(t, err); e.Code != CodeTimeout || e.Attempts != 2 || !strings.Contains(err.Error(), "source.client.timeout") {
		t.Errorf("err = %v", err)
	}
}

func TestCancelled(t *testing.T) {
	t.Run("during a request", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stall(r) }))
		defer srv.Close()
		cfg := testConfig(srv.URL)
		cfg.Timeout = config.Duration(time.Minute)
		c, rec := newTestClient(t, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.Get(ctx, srv.URL)
		if e := asError(t, err); e.Code != CodeCancelled || e.Retryable || !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v (%+v)", err, e)
		}
		if d := time.Since(start); d > 5*time.Second || len(rec.sleeps) != 0 {
			t.Errorf("took %v, sleeps %v: want a prompt return without retries", d, rec.sleeps)
		}
	})
	t.Run("during the wait between attempts", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		defer srv.Close()
		c, err := NewClient(testConfig(srv.URL)) // the real sleep
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel)
		start := time.Now()
		_, err = c.Get(ctx, srv.URL)
		if e := asError(t, err); e.Code != CodeCancelled || e.Attempts != 1 || hits.Load() != 1 {
			t.Errorf("err = %v (%+v)", err, e)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("before the first attempt", func(t *testing.T) {
		c, _ := newTestClient(t, testConfig("http://127.0.0.1:1"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Get(ctx, "http://127.0.0.1:1/x")
		if e := asError(t, err); e.Code != CodeCancelled || e.Attempts != 0 {
			t.Errorf("err = %+v", e)
		}
	})
}

func TestPageTooLarge(t *testing.T) {
	big := "[" + strings.Repeat(`"xxxxxxxx",`, 100) + "1]"
	for _, chunked := range []bool{false, true} {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if !chunked {
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			}
			io.WriteString(w, big)
			w.(http.Flusher).Flush()
		}))
		cfg := testConfig(srv.URL)
		cfg.MaxPageBytes = 100
		c, _ := newTestClient(t, cfg)
		_, err := c.Get(context.Background(), srv.URL)
		srv.Close()
		e := asError(t, err)
		if e.Retryable || hits.Load() != 1 || !strings.Contains(err.Error(), "raise source.client.max_page_bytes") {
			t.Errorf("chunked=%v: err = %v, hits = %d", chunked, err, hits.Load())
		}
	}
}

func TestAuthReachesServer(t *testing.T) {
	tests := []struct {
		name  string
		auth  config.Auth
		check func(r *http.Request) bool
	}{
		{"bearer", config.Auth{Type: "bearer", Token: "tok-123"},
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer tok-123" }},
		{"api_key header", config.Auth{Type: "api_key", Name: "X-Api-Key", APIKey: "k-456"},
			func(r *http.Request) bool { return r.Header.Get("X-Api-Key") == "k-456" }},
		{"api_key query", config.Auth{Type: "api_key", Name: "apikey", APIKey: "k-789", Location: "query"},
			func(r *http.Request) bool {
				return r.URL.Query().Get("apikey") == "k-789" && r.URL.Query().Get("q") == "1"
			}},
		{"http_basic", config.Auth{Type: "http_basic", Username: "ann", Password: "pw-0"},
			func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "ann" && p == "pw-0" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tt.check(r) || r.Header.Get("User-Agent") != "elt/"+Version || r.Header.Get("X-Team") != "data" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				io.WriteString(w, `[]`)
			}))
			defer srv.Close()
			cfg := testConfig(srv.URL)
			cfg.Auth = &tt.auth
			cfg.Headers = map[string]string{"X-Team": "data"}
			c, _ := newTestClient(t, cfg)
			if _, err := c.Get(context.Background(), srv.URL+"/x?q=1"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const secret = "sup3r-s3cret-v4lue"
	cfg := func(base string) config.Client {
		c := testConfig(base)
		c.Auth = &config.Auth{Type: "api_key", Name: "key", APIKey: secret, Location: "query"}
		c.Retry.MaxAttempts = 2
		return c
	}
	check := func(t *testing.T, err error, rec *recorder) {
		t.Helper()
		msgs := []string{err.Error(), fmt.Sprintf("%+v %#v", err, err)}
		for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
			msgs = append(msgs, u.Error())
		}
		for _, ev := range rec.events {
			msgs = append(msgs, ev.URL, ev.Err.Error())
		}
		for _, m := range msgs {
			if strings.Contains(m, secret) {
				t.Errorf("secret in %q", m)
			}
		}
		if !strings.Contains(err.Error(), "key=***") {
			t.Errorf("message %q does not show the redacted key", err)
		}
	}

	t.Run("server error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("key") != secret {
				t.Error("the key did not reach the server")
			}
			w.WriteHeader(http.StatusInternalServerError)
		}))
		defer srv.Close()
		c, rec := newTestClient(t, cfg(srv.URL))
		s, err := NewStream(c, config.Resource{Name: "r", Endpoint: config.Endpoint{Path: "items", Params: map[string]string{"a": "b"}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.FirstPage(context.Background(), "")
		check(t, err, rec)
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL
		srv.Close()
		c, rec := newTestClient(t, cfg(base))
		_, err := c.Get(context.Background(), base+"/items?x=1")
		if e := asError(t, err); e.Code != CodeNetwork || e.Attempts != 2 {
			t.Errorf("err = %+v", e)
		}
		var uerr *url.Error
		if !errors.As(err, &uerr) || strings.Contains(uerr.URL, secret) {
			t.Errorf("url.Error = %v", uerr)
		}
		check(t, err, rec)
	})
	t.Run("secret echoed in a next link", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("page") == "2" {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			w.Header().Set("Link", "</items?page=2&key="+secret+">; rel=\"next\"")
			io.WriteString(w, `[1]`)
		}))
		defer srv.Close()
		c, rec := newTestClient(t, cfg(srv.URL))
		s, _ := NewStream(c, config.Resource{Name: "r", Endpoint: config.Endpoint{Path: "items",
			Paginator: &config.Paginator{Type: config.HeaderLink}}})
		var err error
		for p, e := range s.Pages(context.Background(), "") {
			if strings.Contains(p.URL, secret) {
				t.Errorf("page URL %q", p.URL)
			}
			err = e
		}
		check(t, err, rec)
	})
}

func TestNewClientErrors(t *testing.T) {
	tests := []struct {
		cfg  config.Client
		code Code
	}{
		{config.Client{BaseURL: "ftp://x"}, CodeValidation},
		{config.Client{BaseURL: ""}, CodeValidation},
		{config.Client{BaseURL: "http://x", Auth: &config.Auth{Type: "oauth9"}}, CodeUnsupported},
		{config.Client{BaseURL: "http://x", Auth: &config.Auth{Type: "bearer"}}, CodeValidation},
		{config.Client{BaseURL: "http://x", Auth: &config.Auth{Type: "api_key", APIKey: "k", Location: "cookie"}}, CodeUnsupported},
	}
	for _, tt := range tests {
		_, err := NewClient(tt.cfg)
		if e := asError(t, err); e.Code != tt.code {
			t.Errorf("%+v: code %s, want %s (%v)", tt.cfg, e.Code, tt.code, err)
		}
	}
	c, err := NewClient(config.Client{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != DefaultTimeout || c.maxAttempts != DefaultMaxAttempts || c.initial != DefaultInitialDelay ||
		c.maxDelay != DefaultMaxDelay || c.maxBytes != DefaultMaxPageBytes {
		t.Errorf("zero values not defaulted: %+v", c)
	}
}

func TestErrorMessages(t *testing.T) {
	e := &Error{Code: CodeAuth, Status: 401, Method: "GET", URL: "http://127.0.0.1:5/v1/me"}
	if got, want := e.Error(), "GET http://127.0.0.1:5/v1/me: HTTP 401 Unauthorized (AUTH_FAILED): check source.client.auth (credentials, their scope and expiry)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	e = &Error{Code: CodeParsing, Err: errors.New("boom")}
	if got := e.Error(); got != "boom (PARSING_ERROR): the response is not the JSON the config describes (data_selector and the paginator's paths)" {
		t.Errorf("got %s", got)
	}
	r := redactor{param: "k", secrets: []string{"s3"}}
	u, _ := url.Parse("https://user:pw@h/p?k=1&access_token=2&x=s3&cursor=abc")
	if got := r.url(u); got != "https://h/p?access_token=***&cursor=abc&k=***&x=***" {
		t.Errorf("redacted = %s", got)
	}
}
