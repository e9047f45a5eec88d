package pipeline

import (
	"log/slog"
	"testing"

	"github.com/eltdev/elt/config"
	"github.com/eltdev/elt/normalize"
)

func batchResult(min, max string, ascending bool) normalize.Result {
	return normalize.Result{MinCursor: normalize.ParseCursor(min), MaxCursor: normalize.ParseCursor(max), Ascending: ascending}
}

// Mid-stream checkpoints move the cursor only for a source declared and seen to be
// in ascending order; the end of a complete stream always moves it to the newest.
func TestCursorTracker(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	const start = "2024-01-01T00:00:00Z"

	asc := newCursorTracker(start, &config.Incremental{CursorPath: "u", RowOrder: "asc"})
	asc.observe(batchResult("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", true), log)
	if got := asc.checkpoint().Text; got != "2024-01-02T00:00:00Z" {
		t.Errorf("ascending source: mid-stream checkpoint %q, want the newest seen", got)
	}
	// A batch that starts below what was already seen breaks the promise.
	asc.observe(batchResult("2024-01-01T12:00:00Z", "2024-01-03T00:00:00Z", true), log)
	if got := asc.checkpoint().Text; got != start {
		t.Errorf("order broken: mid-stream checkpoint %q, want the committed start %q", got, start)
	}
	if got := asc.final().Text; got != "2024-01-03T00:00:00Z" {
		t.Errorf("final cursor %q, want the newest seen", got)
	}

	unordered := newCursorTracker(start, &config.Incremental{CursorPath: "u"})
	unordered.observe(batchResult("2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z", true), log)
	if got := unordered.checkpoint().Text; got != start {
		t.Errorf("undeclared order: mid-stream checkpoint %q, want %q", got, start)
	}
	if !unordered.pending() || unordered.final().Text != "2024-02-02T00:00:00Z" {
		t.Errorf("final cursor %q pending=%v", unordered.final().Text, unordered.pending())
	}
	// Rows older than the start never move the cursor back.
	unordered.observe(batchResult("2023-01-01T00:00:00Z", "2023-01-02T00:00:00Z", true), log)
	if got := unordered.final().Text; got != "2024-02-02T00:00:00Z" {
		t.Errorf("an older batch moved the final cursor to %q", got)
	}

	none := newCursorTracker("", nil)
	none.observe(batchResult("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", true), log)
	if none.pending() || none.final().Text != "" {
		t.Error("a stream without incremental tracked a cursor")
	}
}
