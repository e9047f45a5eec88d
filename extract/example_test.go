package extract_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"

	"github.com/eltdev/elt/config"
	"github.com/eltdev/elt/extract"
)

// The package on its own: a client, a resource with a cursor paginator and an
// incremental start value, and a loop over its pages.
func Example() {
	// A small API: two pages of customers, the first answered with a 503 once.
	failed := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if !failed {
			failed = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Query().Get("cursor") {
		case "":
			fmt.Fprint(w, `{"data": [{"id": 1}, {"id": 2}], "meta": {"next_cursor": "c2"}}`)
		case "c2":
			fmt.Fprint(w, `{"data": [{"id": 3}], "meta": {"next_cursor": null}}`)
		}
	}))
	defer srv.Close()

	client, err := extract.NewClient(config.Client{
		BaseURL: srv.URL + "/v1",
		Auth:    &config.Auth{Type: "bearer", Token: "s3cret"},
		Retry:   config.Retry{InitialDelay: config.Duration(1)}, // 1ns: keep the example fast
	}, extract.WithOnRetry(func(ev extract.RetryEvent) {
		fmt.Printf("retrying after attempt %d: HTTP %d\n", ev.Attempt, ev.Status)
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	stream, err := extract.NewStream(client, config.Resource{
		Name: "customers",
		Endpoint: config.Endpoint{
			Path:         "customers",
			Params:       map[string]string{"updated_since": "{incremental.start_value}"},
			DataSelector: "data",
			Paginator:    &config.Paginator{Type: config.CursorPage, CursorPath: "meta.next_cursor"},
			Incremental:  &config.Incremental{CursorPath: "updated_at"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for page, err := range stream.Pages(context.Background(), "2024-01-01") {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("page", page.Number, "records", strconv.Quote(fmt.Sprintf("%s", page.Records)))
	}
	// Output:
	// retrying after attempt 1: HTTP 503
	// page 1 records "[{\"id\": 1} {\"id\": 2}]"
	// page 2 records "[{\"id\": 3}]"
}
