package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eltdev/elt/config"
	"github.com/eltdev/elt/deadletter"
	"github.com/eltdev/elt/extract"
	"github.com/eltdev/elt/load"
	"github.com/eltdev/elt/normalize"
	"github.com/eltdev/elt/schemaevo"
	"github.com/eltdev/elt/state"
)

// streamSync syncs one resource. It is used by one goroutine.
type streamSync struct {
	cfg      *config.Config
	res      config.Resource
	dest     load.Destination
	client   *extract.Client
	opts     Options
	runID    string
	log      *slog.Logger
	counters *counters

	table       string
	disposition load.Disposition
	norm        *normalize.Normalizer
	shape       *schemaevo.Table // the table as the destination has it; nil before it exists
	cursor      cursorTracker
	seq         int64
	began       time.Time
	sum         StreamSummary
}

// pageOrErr carries a page, or the error that ended the source, from the fetching
// goroutine to the loading one.
type pageOrErr struct {
	page extract.Page
	err  error
}

// maxPagesAhead bounds how many fetched pages wait for the loader: enough to keep the
// network busy while a batch commits, small enough that memory stays bounded.
const maxPagesAhead = 2

func (s *streamSync) summary() StreamSummary {
	s.sum.Stream = s.res.Name
	s.sum.Table = s.table
	s.sum.Duration = time.Since(s.began)
	s.sum.Cursor = s.cursor.committed.Text
	return s.sum
}

func (s *streamSync) run(ctx context.Context) StreamSummary {
	s.began = time.Now()
	defer s.counters.finish()
	err := s.sync(ctx)
	sum := s.summary()
	sum.Err = err
	if err != nil {
		s.log.Error("stream failed", "error", err, "batches_committed", s.seq)
	} else {
		s.log.Info("stream done", "rows_read", sum.RowsRead, "rows_written", sum.RowsWritten,
			"dead_letters", sum.DeadLetters, "pages", sum.Pages, "cursor", sum.Cursor)
	}
	return sum
}

func (s *streamSync) sync(ctx context.Context) error {
	s.table = normalize.SnakeCase(s.res.Name)
	s.disposition = load.Disposition(s.res.WriteDisposition)
	start, err := s.startCursor(ctx)
	if err != nil {
		return err
	}
	s.cursor = newCursorTracker(start, s.res.Endpoint.Incremental)
	if s.disposition == load.Replace {
		if err := s.dest.PrepareReplace(ctx, s.table); err != nil {
			return err
		}
	}
	if s.shape, err = s.dest.Table(ctx, s.table, s.disposition == load.Replace); err != nil {
		return err
	}
	s.norm = normalize.New(normalizeOptions(s.res, s.opts))
	stream, err := extract.NewStream(s.client, s.res)
	if err != nil {
		return err
	}

	// Three stages, each one goroutine owned by this errgroup: fetch pages, normalize
	// batches, load them. Normalizing batch N+1 overlaps with committing batch N; the
	// channels hold at most maxPagesAhead pages and one batch, so memory stays bounded.
	g, gctx := errgroup.WithContext(ctx)
	pages := make(chan pageOrErr, maxPagesAhead)
	batches := make(chan normalized, 1)
	g.Go(func() error {
		defer close(pages)
		for page, err := range stream.Pages(gctx, start) {
			select {
			case pages <- pageOrErr{page, err}:
			case <-gctx.Done():
				return nil
			}
			if err != nil {
				return nil
			}
		}
		return nil
	})
	var sourceErr error
	g.Go(func() error {
		defer close(batches)
		var err error
		sourceErr, err = s.normalizeStage(gctx, pages, batches)
		return err
	})
	g.Go(func() error { return s.loadStage(gctx, batches) })
	err = g.Wait()
	// Every stage has returned, so batches is closed; a batch the loader did not take
	// (it failed first) still owns Arrow memory.
	for b := range batches {
		if b.res.Record != nil {
			b.res.Record.Release()
		}
	}
	if err != nil {
		return errors.Join(sourceErr, err)
	}
	return sourceErr
}

// normalized is one batch on its way from the normalize stage to the load stage.
type normalized struct {
	records    [][]byte
	res        normalize.Result
	keys       []string // primary-key columns, read in the normalize stage: the Normalizer is not shared
	ingestedAt time.Time
	took       time.Duration
	// final marks the end of a complete stream: its checkpoint may move the cursor to
	// the newest value seen. A final batch may hold no records.
	final bool
}

// normalizeStage cuts pages into batches of at most max_rows records or max_bytes of
// source JSON and normalizes them. When the source fails, the batches received
// before the failure are still complete and are loaded, so that the re-run has less
// to do; the source's error is returned as sourceErr and fails the run.
func (s *streamSync) normalizeStage(ctx context.Context, pages <-chan pageOrErr, out chan<- normalized) (sourceErr, err error) {
	maxRows, maxBytes := s.res.Batch.MaxRows, int(s.res.Batch.MaxBytes)
	var pending [][]byte
	var pendingBytes int
	send := func(final bool) error {
		b := normalized{records: pending, ingestedAt: s.opts.Now().UTC(), final: final}
		if len(pending) > 0 {
			began := time.Now()
			res, err := s.norm.Batch(pending, b.ingestedAt)
			if err != nil {
				return fmt.Errorf("normalize: %w", err)
			}
			b.res, b.took = res, time.Since(began)
		}
		b.keys = s.norm.KeyColumns()
		pending, pendingBytes = nil, 0
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			if b.res.Record != nil {
				b.res.Record.Release()
			}
			return ctx.Err()
		}
	}
	for p := range pages {
		if p.err != nil {
			if len(pending) > 0 {
				if err := send(false); err != nil {
					return p.err, err
				}
			}
			return p.err, nil
		}
		s.sum.Pages++
		s.sum.RowsRead += int64(len(p.page.Records))
		s.counters.add(len(p.page.Records))
		pending = append(pending, p.page.Records...)
		pendingBytes += p.page.Bytes
		if len(pending) >= maxRows || pendingBytes >= maxBytes {
			if err := send(false); err != nil {
				return nil, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, send(true)
}

// loadStage commits batches in order; after the final one of a replace stream it
// swaps the staging table in.
func (s *streamSync) loadStage(ctx context.Context, in <-chan normalized) error {
	for b := range in {
		err := s.commit(ctx, b)
		if b.res.Record != nil {
			b.res.Record.Release()
		}
		if err != nil {
			// Return at once: that cancels the group's context, which stops fetching and
			// normalizing. sync releases what is still queued.
			return err
		}
		if b.final && s.disposition == load.Replace {
			return s.dest.FinishReplace(ctx, s.table, s.checkpoint(s.cursor.final()))
		}
	}
	return nil
}

// commit plans and writes one batch with its dead letters and checkpoint. The final
// batch of a complete stream also moves the cursor to the newest value seen.
func (s *streamSync) commit(ctx context.Context, b normalized) error {
	res := b.res
	s.cursor.observe(res, s.log)
	if len(b.records) == 0 && (!b.final || !s.cursor.pending()) {
		return nil
	}
	s.seq++
	batch := load.Batch{
		Pipeline: s.cfg.Pipeline, Stream: s.res.Name, RunID: s.runID, Seq: s.seq,
		Table: s.table, Disposition: s.disposition, Keys: b.keys, Records: res.Record,
	}
	for _, r := range res.Rejected {
		batch.DeadLetters = append(batch.DeadLetters, deadletter.Letter{
			Stream: s.res.Name, RunID: s.runID, Batch: s.seq, Code: r.Code, Reason: r.Reason,
			Raw: b.records[r.Index], IngestedAt: b.ingestedAt,
		})
	}
	if res.Record != nil {
		incoming, err := schemaevo.TableFromArrow(s.table, res.Record.Schema())
		if err != nil {
			return err
		}
		batch.Plan = schemaevo.Diff(s.shape, incoming)
	}
	cursor := s.cursor.checkpoint()
	if b.final {
		cursor = s.cursor.final()
	}
	batch.Checkpoint = s.checkpoint(cursor)

	began := time.Now()
	written, err := s.dest.Write(ctx, batch)
	if err != nil {
		return err
	}
	s.cursor.commit(cursor)
	if !batch.Plan.Empty() {
		target := batch.Plan.Target
		s.shape = &target
		for _, c := range batch.Plan.Changes {
			s.sum.Migrations++
			s.log.Info("schema migrated", "batch", s.seq, "change", c.Kind, "column", c.Column, "note", c.Note)
		}
	}
	s.sum.Batches++
	s.sum.RowsWritten += written.Written
	s.sum.Skipped += written.Skipped
	s.sum.Duplicates += int64(res.Duplicates)
	s.sum.DeadLetters += int64(len(res.Rejected))
	s.log.Debug("batch committed", "batch", s.seq, "rows", len(b.records), "written", written.Written,
		"skipped", written.Skipped, "dead_letters", len(res.Rejected), "cursor", cursor.Text,
		"normalize", b.took.Round(time.Millisecond), "write", time.Since(began).Round(time.Millisecond))
	return nil
}

func (s *streamSync) checkpoint(c normalize.Cursor) state.Checkpoint {
	return state.Checkpoint{
		Pipeline: s.cfg.Pipeline, Stream: s.res.Name, Cursor: c.Text,
		Batch: s.seq, RunID: s.runID, CommittedAt: s.opts.Now().UTC(),
	}
}

// startCursor is where the source is read from: the committed cursor, else the
// configured initial value. Replace and --full-refresh read from the initial value.
func (s *streamSync) startCursor(ctx context.Context) (string, error) {
	inc := s.res.Endpoint.Incremental
	if inc == nil {
		return "", nil
	}
	if s.opts.FullRefresh || s.disposition == load.Replace {
		return inc.InitialValue, nil
	}
	cp, ok, err := s.dest.Checkpoint(ctx, s.cfg.Pipeline, s.res.Name)
	if err != nil {
		return "", err
	}
	if ok && cp.Cursor != "" {
		return cp.Cursor, nil
	}
	return inc.InitialValue, nil
}

func normalizeOptions(res config.Resource, opts Options) normalize.Options {
	o := normalize.Options{
		Stream:     res.Name,
		PrimaryKey: res.PrimaryKey,
		KeepRaw:    res.Raw == nil || *res.Raw,
		Declared:   map[string]schemaevo.Type{},
		NotNull:    map[string]bool{},
	}
	if res.MaxNesting != nil {
		o.MaxNesting = *res.MaxNesting
	}
	if inc := res.Endpoint.Incremental; inc != nil {
		o.CursorPath = inc.CursorPath
	}
	if d := res.Deletes; d != nil {
		o.DeleteFlag, o.DeletedAt = d.Flag, d.DeletedAt
	}
	for field, spec := range res.Columns {
		o.Declared[field] = declaredType(spec.DataType)
		if spec.Nullable != nil && !*spec.Nullable {
			o.NotNull[field] = true
		}
	}
	return o
}

// declaredType maps the config's dlt-style type names onto elt's type set.
func declaredType(name string) schemaevo.Type {
	switch name {
	case "bigint":
		return schemaevo.Int64
	case "double":
		return schemaevo.Float64
	case "bool":
		return schemaevo.Bool
	case "decimal":
		return schemaevo.Decimal
	case "date":
		return schemaevo.Date
	case "timestamp":
		return schemaevo.Timestamptz
	case "json":
		return schemaevo.JSON
	default:
		return schemaevo.String
	}
}

// cursorTracker decides how far the checkpoint may move. The cursor is inclusive: the
// next run re-reads the boundary rows and merges them, so none is lost.
//
// A checkpoint taken mid-stream may only move to the newest cursor seen when the
// source returns rows in ascending cursor order (declared with row_order: asc, and
// seen to hold); otherwise a row with an older cursor may still be on a later page,
// and a crash would skip it. Without that order the cursor moves only at the end of
// a complete stream.
type cursorTracker struct {
	enabled   bool
	ascending bool
	committed normalize.Cursor
	newest    normalize.Cursor
}

func newCursorTracker(start string, inc *config.Incremental) cursorTracker {
	if inc == nil {
		return cursorTracker{}
	}
	c := cursorTracker{enabled: true, ascending: inc.RowOrder == "asc"}
	if start != "" {
		c.committed = normalize.ParseCursor(start)
		c.newest = c.committed
	}
	return c
}

func (c *cursorTracker) observe(res normalize.Result, log *slog.Logger) {
	if !c.enabled || res.MaxCursor.IsZero() {
		return
	}
	if c.ascending && (!res.Ascending || normalize.CompareCursors(res.MinCursor, c.newest) < 0) {
		c.ascending = false
		log.Warn("source rows are not in ascending cursor order although row_order is asc; the cursor will move only when the stream completes")
	}
	if normalize.CompareCursors(res.MaxCursor, c.newest) > 0 {
		c.newest = res.MaxCursor
	}
}

// checkpoint is the cursor a mid-stream checkpoint may store.
func (c *cursorTracker) checkpoint() normalize.Cursor {
	if c.ascending {
		return c.newest
	}
	return c.committed
}

// final is the cursor once the stream has been read to the end.
func (c *cursorTracker) final() normalize.Cursor { return c.newest }

// pending reports whether the final cursor is ahead of the committed one.
func (c *cursorTracker) pending() bool { return c.enabled && c.newest.Text != c.committed.Text }

func (c *cursorTracker) commit(cur normalize.Cursor) { c.committed = cur }
