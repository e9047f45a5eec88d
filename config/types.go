// Package config is elt's user-facing contract: the YAML pipeline file, decoded
// strictly (unknown keys and wrong types are errors naming their YAML path), with
// ${VAR} interpolation from the environment and secrets that never print.
//
// The vocabulary follows dlt's rest_api source so that its users feel at home.
package config

import "time"

// Config is one pipeline file.
type Config struct {
	Pipeline    string      `yaml:"pipeline"` // required, [a-z0-9_]+
	Source      Source      `yaml:"source"`
	Destination Destination `yaml:"destination"`
}

// Source says where records come from.
type Source struct {
	Type string `yaml:"type"` // "rest"
	// Client configures the HTTP client shared by every resource.
	Client Client `yaml:"client"`
	// ResourceDefaults is merged into every resource before it is decoded; a key the
	// resource sets itself wins. (Decoded only as part of the merge; kept for
	// introspection.)
	ResourceDefaults map[string]any `yaml:"resource_defaults"`
	Resources        []Resource     `yaml:"resources"`
}

// Client is the HTTP client configuration.
type Client struct {
	BaseURL string            `yaml:"base_url"` // required, http or https
	Headers map[string]string `yaml:"headers"`
	Auth    *Auth             `yaml:"auth"`
	Timeout Duration          `yaml:"timeout"` // per request; default 30s
	Retry   Retry             `yaml:"retry"`
	// MaxPageBytes caps one response body; a larger page fails the run rather than
	// exhausting memory. Default 256MiB.
	MaxPageBytes ByteSize `yaml:"max_page_bytes"`
}

// Auth is one of: bearer (token), api_key (name, api_key, location header|query),
// http_basic (username, password).
type Auth struct {
	Type     string `yaml:"type"`
	Token    Secret `yaml:"token"`    // bearer
	Name     string `yaml:"name"`     // api_key: header or query parameter name
	APIKey   Secret `yaml:"api_key"`  // api_key: the key
	Location string `yaml:"location"` // api_key: header (default) | query
	Username string `yaml:"username"` // http_basic
	Password Secret `yaml:"password"` // http_basic
}

// Retry is the retry policy for one request.
type Retry struct {
	MaxAttempts  int      `yaml:"max_attempts"`  // total tries including the first; default 5
	InitialDelay Duration `yaml:"initial_delay"` // default 1s
	MaxDelay     Duration `yaml:"max_delay"`     // default 30s; also caps Retry-After
}

// Resource is one stream: an endpoint and how its records become a table.
type Resource struct {
	Name             string                `yaml:"name"` // required; the table name (normalized)
	Endpoint         Endpoint              `yaml:"endpoint"`
	PrimaryKey       StringList            `yaml:"primary_key"`       // string or list; required for merge
	WriteDisposition string                `yaml:"write_disposition"` // merge (default) | append | replace
	Deletes          *Deletes              `yaml:"deletes"`
	Columns          map[string]ColumnSpec `yaml:"columns"`     // keyed by source field name
	MaxNesting       *int                  `yaml:"max_nesting"` // default 3
	Raw              *bool                 `yaml:"raw"`         // keep _raw; default true
	Batch            Batch                 `yaml:"batch"`
}

// Endpoint is the HTTP side of a resource.
type Endpoint struct {
	Path   string `yaml:"path"`   // required; relative to base_url, or absolute
	Method string `yaml:"method"` // GET (default) | POST
	// Params are query parameters. A value may contain {incremental.start_value}.
	Params       map[string]string `yaml:"params"`
	DataSelector string            `yaml:"data_selector"` // dotted path; "$" or empty = the body
	Paginator    *Paginator        `yaml:"paginator"`     // string shorthand or mapping; default single_page
	Incremental  *Incremental      `yaml:"incremental"`
}

// Paginator types.
const (
	SinglePage = "single_page"
	HeaderLink = "header_link"
	JSONLink   = "json_link"
	CursorPage = "cursor"
	OffsetPage = "offset"
	PageNumber = "page_number"
)

// Paginator says how to get the next page. YAML accepts the type name alone as a
// shorthand: `paginator: header_link`.
type Paginator struct {
	Type string `yaml:"type"`
	// json_link
	NextURLPath string `yaml:"next_url_path"`
	// cursor
	CursorPath  string `yaml:"cursor_path"`
	CursorParam string `yaml:"cursor_param"`
	HasMorePath string `yaml:"has_more_path"`
	// offset
	Limit         int    `yaml:"limit"`
	Offset        int    `yaml:"offset"` // first offset; default 0
	OffsetParam   string `yaml:"offset_param"`
	LimitParam    string `yaml:"limit_param"`
	MaximumOffset int    `yaml:"maximum_offset"`
	// page_number
	BasePage    int    `yaml:"base_page"` // number of the first page; default 0 (as dlt), set 1 for 1-based APIs
	PageParam   string `yaml:"page_param"`
	MaximumPage int    `yaml:"maximum_page"`
	// offset, page_number
	TotalPath string `yaml:"total_path"`
	// cursor, offset, page_number: stop at the first page with no records. Default true.
	StopAfterEmptyPage *bool `yaml:"stop_after_empty_page"`
}

// Incremental makes a resource load only what changed since the last committed
// cursor.
type Incremental struct {
	CursorPath   string `yaml:"cursor_path"`   // required; dotted path in the record
	InitialValue string `yaml:"initial_value"` // the start value when no state exists
	// StartParam, when set, is a query parameter that receives the start value, as an
	// alternative to {incremental.start_value} in params.
	StartParam string `yaml:"start_param"`
	// RowOrder "asc" declares that the API returns records in ascending cursor order,
	// so the cursor may be checkpointed after every batch; otherwise it moves only when
	// the stream has been read to the end (a crash then re-reads, never skips).
	RowOrder string `yaml:"row_order"`
}

// Deletes maps source fields onto soft deletes.
type Deletes struct {
	Flag      string `yaml:"flag"`       // a truthy value marks the record deleted
	DeletedAt string `yaml:"deleted_at"` // when it was deleted
}

// ColumnSpec declares a column's type; declared types win over inference and values
// that violate them become dead letters.
type ColumnSpec struct {
	DataType string `yaml:"data_type"` // text|bigint|double|bool|decimal|date|timestamp|json
	Nullable *bool  `yaml:"nullable"`  // default true
}

// Batch caps how much one batch (one destination transaction) holds.
type Batch struct {
	MaxRows  int      `yaml:"max_rows"`  // default 50000
	MaxBytes ByteSize `yaml:"max_bytes"` // default 64MiB of source JSON
}

// Destination says where tables go.
type Destination struct {
	Type    string `yaml:"type"`    // duckdb
	Path    string `yaml:"path"`    // duckdb: database file; required
	Dataset string `yaml:"dataset"` // schema; default: the pipeline name
}

// Duration is a time.Duration written as "30s", "500ms", "1m".
type Duration time.Duration

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ByteSize is a size written as a number of bytes or with a unit: "64MiB", "1GB", "512KiB".
type ByteSize int64

// StringList is a YAML string or list of strings.
type StringList []string

// Secret is a string that never prints: fmt, logs and errors see "***".
type Secret string

// Reveal returns the secret's value, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }
