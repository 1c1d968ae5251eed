package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

func takePromises() []promise {
	return []promise{
		{Name: "Order", Check: takeOrder},
		{Name: "Wait", Check: takeWait},
		{Name: "ConsumersShare", Check: consumersShare},
		{Name: "Paused", Check: takePaused},
	}
}

// Take hands out the oldest ready messages first, at most n (all if n <=
// 0), each with a receipt of its own.
func takeOrder(t *tester) {
	for i := range 10 {
		t.enqueue(t.ordered("fifo", fmt.Sprintf("m%d", i)), time.Time{})
	}
	receipts := map[string]bool{}
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{3, []string{"m0", "m1", "m2"}},
		{1, []string{"m3"}},
		{5, []string{"m4", "m5", "m6", "m7", "m8"}},
		{10, []string{"m9"}},
		{4, nil},
	} {
		ds := t.take("fifo", "c1", tc.n)
		wantIDs(t, fmt.Sprintf("Take(n=%d)", tc.n), ds, tc.want...)
		for _, d := range ds {
			if receipts[d.Receipt] {
				t.Fatalf("receipt %q handed out twice", d.Receipt)
			}
			receipts[d.Receipt] = true
		}
	}
	if ds := t.take("other", "c1", 10); ds != nil {
		t.Fatalf("Take of an empty queue: got %q, want nil", ids(ds))
	}
	for _, id := range []string{"x", "y", "z"} {
		t.enqueue(t.ordered("fifo", id), time.Time{})
	}
	wantIDs(t, "Take(n=0)", t.take("fifo", "c1", 0), "x", "y", "z")
}

// A Take that waits returns as soon as a message is ready, enqueued or
// promoted; or nothing, without error, once its wait is over.
func takeWait(t *tester) {
	for _, tc := range []struct {
		name    string
		prepare func(t *tester, name string)
		arrive  func(t *tester, name string)
	}{
		{"enqueued", nil, func(t *tester, name string) { t.enqueue(msg(name, "w"), time.Time{}) }},
		{"promoted",
			func(t *tester, name string) { t.enqueue(msg(name, "w"), time.Now().Add(time.Hour)) },
			func(t *tester, name string) { t.promote(name, time.Now().Add(2*time.Hour), 10) }},
	} {
		t.sub(tc.name, func(t *tester) {
			name := "wait-" + tc.name
			if tc.prepare != nil {
				tc.prepare(t, name)
			}
			type result struct {
				ds  []*queue.Delivery
				err error
			}
			done := make(chan result, 1)
			go func() {
				ds, err := t.q.Take(context.Background(), name, "c1", 5, 10*time.Second)
				done <- result{ds, err}
			}()
			time.Sleep(100 * time.Millisecond)
			tc.arrive(t, name)
			select {
			case r := <-done:
				if r.err != nil {
					t.Fatalf("Take: %v", r.err)
				}
				wantIDs(t, "Take", r.ds, "w")
			case <-time.After(5 * time.Second):
				t.Fatal("Take did not return within 5s of a message being ready")
			}
		})
	}
	t.sub("nothing came", func(t *tester) {
		start := time.Now()
		ds, err := t.q.Take(t.Context(), "wait-empty", "c1", 5, 150*time.Millisecond)
		if ds != nil || err != nil {
			t.Fatalf("Take of an empty queue = %q, %v; want nil, nil", ids(ds), err)
		}
		if waited := time.Since(start); waited < 100*time.Millisecond {
			t.Fatalf("Take returned after %v; want it to wait about 150ms", waited)
		}
	})
	t.sub("sub-millisecond wait", func(t *tester) {
		// Not a wait for ever.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		ds, err := t.q.Take(ctx, "wait-empty", "c1", 5, 500*time.Microsecond)
		if ds != nil || err != nil {
			t.Fatalf("Take(wait=500µs) of an empty queue = %q, %v; want nil, nil", ids(ds), err)
		}
	})
}

// Consumers that take at once share the messages: none is handed to two,
// and none is handed out again while it is taken.
func consumersShare(t *tester) {
	const total, consumers = 100, 4
	var (
		taken atomic.Int64
		mu    sync.Mutex
		owner = map[string]string{} // ID -> consumer
		wg    sync.WaitGroup
	)
	deadline := time.Now().Add(20 * time.Second)
	for c := range consumers {
		consumer := fmt.Sprintf("c%d", c)
		wg.Go(func() {
			for taken.Load() < total && time.Now().Before(deadline) {
				ds, err := t.q.Take(context.Background(), "share", consumer, 3, 50*time.Millisecond)
				if err != nil {
					t.Errorf("Take(%s): %v", consumer, err)
					return
				}
				mu.Lock()
				for _, d := range ds {
					if prev, ok := owner[d.ID]; ok {
						t.Errorf("%s handed to both %s and %s", d.ID, prev, consumer)
					}
					owner[d.ID] = consumer
				}
				mu.Unlock()
				taken.Add(int64(len(ds)))
			}
		})
	}
	for i := range total {
		t.enqueue(msg("share", fmt.Sprintf("m%03d", i)), time.Time{})
	}
	wg.Wait()
	if len(owner) != total || taken.Load() != total {
		t.Fatalf("took %d distinct of %d messages in %d deliveries", len(owner), total, taken.Load())
	}
	if ds := t.take("share", "late", 10); ds != nil {
		t.Fatalf("Take after all were taken: got %q; taken messages must not be handed out again", ids(ds))
	}
	t.wantStats("share", 0, total, 0, 0)
}

// A paused queue hands nothing out, and takes enqueues; resumed, it hands
// out what waited, in order. The Takes of a worker that polls it meanwhile
// move nothing: each ready task keeps its entry, so its place, and the
// oldest ready one's age (Stats.OldestReady) is its real age.
func takePaused(t *tester) {
	t.enqueue(msg("p", "before"), time.Time{})
	enqueued := time.Now()
	if err := t.q.Pause(t.Context(), "p"); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	t.enqueue(msg("p", "during"), time.Time{})
	receipts := func() []string {
		ts, err := t.q.Tasks(t.Context(), "p", queue.ReadyTasks, 10)
		if err != nil {
			t.Fatalf("Tasks(ready): %v", err)
		}
		out := make([]string, 0, len(ts))
		for _, ti := range ts {
			out = append(out, ti.ID+"@"+ti.Receipt)
		}
		return out
	}
	before := receipts()
	if ds := t.take("p", "c1", 10); ds != nil {
		t.Fatalf("Take of a paused queue: got %q, want nothing", ids(ds))
	}
	for range 3 { // a live worker, polling
		ds, err := t.q.Take(t.Context(), "p", "c1", 10, 100*time.Millisecond)
		if ds != nil || err != nil {
			t.Fatalf("a waiting Take of a paused queue = %q, %v; want nil, nil", ids(ds), err)
		}
	}
	if after := receipts(); !slices.Equal(after, before) {
		t.Fatalf("the paused queue's ready tasks were %q, and after its Takes %q; want them unmoved", before, after)
	}
	age := time.Since(enqueued)
	st, err := t.q.Stats(t.Context(), "p")
	if err != nil || st.OldestReady < age-100*time.Millisecond { // Redis's clock: a margin for skew
		t.Fatalf("Stats of the paused queue: OldestReady %v, %v; its oldest task is %v old", st.OldestReady, err, age)
	}
	t.wantState("p", "before", queue.Queued, 1, "", "")
	t.wantStats("p", 2, 0, 0, 0)
	if err := t.q.Resume(t.Context(), "p"); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	wantIDs(t, "Take after Resume", t.take("p", "c1", 10), "before", "during")
}

func promotePromises() []promise {
	return []promise{
		{Name: "DueOnly", Check: promoteDue},
	}
}

// Promote moves the messages due by its time to the ready ones, at most
// n, the earliest due first; a promoted message queues behind those ready
// already.
func promoteDue(t *tester) {
	now := time.Now()
	soon, late := now.Add(time.Hour), now.Add(2*time.Hour)
	t.enqueue(t.ordered("d", "late"), late)
	t.enqueue(t.ordered("d", "soon"), soon)
	t.enqueue(t.ordered("d", "now"), time.Time{})
	t.enqueue(t.ordered("d", "past"), now.Add(-time.Hour))
	for id, want := range map[string]queue.Status{"late": queue.Scheduled, "soon": queue.Scheduled, "now": queue.Queued, "past": queue.Queued} {
		t.wantState("d", id, want, 1, "", "")
	}
	t.wantStats("d", 2, 0, 2, 0)
	if n := t.promote("d", now, 10); n != 0 {
		t.Fatalf("Promote(now) moved %d, want 0", n)
	}
	wantIDs(t, "Take before any is due", t.take("d", "c1", 10), "now", "past")
	if n := t.promote("d", soon.Add(-time.Millisecond), 10); n != 0 {
		t.Fatalf("Promote(1ms before due) moved %d, want 0", n)
	}
	if ds := t.take("d", "c1", 10); ds != nil {
		t.Fatalf("Take before Promote: got %q", ids(ds))
	}
	if n := t.promote("d", soon, 10); n != 1 {
		t.Fatalf("Promote(due) moved %d, want 1", n)
	}
	t.wantState("d", "soon", queue.Queued, 1, "", "")
	t.wantState("d", "late", queue.Scheduled, 1, "", "")
	t.enqueue(t.ordered("d", "after"), time.Time{})
	if n := t.promote("d", late.Add(time.Hour), 10); n != 1 {
		t.Fatalf("Promote(after all due) moved %d, want 1", n)
	}
	ds := t.take("d", "c1", 10)
	wantIDs(t, "Take after Promote", ds, "soon", "after", "late")
	want := *t.ordered("d", "late")
	want.Attempt = 1
	sameMessage(t, "promoted message", ds[2].Message, want)

	for _, p := range []struct {
		id string
		at time.Duration
	}{{"p3", 3 * time.Second}, {"p1", time.Second}, {"p2", 2 * time.Second}} {
		t.enqueue(t.ordered("d", p.id), now.Add(time.Hour+p.at))
	}
	for _, want := range []int{2, 1, 0} {
		if n := t.promote("d", late, 2); n != want {
			t.Fatalf("Promote(n=2) moved %d, want %d", n, want)
		}
	}
	wantIDs(t, "Take in due order", t.take("d", "c1", 10), "p1", "p2", "p3")
	if n := t.promote("nothing-here", late, 10); n != 0 {
		t.Fatalf("Promote of an unused queue moved %d", n)
	}
}

func recoverPromises() []promise {
	return []promise{
		{Name: "IdleOnly", Check: recoverIdle},
		{Name: "LateFinish", Check: lateFinish},
		{Name: "LateFinishKeepsRecord", Check: lateFinishKeepsRecord},
		{Name: "ExtendReportsLost", Check: extendReportsLost},
		{Name: "TakenOverFirst", Check: takenOverFirst},
		{Name: "TakenOverOnceToItsHolder", Check: takenOverOnceToItsHolder},
	}
}

// Recover moves back the deliveries whose claim was not extended for
// minIdle, oldest first, at most n, each counted as a takeover; Extend
// keeps a claim fresh. Claims are timed on the wall clock.
func recoverIdle(t *tester) {
	const idle = time.Second // real time, with room for a loaded machine
	for _, id := range []string{"a", "b", "c"} {
		t.enqueue(t.ordered("rc", id), time.Time{})
	}
	da := t.take("rc", "c1", 1)[0]
	db := t.take("rc", "c2", 1)[0]
	t.take("rc", "c1", 1)
	if ds := t.reclaim("rc", "c3", idle, 10); ds != nil {
		t.Fatalf("Recover of fresh deliveries: got %q", ids(ds))
	}

	time.Sleep(idle * 6 / 10)
	if lost, err := t.q.Extend(t.Context(), "rc", "c2", []*queue.Delivery{db}); err != nil || lost != nil {
		t.Fatalf("Extend = %q, %v; want none lost", ids(lost), err)
	}
	time.Sleep(idle * 6 / 10)
	// a and c (c1 died) were not extended for idle; b was.
	ds := t.reclaim("rc", "c2", idle, 10)
	wantIDs(t, "Recover", ds, "a", "c")
	for _, d := range ds {
		if d.Deliveries != 2 {
			t.Errorf("recovered %s: Deliveries %d, want 2", d.ID, d.Deliveries)
		}
	}
	want := *t.ordered("rc", "a")
	want.Attempt = 1
	sameMessage(t, "recovered", ds[0].Message, want)
	if ds[0].Receipt == da.Receipt {
		t.Errorf("recovered a: Receipt %q, want a new one: it went back to the queue", ds[0].Receipt)
	}
	if ds := t.reclaim("rc", "c3", idle, 10); ds != nil {
		t.Fatalf("Recover right after a recovery: got %q, want none", ids(ds))
	}

	time.Sleep(idle)
	// Taken over, a and c went back to the end of the queue: b, still at
	// the front, is the oldest idle delivery now.
	ds = t.reclaim("rc", "c3", idle, 1)
	wantIDs(t, "Recover(n=1)", ds, "b")
	if ds[0].Deliveries != 2 {
		t.Errorf("recovered b: Deliveries %d, want 2", ds[0].Deliveries)
	}
	t.finish(ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	// minIdle 0 recovers every taken delivery.
	ds = t.reclaim("rc", "c3", 0, 10)
	wantIDs(t, "Recover(minIdle=0)", ds, "a", "c")
	for _, d := range ds {
		if d.Deliveries != 3 {
			t.Errorf("recovered %s again: Deliveries %d, want 3", d.ID, d.Deliveries)
		}
		t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	}
	if ds := t.reclaim("rc", "c3", 0, 10); ds != nil {
		t.Fatalf("Recover after all finished: got %q", ids(ds))
	}
	if ds := t.reclaim("nothing-here", "c3", 0, 10); ds != nil {
		t.Fatalf("Recover of an unused queue: got %q", ids(ds))
	}
}

// A delivery taken over from a worker that was only slow is finished
// twice. The first finish stands: a late one changes nothing, so a retry
// does not bring back a task that has ended, nor a success overwrite a
// retry under way. The finish of the delivery taken over says so
// (queue.ErrSuperseded), before or after the other one's, and whatever
// its outcome; the new delivery's finish sent again does not.
func lateFinish(t *tester) {
	twice := func(id string) (slow, fast *queue.Delivery) {
		t.Helper()
		t.enqueue(msg("late", id), time.Time{})
		slow = t.take("late", "slow", 1)[0]
		ds := t.reclaim("late", "fast", 0, 10)
		wantIDs(t, "Recover", ds, id)
		return slow, ds[0]
	}
	retry := queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Kind: "boom", Error: "x", Retry: true}
	done := func() queue.Outcome {
		return queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: stored()}
	}
	ended := func(id string) {
		t.Helper()
		t.wantState("late", id, queue.Succeeded, 1, "", "")
		t.wantResult("late", id, queue.ResultStored)
	}

	slow, fast := twice("retried-then-done")
	t.superseded(slow, retry)
	t.finish(fast, done())
	ended("retried-then-done")

	slow, fast = twice("done-then-retried")
	t.finish(fast, done())
	t.superseded(slow, retry)
	t.finish(fast, done()) // sent again: done already, by itself
	t.superseded(slow, done())
	ended("done-then-retried")

	t.promote("late", time.Now(), 10)
	if ds := t.take("late", "c", 10); ds != nil {
		t.Fatalf("Take after Promote: got %q; an ended task came back", ids(ds))
	}
	ended("retried-then-done")
	ended("done-then-retried")
}

// A late finish writes no record over the one that stands: its record
// write is not made, though its lock release is.
func lateFinishKeepsRecord(t *tester) {
	t.enqueue(msg("late", "t1"), time.Time{})
	slow := t.take("late", "slow", 1)[0]
	fast := t.reclaim("late", "fast", 0, 10)
	wantIDs(t, "Recover", fast, "t1")
	end := func(d *queue.Delivery, status queue.Status, value, lockKey string) {
		t.Helper()
		rec := store.Record{Queue: "late", ID: "t1", Task: "email", Status: store.Succeeded, Value: []byte(value), Attempt: 1}
		o := queue.Outcome{Status: status, Attempt: 1, Final: finalWrites(t.lockFor(lockKey))}
		if status == queue.Failed {
			rec.Status, rec.Value, rec.Error, rec.Kind = store.Failed, nil, value, "error"
			o.Kind, o.Error = "error", value
		}
		o.Final.Result(t.record(rec, time.Hour))
		if d == slow {
			t.superseded(d, o)
		} else {
			t.finish(d, o)
		}
	}
	end(fast[0], queue.Succeeded, `"fast"`, "fast-lock")
	end(slow, queue.Failed, "slow and late", "slow-lock")
	t.wantState("late", "t1", queue.Succeeded, 1, "", "")
	t.wantResult("late", "t1", queue.ResultStored)
	t.wantRecord(store.Record{Queue: "late", ID: "t1", Task: "email", Status: store.Succeeded, Value: []byte(`"fast"`), Attempt: 1})
	t.wantFree("fast-lock")
	t.wantFree("slow-lock")
}

// Extend returns the deliveries its consumer no longer holds: finished,
// or taken over by Recover. The others stay held, and the new delivery of
// one taken over is its new consumer's.
func extendReportsLost(t *tester) {
	for _, id := range []string{"a", "b", "c"} {
		t.enqueue(t.ordered("xl", id), time.Time{})
	}
	held := t.take("xl", "c1", 3)
	wantIDs(t, "Take", held, "a", "b", "c")
	extend := func(consumer string, ds []*queue.Delivery, want ...string) {
		t.Helper()
		lost, err := t.q.Extend(t.Context(), "xl", consumer, ds)
		if err != nil {
			t.Fatalf("Extend: %v", err)
		}
		wantIDs(t, "Extend's lost deliveries", lost, want...)
	}
	extend("c1", held)
	t.finish(held[2], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	extend("c1", held, "c")
	ds := t.reclaim("xl", "c2", 0, 1)
	wantIDs(t, "Recover(n=1)", ds, "a")
	extend("c1", held[:2], "a")
	extend("c2", ds)
	if err := t.q.Finish(t.Context(), held[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1}); !errors.Is(err, queue.ErrSuperseded) {
		t.Fatalf("Finish of the delivery taken over = %v, want queue.ErrSuperseded", err)
	}
	t.wantState("xl", "a", queue.Queued, 1, "", "") // not ended by the finish superseded
	t.finish(ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	t.finish(held[1], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	t.wantStats("xl", 0, 0, 0, 0)
}

// What Recover puts back is handed out before the messages that were
// never taken, oldest takeover first; the next Takes do not hand it out
// again, whether its new holder still holds it or finished it.
func takenOverFirst(t *tester) {
	for _, id := range []string{"x", "y"} {
		t.enqueue(t.ordered("ah", id), time.Time{})
	}
	wantIDs(t, "Take", t.take("ah", "dead", 2), "x", "y")
	for _, id := range []string{"p", "q", "r"} {
		t.enqueue(t.ordered("ah", id), time.Time{})
	}
	if n, err := t.q.Recover(t.Context(), "ah", 0, 10); err != nil || n != 2 {
		t.Fatalf("Recover = %d, %v; want 2", n, err)
	}
	first := t.take("ah", "c1", 1)
	wantIDs(t, "Take(1) after Recover", first, "x")
	second := t.take("ah", "c2", 2)
	wantIDs(t, "Take(2) after it", second, "y", "p")
	t.finish(first[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	var rest []*queue.Delivery
	for _, id := range []string{"q", "r", "s"} { // one at a time: s comes after x and y, put back
		if id == "s" {
			t.enqueue(t.ordered("ah", id), time.Time{})
		}
		ds := t.take("ah", "c1", 1)
		wantIDs(t, "Take(1) of the rest", ds, id)
		rest = append(rest, ds...)
	}
	if ds := t.take("ah", "c3", 10); ds != nil {
		t.Fatalf("Take once all were taken: got %q; a task taken over was handed out twice", ids(ds))
	}
	t.wantStats("ah", 0, 5, 0, 0)
	for _, c := range []struct {
		consumer string
		ds       []*queue.Delivery
	}{{"c2", second}, {"c1", rest}} {
		if lost, err := t.q.Extend(t.Context(), "ah", c.consumer, c.ds); err != nil || lost != nil {
			t.Fatalf("Extend by %s = %q, %v; want none lost", c.consumer, ids(lost), err)
		}
		for _, d := range c.ds {
			t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		}
	}
	t.wantStats("ah", 0, 0, 0, 0)
	if ds := t.take("ah", "c3", 10); ds != nil {
		t.Fatalf("Take at the end: got %q", ids(ds))
	}
}

// A Take that hands out a taken-over message beside new ones does not
// hand it out again with the next Takes of the same consumer, and they go
// on with the messages never taken.
func takenOverOnceToItsHolder(t *tester) {
	t.enqueue(t.ordered("ho", "x"), time.Time{})
	wantIDs(t, "Take", t.take("ho", "dead", 1), "x")
	for _, id := range []string{"p", "q", "r"} {
		t.enqueue(t.ordered("ho", id), time.Time{})
	}
	if n, err := t.q.Recover(t.Context(), "ho", 0, 10); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1", n, err)
	}
	wantIDs(t, "Take(2) after Recover", t.take("ho", "c1", 2), "x", "p")
	wantIDs(t, "the next Take(1)", t.take("ho", "c1", 1), "q")
	wantIDs(t, "the next Take(5)", t.take("ho", "c1", 5), "r")
	if ds := t.take("ho", "c1", 5); ds != nil {
		t.Fatalf("Take once all were taken: got %q; a task taken over was handed out twice", ids(ds))
	}
	t.wantStats("ho", 0, 4, 0, 0)
}
