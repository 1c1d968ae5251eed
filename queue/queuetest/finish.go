package queuetest

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

func finishPromises() []promise {
	return []promise{
		{Name: "Outcomes", Check: outcomes},
		{Name: "NotAnOutcome", Check: notAnOutcome},
		{Name: "Retry", Check: retry},
		{Name: "OthersFirst", Check: othersFirst},
		{Name: "FinalWrites", Cases: finalWritePromises()},
		{Name: "RetryKeepsFailureRecord", Check: retryKeepsFailureRecord},
	}
}

// finalWrites returns a run's deferred writes with releases.
func finalWrites(releases ...task.FinalWrite) *task.FinalWrites {
	f := &task.FinalWrites{}
	for _, r := range releases {
		f.Release(r)
	}
	return f
}

// Every outcome ends the task with its status, kind and error, and a state
// whose Err matches what the outcome was; the state says whether the
// run's deferred result writes stored a result. A release that fails
// changes nothing: the lock expires with its TTL.
func outcomes(t *tester) {
	type check func(t *tester, err error)
	is := func(target error) check {
		return func(t *tester, err error) {
			t.Helper()
			if !errors.Is(err, target) {
				t.Errorf("Err() = %v, want it to match %v", err, target)
			}
		}
	}
	succeeded := func(t *tester, err error) {
		if err != nil {
			t.Errorf("Err() = %v, want nil", err)
		}
	}
	kind := func(kind, msg string) check {
		return func(t *tester, err error) {
			f, ok := errors.AsType[*task.Failure](err)
			if !ok || f.Kind != kind || f.Message != msg {
				t.Errorf("Err() = %#v, want a task.Failure of kind %q, %q", err, kind, msg)
			}
		}
	}
	deadLetter := func(id string) check {
		return func(t *tester, err error) {
			if e, ok := errors.AsType[*queue.DeadLetterError](err); !ok || e.ID != id {
				t.Errorf("Err() = %#v, want a *queue.DeadLetterError for %q", err, id)
			}
		}
	}
	var (
		ok   = []error{nil}
		lost = []error{nil, errWrite} // one write of two fails: no result
	)
	timeout := queue.Outcome{Status: queue.Failed, Attempt: 3, Kind: "timeout", Error: "took too long"}
	canceled := queue.Outcome{Status: queue.Canceled, Attempt: 1, Kind: queue.ErrCanceled.ErrorKind(), Error: queue.ErrCanceled.Error()}
	cases := []struct {
		name string
		o    queue.Outcome // without Final
		// noFinal leaves o.Final nil; else it holds result writes and
		// releases that fail with these errors (nil: succeed).
		noFinal           bool
		results, releases []error
		result            queue.ResultStatus
		checks            []check
	}{
		{name: "succeeded", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, results: ok,
			result: queue.ResultStored, checks: []check{succeeded}},
		{name: "succeeded, lock released", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, results: ok, releases: []error{nil},
			result: queue.ResultStored, checks: []check{succeeded}},
		{name: "succeeded, release failed", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, results: ok, releases: []error{errWrite},
			result: queue.ResultStored, checks: []check{succeeded}},
		{name: "succeeded, nothing stored", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, releases: []error{nil},
			result: queue.NoResult, checks: []check{succeeded}},
		{name: "succeeded, no final writes", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, noFinal: true,
			result: queue.NoResult, checks: []check{succeeded}},
		{name: "succeeded, result lost", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, results: []error{errWrite},
			result: queue.ResultLost, checks: []check{succeeded}},
		{name: "failed", o: timeout, results: ok,
			result: queue.ResultStored, checks: []check{is(context.DeadlineExceeded), kind("timeout", "took too long")}},
		{name: "failed, nothing stored", o: timeout,
			result: queue.NoResult, checks: []check{is(context.DeadlineExceeded), kind("timeout", "took too long")}},
		{name: "failed, result lost", o: timeout, results: lost,
			result: queue.ResultLost, checks: []check{is(context.DeadlineExceeded), kind("timeout", "took too long")}},
		{name: "skipped", o: queue.Outcome{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked", Error: "held elsewhere"}, releases: []error{nil},
			result: queue.NoResult, checks: []check{is(task.ErrSkipped), is(lock.ErrLocked)}},
		{name: "skipped, stored", o: queue.Outcome{Status: queue.Skipped, Attempt: 1, Kind: "middleware.expired", Error: "too old"}, results: ok,
			result: queue.ResultStored, checks: []check{is(task.ErrSkipped), kind("middleware.expired", "too old")}},
		{name: "dead", o: queue.Outcome{Status: queue.Dead, Attempt: 2, Kind: "task.bad_payload", Error: "cannot decode"}, results: ok,
			result: queue.ResultStored, checks: []check{is(queue.ErrDeadLettered), is(task.ErrBadPayload), deadLetter("dead")}},
		{name: "dead, nothing stored", o: queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "worker.unknown_task", Error: "no such task"},
			noFinal: true, result: queue.NoResult,
			checks: []check{is(queue.ErrDeadLettered), kind("worker.unknown_task", "no such task"), deadLetter("dead, nothing stored")}},
		{name: "dead, result lost", o: queue.Outcome{Status: queue.Dead, Attempt: 2, Kind: "worker.too_many_deliveries", Error: "crashed"},
			results: lost, result: queue.ResultLost,
			checks: []check{is(queue.ErrDeadLettered), kind("worker.too_many_deliveries", "crashed"), deadLetter("dead, result lost")}},
		{name: "canceled", o: canceled, results: ok, releases: []error{nil},
			result: queue.ResultStored, checks: []check{is(queue.ErrCanceled)}},
		{name: "canceled, nothing stored", o: canceled, noFinal: true,
			result: queue.NoResult, checks: []check{is(queue.ErrCanceled)}},
	}
	for _, tc := range cases {
		t.sub(tc.name, func(t *tester) {
			t.enqueue(msg("out", tc.name), time.Time{})
			d := t.takeOne("out", tc.name)
			o, made := tc.o, func(*tester) {}
			if !tc.noFinal {
				o.Final, made = final(tc.results, tc.releases)
			}
			t.finish(d, o)
			made(t)
			st := t.wantState("out", tc.name, tc.o.Status, tc.o.Attempt, tc.o.Kind, tc.o.Error)
			if st.Result != tc.result || st.Task != "email" || st.FinishedAt.IsZero() {
				t.Errorf("State = %+v; want Result %q, Task email, a FinishedAt", *st, tc.result)
			}
			for _, c := range tc.checks {
				c(t, st.Err())
			}
			if ds := t.take("out", "c1", 10); ds != nil {
				t.Fatalf("Take after Finish: got %q", ids(ds))
			}
		})
	}
}

// A status that is not an outcome is refused, and leaves the delivery
// taken, to be recovered.
func notAnOutcome(t *tester) {
	t.enqueue(msg("out", "bad"), time.Time{})
	d := t.takeOne("out", "bad")
	for _, s := range []queue.Status{queue.Queued, queue.Running, ""} {
		if err := t.q.Finish(t.Context(), d, queue.Outcome{Status: s, Attempt: 1}); err == nil {
			t.Errorf("Finish with status %q: no error", s)
		}
	}
	t.wantState("out", "bad", queue.Queued, 1, "", "")
	wantIDs(t, "Recover (still taken)", t.reclaim("out", "c2", 0, 10), "bad")
}

// A Scheduled outcome sends the task back to wait until RunAt as the
// next attempt; a retry's next run learns the failure it follows.
func retry(t *tester) {
	m := msg("r", "job")
	m.ExpiresAt = at.Add(time.Hour)
	m.Headers = map[string]string{"tenant": "acme"}
	t.enqueue(m, time.Time{})
	first := t.takeOne("r", "job")
	runAt := time.Now().Add(time.Hour)
	t.finish(first, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: runAt, Kind: "boom", Error: "it broke", Retry: true})
	st := t.wantState("r", "job", queue.Scheduled, 2, "boom", "it broke")
	if st.Err() != nil || st.Task != "email" {
		t.Fatalf("State(scheduled) = %+v, Err %v; want its task and no error", *st, st.Err())
	}
	t.duplicate("while the retry waits", msg("r", "job"), time.Time{}, "job")
	want := *m
	want.Attempt, want.LastKind, want.LastError = 2, "boom", "it broke"
	waiting, err := t.q.Message(t.Context(), "r", "job")
	if err != nil {
		t.Fatalf("Message of the waiting retry: %v", err)
	}
	sameMessage(t, "Message of the waiting retry", *waiting, want)
	if ds := t.take("r", "c1", 10); ds != nil {
		t.Fatalf("Take before the retry is due: got %q", ids(ds))
	}
	t.wantStats("r", 0, 0, 1, 0)
	if n := t.promote("r", time.Now(), 10); n != 0 {
		t.Fatalf("Promote before the retry is due moved %d", n)
	}
	if n := t.promote("r", runAt, 10); n != 1 {
		t.Fatalf("Promote when the retry is due moved %d, want 1", n)
	}
	t.wantState("r", "job", queue.Queued, 2, "boom", "it broke")
	ds := t.take("r", "c2", 10)
	wantIDs(t, "Take of the retry", ds, "job")
	sameMessage(t, "retry", ds[0].Message, want)
	if ds[0].Deliveries != 1 || ds[0].Receipt == first.Receipt {
		t.Fatalf("retry: Deliveries %d, Receipt %q (first %q); want 1 and a new receipt", ds[0].Deliveries, ds[0].Receipt, first.Receipt)
	}

	// A reschedule (not a retry) leaves the last failure as it was, and
	// an outage is counted in the next delivery.
	t.finish(ds[0], queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Kind: "lock.locked", Error: "held", Outage: true})
	t.wantState("r", "job", queue.Scheduled, 2, "lock.locked", "held")
	t.promote("r", time.Now(), 10)
	d := t.takeOne("r", "job")
	sameMessage(t, "rescheduled", d.Message, want)
	if d.Outages != 1 {
		t.Fatalf("rescheduled for an outage: Outages %d, want 1", d.Outages)
	}
	t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 2})
	t.wantState("r", "job", queue.Succeeded, 2, "", "")
}

// Finish makes a deferred write of no backend's first, on its own, before
// the task ends.
func othersFirst(t *tester) {
	t.enqueue(msg("fw", "first"), time.Time{})
	d := t.takeOne("fw", "first")
	var seen []queue.Status
	look := write(func(ctx context.Context) error {
		st, err := t.q.State(ctx, "fw", "first")
		if err != nil {
			return err
		}
		seen = append(seen, st.Status)
		return nil
	})
	f := finalWrites(look)
	f.Result(look)
	t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: f})
	if want := []queue.Status{queue.Queued, queue.Queued}; !slices.Equal(seen, want) {
		t.Fatalf("the deferred writes saw the task %q, want %q: made before it ended", seen, want)
	}
	t.wantState("fw", "first", queue.Succeeded, 1, "", "")
	t.wantResult("fw", "first", queue.ResultStored)
}

func finalWritePromises() []promise {
	outcomes := []struct {
		name string
		o    queue.Outcome
		rec  store.Record
	}{
		{"Succeeded", queue.Outcome{Status: queue.Succeeded, Attempt: 1},
			store.Record{Status: store.Succeeded, Value: []byte(`"sent"`), Attempt: 1}},
		{"Failed", queue.Outcome{Status: queue.Failed, Attempt: 2, Kind: "timeout", Error: "took too long"},
			store.Record{Status: store.Failed, Kind: "timeout", Error: "took too long", Attempt: 2}},
		{"Skipped", queue.Outcome{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked", Error: "held"},
			store.Record{Status: store.Skipped, Kind: "lock.locked", Error: "held", Attempt: 1}},
		{"Dead", queue.Outcome{Status: queue.Dead, Attempt: 3, Kind: "task.permanent", Error: "gave up"},
			store.Record{Status: store.Failed, Kind: "task.permanent", Error: "gave up", Attempt: 3}},
		{"Canceled", queue.Outcome{Status: queue.Canceled, Attempt: 1, Kind: queue.ErrCanceled.ErrorKind(), Error: queue.ErrCanceled.Error()},
			store.Record{Status: store.Failed, Kind: "canceled", Error: "context canceled", Attempt: 1}},
		{"Retry", queue.Outcome{Status: queue.Scheduled, Attempt: 2, Kind: "error", Error: "boom", Retry: true},
			store.Record{Status: store.Failed, Kind: "error", Error: "boom", Attempt: 1}},
		{"Reschedule", queue.Outcome{Status: queue.Scheduled, Attempt: 1, Kind: "lock.locked", Error: "held"},
			store.Record{Status: store.Failed, Kind: "lock.locked", Error: "held", Attempt: 1}},
	}
	out := make([]promise, len(outcomes))
	for i, c := range outcomes {
		out[i] = promise{Name: c.name, Check: func(t *tester) { ownFinalWrites(t, c.o, c.rec) }}
	}
	return out
}

// Finish makes the run's deferred writes of the queue's own backend, a
// record and a lock release, whatever the outcome: one that ends the task,
// and one that sends it back to wait. Nothing is written before; after,
// the record is stored with its TTL, the lock free, and the state says the
// result is stored.
func ownFinalWrites(t *tester, o queue.Outcome, rec store.Record) {
	const ttl = 3 * time.Hour
	id := "own-" + string(o.Status)
	if o.Status == queue.Scheduled {
		o.RunAt = time.Now().Add(time.Hour)
	}
	t.enqueue(msg("fw", id), time.Time{})
	d := t.takeOne("fw", id)
	rec.Queue, rec.ID, rec.Task = "fw", id, "email"
	o.Final = finalWrites(t.lockFor("lock-" + id))
	o.Final.Result(t.record(rec, ttl))
	t.wantNoRecord("fw", id) // deferred: nothing written yet
	t.wantLocked("lock-" + id)

	before := time.Now()
	t.finish(d, o)
	after := time.Now()
	t.wantState("fw", id, o.Status, o.Attempt, o.Kind, o.Error)
	t.wantFree("lock-" + id)
	got := t.wantRecord(rec)
	if lo, hi := before.Add(ttl-2*time.Second), after.Add(ttl+2*time.Second); got.ExpiresAt.Before(lo) || got.ExpiresAt.After(hi) {
		t.Errorf("record expires at %v; want within [%v, %v]: its TTL is %v", got.ExpiresAt, lo, hi, ttl)
	}
	t.wantResult("fw", id, queue.ResultStored)
}

// With StoreResult inside Retry, every run stores its outcome: a run that
// fails and is retried stores its failure, in the Finish that sends the
// task back (a Scheduled outcome), and the retry's outcome replaces it
// when it ends. Each Finish releases the run's lock.
func retryKeepsFailureRecord(t *tester) {
	t.enqueue(msg("rk", "job"), time.Time{})
	d := t.takeOne("rk", "job")
	failure := store.Record{Queue: "rk", ID: "job", Task: "email", Status: store.Failed, Kind: "lock.locked", Error: `lock "a": held`, Attempt: 1}
	o := queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour), Kind: failure.Kind, Error: failure.Error,
		Retry: true, Final: finalWrites(t.lockFor("lock-rk"))}
	o.Final.Result(t.record(failure, time.Hour))
	t.finish(d, o)
	t.wantRecord(failure)
	t.wantState("rk", "job", queue.Scheduled, 2, failure.Kind, failure.Error)
	t.wantResult("rk", "job", queue.ResultStored)
	t.wantFree("lock-rk")

	t.promote("rk", time.Now().Add(2*time.Hour), 10)
	d = t.takeOne("rk", "job")
	if d.Attempt != 2 || d.LastKind != failure.Kind {
		t.Fatalf("the retry: attempt %d, last kind %q; want 2, %q", d.Attempt, d.LastKind, failure.Kind)
	}
	success := store.Record{Queue: "rk", ID: "job", Task: "email", Status: store.Succeeded, Value: []byte("6"), Attempt: 2}
	o = queue.Outcome{Status: queue.Succeeded, Attempt: 2, Final: finalWrites(t.lockFor("lock-rk"))}
	o.Final.Result(t.record(success, time.Hour))
	t.finish(d, o)
	t.wantRecord(success)
	t.wantState("rk", "job", queue.Succeeded, 2, "", "")
	t.wantResult("rk", "job", queue.ResultStored)
	t.wantFree("lock-rk")
}
