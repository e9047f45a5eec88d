// Package extract reads records from REST APIs: an HTTP client that retries what is
// worth retrying and classifies every failure into a fixed vocabulary of codes, a
// JSON scanner that splits pages into raw records without decoding them, the
// paginators of dlt's rest_api source, and a Stream that ties them together into an
// iterator of pages.
//
// Nothing here starts a goroutine: pages are fetched one at a time when the
// consumer asks for the next, so the consumer's pace is the backpressure.
package extract

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eltdev/elt/config"
)

// Version is reported in the User-Agent header (elt/<Version>); the build sets it
// with -ldflags "-X github.com/eltdev/elt/extract.Version=...".
var Version = "dev"

// Defaults for zero values in config.Client.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxAttempts  = 5
	DefaultInitialDelay = 1 * time.Second
	DefaultMaxDelay     = 30 * time.Second
	DefaultMaxPageBytes = 256 << 20
)

// maxErrorBody caps how much of an error response is read: enough for a custom
// CheckRetry to look at, and reading it lets the connection be reused.
const maxErrorBody = 64 << 10

// Response is a complete HTTP response: the body has been read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// URL is the URL that answered, after redirects; relative links in the response
	// resolve against it. It carries no credentials added by auth.
	URL      *url.URL
	Attempts int // attempts it took, including this one
}

// CheckRetry decides whether an attempt is tried again. It is called after every
// attempt with the caller's context and either a response (resp non-nil, err nil
// for a 2xx or an error status) or an error (err non-nil; resp may be non-nil
// when the body failed to read or Request.Validate rejected it). Errors from the
// client are *Error, already classified; errors.Is/As reach their causes.
// resp.Body holds the bytes read and may be read again.
//
// reason, when non-nil, replaces err as the error reported for the attempt (in the
// RetryEvent, and returned if no attempt follows), so a policy can explain itself.
type CheckRetry func(ctx context.Context, resp *http.Response, err error) (retry bool, reason error)

// Backoff returns how long to wait before the next attempt. attempt counts the
// retries made so far (0 before the first retry); initial and max are the
// configured delays; resp is the last response, or nil.
type Backoff func(attempt int, initial, max time.Duration, resp *http.Response) time.Duration

// RetryEvent describes one failed attempt that is about to be retried, for the
// pipeline's logs and retry counters.
type RetryEvent struct {
	Attempt int           // the attempt that failed, 1-based
	Wait    time.Duration // the wait before the next attempt
	Status  int           // HTTP status of the failed attempt; 0 when none
	Err     error         // *Error describing the failure
	URL     string        // redacted
}

// Option configures a Client.
type Option func(*Client)

// WithCheckRetry replaces DefaultCheckRetry.
func WithCheckRetry(f CheckRetry) Option { return func(c *Client) { c.checkRetry = f } }

// WithBackoff replaces DefaultBackoff.
func WithBackoff(f Backoff) Option { return func(c *Client) { c.backoff = f } }

// WithHTTPClient replaces the tuned *http.Client. Its Timeout, if any, applies on
// top of the per-attempt timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithTransport keeps the client's redirect policy but sends through rt (for
// instrumentation or a custom dialer).
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Client) { c.hc = &http.Client{Transport: rt} }
}

// WithOnRetry registers f to be called, synchronously, before each wait between
// attempts.
func WithOnRetry(f func(RetryEvent)) Option { return func(c *Client) { c.onRetry = f } }

// WithSleep replaces DefaultSleep; tests use it to record waits instead of taking
// them. f must return ctx's error when ctx ends first.
func WithSleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = f }
}

// Client is an HTTP client for one source. It is safe for concurrent use by
// several streams.
type Client struct {
	hc          *http.Client
	base        *url.URL
	headers     http.Header
	auth        func(h http.Header, q url.Values)
	authQuery   bool // auth adds a query parameter (so the URL must be rebuilt per attempt)
	red         redactor
	timeout     time.Duration
	maxAttempts int
	initial     time.Duration
	maxDelay    time.Duration
	maxBytes    int64
	checkRetry  CheckRetry
	backoff     Backoff
	onRetry     func(RetryEvent)
	sleep       func(context.Context, time.Duration) error
}

// NewClient builds a client from its config, with zero values replaced by the
// defaults above. Errors are *Error with Code VALIDATION_ERROR or UNSUPPORTED.
func NewClient(cfg config.Client, opts ...Option) (*Client, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, &Error{Code: CodeValidation,
			Err:  fmt.Errorf("source.client.base_url %q is not an http(s) URL", redactor{}.str(cfg.BaseURL)),
			hint: "set source.client.base_url to the API's root, e.g. https://api.example.com/v1"}
	}
	c := &Client{
		hc:          &http.Client{Transport: newTransport()},
		base:        base,
		headers:     make(http.Header, len(cfg.Headers)),
		timeout:     orDefault(cfg.Timeout.D(), DefaultTimeout),
		maxAttempts: cfg.Retry.MaxAttempts,
		initial:     orDefault(cfg.Retry.InitialDelay.D(), DefaultInitialDelay),
		maxDelay:    orDefault(cfg.Retry.MaxDelay.D(), DefaultMaxDelay),
		maxBytes:    int64(cfg.MaxPageBytes),
		checkRetry:  DefaultCheckRetry,
		backoff:     DefaultBackoff,
		sleep:       DefaultSleep,
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxPageBytes
	}
	for k, v := range cfg.Headers {
		c.headers.Set(k, v)
	}
	if err := c.setAuth(cfg.Auth); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// newTransport is http.DefaultTransport tuned for many requests to one host:
// several streams share a client, so keep more idle connections per host than the
// default 2. HTTP/2 is negotiated when the server offers it.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 16
	t.IdleConnTimeout = 90 * time.Second
	t.ForceAttemptHTTP2 = true
	return t
}

func (c *Client) setAuth(a *config.Auth) error {
	if a == nil || a.Type == "" {
		return nil
	}
	missing := func(field string) error {
		return &Error{Code: CodeValidation, Err: fmt.Errorf("source.client.auth.%s is empty", field),
			hint: "check source.client.auth (is the environment variable set?)"}
	}
	switch a.Type {
	case "bearer":
		tok := a.Token.Reveal()
		if tok == "" {
			return missing("token")
		}
		c.red.secrets = []string{tok}
		c.auth = func(h http.Header, _ url.Values) { h.Set("Authorization", "Bearer "+tok) }
	case "api_key":
		key := a.APIKey.Reveal()
		if key == "" {
			return missing("api_key")
		}
		c.red.secrets = []string{key}
		switch a.Location {
		case "", "header":
			name := a.Name
			if name == "" {
				name = "Authorization" // dlt's default
			}
			c.auth = func(h http.Header, _ url.Values) { h.Set(name, key) }
		case "query":
			name := a.Name
			if name == "" {
				name = "api_key"
			}
			c.red.param = name
			c.authQuery = true
			c.auth = func(_ http.Header, q url.Values) { q.Set(name, key) }
		default:
			return &Error{Code: CodeUnsupported,
				Err:  fmt.Errorf("source.client.auth.location %q is not supported", a.Location),
				hint: "use header or query"}
		}
	case "http_basic":
		pw := a.Password.Reveal()
		if a.Username == "" && pw == "" {
			return missing("username")
		}
		c.red.secrets = []string{pw}
		cred := "Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+pw))
		c.auth = func(h http.Header, _ url.Values) { h.Set("Authorization", cred) }
	default:
		return &Error{Code: CodeUnsupported,
			Err:  fmt.Errorf("source.client.auth.type %q is not supported", a.Type),
			hint: "use bearer, api_key or http_basic"}
	}
	return nil
}

// BaseURL returns a copy of the configured base URL.
func (c *Client) BaseURL() *url.URL { u := *c.base; return &u }

// Redact returns u as it may be printed: configured secrets, well-known sensitive
// query parameters and userinfo are replaced by ***.
func (c *Client) Redact(u *url.URL) string { return c.red.url(u) }

// CloseIdleConnections closes the transport's idle connections; call it when the
// client is no longer used.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Request is one logical request; Do may send it several times.
type Request struct {
	Method string // "" is GET
	URL    *url.URL
	Header http.Header // added to the client's headers for this request
	Body   []byte      // sent on every attempt
	// Validate, when set, inspects a 2xx response inside the retry loop. An error
	// fails the attempt like a transport error would: an *Error keeps its code and
	// is retried when Retryable (a JSON body truncated by a closed connection);
	// any other error becomes a non-retryable PARSING_ERROR.
	Validate func(*Response) error
}

// Get fetches rawURL with GET.
func (c *Client) Get(ctx context.Context, rawURL string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{Code: CodeInvalid, Method: http.MethodGet, URL: c.red.str(rawURL),
			Err: errors.New("not a valid URL")}
	}
	return c.Do(ctx, &Request{URL: u})
}

// Do sends req, retrying as CheckRetry decides, and returns the response of the
// first successful attempt with its body read in full. Any failure is an *Error.
// A response whose status is not 2xx is an error, never a Response.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	redURL := c.red.url(c.sentURL(req.URL))
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return nil, &Error{Code: CodeInvalid, Method: method, URL: redURL,
			Err: errors.New("not an absolute http(s) URL")}
	}
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return nil, c.ctxError(ctx, method, redURL, attempt-1)
		}
		hresp, resp, err := c.attempt(ctx, method, req)
		if err == nil && resp.Status/100 == 2 && req.Validate != nil {
			if verr := req.Validate(resp); verr != nil {
				var e *Error
				if !errors.As(verr, &e) {
					verr = &Error{Code: CodeParsing, Err: verr}
				}
				err = verr
			}
		}
		retry, reason := c.checkRetry(ctx, hresp, err)
		ok := err == nil && reason == nil && resp.Status/100 == 2
		if ok && (!retry || attempt >= c.maxAttempts) {
			resp.Attempts = attempt
			return resp, nil
		}
		if reason != nil {
			err = reason
		}
		e := c.attemptError(method, redURL, hresp, err, attempt, retry)
		if !retry || attempt >= c.maxAttempts {
			return nil, e
		}
		wait := c.backoff(attempt-1, c.initial, c.maxDelay, hresp)
		if c.onRetry != nil {
			c.onRetry(RetryEvent{Attempt: attempt, Wait: wait, Status: e.Status, Err: e, URL: redURL})
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, c.ctxError(ctx, method, redURL, attempt)
		}
	}
}

// attempt sends the request once and reads the body. A returned error is an
// *Error classified here, where the attempt's own deadline can still be told
// apart from the caller's.
func (c *Client) attempt(ctx context.Context, method string, req *Request) (*http.Response, *Response, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.sentURL(req.URL)
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(actx, method, u.String(), body)
	if err != nil {
		return nil, nil, &Error{Code: CodeInvalid, Err: c.red.scrub(err)}
	}
	h := hreq.Header
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "elt/"+Version)
	for k, vs := range c.headers {
		h[k] = vs
	}
	for k, vs := range req.Header {
		h[k] = vs
	}
	if c.auth != nil && !c.authQuery {
		c.auth(h, nil)
	}

	hresp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, nil, c.netError(ctx, actx, err, nil)
	}
	defer hresp.Body.Close()
	limit := c.maxBytes
	if hresp.StatusCode/100 != 2 {
		limit = maxErrorBody
	}
	data, err := c.readBody(hresp, limit)
	hresp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil && hresp.StatusCode/100 == 2 {
		return hresp, nil, c.netError(ctx, actx, err, hresp)
	}
	// An error status is reported by status; a body cut short does not change it.
	final := hresp.Request.URL
	if final == nil {
		final = u
	}
	final = stripQueryParam(final, c.red.param)
	return hresp, &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: data, URL: final}, nil
}

// sentURL is u as sent, with the api key query parameter when auth puts it there:
// errors show it (redacted) so that the reader knows it was sent.
func (c *Client) sentURL(u *url.URL) *url.URL {
	if u == nil || !c.authQuery {
		return u
	}
	s := *u
	q := s.Query()
	c.auth(nil, q)
	s.RawQuery = q.Encode()
	return &s
}

// readBody reads the whole body, refusing more than limit bytes.
func (c *Client) readBody(hresp *http.Response, limit int64) ([]byte, error) {
	if hresp.ContentLength > limit && hresp.StatusCode/100 == 2 {
		return nil, c.tooLarge(hresp.ContentLength)
	}
	var buf bytes.Buffer
	if hresp.ContentLength > 0 && hresp.ContentLength <= limit {
		// Room for the body and for ReadFrom's final probe for EOF: one allocation.
		buf.Grow(int(hresp.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(hresp.Body, limit+1))
	if n > limit {
		if hresp.StatusCode/100 != 2 {
			return buf.Bytes()[:limit], nil
		}
		return nil, c.tooLarge(n)
	}
	return buf.Bytes(), err
}

func (c *Client) tooLarge(n int64) error {
	return &Error{Code: CodeValidation,
		Err:  fmt.Errorf("the response body (%d bytes or more) exceeds source.client.max_page_bytes (%d bytes)", n, c.maxBytes),
		hint: "raise source.client.max_page_bytes or ask for smaller pages (the paginator's limit)"}
}

// netError classifies an error from sending the request or reading its body.
func (c *Client) netError(parent, actx context.Context, err error, hresp *http.Response) error {
	var e *Error
	if errors.As(err, &e) {
		return err // tooLarge
	}
	code, retry := classify(parent, err)
	if parent.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		// The attempt's own timeout, whatever error net/http chose to report it with.
		code, retry = CodeTimeout, true
		err = fmt.Errorf("no complete response within %s: %w", c.timeout, c.red.scrub(err))
	} else {
		err = c.red.scrub(err)
	}
	e = &Error{Code: code, Retryable: retry, Err: err}
	if hresp != nil {
		e.Status = hresp.StatusCode
		e.RequestID = requestID(hresp.Header)
		e.Err = fmt.Errorf("reading the body: %w", err)
	}
	return e
}

// attemptError builds the *Error describing a failed attempt.
func (c *Client) attemptError(method, redURL string, hresp *http.Response, err error, attempts int, retry bool) *Error {
	e := &Error{}
	var ce *Error
	switch {
	case errors.As(err, &ce):
		*e = *ce
	case err != nil:
		e.Code, _ = classify(context.Background(), err)
		e.Err = c.red.scrub(err)
	default:
		e.Code, _ = codeForStatus(hresp.StatusCode)
	}
	if e.Code == "" {
		e.Code = CodeNetwork
	}
	e.Method, e.URL, e.Attempts, e.Retryable = method, redURL, attempts, retry
	if hresp != nil {
		if e.Status == 0 {
			e.Status = hresp.StatusCode
		}
		if e.RequestID == "" {
			e.RequestID = requestID(hresp.Header)
		}
	}
	return e
}

// ctxError reports that the caller's context ended.
func (c *Client) ctxError(ctx context.Context, method, redURL string, attempts int) *Error {
	code, _ := classify(ctx, ctx.Err())
	return &Error{Code: code, Method: method, URL: redURL, Attempts: attempts, Err: context.Cause(ctx)}
}

// stripQueryParam returns u without query parameter name (the api key that auth
// added), so that links derived from it never carry the secret twice.
func stripQueryParam(u *url.URL, name string) *url.URL {
	c := *u
	if name == "" || c.RawQuery == "" {
		return &c
	}
	q := c.Query()
	if q.Has(name) {
		q.Del(name)
		c.RawQuery = q.Encode()
	}
	return &c
}

// DefaultCheckRetry retries what may succeed on another attempt: network errors,
// timeouts, bodies cut off mid-way, retryable *Errors (a truncated JSON body), and
// the statuses 408, 425, 429 and 5xx except 501. It never retries once ctx has
// ended.
func DefaultCheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, nil
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e.Retryable, nil
		}
		_, retry := classify(ctx, err)
		return retry, nil
	}
	if resp == nil {
		return false, nil
	}
	switch s := resp.StatusCode; {
	case s == http.StatusRequestTimeout, s == http.StatusTooEarly, s == http.StatusTooManyRequests:
		return true, nil
	case s >= 500 && s != http.StatusNotImplemented:
		return true, nil
	}
	return false, nil
}

// DefaultBackoff is exponential backoff with jitter, min(initial×2^attempt, max)
// scaled by a random factor in [0.5, 1) so that streams that failed together do
// not retry together. A Retry-After header (seconds or HTTP-date) on a 429 or 503
// is honoured exactly, capped at max.
func DefaultBackoff(attempt int, initial, max time.Duration, resp *http.Response) time.Duration {
	return backoffAt(time.Now(), rand.Float64(), attempt, initial, max, resp)
}

func backoffAt(now time.Time, jitter float64, attempt int, initial, max time.Duration, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
			return min(d, max)
		}
	}
	d := initial
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(float64(d) * (0.5 + jitter/2))
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP-date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second) // avoid overflow; max caps it anyway
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// DefaultSleep waits for d or until ctx ends, whichever comes first.
func DefaultSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
