package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const shopYAML = `
pipeline: shop
source:
  type: rest
  client:
    base_url: http://${SHOP_HOST}
    headers: {Accept: application/json, X-Client: "${CLIENT_NAME:-elt}", X-Literal: "$${NOT_A_VAR}"}
    auth: {type: bearer, token: "${SHOP_TOKEN}"}
    timeout: 30s
    retry: {max_attempts: 5, initial_delay: 500ms, max_delay: 30s}
    max_page_bytes: ${PAGE_BYTES:-1.5MiB}
  resource_defaults: {write_disposition: merge}
  resources:
    - name: customers
      endpoint:
        path: /v1/customers
        params: {limit: 500, updated_since: "{incremental.start_value}"}
        data_selector: data
        paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor, has_more_path: has_more}
        incremental: {cursor_path: updatedAt, initial_value: "2020-01-01T00:00:00Z"}
      primary_key: id
      write_disposition: merge
      deletes: {flag: deleted, deleted_at: deletedAt}
      columns: {balanceCents: {data_type: bigint}, meta: {data_type: complex, nullable: false}}
    - name: events
      endpoint:
        path: /v1/events
        params: {per_page: 500}
        data_selector: "$"
        paginator: header_link
      primary_key: eventId
      max_nesting: ${NESTING}
destination:
  type: duckdb
  path: ./shop.duckdb
  dataset: shop
`

func ptr[T any](v T) *T { return &v }

func TestParseFullConfig(t *testing.T) {
	env := map[string]string{"SHOP_HOST": "localhost:8080", "SHOP_TOKEN": "tok-secret", "NESTING": "0"}
	got, err := Parse([]byte(shopYAML), "shop.yaml", mapEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	batch := Batch{MaxRows: DefaultBatchMaxRows, MaxBytes: 64 << 20}
	want := &Config{
		Pipeline: "shop",
		Source: Source{
			Type: "rest",
			Client: Client{
				BaseURL:      "http://localhost:8080",
				Headers:      map[string]string{"Accept": "application/json", "X-Client": "elt", "X-Literal": "${NOT_A_VAR}"},
				Auth:         &Auth{Type: "bearer", Token: "tok-secret"},
				Timeout:      Duration(30 * time.Second),
				Retry:        Retry{MaxAttempts: 5, InitialDelay: Duration(500 * time.Millisecond), MaxDelay: Duration(30 * time.Second)},
				MaxPageBytes: 1572864,
			},
			ResourceDefaults: map[string]any{"write_disposition": "merge"},
			Resources: []Resource{{
				Name: "customers",
				Endpoint: Endpoint{
					Path:         "/v1/customers",
					Method:       "GET",
					Params:       map[string]string{"limit": "500", "updated_since": "{incremental.start_value}"},
					DataSelector: "data",
					Paginator:    &Paginator{Type: CursorPage, CursorPath: "next_cursor", CursorParam: "cursor", HasMorePath: "has_more"},
					Incremental:  &Incremental{CursorPath: "updatedAt", InitialValue: "2020-01-01T00:00:00Z"},
				},
				PrimaryKey:       StringList{"id"},
				WriteDisposition: "merge",
				Deletes:          &Deletes{Flag: "deleted", DeletedAt: "deletedAt"},
				Columns: map[string]ColumnSpec{
					"balanceCents": {DataType: "bigint"},
					"meta":         {DataType: "json", Nullable: ptr(false)},
				},
				MaxNesting: ptr(3),
				Raw:        ptr(true),
				Batch:      batch,
			}, {
				Name: "events",
				Endpoint: Endpoint{
					Path:         "/v1/events",
					Method:       "GET",
					Params:       map[string]string{"per_page": "500"},
					DataSelector: "$",
					Paginator:    &Paginator{Type: HeaderLink},
				},
				PrimaryKey:       StringList{"eventId"},
				WriteDisposition: "merge", // from resource_defaults
				MaxNesting:       ptr(0),
				Raw:              ptr(true),
				Batch:            batch,
			}},
		},
		Destination: Destination{Type: "duckdb", Path: "./shop.duckdb", Dataset: "shop"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded config differs\n got: %+v\nwant: %+v", got, want)
		for i := range want.Source.Resources {
			if i < len(got.Source.Resources) && !reflect.DeepEqual(got.Source.Resources[i], want.Source.Resources[i]) {
				t.Errorf("resource %d\n got: %+v\nwant: %+v", i, got.Source.Resources[i], want.Source.Resources[i])
			}
		}
	}
	if typ, ok := got.Source.Resources[0].DeclaredType("meta"); !ok || typ != "json" {
		t.Errorf("DeclaredType(meta) = %q, %v", typ, ok)
	}
	if _, ok := got.Source.Resources[0].DeclaredType("nope"); ok {
		t.Error("DeclaredType(nope) should be false")
	}
	if r, ok := got.Resource("events"); !ok || r != &got.Source.Resources[1] {
		t.Error("Resource(events) not found")
	}
	if !got.Source.Resources[1].Endpoint.Paginator.StopsAfterEmptyPage() {
		t.Error("stop_after_empty_page should default to true")
	}
}

// TestDefaults checks the defaults of a minimal config, and that an explicit value
// is kept even when it equals the zero value.
func TestDefaults(t *testing.T) {
	const y = `
pipeline: p
source:
  type: rest
  client:
    base_url: https://x.example
    auth: {type: api_key, name: X-Key, api_key: k}
  resources:
    - {name: a, endpoint: {path: /a, method: post, paginator: {type: offset, limit: 10, stop_after_empty_page: false}}, write_disposition: append}
    - {name: b, endpoint: {path: /b, paginator: page_number}, primary_key: [x, y], max_nesting: 0, raw: false}
destination: {type: duckdb, path: p.duckdb}
`
	c, err := Parse([]byte(y), "p.yaml", mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Source.Client
	if cl.Timeout.D() != 30*time.Second || cl.Retry != (Retry{5, Duration(time.Second), Duration(30 * time.Second)}) || cl.MaxPageBytes != 256<<20 {
		t.Errorf("client defaults: %+v", cl)
	}
	if cl.Auth.Location != "header" {
		t.Errorf("api_key location = %q", cl.Auth.Location)
	}
	if c.Destination.Dataset != "p" {
		t.Errorf("dataset = %q", c.Destination.Dataset)
	}
	a, b := c.Source.Resources[0], c.Source.Resources[1]
	if a.Endpoint.Method != "POST" || *a.MaxNesting != 3 || !*a.Raw || a.Batch != (Batch{DefaultBatchMaxRows, 64 << 20}) {
		t.Errorf("resource a: %+v", a)
	}
	if p := a.Endpoint.Paginator; p.OffsetParam != "offset" || p.LimitParam != "limit" || p.StopsAfterEmptyPage() {
		t.Errorf("offset paginator: %+v", p)
	}
	if b.WriteDisposition != "merge" || *b.MaxNesting != 0 || *b.Raw || !reflect.DeepEqual(b.PrimaryKey, StringList{"x", "y"}) {
		t.Errorf("resource b: %+v", b)
	}
	if p := b.Endpoint.Paginator; p.PageParam != "page" || p.BasePage != 0 {
		t.Errorf("page_number paginator: %+v", p)
	}
	var none *Paginator
	if !none.StopsAfterEmptyPage() {
		t.Error("nil paginator should stop after an empty page")
	}
}

func TestResourceDefaultsDeepMerge(t *testing.T) {
	const y = `
pipeline: p
source:
  type: rest
  client: {base_url: https://x.example}
  resource_defaults:
    primary_key: [a, b]
    endpoint: {method: POST, params: {x: "1", y: "2"}, paginator: {type: offset, limit: 50}}
    batch: {max_rows: 10}
  resources:
    - name: one
      endpoint: {path: /one, params: {y: "3"}}
    - name: two
      primary_key: id
      endpoint: {path: /two, paginator: header_link}
destination: {type: duckdb, path: p.duckdb}
`
	c, err := Parse([]byte(y), "p.yaml", mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	one, two := c.Source.Resources[0], c.Source.Resources[1]
	if !reflect.DeepEqual(one.Endpoint.Params, map[string]string{"x": "1", "y": "3"}) || one.Endpoint.Method != "POST" {
		t.Errorf("nested mappings should merge, the resource winning: %+v", one.Endpoint)
	}
	if !reflect.DeepEqual(one.PrimaryKey, StringList{"a", "b"}) || !reflect.DeepEqual(two.PrimaryKey, StringList{"id"}) {
		t.Errorf("primary keys: %v %v", one.PrimaryKey, two.PrimaryKey)
	}
	if one.Endpoint.Paginator.Limit != 50 || two.Endpoint.Paginator.Type != HeaderLink || two.Endpoint.Paginator.Limit != 0 {
		t.Errorf("a scalar paginator replaces the default mapping: %+v %+v", one.Endpoint.Paginator, two.Endpoint.Paginator)
	}
	if one.Batch.MaxRows != 10 || two.Batch.MaxRows != 10 || one.Batch.MaxBytes != 64<<20 {
		t.Errorf("batch: %+v %+v", one.Batch, two.Batch)
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "64MiB": 64 << 20, "512KiB": 512 << 10, "1GB": 1e9,
		"10MB": 10e6, "1.5GiB": 3 << 29, "10 mb": 10e6, "7B": 7,
	} {
		if got, ok := parseByteSize(in); !ok || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.2.3MB", "12 parsecs", "1e400GB"} {
		if got, ok := parseByteSize(in); ok {
			t.Errorf("parseByteSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestExpand(t *testing.T) {
	env := mapEnv(map[string]string{"A": "x", "EMPTY": ""})
	for in, want := range map[string]string{
		"${A}":           "x",
		"a${A}b${A}":     "axbx",
		"${B:-def}":      "def",
		"${EMPTY:-def}":  "def",
		"${A:-def}":      "x",
		"${EMPTY}":       "",
		"$${A}":          "${A}",
		"$$${A}":         "$${A}", // left to right: a plain $, then the escape
		"cost: $5 {a}":   "cost: $5 {a}",
		"${B:-}":         "",
		"${B:-a:-b}":     "a:-b",
		"$${A} and ${A}": "${A} and x",
	} {
		var probs []string
		got, ok := expand(in, env, func(f string, a ...any) { probs = append(probs, f) })
		if !ok || got != want {
			t.Errorf("expand(%q) = %q, %v %v; want %q", in, got, ok, probs, want)
		}
	}
	for _, in := range []string{"${B}", "${A", "${}", "${A B}", "${B} ${C}"} {
		if _, ok := expand(in, env, func(string, ...any) {}); ok {
			t.Errorf("expand(%q) should fail", in)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"type", "cursor_path", "cursor_param", "write_disposition"}
	for in, want := range map[string]string{"tpye": "type", "cursor_pth": "cursor_path", "write_dispositon": "write_disposition", "cursorparam": "cursor_param", "zzz": ""} {
		if _, got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	t.Setenv("ELT_TEST_TOKEN", "from-env")
	y := strings.Replace(shopYAML, "${SHOP_TOKEN}", "${ELT_TEST_TOKEN}", 1)
	y = strings.NewReplacer("${SHOP_HOST}", "h", "${NESTING}", "1").Replace(y)
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.Client.Auth.Token.Reveal() != "from-env" {
		t.Errorf("token not taken from the environment")
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"))
	var cerr *Error
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// TestErrorForms checks Error()'s one-problem and many-problem layouts.
func TestErrorForms(t *testing.T) {
	one := &Error{File: "f.yaml", Problems: []Problem{{Path: "a.b", Line: 3, Msg: "bad"}}}
	if got := one.Error(); got != "config f.yaml: line 3: a.b: bad" {
		t.Errorf("one: %q", got)
	}
	two := &Error{File: "f.yaml", Problems: []Problem{{Msg: "x"}, {Path: "p", Msg: "y"}}}
	if got := two.Error(); got != "config f.yaml: 2 problems:\n  x\n  p: y" {
		t.Errorf("two: %q", got)
	}
	noFile := &Error{Problems: []Problem{{Path: "a", Msg: "bad"}}}
	if got := noFile.Error(); got != "config: a: bad" {
		t.Errorf("no file: %q", got)
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`)

// TestRepoConfigs parses every example in ../configs with each ${VAR} it mentions
// set to a dummy value, so that examples cannot rot.
func TestRepoConfigs(t *testing.T) {
	files, err := filepath.Glob("../configs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yml, _ := filepath.Glob("../configs/*.yml")
	files = append(files, yml...)
	if len(files) == 0 {
		t.Log("no ../configs/*.yaml files yet; nothing to check")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, m := range envRef.FindAllStringSubmatch(string(data), -1) {
				env[m[1]] = dummyFor(m[1])
			}
			if _, err := Parse(data, f, mapEnv(env)); err != nil {
				t.Error(err)
			}
		})
	}
}

// dummyFor picks a value that passes validation where the variable is likely used.
func dummyFor(name string) string {
	switch n := strings.ToUpper(name); {
	case strings.Contains(n, "URL"), strings.HasSuffix(n, "_API"):
		return "http://127.0.0.1:1"
	case strings.Contains(n, "HOST"):
		return "127.0.0.1:1"
	case strings.Contains(n, "PORT"):
		return "1"
	default:
		return "dummy"
	}
}
