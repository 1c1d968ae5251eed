package queuetest

import (
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
)

func attemptPromises() []promise {
	return []promise{
		{Name: "History", Check: attemptHistory},
		{Name: "Capped", Check: attemptsCapped},
	}
}

// runOnce takes task id of queue name, marks it started on worker, waits
// until the start is recorded, and finishes it with o.
func (t *tester) runOnce(name, id, worker string, o queue.Outcome) {
	t.Helper()
	d := t.takeOne(name, id)
	t.q.Started(t.Context(), d, worker, time.Now())
	t.eventually(5*time.Second, "the task is not marked running", func() bool {
		st := t.state(name, id)
		return st.Status == queue.Running && st.Worker == worker
	})
	t.finish(d, o)
}

// Each Finish of a delivery adds an Attempt to its task's history, oldest
// first: a task retried twice, then dead-lettered, has three, with their
// attempts, outcomes, errors, kinds, workers and times; a panic's stack
// is kept. A delivery that ends without starting has no worker. The
// history outlives a RequeueDead. A task never run has none.
func attemptHistory(t *tester) {
	ctx := t.Context()
	if as, err := t.q.Attempts(ctx, "ah", "never"); err != nil || len(as) != 0 {
		t.Fatalf("Attempts of an unknown task = %+v, %v; want none", as, err)
	}
	t.enqueue(msg("ah", "job"), time.Time{})
	if as, err := t.q.Attempts(ctx, "ah", "job"); err != nil || len(as) != 0 {
		t.Fatalf("Attempts of a task not run = %+v, %v; want none", as, err)
	}
	stack := "goroutine 7 [running]:\nmain.handler()\n\t/src/main.go:12 +0x1d\n"
	before := time.Now().Add(-time.Second)
	for i := 1; i <= 2; i++ {
		t.runOnce("ah", "job", fmt.Sprintf("w%d", i), queue.Outcome{Status: queue.Scheduled, Attempt: i + 1,
			RunAt: time.Now().Add(-time.Second), Retry: true, Kind: fmt.Sprintf("k%d", i), Error: fmt.Sprintf("boom %d", i)})
		t.promote("ah", time.Now(), 10)
	}
	t.runOnce("ah", "job", "w3", queue.Outcome{Status: queue.Dead, Attempt: 3, Kind: "task.panic",
		Error: "task: panicked: oops", Stack: stack})
	after := time.Now().Add(time.Second)
	as, err := t.q.Attempts(ctx, "ah", "job")
	if err != nil || len(as) != 3 {
		t.Fatalf("Attempts = %+v, %v; want 3", as, err)
	}
	want := []queue.Attempt{
		{Attempt: 1, Status: queue.Scheduled, Retry: true, Kind: "k1", Error: "boom 1", Worker: "w1"},
		{Attempt: 2, Status: queue.Scheduled, Retry: true, Kind: "k2", Error: "boom 2", Worker: "w2"},
		{Attempt: 3, Status: queue.Dead, Kind: "task.panic", Error: "task: panicked: oops", Stack: stack, Worker: "w3"},
	}
	for i, a := range as {
		w := want[i]
		if a.Attempt != w.Attempt || a.Status != w.Status || a.Retry != w.Retry || a.Kind != w.Kind ||
			a.Error != w.Error || a.Stack != w.Stack || a.Worker != w.Worker {
			t.Errorf("attempt %d = %+v; want %+v", i+1, a, w)
		}
		if a.StartedAt.Before(before) || a.FinishedAt.After(after) || a.FinishedAt.Before(a.StartedAt) {
			t.Errorf("attempt %d: started %v, finished %v; want within [%v, %v], in order", i+1, a.StartedAt, a.FinishedAt, before, after)
		}
	}
	if done, _, err := t.q.RequeueDead(ctx, "ah", "job"); err != nil || len(done) != 1 {
		t.Fatalf("RequeueDead = %v, %v", done, err)
	}
	d := t.takeOne("ah", "job")
	t.finish(d, queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k", Error: strings.Repeat("e", 10)})
	as, err = t.q.Attempts(ctx, "ah", "job")
	if err != nil || len(as) != 4 {
		t.Fatalf("Attempts after a requeue and a run = %d, %v; want 4", len(as), err)
	}
	if last := as[3]; last.Attempt != 1 || last.Status != queue.Failed || last.Worker != "" || !last.StartedAt.IsZero() ||
		last.Duration() != 0 || last.FinishedAt.IsZero() {
		t.Fatalf("the run that never started = %+v; want attempt 1, failed, no worker nor start", last)
	}
}

// The history keeps the last queue.MaxAttempts runs. An Outcome that
// names its worker and start gives them to its Attempt.
func attemptsCapped(t *tester) {
	t.enqueue(msg("ac", "job"), time.Time{})
	runs := queue.MaxAttempts + 2
	started := time.Now().Add(-time.Second)
	for i := 1; i <= runs; i++ {
		d := t.takeOne("ac", "job")
		// The outcome may name its worker and start itself: not Started.
		t.finish(d, queue.Outcome{Status: queue.Scheduled, Attempt: i + 1, RunAt: time.Now().Add(-time.Second),
			Retry: true, Kind: "k", Error: fmt.Sprint(i), Worker: "w-out", StartedAt: started})
		t.promote("ac", time.Now(), 10)
	}
	as, err := t.q.Attempts(t.Context(), "ac", "job")
	if err != nil || len(as) != queue.MaxAttempts {
		t.Fatalf("Attempts after %d runs = %d, %v; want %d", runs, len(as), err, queue.MaxAttempts)
	}
	if first, last := as[0], as[len(as)-1]; first.Attempt != 3 || first.Error != "3" || last.Attempt != runs || last.Error != fmt.Sprint(runs) {
		t.Fatalf("Attempts kept %+v .. %+v; want the last %d, from attempt 3", first, last, queue.MaxAttempts)
	}
	if last := as[len(as)-1]; last.Worker != "w-out" || !sameTime(last.StartedAt, started) || last.Duration() < time.Second {
		t.Fatalf("an attempt whose outcome named its worker and start = %+v; want w-out, started at %v", last, started)
	}
}
