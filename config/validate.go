package config

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// StartValuePlaceholder in a param value is replaced by the incremental start value.
const StartValuePlaceholder = "{incremental.start_value}"

var (
	pipelineName = regexp.MustCompile(`^[a-z0-9_]+$`)
	placeholder  = regexp.MustCompile(`\{[A-Za-z_][A-Za-z0-9_.]*\}`)
)

// paginatorKeys lists, per paginator type, the keys besides type that it takes.
var paginatorKeys = map[string][]string{
	SinglePage: nil,
	HeaderLink: nil,
	JSONLink:   {"next_url_path"},
	CursorPage: {"cursor_path", "cursor_param", "has_more_path", "stop_after_empty_page"},
	OffsetPage: {"limit", "offset", "offset_param", "limit_param", "maximum_offset", "total_path", "stop_after_empty_page"},
	PageNumber: {"base_page", "page_param", "maximum_page", "total_path", "stop_after_empty_page"},
}

var paginatorTypes = "single_page, header_link, json_link, cursor, offset or page_number"

// dataTypes maps every accepted data_type spelling to its normalized name; dlt's
// spellings are accepted so that dlt configs carry over.
var dataTypes = map[string]string{
	"text": "text", "bigint": "bigint", "double": "double", "bool": "bool",
	"decimal": "decimal", "date": "date", "timestamp": "timestamp", "json": "json",
	"complex": "json", "timestamptz": "timestamp",
}

// validate checks the decoded, defaulted config and records every problem.
func validate(c *Config, p *problems) {
	switch {
	case c.Pipeline == "":
		p.at("pipeline", "required: a name made of lowercase letters, digits and _ (e.g. shop)")
	case !pipelineName.MatchString(c.Pipeline):
		p.at("pipeline", "%q is not a valid name (use lowercase letters, digits and _, e.g. shop_orders)", c.Pipeline)
	}
	switch c.Source.Type {
	case "rest":
	case "":
		p.at("source.type", "required (write type: rest)")
	default:
		p.at("source.type", "unknown source type %q (want rest)", c.Source.Type)
	}
	validateClient(&c.Source.Client, p)
	if len(c.Source.Resources) == 0 {
		p.at("source.resources", "at least one resource is required")
	}
	names := map[string]int{}
	for i := range c.Source.Resources {
		r := &c.Source.Resources[i]
		path := fmt.Sprintf("source.resources[%d]", i)
		if first, dup := names[r.Name]; dup && r.Name != "" {
			p.at(path+".name", "duplicate resource name %q (also source.resources[%d]); names must be unique", r.Name, first)
		} else {
			names[r.Name] = i
		}
		validateResource(r, path, p)
	}
	validateDestination(&c.Destination, p)
}

func validateClient(cl *Client, p *problems) {
	const path = "source.client"
	if cl.BaseURL == "" {
		p.at(path+".base_url", "required: the API's root URL (e.g. https://api.example.com)")
	} else if u, err := url.Parse(cl.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL itself is not echoed: it may carry credentials.
		p.at(path+".base_url", "must be an absolute http or https URL (e.g. https://api.example.com)")
	}
	if cl.Timeout <= 0 {
		p.at(path+".timeout", "must be positive (e.g. 30s)")
	}
	if cl.MaxPageBytes <= 0 {
		p.at(path+".max_page_bytes", "must be positive (e.g. 256MiB)")
	}
	r := cl.Retry
	if r.MaxAttempts < 1 {
		p.at(path+".retry.max_attempts", "must be at least 1 (1 means no retries)")
	}
	if r.InitialDelay <= 0 {
		p.at(path+".retry.initial_delay", "must be positive (e.g. 1s)")
	}
	if r.MaxDelay <= 0 {
		p.at(path+".retry.max_delay", "must be positive (e.g. 30s)")
	}
	if r.InitialDelay > 0 && r.MaxDelay > 0 && r.InitialDelay > r.MaxDelay {
		p.at(path+".retry.initial_delay", "%s is longer than max_delay %s", r.InitialDelay.D(), r.MaxDelay.D())
	}
	if cl.Auth != nil {
		validateAuth(cl.Auth, path+".auth", p)
	}
}

var authExamples = map[string]string{
	"token": "${API_TOKEN}", "name": "X-API-Key", "api_key": "${API_KEY}",
	"username": "${API_USER}", "password": "${API_PASSWORD}",
}

// validateAuth checks that the auth type is known and has exactly its own fields.
func validateAuth(a *Auth, path string, p *problems) {
	fields := map[string]bool{
		"token": a.Token != "", "name": a.Name != "", "api_key": a.APIKey != "",
		"location": a.Location != "", "username": a.Username != "", "password": a.Password != "",
	}
	var want []string
	switch a.Type {
	case "bearer":
		want = []string{"token"}
	case "api_key":
		want = []string{"name", "api_key", "location"}
		if a.Location != "header" && a.Location != "query" {
			p.at(path+".location", "%q is not a location (want header or query)", a.Location)
		}
	case "http_basic":
		want = []string{"username", "password"}
	case "":
		p.at(path+".type", "required (one of bearer, api_key, http_basic)")
		return
	default:
		p.at(path+".type", "unknown auth type %q (want bearer, api_key or http_basic)", a.Type)
		return
	}
	for _, k := range []string{"token", "name", "api_key", "location", "username", "password"} {
		needed := slices.Contains(want, k)
		switch {
		case needed && !fields[k]:
			p.at(path+"."+k, "required for %s auth (e.g. %s: %s)", a.Type, k, authExamples[k])
		case !needed && fields[k]:
			p.at(path+"."+k, "not a key of %s auth (its keys: %s)", a.Type, strings.Join(want, ", "))
		}
	}
}

func validateResource(r *Resource, path string, p *problems) {
	if r.Name == "" {
		p.at(path+".name", "required: the resource's name, which is also its table's name")
	}
	validateEndpoint(&r.Endpoint, path+".endpoint", p)
	switch r.WriteDisposition {
	case "merge":
		if len(r.PrimaryKey) == 0 {
			p.at(path+".primary_key", "required by write_disposition merge, the default (set primary_key, or write_disposition: append or replace)")
		}
	case "append", "replace":
	default:
		p.at(path+".write_disposition", "unknown write disposition %q (want merge, append or replace)", r.WriteDisposition)
	}
	for i, k := range r.PrimaryKey {
		if k == "" {
			p.at(fmt.Sprintf("%s.primary_key[%d]", path, i), "empty column name")
		}
	}
	if d := r.Deletes; d != nil && d.Flag == "" && d.DeletedAt == "" {
		p.at(path+".deletes", "set flag, deleted_at or both (or remove deletes)")
	}
	for _, name := range slices.Sorted(maps.Keys(r.Columns)) {
		spec := r.Columns[name]
		if spec.DataType == "" {
			p.at(path+".columns."+name+".data_type", "required (one of text, bigint, double, bool, decimal, date, timestamp, json)")
		} else if _, ok := dataTypes[spec.DataType]; !ok {
			p.at(path+".columns."+name+".data_type", "%q is not a data type (want text, bigint, double, bool, decimal, date, timestamp or json)", spec.DataType)
		}
	}
	if n := *r.MaxNesting; n < 0 || n > 10 {
		p.at(path+".max_nesting", "%d is out of range (want 0 to 10)", n)
	}
	if r.Batch.MaxRows < 1 {
		p.at(path+".batch.max_rows", "must be at least 1")
	}
	if r.Batch.MaxBytes < 1<<10 {
		p.at(path+".batch.max_bytes", "must be at least 1KiB")
	}
}

func validateEndpoint(e *Endpoint, path string, p *problems) {
	if e.Path == "" {
		p.at(path+".path", "required: the URL path, relative to base_url (e.g. /v1/customers)")
	} else if ph := placeholder.FindString(e.Path); ph != "" {
		p.at(path+".path", "placeholder %s is not supported in a path (only %s, in params)", ph, StartValuePlaceholder)
	}
	if e.Method != "GET" && e.Method != "POST" {
		p.at(path+".method", "%q is not a supported method (want GET or POST)", e.Method)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Params)) {
		for _, ph := range placeholder.FindAllString(e.Params[k], -1) {
			switch {
			case ph != StartValuePlaceholder:
				p.at(path+".params."+k, "unknown placeholder %s (the only one is %s)", ph, StartValuePlaceholder)
			case e.Incremental == nil:
				p.at(path+".params."+k, "%s needs an incremental block on the endpoint (with at least cursor_path)", ph)
			}
		}
	}
	validatePaginator(e.Paginator, path+".paginator", p)
	if inc := e.Incremental; inc != nil {
		if inc.CursorPath == "" {
			p.at(path+".incremental.cursor_path", "required: the record field that orders changes (e.g. updated_at)")
		}
		if inc.RowOrder != "" && inc.RowOrder != "asc" {
			p.at(path+".incremental.row_order", "%q is not a row order (want asc, or leave it out)", inc.RowOrder)
		}
	}
}

// validatePaginator checks the type and its required keys; keys of other types
// are rejected while decoding, where their position is known.
func validatePaginator(pg *Paginator, path string, p *problems) {
	if _, ok := paginatorKeys[pg.Type]; !ok {
		if pg.Type == "" {
			p.at(path+".type", "required (one of %s)", paginatorTypes)
		} else {
			p.at(path+".type", "unknown paginator type %q (want %s)", pg.Type, paginatorTypes)
		}
		return
	}
	need := func(key, val, example string) {
		if val == "" {
			p.at(path+"."+key, "required for the %s paginator (e.g. %s: %s)", pg.Type, key, example)
		}
	}
	switch pg.Type {
	case JSONLink:
		need("next_url_path", pg.NextURLPath, "paging.next")
	case CursorPage:
		need("cursor_path", pg.CursorPath, "next_cursor")
		need("cursor_param", pg.CursorParam, "cursor")
	case OffsetPage:
		if pg.Limit <= 0 {
			p.at(path+".limit", "required for the offset paginator: the page size, at least 1 (e.g. limit: 100)")
		}
	}
}

func validateDestination(d *Destination, p *problems) {
	switch d.Type {
	case "duckdb":
		if d.Path == "" {
			p.at("destination.path", "required: the DuckDB database file (e.g. ./shop.duckdb)")
		}
	case "":
		p.at("destination.type", "required (write type: duckdb)")
	default:
		p.at("destination.type", "unknown destination %q (want duckdb)", d.Type)
	}
}
