package extract

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/eltdev/elt/config"
)

// Paginator decides which URL to fetch after each page.
//
// Lifecycle: a Paginator serves one pass over one stream and is not safe for
// concurrent use; NewPaginator makes a fresh one per pass. The Stream calls First
// once with the URL of the first request (endpoint path, params and incremental
// start applied) and fetches the URL First returns, which may carry the
// paginator's own parameters (offset=0&limit=100). After each page it calls Next
// with that page's complete response and the number of records selected from it.
// Next returns the URL of the following page with ok true, or ok false when the
// stream is complete; an error ends the stream. Next is not called again after it
// returned ok false or an error. URLs passed in and returned are not modified
// afterwards by either side.
type Paginator interface {
	First(u *url.URL) *url.URL
	Next(resp *Response, records int) (next *url.URL, ok bool, err error)
}

// NewPaginator builds the paginator a resource's config describes; nil is
// single_page. Zero values get dlt's defaults. Errors are *Error with Code
// VALIDATION_ERROR (a paginator that could never stop) or UNSUPPORTED.
func NewPaginator(p *config.Paginator) (Paginator, error) {
	if p == nil {
		return singlePage{}, nil
	}
	stopEmpty := p.StopAfterEmptyPage == nil || *p.StopAfterEmptyPage
	switch p.Type {
	case "", config.SinglePage:
		return singlePage{}, nil
	case config.HeaderLink:
		return headerLink{}, nil
	case config.JSONLink:
		return jsonLink{path: or(p.NextURLPath, "next")}, nil
	case config.CursorPage:
		return &cursorPager{
			path:      or(p.CursorPath, "cursors.next"),
			param:     or(p.CursorParam, "cursor"),
			hasMore:   p.HasMorePath,
			stopEmpty: stopEmpty,
		}, nil
	case config.OffsetPage:
		if p.Limit <= 0 {
			return nil, invalidPaginator("offset needs a limit greater than 0 (paginator.limit)")
		}
		return &offsetPager{
			offset:      p.Offset,
			limit:       p.Limit,
			offsetParam: or(p.OffsetParam, "offset"),
			limitParam:  or(p.LimitParam, "limit"),
			totalPath:   p.TotalPath,
			maxOffset:   p.MaximumOffset,
			stopEmpty:   stopEmpty,
		}, nil
	case config.PageNumber:
		if p.TotalPath == "" && p.MaximumPage == 0 && !stopEmpty {
			return nil, invalidPaginator("page_number needs total_path, maximum_page or stop_after_empty_page to know when to stop")
		}
		return &pageNumber{
			page:      p.BasePage,
			base:      p.BasePage,
			param:     or(p.PageParam, "page"),
			totalPath: p.TotalPath,
			maxPage:   p.MaximumPage,
			stopEmpty: stopEmpty,
		}, nil
	}
	return nil, &Error{Code: CodeUnsupported, Err: fmt.Errorf("paginator type %q is not supported", p.Type),
		hint: "use single_page, header_link, json_link, cursor, offset or page_number"}
}

func invalidPaginator(msg string) error {
	return &Error{Code: CodeValidation, Err: fmt.Errorf("paginator: %s", msg), hint: "check endpoint.paginator"}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// withParam returns a copy of u with query parameter k set to v.
func withParam(u *url.URL, k, v string) *url.URL {
	c := *u
	q := c.Query()
	q.Set(k, v)
	c.RawQuery = q.Encode()
	return &c
}

// missing reports a configured path absent from a response: pagination cannot
// decide safely, and guessing would either loop or silently drop pages.
func missing(option, path string) error {
	return &Error{Code: CodeParsing, Err: fmt.Errorf("paginator.%s %q is not in the response", option, path),
		hint: "the response is not the JSON the config describes; check endpoint.paginator." + option}
}

// required reads a value the paginator's config says every response has: its
// absence is an error, since guessing would either loop or drop pages.
func required[T any](lookup func([]byte, string) (T, bool, error), body []byte, option, path string) (T, error) {
	v, found, err := lookup(body, path)
	if err == nil && !found {
		err = missing(option, path)
	}
	return v, err
}

// singlePage fetches one page.
type singlePage struct{}

func (singlePage) First(u *url.URL) *url.URL { return u }
func (singlePage) Next(*Response, int) (*url.URL, bool, error) {
	return nil, false, nil
}

// headerLink follows the RFC 8288 Link header's rel="next" (GitHub style).
type headerLink struct{}

func (headerLink) First(u *url.URL) *url.URL { return u }
func (headerLink) Next(resp *Response, _ int) (*url.URL, bool, error) {
	target, ok := nextLink(resp.Header.Values("Link"))
	if !ok || target == "" {
		return nil, false, nil
	}
	return resolve(resp.URL, target, "the Link header")
}

func resolve(base *url.URL, ref, where string) (*url.URL, bool, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, false, &Error{Code: CodeParsing, Err: fmt.Errorf("the next page's URL in %s does not parse", where)}
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	return u, true, nil
}

// nextLink finds the target of the first link with relation "next" in Link header
// values, each of which may hold several comma-separated links:
//
//	<https://api.example.com/items?page=2>; rel="next", <...?page=9>; rel="last"
//
// rel may list several relations (rel="next last"); other parameters, quoted
// strings with commas or semicolons included, are skipped.
func nextLink(values []string) (string, bool) {
	for _, s := range values {
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" || s[0] != '<' {
				break
			}
			end := strings.IndexByte(s, '>')
			if end < 0 {
				break
			}
			target := s[1:end]
			s = s[end+1:]
			isNext := false
			for {
				s = strings.TrimLeft(s, " \t")
				if s == "" || s[0] != ';' {
					break
				}
				s = strings.TrimLeft(s[1:], " \t")
				i := strings.IndexAny(s, "=;,")
				var name, value string
				if i < 0 || s[i] != '=' {
					if i < 0 {
						i = len(s)
					}
					name, s = s[:i], s[i:]
				} else {
					name = s[:i]
					value, s = linkParamValue(strings.TrimLeft(s[i+1:], " \t"))
				}
				if strings.EqualFold(strings.TrimSpace(name), "rel") {
					for _, r := range strings.Fields(value) {
						if strings.EqualFold(r, "next") {
							isNext = true
						}
					}
				}
			}
			if isNext {
				return strings.TrimSpace(target), true
			}
		}
	}
	return "", false
}

// linkParamValue reads a token or a quoted string and returns it with the rest.
func linkParamValue(s string) (value, rest string) {
	if s == "" || s[0] != '"' {
		i := strings.IndexAny(s, ";,")
		if i < 0 {
			return strings.TrimSpace(s), ""
		}
		return strings.TrimSpace(s[:i]), s[i:]
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), ""
}

// jsonLink follows a URL found in the body (next_url_path); null or "" stops.
type jsonLink struct{ path string }

func (jsonLink) First(u *url.URL) *url.URL { return u }
func (p jsonLink) Next(resp *Response, _ int) (*url.URL, bool, error) {
	next, found, err := LookupString(resp.Body, p.path)
	if err != nil || !found || next == "" {
		return nil, false, err
	}
	return resolve(resp.URL, next, "paginator.next_url_path")
}

// cursorPager sends the cursor found in each response as a query parameter.
type cursorPager struct {
	cur       *url.URL
	path      string // cursor_path
	param     string // cursor_param
	hasMore   string // has_more_path, optional
	stopEmpty bool
}

func (p *cursorPager) First(u *url.URL) *url.URL { p.cur = u; return u }
func (p *cursorPager) Next(resp *Response, records int) (*url.URL, bool, error) {
	if records == 0 && p.stopEmpty {
		return nil, false, nil
	}
	if p.hasMore != "" {
		more, err := required(LookupBool, resp.Body, "has_more_path", p.hasMore)
		if err != nil {
			return nil, false, err
		}
		if !more {
			return nil, false, nil
		}
	}
	cursor, found, err := LookupString(resp.Body, p.path)
	if err != nil || !found || cursor == "" {
		return nil, false, err
	}
	p.cur = withParam(p.cur, p.param, cursor)
	return p.cur, true, nil
}

// offsetPager walks offset/limit windows.
//
// It stops on an empty page (stop_after_empty_page), when the offset reaches the
// total (total_path) or maximum_offset, or, without a total, on a page shorter
// than the limit: a short page is the API saying there is no more.
type offsetPager struct {
	cur                     *url.URL
	offset, limit           int
	offsetParam, limitParam string
	totalPath               string
	maxOffset               int
	stopEmpty               bool
}

func (p *offsetPager) First(u *url.URL) *url.URL {
	p.cur = withParam(withParam(u, p.offsetParam, strconv.Itoa(p.offset)), p.limitParam, strconv.Itoa(p.limit))
	return p.cur
}

func (p *offsetPager) Next(resp *Response, records int) (*url.URL, bool, error) {
	if records == 0 && p.stopEmpty {
		return nil, false, nil
	}
	p.offset += p.limit
	if p.totalPath != "" {
		total, err := required(LookupInt, resp.Body, "total_path", p.totalPath)
		if err != nil {
			return nil, false, err
		}
		if int64(p.offset) >= total {
			return nil, false, nil
		}
	} else if records < p.limit {
		return nil, false, nil
	}
	if p.maxOffset > 0 && p.offset >= p.maxOffset {
		return nil, false, nil
	}
	p.cur = withParam(p.cur, p.offsetParam, strconv.Itoa(p.offset))
	return p.cur, true, nil
}

// pageNumber counts pages from base_page. total_path is the number of PAGES;
// maximum_page is the last page number requested (inclusive).
type pageNumber struct {
	cur        *url.URL
	page, base int
	param      string
	totalPath  string
	maxPage    int
	stopEmpty  bool
}

func (p *pageNumber) First(u *url.URL) *url.URL {
	p.cur = withParam(u, p.param, strconv.Itoa(p.page))
	return p.cur
}

func (p *pageNumber) Next(resp *Response, records int) (*url.URL, bool, error) {
	if records == 0 && p.stopEmpty {
		return nil, false, nil
	}
	p.page++
	if p.totalPath != "" {
		total, err := required(LookupInt, resp.Body, "total_path", p.totalPath)
		if err != nil {
			return nil, false, err
		}
		if int64(p.page-p.base) >= total {
			return nil, false, nil
		}
	}
	if p.maxPage > 0 && p.page > p.maxPage {
		return nil, false, nil
	}
	p.cur = withParam(p.cur, p.param, strconv.Itoa(p.page))
	return p.cur, true, nil
}
