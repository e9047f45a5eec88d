package loadtest

import (
	"fmt"
	"slices"
	"sync"

	"github.com/eltdev/elt/deadletter"
	"github.com/eltdev/elt/load"
	"github.com/eltdev/elt/schemaevo"
	"github.com/eltdev/elt/state"
)

// testMerge: 3 rows inserted, then a batch that updates one and adds one.
func testMerge(h *H) {
	a, b, c := u(1, "ann", 1, 1), u(2, "bob", 1, 1), u(3, "cy", 1, 1)
	res, plan := h.MustWrite(batch(1, h.users(a, b, c)))
	h.wantResult("batch 1 (3 new rows)", res, load.Result{Written: 3})
	h.AssertColumns(stream, false, userCols)
	h.AssertRows(stream, nil, byID, rowsOf(a, b, c))
	h.AssertCheckpoint(pipeline, stream, batch(1, nil).Checkpoint)

	b2, d := u(2, "bobby", 2, 2), u(4, "dee", 2, 2)
	res, plan2 := h.MustWrite(batch(2, h.users(b2, d)))
	if !plan2.Empty() {
		h.T.Errorf("batch 2 plan = %+v, want empty: Table() must describe the table as created", plan2)
	}
	h.wantResult("batch 2 (1 update, 1 insert)", res, load.Result{Written: 2})
	h.AssertRows(stream, nil, byID, rowsOf(a, b2, c, d))
	h.AssertCheckpoint(pipeline, stream, batch(2, nil).Checkpoint)
	h.AssertRows(load.MigrationTable, migCols, migOrder, []Row{migration(plan.Changes[0])})

	// Setup is idempotent: a second call keeps everything.
	if err := h.Dest.Setup(h.Ctx); err != nil {
		h.T.Fatalf("second Setup: %v", err)
	}
	h.AssertRows(stream, nil, byID, rowsOf(a, b2, c, d))
	h.AssertCheckpoint(pipeline, stream, batch(2, nil).Checkpoint)
}

// testReplay: the same batch (rows, dead letter, checkpoint) written twice, as a
// re-run after a crash between commit and acknowledgement does.
func testReplay(h *H) {
	a, b, c := u(1, "ann", 1, 1), u(2, "bob", 1, 1), u(3, "cy", 1, 1)
	letter := deadletter.Letter{
		Stream: stream, RunID: runID, Batch: 1, Code: deadletter.MissingPrimaryKey,
		Reason: "primary key field id is missing", Raw: []byte(`{"name":"x"}`), IngestedAt: Ts(1),
	}
	mk := func() load.Batch {
		bt := batch(1, h.users(a, b, c))
		bt.DeadLetters = []deadletter.Letter{letter}
		return bt
	}
	res, plan := h.MustWrite(mk())
	h.wantResult("first write", res, load.Result{Written: 3, DeadLetters: 1})
	first := h.Rows(stream, nil)

	res, _ = h.MustWrite(mk())
	if res.DeadLetters != 0 {
		h.T.Errorf("replay: Result.DeadLetters = %d, want 0 (the letter is already stored)", res.DeadLetters)
	}
	if res.Written+res.Skipped != 3 {
		h.T.Errorf("replay: Result = %+v, want Written+Skipped = 3", res)
	}
	if d := diffRows(h.Rows(stream, nil), first, byID); len(d) > 0 {
		h.T.Errorf("replay changed the table:\n  %s", joinLines(d))
	}
	h.AssertRows(stream, nil, byID, rowsOf(a, b, c))
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, []Row{letterRow(letter)})
	h.AssertRows(load.MigrationTable, migCols, migOrder, []Row{migration(plan.Changes[0])})
	h.AssertCheckpoint(pipeline, stream, batch(1, nil).Checkpoint)

	// Replaying an older batch after a newer one leaves the newer rows.
	b2 := u(2, "bobby", 2, 2)
	h.MustWrite(batch(2, h.users(b2)))
	res, _ = h.MustWrite(mk())
	if res.Skipped != 1 {
		h.T.Errorf("replay of batch 1 after batch 2: Result = %+v, want Skipped 1 (row 2 is newer)", res)
	}
	h.AssertRows(stream, nil, byID, rowsOf(a, b2, c))
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, []Row{letterRow(letter)})
}

// testNeverOlder: an older updated_at never overwrites; a tie goes to the incoming row.
func testNeverOlder(h *H) {
	a, b, c := u(1, "ann", 1, 10), u(2, "bob", 1, 10), u(3, "cy", 1, 10)
	h.MustWrite(batch(1, h.users(a, b, c)))

	older := u(1, "ann-older", 2, 5)
	tie := u(2, "bob-tie", 2, 10)
	newer := u(3, "cy-newer", 2, 20)
	d := u(4, "dee", 2, 3)
	res, _ := h.MustWrite(batch(2, h.users(older, tie, newer, d)))
	h.wantResult("batch 2 (older, tie, newer, new)", res, load.Result{Written: 3, Skipped: 1})
	h.AssertRows(stream, nil, byID, rowsOf(a, tie, newer, d))
	h.AssertCheckpoint(pipeline, stream, batch(2, nil).Checkpoint)

	// A batch made only of older rows writes nothing but still moves the checkpoint.
	res, _ = h.MustWrite(batch(3, h.users(u(3, "cy-old", 3, 19), u(4, "dee-old", 3, 2))))
	h.wantResult("batch 3 (only older rows)", res, load.Result{Skipped: 2})
	h.AssertRows(stream, nil, byID, rowsOf(a, tie, newer, d))
	h.AssertCheckpoint(pipeline, stream, batch(3, nil).Checkpoint)
}

// testAddColumn: a new field adds a nullable column; earlier rows hold NULL.
func testAddColumn(h *H) {
	a, b, c := u(1, "ann", 1, 1), u(2, "bob", 1, 1), u(3, "cy", 1, 1)
	_, plan1 := h.MustWrite(batch(1, h.users(a, b, c)))

	cols := append(slices.Clone(userCols), C("email", schemaevo.String))
	rec := Batch(h.T, h.Alloc, cols,
		[]any{int64(1), "ann", Ts(2), Ts(2), false, nil, JSON(`{"id":1,"name":"ann","email":"a@x.io"}`), "a@x.io"},
		[]any{int64(4), "dee", Ts(2), Ts(2), false, nil, JSON(`{"id":4,"name":"dee","email":null}`), nil},
		[]any{int64(5), "eve", Ts(2), Ts(2), false, nil, JSON(`{"id":5,"name":"eve","email":"e@x.io"}`), "e@x.io"},
	)
	res, plan2 := h.MustWrite(batch(2, rec))
	if len(plan2.Changes) != 1 || plan2.Changes[0].Kind != schemaevo.AddColumn {
		h.T.Fatalf("test setup: plan %+v, want one add_column", plan2)
	}
	h.wantResult("batch 2", res, load.Result{Written: 3})
	h.AssertColumns(stream, false, cols)
	withEmail := func(r Row, email any, raw string) Row {
		r["email"] = email
		if raw != "" {
			r[load.Raw] = JSON(raw)
		}
		return r
	}
	h.AssertRows(stream, nil, byID, []Row{
		withEmail(u(1, "ann", 2, 2).row(), "a@x.io", `{"id":1,"name":"ann","email":"a@x.io"}`),
		withEmail(b.row(), nil, ""),
		withEmail(c.row(), nil, ""),
		withEmail(u(4, "dee", 2, 2).row(), nil, `{"id":4,"name":"dee","email":null}`),
		withEmail(u(5, "eve", 2, 2).row(), "e@x.io", `{"id":5,"name":"eve","email":"e@x.io"}`),
	})
	h.AssertRows(load.MigrationTable, migCols, migOrder, []Row{
		migration(plan1.Changes[0]), migration(plan2.Changes[0]),
	})
	if plan2.Changes[0].Note == "" {
		h.T.Errorf("add_column change has no note")
	}
	h.AssertCheckpoint(pipeline, stream, batch(2, nil).Checkpoint)

	// Batch 3 lacks the column: nothing is dropped, and an updated row is replaced
	// whole (its email becomes NULL, as its record no longer has one).
	e3, f := u(5, "eve", 3, 3), u(6, "fay", 3, 3)
	res, plan3 := h.MustWrite(batch(3, h.users(e3, f)))
	if !plan3.Empty() {
		h.T.Errorf("batch 3 plan = %+v, want empty", plan3)
	}
	h.wantResult("batch 3", res, load.Result{Written: 2})
	h.AssertColumns(stream, false, cols)
	h.AssertRows(stream, nil, byID, []Row{
		withEmail(u(1, "ann", 2, 2).row(), "a@x.io", `{"id":1,"name":"ann","email":"a@x.io"}`),
		withEmail(b.row(), nil, ""),
		withEmail(c.row(), nil, ""),
		withEmail(u(4, "dee", 2, 2).row(), nil, `{"id":4,"name":"dee","email":null}`),
		withEmail(e3.row(), nil, ""),
		withEmail(f.row(), nil, ""),
	})
}

// testWiden: int64→float64, string→json and int64→string keep every stored value;
// a later batch narrower than the widened columns is written into them.
func testWiden(h *H) {
	cols1 := StreamCols(C("id", schemaevo.Int64), C("n", schemaevo.Int64), C("s", schemaevo.String), C("k", schemaevo.Int64))
	raw := func(id int) JSON { return JSON(fmt.Sprintf(`{"id":%d}`, id)) }
	rec := Batch(h.T, h.Alloc, cols1,
		[]any{int64(1), int64(10), "abc", int64(7), Ts(1), Ts(1), false, nil, raw(1)},
		[]any{int64(2), int64(-3), `say "hi"`, int64(8), Ts(1), Ts(1), false, nil, raw(2)},
		[]any{int64(3), nil, nil, nil, Ts(1), Ts(1), false, nil, raw(3)},
	)
	_, plan1 := h.MustWrite(batch(1, rec))

	cols2 := StreamCols(C("id", schemaevo.Int64), C("n", schemaevo.Float64), C("s", schemaevo.JSON), C("k", schemaevo.String))
	rec = Batch(h.T, h.Alloc, cols2,
		[]any{int64(4), 2.5, JSON(`{"a":[1,"x"]}`), "text", Ts(2), Ts(2), false, nil, raw(4)},
		[]any{int64(5), 1e20, JSON(`"plain"`), "9", Ts(2), Ts(2), false, nil, raw(5)},
	)
	res, plan2 := h.MustWrite(batch(2, rec))
	if len(plan2.Changes) != 3 {
		h.T.Fatalf("test setup: plan %+v, want three widen_type changes", plan2)
	}
	h.wantResult("batch 2", res, load.Result{Written: 2})
	h.AssertColumns(stream, false, cols2)

	row := func(id int, n, s, k any, m int) Row {
		return Row{"id": int64(id), "n": n, "s": s, "k": k, load.IngestedAt: Ts(m), load.UpdatedAt: Ts(m),
			load.IsDeleted: false, load.DeletedAt: nil, load.Raw: raw(id)}
	}
	want := []Row{
		row(1, 10.0, JSON(`"abc"`), "7", 1),
		row(2, -3.0, JSON(`"say \"hi\""`), "8", 1),
		row(3, nil, nil, nil, 1),
		row(4, 2.5, JSON(`{"a":[1,"x"]}`), "text", 2),
		row(5, 1e20, JSON(`"plain"`), "9", 2),
	}
	h.AssertRows(stream, nil, byID, want)
	wantMig := []Row{migration(plan1.Changes[0])}
	for _, c := range plan2.Changes {
		if c.Kind != schemaevo.WidenType || c.OldType == "" || c.NewType == "" || c.Note == "" {
			h.T.Errorf("test setup: change %+v, want a widen_type with types and a note", c)
		}
		wantMig = append(wantMig, migration(c))
	}
	h.AssertRows(load.MigrationTable, migCols, migOrder, wantMig)

	// Batch 3 is narrower than the table (int64 into float64, a plain string into
	// json, int64 into string): the plan is empty and the values are widened on write.
	cols3 := StreamCols(C("id", schemaevo.Int64), C("n", schemaevo.Int64), C("s", schemaevo.String), C("k", schemaevo.Int64))
	rec = Batch(h.T, h.Alloc, cols3,
		[]any{int64(6), int64(6), "def", int64(60), Ts(3), Ts(3), false, nil, raw(6)},
		[]any{int64(1), int64(11), "abc2", int64(70), Ts(3), Ts(3), false, nil, raw(1)},
	)
	res, plan3 := h.MustWrite(batch(3, rec))
	if !plan3.Empty() {
		h.T.Errorf("batch 3 plan = %+v, want empty (never narrow)", plan3)
	}
	h.wantResult("batch 3", res, load.Result{Written: 2})
	h.AssertColumns(stream, false, cols2)
	want[0] = row(1, 11.0, JSON(`"abc2"`), "70", 3)
	want = append(want, row(6, 6.0, JSON(`"def"`), "60", 3))
	h.AssertRows(stream, nil, byID, want)
	h.AssertRows(load.MigrationTable, migCols, migOrder, wantMig)
}

// testDeadLetters: letters are stored with code, reason and raw JSON (text that is
// not JSON as a JSON string), once; a batch of only letters commits them and the
// checkpoint.
func testDeadLetters(h *H) {
	l1 := deadletter.Letter{Stream: stream, RunID: runID, Batch: 1, Code: deadletter.MalformedJSON,
		Reason: "record is not valid JSON", Raw: []byte(`{"id": 3, "name": "c`), IngestedAt: Ts(1)}
	l2 := deadletter.Letter{Stream: stream, RunID: runID, Batch: 1, Code: deadletter.MissingPrimaryKey,
		Reason: "primary key field id is missing", Raw: []byte(`{"name":"x","tags":[1,2]}`), IngestedAt: Ts(1)}
	a, b := u(1, "ann", 1, 1), u(2, "bob", 1, 1)
	mk := func() load.Batch {
		bt := batch(1, h.users(a, b))
		bt.DeadLetters = []deadletter.Letter{l1, l2}
		return bt
	}
	res, _ := h.MustWrite(mk())
	h.wantResult("batch 1", res, load.Result{Written: 2, DeadLetters: 2})
	want := []Row{letterRow(l1), letterRow(l2)}
	if want[0]["raw"] != JSON(`"{\"id\": 3, \"name\": \"c"`) {
		h.T.Fatalf("test setup: RawJSON of malformed raw = %v", want[0]["raw"])
	}
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, want)

	res, _ = h.MustWrite(mk())
	if res.DeadLetters != 0 {
		h.T.Errorf("replay: Result.DeadLetters = %d, want 0", res.DeadLetters)
	}
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, want)

	// Batch 2: every record was rejected, Records is nil.
	l3 := deadletter.Letter{Stream: stream, RunID: runID, Batch: 2, Code: deadletter.NotAnObject,
		Reason: "record is an array, not an object", Raw: []byte(`[1,2,3]`), IngestedAt: Ts(2)}
	res, _ = h.MustWrite(load.Batch{Pipeline: pipeline, Stream: stream, RunID: runID, Seq: 2, Table: stream,
		Disposition: load.Merge, Keys: []string{"id"}, DeadLetters: []deadletter.Letter{l3}, Checkpoint: cp(2, "c2")})
	h.wantResult("batch 2 (letters only)", res, load.Result{DeadLetters: 1})
	want = append(want, letterRow(l3))
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, want)
	h.AssertRows(stream, nil, byID, rowsOf(a, b))
	h.AssertCheckpoint(pipeline, stream, cp(2, "c2"))

	// The same on a stream whose table does not exist yet: no table is created.
	l4 := deadletter.Letter{Stream: "events", RunID: runID, Batch: 1, Code: deadletter.MissingCursor,
		Reason: "cursor field ts is missing", Raw: []byte(`{"id":9}`), IngestedAt: Ts(3)}
	evCP := state.Checkpoint{Pipeline: pipeline, Stream: "events", Cursor: "", Batch: 1, RunID: runID, CommittedAt: Ts(103)}
	res, _ = h.MustWrite(load.Batch{Pipeline: pipeline, Stream: "events", RunID: runID, Seq: 1, Table: "events",
		Disposition: load.Merge, Keys: []string{"id"}, DeadLetters: []deadletter.Letter{l4}, Checkpoint: evCP})
	h.wantResult("events batch 1 (letters only)", res, load.Result{DeadLetters: 1})
	h.AssertColumns("events", false, nil)
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, append(want, letterRow(l4)))
	h.AssertCheckpoint(pipeline, "events", evCP)
}

// testAtomicity: a batch whose write fails after its migration step leaves no trace.
func testAtomicity(h *H) {
	a, b, c := u(1, "ann", 1, 1), u(2, "bob", 1, 1), u(3, "cy", 1, 1)
	l1 := deadletter.Letter{Stream: stream, RunID: runID, Batch: 1, Code: deadletter.MissingPrimaryKey,
		Reason: "primary key field id is missing", Raw: []byte(`{"name":"x"}`), IngestedAt: Ts(1)}
	b1 := batch(1, h.users(a, b, c))
	b1.DeadLetters = []deadletter.Letter{l1}
	_, plan1 := h.MustWrite(b1)
	cp1 := b1.Checkpoint

	cols := append(slices.Clone(userCols), C("email", schemaevo.String))
	l2 := deadletter.Letter{Stream: stream, RunID: runID, Batch: 2, Code: deadletter.MalformedJSON,
		Reason: "record is not valid JSON", Raw: []byte(`nope`), IngestedAt: Ts(2)}
	mk := func(keys ...string) load.Batch {
		rec := Batch(h.T, h.Alloc, cols,
			[]any{int64(1), "ann2", Ts(2), Ts(2), false, nil, JSON(`{"id":1}`), nil},
			[]any{int64(4), "dee", Ts(2), Ts(2), false, nil, JSON(`{"id":4}`), "d@x.io"},
		)
		bt := batch(2, rec)
		bt.Keys = keys
		bt.DeadLetters = []deadletter.Letter{l2}
		return bt
	}
	// The plan adds a column; the merge then fails on a key the table does not have.
	res, plan2, err := h.Write(mk("no_such_column"))
	if err == nil {
		h.T.Fatalf("Write with a key column that does not exist succeeded (%+v)", res)
	}
	if len(plan2.Changes) != 1 {
		h.T.Fatalf("test setup: plan %+v, want one add_column", plan2)
	}
	h.wantResult("failed write", res, load.Result{})
	h.AssertColumns(stream, false, userCols)
	h.AssertRows(stream, nil, byID, rowsOf(a, b, c))
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, []Row{letterRow(l1)})
	h.AssertRows(load.MigrationTable, migCols, migOrder, []Row{migration(plan1.Changes[0])})
	h.AssertCheckpoint(pipeline, stream, cp1)

	// A failing first batch of a new stream does not leave its table behind.
	ev := state.Checkpoint{Pipeline: pipeline, Stream: "events", Batch: 1, RunID: runID, CommittedAt: Ts(50)}
	_, _, err = h.Write(load.Batch{Pipeline: pipeline, Stream: "events", RunID: runID, Seq: 1, Table: "events",
		Disposition: load.Merge, Keys: []string{"no_such_column"}, Records: h.users(a),
		DeadLetters: []deadletter.Letter{{Stream: "events", RunID: runID, Batch: 1, Code: deadletter.MissingCursor,
			Reason: "cursor field ts is missing", Raw: []byte(`{}`), IngestedAt: Ts(2)}},
		Checkpoint: ev})
	if err == nil {
		h.T.Fatalf("Write of a new table with a key column that does not exist succeeded")
	}
	h.AssertColumns("events", false, nil)
	h.AssertCheckpoint(pipeline, "events", state.Checkpoint{})
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, []Row{letterRow(l1)})
	h.AssertRows(load.MigrationTable, migCols, migOrder, []Row{migration(plan1.Changes[0])})

	// The destination is usable afterwards: the same batch with the right key commits.
	res, plan2 = h.MustWrite(mk("id"))
	h.wantResult("retry", res, load.Result{Written: 2, DeadLetters: 1})
	withEmail := func(r Row, email any) Row { r["email"] = email; return r }
	h.AssertColumns(stream, false, cols)
	h.AssertRows(stream, nil, byID, []Row{
		withEmail(Row{"id": int64(1), "name": "ann2", load.IngestedAt: Ts(2), load.UpdatedAt: Ts(2),
			load.IsDeleted: false, load.DeletedAt: nil, load.Raw: JSON(`{"id":1}`)}, nil),
		withEmail(b.row(), nil), withEmail(c.row(), nil),
		withEmail(Row{"id": int64(4), "name": "dee", load.IngestedAt: Ts(2), load.UpdatedAt: Ts(2),
			load.IsDeleted: false, load.DeletedAt: nil, load.Raw: JSON(`{"id":4}`)}, "d@x.io"),
	})
	h.AssertRows(load.DeadLetterTable, letterCols, letterOrder, []Row{letterRow(l1), letterRow(l2)})
	h.AssertRows(load.MigrationTable, migCols, migOrder, []Row{migration(plan1.Changes[0]), migration(plan2.Changes[0])})
	h.AssertCheckpoint(pipeline, stream, batch(2, nil).Checkpoint)
}

// testAppend: every row is inserted, equal keys included.
func testAppend(h *H) {
	a, b := u(1, "ann", 1, 5), u(2, "bob", 1, 5)
	a2, b2 := u(1, "ann-older", 2, 1), u(2, "bob", 1, 5)
	mk := func(seq int64, us ...user) load.Batch {
		bt := batch(seq, h.users(us...))
		bt.Disposition = load.Append
		return bt
	}
	res, _ := h.MustWrite(mk(1, a, b))
	h.wantResult("batch 1", res, load.Result{Written: 2})
	res, _ = h.MustWrite(mk(2, a2, b2))
	h.wantResult("batch 2", res, load.Result{Written: 2})
	h.AssertRows(stream, nil, []string{"id", "name", load.IngestedAt}, rowsOf(a, a2, b, b2))
	h.AssertCheckpoint(pipeline, stream, batch(2, nil).Checkpoint)
}

// testReplace: a replace run swaps in only its rows, keeps the table's columns, and
// starts clean after an interrupted run.
func testReplace(h *H) {
	colsPlan := append(slices.Clone(userCols), C("plan", schemaevo.String))
	mk := func(seq int64, us ...user) load.Batch {
		bt := batch(seq, nil)
		if len(us) > 0 {
			bt.Records = h.users(us...)
		}
		bt.Disposition = load.Replace
		return bt
	}
	finish := func(c state.Checkpoint) {
		h.T.Helper()
		if err := h.Dest.FinishReplace(h.Ctx, stream, c); err != nil {
			h.T.Fatalf("FinishReplace: %v", err)
		}
	}
	prepare := func() {
		h.T.Helper()
		if err := h.Dest.PrepareReplace(h.Ctx, stream); err != nil {
			h.T.Fatalf("PrepareReplace: %v", err)
		}
	}
	staging := stream + load.ReplaceSuffix

	// Run 1: the table does not exist yet.
	prepare()
	bt := mk(1)
	bt.Records = Batch(h.T, h.Alloc, colsPlan,
		[]any{int64(1), "A", Ts(1), Ts(1), false, nil, JSON(`{"id":1}`), "pro"},
		[]any{int64(2), "B", Ts(1), Ts(1), false, nil, JSON(`{"id":2}`), nil},
	)
	res, _ := h.MustWrite(bt)
	h.wantResult("run 1 batch 1", res, load.Result{Written: 2})
	h.AssertColumns(stream, false, nil)
	cpRun1 := cp(1, "")
	finish(cpRun1)
	withPlan := func(r Row, plan any) Row { r["plan"] = plan; return r }
	rowA := withPlan(Row{"id": int64(1), "name": "A", load.IngestedAt: Ts(1), load.UpdatedAt: Ts(1),
		load.IsDeleted: false, load.DeletedAt: nil, load.Raw: JSON(`{"id":1}`)}, "pro")
	rowB := withPlan(Row{"id": int64(2), "name": "B", load.IngestedAt: Ts(1), load.UpdatedAt: Ts(1),
		load.IsDeleted: false, load.DeletedAt: nil, load.Raw: JSON(`{"id":2}`)}, nil)
	h.AssertColumns(stream, false, colsPlan)
	h.AssertColumns(stream, true, nil)
	h.AssertRows(stream, nil, byID, []Row{rowA, rowB})
	h.AssertCheckpoint(pipeline, stream, cpRun1)

	// Run 2: C, without the plan column; the table keeps it.
	prepare()
	h.AssertColumns(stream, true, colsPlan)
	h.AssertRows(staging, nil, byID, nil)
	c3 := u(3, "C", 2, 2)
	res, plan := h.MustWrite(mk(1, c3))
	if !plan.Empty() {
		h.T.Errorf("run 2 plan = %+v, want empty: the staging table has the final table's columns", plan)
	}
	h.wantResult("run 2 batch 1", res, load.Result{Written: 1})
	h.AssertRows(stream, nil, byID, []Row{rowA, rowB})
	cpRun2 := cp(1, "c")
	cpRun2.CommittedAt = Ts(200)
	finish(cpRun2)
	h.AssertColumns(stream, false, colsPlan)
	h.AssertRows(stream, nil, byID, []Row{withPlan(c3.row(), nil)})
	h.AssertCheckpoint(pipeline, stream, cpRun2)

	// Run 3 is interrupted after writing D to the staging table.
	prepare()
	h.MustWrite(mk(1, u(4, "D", 3, 3)))
	h.AssertRows(stream, nil, byID, []Row{withPlan(c3.row(), nil)})

	// Run 4 starts clean: D is gone, only E is swapped in.
	prepare()
	h.AssertRows(staging, nil, byID, nil)
	e5 := u(5, "E", 4, 4)
	h.MustWrite(mk(1, e5))
	cpRun4 := cp(1, "e")
	cpRun4.CommittedAt = Ts(400)
	finish(cpRun4)
	h.AssertColumns(stream, false, colsPlan)
	h.AssertRows(stream, nil, byID, []Row{withPlan(e5.row(), nil)})
	h.AssertCheckpoint(pipeline, stream, cpRun4)

	// Run 5 reads nothing: the table is swapped for an empty one with its columns.
	prepare()
	finish(cpRun4)
	h.AssertColumns(stream, false, colsPlan)
	h.AssertRows(stream, nil, byID, nil)
}

// testSoftDelete: a deleted record is flagged, not removed.
func testSoftDelete(h *H) {
	a, b, c := u(1, "ann", 1, 1), u(2, "bob", 1, 1), u(3, "cy", 1, 1)
	h.MustWrite(batch(1, h.users(a, b, c)))
	del := user{id: 2, name: "bob", ingested: Ts(2), updated: Ts(3), deleted: true, deletedAt: Ts(3)}
	res, _ := h.MustWrite(batch(2, h.users(del)))
	h.wantResult("batch 2", res, load.Result{Written: 1})
	h.AssertRows(stream, nil, byID, rowsOf(a, del, c))

	// An older live copy arriving late does not resurrect it.
	res, _ = h.MustWrite(batch(3, h.users(u(2, "bob", 4, 2))))
	h.wantResult("batch 3", res, load.Result{Skipped: 1})
	h.AssertRows(stream, nil, byID, rowsOf(a, del, c))
}

// testRuns: BeginRun abandons the pipeline's runs still running; EndRun records the
// outcome.
func testRuns(h *H) {
	begin := func(r state.Run) {
		h.T.Helper()
		if err := h.Dest.BeginRun(h.Ctx, r); err != nil {
			h.T.Fatalf("BeginRun(%s): %v", r.RunID, err)
		}
	}
	end := func(r state.Run) {
		h.T.Helper()
		if err := h.Dest.EndRun(h.Ctx, r); err != nil {
			h.T.Fatalf("EndRun(%s): %v", r.RunID, err)
		}
	}
	running := func(id, pl string, started int) Row {
		return Row{"run_id": id, "pipeline": pl, "started_at": Ts(started), "finished_at": nil, "status": string(state.Running),
			"rows_read": int64(0), "rows_written": int64(0), "rows_dead": int64(0), "error": nil}
	}
	by := []string{"run_id"}

	begin(state.Run{RunID: "r1", Pipeline: "p", StartedAt: Ts(0), Status: state.Running})
	begin(state.Run{RunID: "q1", Pipeline: "q", StartedAt: Ts(1), Status: state.Running})
	h.AssertRows(load.RunTable, runCols, by, []Row{running("r1", "p", 0), running("q1", "q", 1)})

	begin(state.Run{RunID: "r2", Pipeline: "p", StartedAt: Ts(10), Status: state.Running})
	abandoned := running("r1", "p", 0)
	abandoned["status"] = string(state.Abandoned)
	abandoned["error"] = NonEmpty
	abandoned["finished_at"] = Any
	h.AssertRows(load.RunTable, runCols, by, []Row{abandoned, running("q1", "q", 1), running("r2", "p", 10)})

	end(state.Run{RunID: "r2", Pipeline: "p", StartedAt: Ts(10), FinishedAt: Ts(20), Status: state.Succeeded,
		RowsRead: 10, RowsWritten: 8, RowsDead: 2})
	end(state.Run{RunID: "q1", Pipeline: "q", StartedAt: Ts(1), FinishedAt: Ts(21), Status: state.Failed,
		RowsRead: 5, RowsWritten: 0, RowsDead: 0, Error: "extract: rate limited (RATE_LIMIT)"})
	h.AssertRows(load.RunTable, runCols, by, []Row{
		abandoned,
		{"run_id": "q1", "pipeline": "q", "started_at": Ts(1), "finished_at": Ts(21), "status": string(state.Failed),
			"rows_read": int64(5), "rows_written": int64(0), "rows_dead": int64(0), "error": "extract: rate limited (RATE_LIMIT)"},
		{"run_id": "r2", "pipeline": "p", "started_at": Ts(10), "finished_at": Ts(20), "status": string(state.Succeeded),
			"rows_read": int64(10), "rows_written": int64(8), "rows_dead": int64(2), "error": nil},
	})

	// A later run finds no run of p still running: nothing more is abandoned.
	begin(state.Run{RunID: "r3", Pipeline: "p", StartedAt: Ts(30), Status: state.Running})
	rows := h.Rows(load.RunTable, runCols)
	for _, r := range rows {
		if r["run_id"] == "r2" && r["status"] != string(state.Succeeded) {
			h.T.Errorf("BeginRun(r3) changed finished run r2 to %v", r["status"])
		}
	}
}

// testState: Checkpoints lists by stream; ResetState deletes one stream's or all.
func testState(h *H) {
	put := func(pl, st, cursor string, seq int64, at int) state.Checkpoint {
		h.T.Helper()
		c := state.Checkpoint{Pipeline: pl, Stream: st, Cursor: cursor, Batch: seq, RunID: "run-" + st, CommittedAt: Ts(at)}
		h.MustWrite(load.Batch{Pipeline: pl, Stream: st, RunID: c.RunID, Seq: seq, Table: st,
			Disposition: load.Merge, Keys: []string{"id"}, Checkpoint: c})
		return c
	}
	list := func(pl string, want ...state.Checkpoint) {
		h.T.Helper()
		got, err := h.Dest.Checkpoints(h.Ctx, pl)
		if err != nil {
			h.T.Fatalf("Checkpoints(%s): %v", pl, err)
		}
		ok := len(got) == len(want)
		for i := 0; ok && i < len(got); i++ {
			ok = sameCheckpoint(got[i], want[i])
		}
		if !ok {
			h.T.Errorf("Checkpoints(%s)\n   got %+v\n  want %+v", pl, got, want)
		}
	}
	list("p")
	h.AssertCheckpoint("p", "a", state.Checkpoint{})

	cb := put("p", "b", "2024-05-01T00:00:00Z", 3, 1)
	ca := put("p", "a", "", 1, 2)
	cc := put("p", "c", `{"page":"x\"y"}`, 7, 3)
	qa := put("q", "a", "q-cursor", 2, 4)
	list("p", ca, cb, cc)
	list("q", qa)
	h.AssertCheckpoint("p", "a", ca)
	h.AssertCheckpoint("p", "b", cb)
	h.AssertCheckpoint("q", "a", qa)
	h.AssertCheckpoint("p", "zzz", state.Checkpoint{})

	cb = put("p", "b", "2024-06-01T00:00:00Z", 4, 5)
	list("p", ca, cb, cc)

	if err := h.Dest.ResetState(h.Ctx, "p", []string{"b", "not-a-stream"}); err != nil {
		h.T.Fatalf("ResetState(p, b): %v", err)
	}
	list("p", ca, cc)
	h.AssertCheckpoint("p", "b", state.Checkpoint{})
	list("q", qa)

	if err := h.Dest.ResetState(h.Ctx, "p", nil); err != nil {
		h.T.Fatalf("ResetState(p): %v", err)
	}
	list("p")
	list("q", qa)
	h.AssertCheckpoint("q", "a", qa)
}

// testConcurrent: streams write from goroutines of their own, as the pipeline runs
// them; every batch of every stream commits.
func testConcurrent(h *H) {
	const streams, batches = 4, 3
	type job struct {
		stream string
		bts    []load.Batch
	}
	jobs := make([]job, streams)
	for i := range jobs {
		st := fmt.Sprintf("s%d", i)
		jobs[i].stream = st
		for seq := int64(1); seq <= batches; seq++ {
			rows := [][]any{
				{seq, fmt.Sprint("v", seq), Ts(int(seq)), Ts(int(seq)), false, nil, JSON(`{}`)},
				{int64(100), fmt.Sprint("last", seq), Ts(int(seq)), Ts(int(seq)), false, nil, JSON(`{}`)},
			}
			jobs[i].bts = append(jobs[i].bts, load.Batch{
				Pipeline: pipeline, Stream: st, RunID: runID, Seq: seq, Table: st,
				Disposition: load.Merge, Keys: []string{"id"}, Records: Batch(h.T, h.Alloc, userCols, rows...),
				Checkpoint: state.Checkpoint{Pipeline: pipeline, Stream: st, Cursor: fmt.Sprint(seq), Batch: seq, RunID: runID, CommittedAt: Ts(int(seq))},
			})
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, streams)
	for i, j := range jobs {
		wg.Go(func() {
			for k, b := range j.bts {
				if _, _, err := h.Write(b); err != nil {
					errs[i] = err
					for _, rest := range j.bts[k+1:] {
						rest.Records.Release()
					}
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			h.T.Errorf("stream %s: %v", jobs[i].stream, err)
		}
	}
	for _, j := range jobs {
		want := []Row{}
		for seq := int64(1); seq <= batches; seq++ {
			want = append(want, Row{"id": seq, "name": fmt.Sprint("v", seq), load.IngestedAt: Ts(int(seq)), load.UpdatedAt: Ts(int(seq)),
				load.IsDeleted: false, load.DeletedAt: nil, load.Raw: JSON(`{}`)})
		}
		want = append(want, Row{"id": int64(100), "name": fmt.Sprint("last", batches), load.IngestedAt: Ts(batches), load.UpdatedAt: Ts(batches),
			load.IsDeleted: false, load.DeletedAt: nil, load.Raw: JSON(`{}`)})
		h.AssertRows(j.stream, nil, byID, want)
		h.AssertCheckpoint(pipeline, j.stream, state.Checkpoint{Pipeline: pipeline, Stream: j.stream, Cursor: fmt.Sprint(batches),
			Batch: batches, RunID: runID, CommittedAt: Ts(batches)})
	}
}
