// Package pipeline is elt's run loop: for each stream it reads pages from the source,
// cuts them into bounded batches, normalizes each batch into Arrow, plans the
// additive schema change and hands the batch to the destination, which commits rows,
// dead letters and checkpoint in one transaction. cmd/elt only parses flags and wires
// this package; tests drive it without a process.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eltdev/elt/config"
	"github.com/eltdev/elt/extract"
	"github.com/eltdev/elt/load"
	"github.com/eltdev/elt/state"
)

// Options tune one run.
type Options struct {
	// Streams limits the run to these resources (by name); empty = all.
	Streams []string
	// FullRefresh ignores committed cursors and reads every stream from its
	// initial value.
	FullRefresh bool
	// Progress receives a line per stream every ProgressEvery; nil = silent.
	Progress      io.Writer
	ProgressEvery time.Duration // default 1s
	Logger        *slog.Logger  // default: discard
	// Concurrency is how many streams sync at once; default 4.
	Concurrency int
	// Now is the connector clock (ingested_at); default time.Now.
	Now func() time.Time
	// ClientOptions are passed to the HTTP client (tests inject sleeps and transports).
	ClientOptions []extract.Option
}

// StreamSummary is what one stream did in a run.
type StreamSummary struct {
	Stream      string
	Table       string
	Pages       int64
	RowsRead    int64
	RowsWritten int64
	Skipped     int64 // older than what the table holds
	Duplicates  int64 // collapsed inside a batch
	DeadLetters int64
	Batches     int64
	Migrations  int
	Cursor      string // committed cursor at the end
	Duration    time.Duration
	Err         error
}

// Summary is what a run did.
type Summary struct {
	RunID   string
	Status  state.RunStatus
	Streams []StreamSummary
}

// Totals adds up the streams.
func (s Summary) Totals() (read, written, dead int64) {
	for _, st := range s.Streams {
		read += st.RowsRead
		written += st.RowsWritten
		dead += st.DeadLetters
	}
	return read, written, dead
}

// Run syncs the configured streams into dest. Streams sync in parallel; one stream's
// failure does not stop the others, and the run fails with every stream's error.
func Run(ctx context.Context, cfg *config.Config, dest load.Destination, opts Options) (Summary, error) {
	opts = withDefaults(opts)
	resources, err := Select(cfg, opts.Streams)
	if err != nil {
		return Summary{}, err
	}
	client, err := newClient(cfg, opts)
	if err != nil {
		return Summary{}, err
	}
	if err := dest.Setup(ctx); err != nil {
		return Summary{}, err
	}
	run := state.Run{RunID: newRunID(), Pipeline: cfg.Pipeline, StartedAt: opts.Now().UTC(), Status: state.Running}
	log := opts.Logger.With("run_id", run.RunID, "pipeline", cfg.Pipeline)
	if err := dest.BeginRun(ctx, run); err != nil {
		return Summary{}, err
	}
	log.Info("run started", "streams", len(resources))

	progress := newProgress(resources)
	stopProgress := progress.start(opts.Progress, opts.ProgressEvery)

	summaries := make([]StreamSummary, len(resources))
	var g errgroup.Group
	g.SetLimit(opts.Concurrency)
	for i, res := range resources {
		s := &streamSync{
			cfg: cfg, res: res, dest: dest, client: client, opts: opts, runID: run.RunID,
			log: log.With("stream", res.Name), counters: progress.streams[i],
		}
		g.Go(func() error {
			summaries[i] = s.runSafely(ctx)
			return nil
		})
	}
	_ = g.Wait() // stream errors are carried in their summaries
	stopProgress()

	sum := Summary{RunID: run.RunID, Status: state.Succeeded, Streams: summaries}
	var errs []error
	for _, st := range summaries {
		if st.Err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", st.Stream, st.Err))
		}
	}
	runErr := errors.Join(errs...)
	if runErr != nil {
		sum.Status = state.Failed
	}
	run.FinishedAt = opts.Now().UTC()
	run.Status = sum.Status
	run.RowsRead, run.RowsWritten, run.RowsDead = sum.Totals()
	if runErr != nil {
		run.Error = runErr.Error()
	}
	// The run's record is written even when ctx was cancelled: an operator needs it.
	if err := dest.EndRun(context.WithoutCancel(ctx), run); err != nil {
		runErr = errors.Join(runErr, err)
	}
	log.Info("run finished", "status", run.Status, "rows_read", run.RowsRead, "rows_written", run.RowsWritten,
		"rows_dead", run.RowsDead, "duration", run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond))
	return sum, runErr
}

// Select returns the resources to sync, in config order.
func Select(cfg *config.Config, names []string) ([]config.Resource, error) {
	if len(names) == 0 {
		return cfg.Source.Resources, nil
	}
	var out []config.Resource
	for _, r := range cfg.Source.Resources {
		if slices.Contains(names, r.Name) {
			out = append(out, r)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(r config.Resource) bool { return r.Name == n }) {
			var known []string
			for _, r := range cfg.Source.Resources {
				known = append(known, r.Name)
			}
			return nil, &config.Error{Problems: []config.Problem{{
				Path: "--stream", Msg: fmt.Sprintf("no resource named %q (the config has %v)", n, known),
			}}}
		}
	}
	return out, nil
}

func withDefaults(o Options) Options {
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func newClient(cfg *config.Config, opts Options) (*extract.Client, error) {
	log := opts.Logger
	onRetry := extract.WithOnRetry(func(e extract.RetryEvent) {
		log.Warn("retrying request", "url", e.URL, "attempt", e.Attempt, "status", e.Status, "wait", e.Wait, "error", e.Err)
	})
	return extract.NewClient(cfg.Source.Client, append([]extract.Option{onRetry}, opts.ClientOptions...)...)
}

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:4])
}

// runSafely turns a panic in a stream's goroutine into that stream's error, so one
// bad stream cannot crash the whole sync.
func (s *streamSync) runSafely(ctx context.Context) (sum StreamSummary) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("stream panicked", "panic", p, "stack", string(debug.Stack()))
			sum = s.summary()
			sum.Err = fmt.Errorf("internal error (panic): %v", p)
		}
	}()
	return s.run(ctx)
}

// progress tracks per-stream counters for the progress line.
type progress struct {
	streams []*counters
	names   []string
}

type counters struct {
	mu          sync.Mutex
	rows, pages int64
	done        bool
}

func (c *counters) add(rows int) {
	c.mu.Lock()
	c.rows += int64(rows)
	c.pages++
	c.mu.Unlock()
}

func (c *counters) finish() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
}

func (c *counters) read() (rows, pages int64, done bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rows, c.pages, c.done
}

func newProgress(resources []config.Resource) *progress {
	p := &progress{}
	for _, r := range resources {
		p.streams = append(p.streams, &counters{})
		p.names = append(p.names, r.Name)
	}
	return p
}

// start prints progress every tick until the returned stop is called; stop waits
// for the printer to exit.
func (p *progress) start(w io.Writer, every time.Duration) (stop func()) {
	if w == nil {
		return func() {}
	}
	begin := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				p.print(w, time.Since(begin))
				return
			case <-t.C:
				p.print(w, time.Since(begin))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (p *progress) print(w io.Writer, elapsed time.Duration) {
	secs := elapsed.Seconds()
	for i, c := range p.streams {
		rows, pages, done := c.read()
		status := "syncing"
		if done {
			status = "done"
		}
		fmt.Fprintf(w, "elt: %-20s %10d rows %6d pages %9.0f rows/s  %s\n", p.names[i], rows, pages, float64(rows)/max(secs, 1e-3), status)
	}
}
