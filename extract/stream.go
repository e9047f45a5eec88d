package extract

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/eltdev/elt/config"
)

// StartPlaceholder in an endpoint param value is replaced by the incremental start
// value.
const StartPlaceholder = "{incremental.start_value}"

// Page is one page of a stream.
type Page struct {
	// Records holds the raw JSON of each record in source order. They are
	// sub-slices of one response body, valid for as long as the caller keeps them;
	// a record may be invalid JSON (normalize dead-letters it).
	Records [][]byte
	Number  int    // 1-based within this call of Pages
	Bytes   int    // size of the response body
	URL     string // the page's URL, redacted
}

// Stream reads the pages of one resource. It is immutable once built: each call
// of Pages makes its own paginator, so calls may overlap.
type Stream struct {
	c        *Client
	name     string
	method   string
	endpoint *url.URL // base_url + path, with the path's own query
	params   map[string]string
	selector string
	inc      *config.Incremental
	pcfg     *config.Paginator
}

// NewStream prepares the stream of resource r, read through c. Errors (a path that
// does not parse, an unsupported method or paginator) are *Error.
func NewStream(c *Client, r config.Resource) (*Stream, error) {
	method := strings.ToUpper(r.Endpoint.Method)
	switch method {
	case "":
		method = http.MethodGet
	case http.MethodGet, http.MethodPost:
	default:
		return nil, &Error{Code: CodeUnsupported, Err: fmt.Errorf("resource %q: endpoint.method %q is not supported", r.Name, r.Endpoint.Method),
			hint: "use GET or POST"}
	}
	ref, err := url.Parse(r.Endpoint.Path)
	if err != nil {
		return nil, &Error{Code: CodeValidation, Err: fmt.Errorf("resource %q: endpoint.path does not parse as a URL path", r.Name)}
	}
	var u *url.URL
	if ref.IsAbs() {
		u = ref
	} else {
		// JoinPath keeps base_url's path (https://host/v1 + customers =
		// https://host/v1/customers), where ResolveReference would replace its last
		// segment.
		u = c.base.JoinPath(ref.EscapedPath())
		q := c.base.Query()
		for k, vs := range ref.Query() {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	if _, err := NewPaginator(r.Endpoint.Paginator); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Err = fmt.Errorf("resource %q: %w", r.Name, e.Err)
		}
		return nil, err
	}
	return &Stream{c: c, name: r.Name, method: method, endpoint: u, params: r.Endpoint.Params,
		selector: r.Endpoint.DataSelector, inc: r.Endpoint.Incremental, pcfg: r.Endpoint.Paginator}, nil
}

// firstURL is the endpoint with params and the incremental start applied. A param
// whose value uses the placeholder is left out when there is no start value, as an
// empty "since=" would mean something else to most APIs.
func (s *Stream) firstURL(start string) *url.URL {
	u := *s.endpoint
	q := u.Query()
	for k, v := range s.params {
		if strings.Contains(v, StartPlaceholder) {
			if start == "" {
				continue
			}
			v = strings.ReplaceAll(v, StartPlaceholder, start)
		}
		q.Set(k, v)
	}
	if s.inc != nil && s.inc.StartParam != "" && start != "" {
		q.Set(s.inc.StartParam, start)
	}
	u.RawQuery = q.Encode()
	return &u
}

// Pages returns the stream's pages in order, fetched one at a time as the loop
// asks for them: nothing is read ahead, so a slow consumer slows the reads.
// start is the incremental start value ("" when the resource has none). On an
// error the iterator yields (Page{}, err) once, err being an *Error, and stops.
// Breaking out of the loop stops reading.
func (s *Stream) Pages(ctx context.Context, start string) iter.Seq2[Page, error] {
	return func(yield func(Page, error) bool) {
		p, err := NewPaginator(s.pcfg)
		if err != nil {
			yield(Page{}, err)
			return
		}
		u := p.First(s.firstURL(start))
		for n := 1; ; n++ {
			page, resp, err := s.fetch(ctx, u, n)
			if err != nil {
				yield(Page{}, err)
				return
			}
			if !yield(page, nil) {
				return
			}
			next, ok, err := p.Next(resp, len(page.Records))
			if err != nil {
				yield(Page{}, s.pageError(err, u, resp))
				return
			}
			if !ok {
				return
			}
			// Auth adds the api key on every request; a link that echoes it would
			// only duplicate it and hide a loop.
			next = stripQueryParam(next, s.c.red.param)
			if next.String() == u.String() {
				yield(Page{}, s.pageError(&Error{Code: CodeInvalid,
					Err:  errors.New("the API returned the same next page twice"),
					hint: "the paginator would loop forever; check endpoint.paginator against the API's documentation"}, u, resp))
				return
			}
			u = next
		}
	}
}

// FirstPage returns the first page only: a preview, or a connection check.
func (s *Stream) FirstPage(ctx context.Context, start string) (Page, error) {
	for page, err := range s.Pages(ctx, start) {
		return page, err
	}
	return Page{}, nil // not reached: Pages yields at least once
}

// fetch reads one page. Records are selected inside the retry loop (Validate) so
// that a body truncated by a closed connection is retried like any network error.
func (s *Stream) fetch(ctx context.Context, u *url.URL, n int) (Page, *Response, error) {
	var records [][]byte
	resp, err := s.c.Do(ctx, &Request{Method: s.method, URL: u, Validate: func(r *Response) error {
		var err error
		records, err = s.records(r)
		return err
	}})
	if err != nil {
		return Page{}, nil, err
	}
	return Page{Records: records, Number: n, Bytes: len(resp.Body), URL: s.c.Redact(u)}, resp, nil
}

// records checks the body's structure and splits the array data_selector selects.
func (s *Stream) records(r *Response) ([][]byte, error) {
	if r.Status == http.StatusNoContent {
		return nil, nil
	}
	// One pass over the body: find the records array, split it, then check the
	// structure of everything else (a body cut short after the records must not
	// pass for a last page).
	i, found, err := lookup(r.Body, s.selector)
	if err != nil {
		return nil, err
	}
	if !found || r.Body[i] != '[' {
		if err := CheckStructure(r.Body); err != nil {
			return nil, err
		}
	}
	if !found || isNull(r.Body[i:min(i+4, len(r.Body))]) {
		return nil, nil
	}
	if v := r.Body[i:]; v[0] != '[' {
		sel := s.selector
		if sel == "" {
			sel = "$"
		}
		return nil, &Error{Code: CodeParsing,
			Err:  fmt.Errorf("data_selector %q selects %s, not an array of records", sel, kindOf(v)),
			hint: "set endpoint.data_selector to the path of the records array in the response"}
	}
	recs, end, err := splitArray(r.Body, i)
	if err != nil {
		return nil, err
	}
	if err := checkStructure(r.Body, i, end); err != nil {
		return nil, err
	}
	return recs, nil
}

// pageError adds where an error happened to an error about a page's content.
func (s *Stream) pageError(err error, u *url.URL, resp *Response) error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: CodeParsing, Err: err}
	} else {
		c := *e
		e = &c
	}
	e.Method, e.URL = s.method, s.c.Redact(u)
	if resp != nil {
		e.Status, e.Attempts = resp.Status, resp.Attempts
		e.RequestID = requestID(resp.Header)
	}
	return e
}
