package queuetest

import (
	"errors"
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

// A call sent again, after a reply that was lost, answers as if it was
// sent once. The package doc says what that means for each call; these
// check it at the contract: each call made twice, in a row. (A Cancel,
// RequeueDead or PurgeDead sent again by the backend itself gives the
// first answer: see the package doc.)
func resentPromises() []promise {
	return []promise{
		{Name: "Enqueue", Check: resentEnqueue},
		{Name: "Take", Check: resentTake},
		{Name: "Finish", Check: resentFinish},
		{Name: "FinishScheduled", Check: resentFinishScheduled},
		{Name: "Cancel", Check: resentCancel},
		{Name: "RequeueDead", Check: resentRequeueDead},
		{Name: "PurgeDead", Check: resentPurgeDead},
	}
}

// An Enqueue of the same message again is a duplicate of the first, and
// adds nothing: one task, handed out once.
func resentEnqueue(t *tester) {
	t.enqueue(msg("re", "a"), time.Time{})
	t.duplicate("sent again", msg("re", "a"), time.Time{}, "a")
	errs, err := t.q.EnqueueMany(t.Context(), []*queue.Message{msg("re", "b")}, time.Time{})
	if err != nil || errs[0] != nil {
		t.Fatalf("EnqueueMany = %v, %v", errs, err)
	}
	errs, err = t.q.EnqueueMany(t.Context(), []*queue.Message{msg("re", "b")}, time.Time{})
	if err != nil || !errors.Is(errs[0], queue.ErrDuplicate) {
		t.Fatalf("EnqueueMany sent again = %v, %v; want a duplicate", errs, err)
	}
	t.wantStats("re", 2, 0, 0, 0)
	wantIDs(t, "Take", t.take("re", "c1", 10), "a", "b")
	if ds := t.take("re", "c1", 10); ds != nil {
		t.Fatalf("Take again: got %q; a message was added twice", ids(ds))
	}
}

// What a Take handed out stays handed out, though its caller never saw
// it: taken (Stats counts it running, listed with its consumer), never
// handed to another, and recovered once its claim is idle. Nothing is
// lost, nothing doubled.
func resentTake(t *tester) {
	for _, id := range []string{"a", "b"} {
		t.enqueue(msg("rt", id), time.Time{})
	}
	lost := t.take("rt", "c1", 10) // the reply that never arrived
	wantIDs(t, "Take", lost, "a", "b")
	if ds := t.take("rt", "c2", 10); ds != nil {
		t.Fatalf("Take by another consumer: got %q; taken messages were handed out again", ids(ds))
	}
	t.wantStats("rt", 0, 2, 0, 0)
	running, err := t.q.Tasks(t.Context(), "rt", queue.RunningTasks, 10)
	if err != nil || len(running) != 2 || running[0].Worker != "c1" || running[1].Worker != "c1" {
		t.Fatalf("Tasks(running) = %+v, %v; want a and b, taken by c1", running, err)
	}
	ds := t.reclaim("rt", "c2", 0, 10)
	wantIDs(t, "Recover", ds, "a", "b")
	for _, d := range ds {
		t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	}
	t.wantStats("rt", 0, 0, 0, 0)
}

// A Finish of a delivery finished already returns no error and changes
// nothing: not the state, the counts, the dead letters, nor the record,
// whose second write is not made.
func resentFinish(t *tester) {
	for _, status := range []queue.Status{queue.Succeeded, queue.Failed, queue.Dead, queue.Skipped, queue.Canceled} {
		t.sub(string(status), func(t *tester) {
			id := "twice-" + string(status)
			t.enqueue(msg("rf", id), time.Time{})
			d := t.takeOne("rf", id)
			rec := store.Record{Queue: "rf", ID: id, Task: "email", Status: store.Failed, Kind: "k", Error: "first", Attempt: 1}
			o := queue.Outcome{Status: status, Attempt: 1, Kind: "k", Error: "first", Final: finalWrites()}
			o.Final.Result(t.record(rec, time.Hour))
			t.finish(d, o)
			first := t.state("rf", id)
			statsBefore := t.stats("rf")

			again := rec
			again.Error = "second"
			o2 := queue.Outcome{Status: status, Attempt: 1, Kind: "k", Error: "second", Final: finalWrites()}
			o2.Final.Result(t.record(again, time.Hour))
			t.finish(d, o2)
			if st := t.state("rf", id); *st != *first {
				t.Fatalf("State after Finish sent again = %+v; want it unchanged: %+v", *st, *first)
			}
			if st := t.stats("rf"); st != statsBefore {
				t.Fatalf("Stats after Finish sent again = %+v; want %+v", st, statsBefore)
			}
			t.wantRecord(rec)
		})
	}
	rates, err := t.q.Rates(t.Context(), "rf", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatalf("Rates: %v", err)
	}
	var sum queue.OutcomeCounts
	for _, r := range rates {
		sum.Add(r)
	}
	if sum.Succeeded != 1 || sum.Failed != 1 || sum.Dead != 1 || sum.Canceled != 1 || sum.SkippedTotal() != 1 {
		t.Fatalf("Rates counted %+v; want each outcome once", sum)
	}
}

// A Scheduled finish sent again changes nothing either: one wait in the
// delayed set, one retry.
func resentFinishScheduled(t *tester) {
	t.enqueue(msg("rs", "job"), time.Time{})
	d := t.takeOne("rs", "job")
	o := queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Kind: "boom", Error: "x", Retry: true}
	t.finish(d, o)
	t.finish(d, o)
	t.wantStats("rs", 0, 0, 1, 0)
	if n := t.promote("rs", time.Now(), 10); n != 1 {
		t.Fatalf("Promote moved %d, want 1", n)
	}
	d = t.takeOne("rs", "job")
	if d.Attempt != 2 {
		t.Fatalf("the retry is attempt %d, want 2", d.Attempt)
	}
	// The retry's own Finish, sent again after the retry's end, still
	// changes nothing.
	t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 2})
	t.finish(d, o)
	t.wantState("rs", "job", queue.Succeeded, 2, "", "")
	t.wantStats("rs", 0, 0, 0, 0)
}

// A second Cancel says too late (the task the first canceled has ended) or
// sent (a worker still holds the task), never an error, and counts once.
func resentCancel(t *tester) {
	t.enqueue(msg("rc", "ready"), time.Time{})
	t.cancel("rc", "ready", queue.CancelDone)
	t.cancel("rc", "ready", queue.CancelTooLate)
	t.wantCanceled("rc", "ready", 1)

	t.enqueue(msg("rc", "held"), time.Time{})
	d := t.takeOne("rc", "held")
	t.cancel("rc", "held", queue.CancelSent)
	t.cancel("rc", "held", queue.CancelSent)
	t.finish(d, queue.Outcome{Status: queue.Canceled, Attempt: 1, Kind: queue.ErrCanceled.ErrorKind(), Error: queue.ErrCanceled.Error()})
	t.cancel("rc", "held", queue.CancelTooLate)
	t.wantCanceled("rc", "held", 1)

	rates, err := t.q.Rates(t.Context(), "rc", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatalf("Rates: %v", err)
	}
	var sum queue.OutcomeCounts
	for _, r := range rates {
		sum.Add(r)
	}
	if sum.Canceled != 2 || sum.Ended() != 2 {
		t.Fatalf("Rates counted %+v; want 2 cancels, nothing else", sum)
	}
}

// A second RequeueDead requeues nothing more: the task is queued once,
// and its dead letter gone.
func resentRequeueDead(t *tester) {
	t.enqueue(msg("rr", "x"), time.Time{})
	t.finish(t.takeOne("rr", "x"), queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
	for i, want := range [][]string{{"x"}, nil} {
		done, kept, err := t.q.RequeueDead(t.Context(), "rr", "x")
		if err != nil || !slices.Equal(done, want) || len(kept) != 0 {
			t.Fatalf("RequeueDead(x), call %d = %v, %v, %v; want %q", i+1, done, kept, err, want)
		}
	}
	if done, kept, err := t.q.RequeueDead(t.Context(), "rr"); err != nil || len(done)+len(kept) != 0 {
		t.Fatalf("RequeueDead(all) after = %v, %v, %v; want nothing", done, kept, err)
	}
	t.wantStats("rr", 1, 0, 0, 0)
	t.wantState("rr", "x", queue.Queued, 1, "", "")
	wantIDs(t, "Take", t.take("rr", "c1", 10), "x")
}

// A second PurgeDead deletes nothing more.
func resentPurgeDead(t *tester) {
	for _, id := range []string{"x", "y"} {
		t.enqueue(msg("rp", id), time.Time{})
		t.finish(t.takeOne("rp", id), queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
	}
	for i, want := range []int{1, 0} {
		if n, err := t.q.PurgeDead(t.Context(), "rp", "x"); err != nil || n != want {
			t.Fatalf("PurgeDead(x), call %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	for i, want := range []int{1, 0} {
		if n, err := t.q.PurgeDead(t.Context(), "rp"); err != nil || n != want {
			t.Fatalf("PurgeDead(all), call %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	t.wantStats("rp", 0, 0, 0, 0)
}
