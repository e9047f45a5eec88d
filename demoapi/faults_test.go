package demoapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fetch does one request and reports status, Retry-After and the body read error.
func fetch(t *testing.T, c *http.Client, u string) (int, string, []byte, error) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), b, err
}

func TestFaults(t *testing.T) {
	cases := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, status int, retryAfter string, body []byte, err error, took time.Duration)
	}{
		{"rate limit", Faults{RateLimitEvery: 3}, func(t *testing.T, status int, ra string, _ []byte, err error, _ time.Duration) {
			if status != 429 || ra != "1" || err != nil {
				t.Errorf("status %d Retry-After %q err %v", status, ra, err)
			}
		}},
		{"unavailable", Faults{UnavailableEvery: 3}, func(t *testing.T, status int, _ string, _ []byte, err error, _ time.Duration) {
			if status != 503 || err != nil {
				t.Errorf("status %d err %v", status, err)
			}
		}},
		{"cut body", Faults{CutBodyEvery: 3}, func(t *testing.T, status int, _ string, body []byte, err error, _ time.Duration) {
			if status != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || len(body) == 0 {
				t.Errorf("status %d, %d bytes, err %v; want io.ErrUnexpectedEOF after half a body", status, len(body), err)
			}
		}},
		{"stall", Faults{StallEvery: 3, Stall: 300 * time.Millisecond}, func(t *testing.T, status int, _ string, _ []byte, err error, took time.Duration) {
			if status != 200 || err != nil || took < 300*time.Millisecond {
				t.Errorf("status %d err %v took %v", status, err, took)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, Options{Faults: tc.faults})
			var mu sync.Mutex
			var seen []int64
			s.OnRequest(func(n int64) { mu.Lock(); seen = append(seen, n); mu.Unlock() })
			c := &http.Client{}
			for n := int64(1); n <= 7; n++ {
				// Different endpoints share the one request counter.
				u := s.URL() + []string{"/v1/orders?limit=500", "/v1/customers?limit=500", "/v1/events"}[n%3]
				t0 := time.Now()
				status, ra, body, err := fetch(t, c, u)
				took := time.Since(t0)
				if n%3 == 0 {
					tc.check(t, status, ra, body, err, took)
					continue
				}
				if status != 200 || err != nil || !json.Valid(body) || took > 250*time.Millisecond {
					t.Errorf("request %d: status %d err %v valid %v took %v", n, status, err, json.Valid(body), took)
				}
			}
			if s.Requests() != 7 || len(seen) != 7 || seen[6] != 7 {
				t.Errorf("Requests %d, hook saw %v", s.Requests(), seen)
			}
		})
	}
}

func TestStallRespectsContext(t *testing.T) {
	s := start(t, Options{Faults: Faults{StallEvery: 1, Stall: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/healthz", nil)
	t0 := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("stalled request answered")
	}
	for s.busy.Load() != 0 {
		if time.Since(t0) > 5*time.Second {
			t.Fatal("stall ignored the context")
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a stalled request")
	}
}

func TestFaultPriority(t *testing.T) {
	s := start(t, Options{Faults: Faults{RateLimitEvery: 2, UnavailableEvery: 2, CutBodyEvery: 2}})
	want := []int{200, 429, 200, 429}
	for i, w := range want {
		status, _, _, err := fetch(t, http.DefaultClient, s.URL()+"/healthz")
		if status != w || err != nil {
			t.Errorf("request %d: %d %v, want %d", i+1, status, err, w)
		}
	}
}
