package extract

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Code is a machine-readable error class. The vocabulary is fixed (the API connector
// specification's): the pipeline records it in _elt_runs and dead letters, and
// operators alert on it, so new failure modes map onto an existing code rather than
// inventing one.
type Code string

// The error codes.
const (
	CodeNetwork     Code = "NETWORK_ERROR"
	CodeTimeout     Code = "TIMEOUT"
	CodeAuth        Code = "AUTH_FAILED"
	CodeRateLimit   Code = "RATE_LIMIT"
	CodeInvalid     Code = "INVALID_REQUEST"
	CodeServer      Code = "SERVER_ERROR"
	CodeParsing     Code = "PARSING_ERROR"
	CodeValidation  Code = "VALIDATION_ERROR"
	CodeCancelled   Code = "CANCELLED"
	CodeUnsupported Code = "UNSUPPORTED"
)

// Error is the one error type of this package; errors.As finds it behind any
// wrapping. Method and URL are the request's, with secrets already redacted, so the
// error may be logged and stored as it is.
type Error struct {
	Code   Code
	Status int // HTTP status of the last response; 0 when none arrived
	// Retryable reports whether the failure is transient: a later run (or a larger
	// retry budget) may succeed. It is true for an error returned after the retry
	// budget ran out.
	Retryable bool
	RequestID string // the server's request id of the last response, for support tickets
	Method    string
	URL       string // redacted
	Attempts  int    // HTTP attempts made; 0 when the error did not come from a request
	Err       error  // the underlying cause, if any (never carries a secret)

	hint string // overrides the code's default advice
}

// Error says what happened, where, and what to do about it.
func (e *Error) Error() string {
	var b strings.Builder
	if e.URL != "" {
		if e.Method != "" {
			b.WriteString(e.Method)
			b.WriteByte(' ')
		}
		b.WriteString(e.URL)
		b.WriteString(": ")
	}
	what := ""
	if e.Status >= 300 {
		what = fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Err != nil {
		if what != "" {
			what += ": "
		}
		what += e.Err.Error()
	}
	if what == "" {
		what = "request failed"
	}
	b.WriteString(what)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	fmt.Fprintf(&b, " (%s)", e.Code)
	if h := e.advice(); h != "" {
		b.WriteString(": ")
		b.WriteString(h)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) advice() string {
	if e.hint != "" {
		return e.hint
	}
	switch e.Code {
	case CodeNetwork:
		return "could not talk to the API; check source.client.base_url and the network, or raise source.client.retry.max_attempts"
	case CodeTimeout:
		return "the API did not answer within source.client.timeout; raise it or try again later"
	case CodeAuth:
		return "check source.client.auth (credentials, their scope and expiry)"
	case CodeRateLimit:
		return "the API kept rate-limiting; run fewer streams at once or raise source.client.retry.max_attempts and max_delay"
	case CodeInvalid:
		return "check the endpoint path and params"
	case CodeServer:
		return "the API kept failing; try again later or raise source.client.retry.max_attempts"
	case CodeParsing:
		return "the response is not the JSON the config describes (data_selector and the paginator's paths)"
	case CodeValidation:
		return "check the configuration"
	case CodeCancelled:
		return "the run was cancelled"
	case CodeUnsupported:
		return "the API does not support this request"
	}
	return ""
}

// codeForStatus maps an HTTP status to a code and whether it is transient.
func codeForStatus(status int) (Code, bool) {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return CodeAuth, false
	case status == http.StatusRequestTimeout:
		return CodeTimeout, true
	case status == http.StatusTooManyRequests || status == http.StatusTooEarly:
		return CodeRateLimit, true
	case status == http.StatusNotImplemented:
		return CodeUnsupported, false
	case status >= 500:
		return CodeServer, true
	default: // other 4xx, and 1xx/3xx that were not followed
		return CodeInvalid, false
	}
}

// classify maps a transport or body-read error to a code, by type only. parent is
// the caller's context: its end means the caller gave up (CANCELLED, or TIMEOUT for
// a deadline of its own), whereas an expired per-attempt timeout is a TIMEOUT.
func classify(parent context.Context, err error) (Code, bool) {
	if cerr := parent.Err(); cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) {
			return CodeTimeout, false
		}
		return CodeCancelled, false
	}
	var (
		nerr  net.Error
		cverr *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cierr x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return CodeCancelled, false
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout, true
	case errors.As(err, &nerr) && nerr.Timeout():
		return CodeTimeout, true
	case errors.As(err, &cverr), errors.As(err, &uaerr), errors.As(err, &herr), errors.As(err, &cierr):
		// A certificate problem does not fix itself between attempts.
		return CodeNetwork, false
	}
	// Everything else is the network: refused or reset connections, bodies cut off
	// mid-way (io.ErrUnexpectedEOF), *url.Error from the transport. Transient.
	return CodeNetwork, true
}

// requestID returns the server's request id from the usual headers.
func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-Amzn-Requestid"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// sensitiveParams are query parameters redacted in every URL this package prints,
// whatever the auth config says: a server's next link may carry a signed token.
var sensitiveParams = map[string]bool{
	"access_token": true, "api_key": true, "apikey": true, "api-key": true,
	"token": true, "password": true, "secret": true, "client_secret": true,
	"signature": true, "sig": true, "x-amz-signature": true, "x-amz-credential": true,
}

// redactor hides secrets in URLs: the configured api_key query parameter, well-known
// sensitive parameters, any value equal to a configured secret, and userinfo.
type redactor struct {
	param   string   // the api_key query parameter name, if auth is api_key in query
	secrets []string // secret values, never printed
}

func (r redactor) url(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil // user:password@ is never worth printing
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k, vs := range q {
			hide := k == r.param || sensitiveParams[strings.ToLower(k)]
			for i, v := range vs {
				if hide || r.isSecret(v) {
					vs[i] = "***"
					changed = true
				}
			}
		}
		if changed {
			// Encode escapes '*'; keep the mask readable.
			c.RawQuery = strings.ReplaceAll(q.Encode(), "%2A%2A%2A", "***")
		}
	}
	return c.String()
}

func (r redactor) isSecret(v string) bool {
	for _, s := range r.secrets {
		if s != "" && v == s {
			return true
		}
	}
	return false
}

// scrub returns err with the URL inside any *url.Error replaced by its redacted
// form. net/http prints the full request URL, api key included, in its errors.
func (r redactor) scrub(err error) error {
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return err
	}
	red := uerr.URL
	if u, perr := url.Parse(uerr.URL); perr == nil {
		red = r.url(u)
	} else {
		red = "(unparsable URL)"
	}
	// The message leaves out "Get <url>:": Error.Error prints the URL already.
	return &quiet{msg: uerr.Err.Error(), err: &url.Error{Op: uerr.Op, URL: red, Err: uerr.Err}}
}

// quiet is an error that prints a shorter message than the error it wraps.
type quiet struct {
	msg string
	err error
}

func (q *quiet) Error() string { return q.msg }
func (q *quiet) Unwrap() error { return q.err }

// str redacts a URL given as text; text that does not parse is not printed at all,
// since it cannot be redacted reliably.
func (r redactor) str(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return r.url(u)
}
