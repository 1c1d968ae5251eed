package queuetest

import (
	"errors"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

func progressPromises() []promise {
	return []promise{
		{Name: "SeenWhileRunning", Check: progressSeen},
		{Name: "ClearedAtEnd", Check: progressCleared},
		{Name: "LateWriteChangesNothing", Check: progressLate},
		{Name: "BadInput", Check: progressBad},
	}
}

// report records p for d, and fails t if the queue refuses it.
func (t *tester) report(d *queue.Delivery, done, total int64, msg string) {
	t.Helper()
	if err := t.q.Progress(t.Context(), d, queue.Progress{Done: done, Total: total, Message: msg, At: time.Now()}); err != nil {
		t.Fatalf("Progress(%s, %d/%d): %v", d.ID, done, total, err)
	}
}

// wantProgress waits until the state of d's task shows done/total msg.
func (t *tester) wantProgress(d *queue.Delivery, done, total int64, msg string) {
	t.Helper()
	var st *queue.State
	t.eventually(5*time.Second, "the progress is not seen", func() bool {
		st = t.state(logical(d.Queue), d.ID)
		p := st.Progress
		return p != nil && p.Done == done && p.Total == total && p.Message == msg
	})
	if at := st.Progress.At; at.IsZero() || time.Since(at) > time.Minute {
		t.Fatalf("progress reported at %v, want about now", at)
	}
}

// wantNoProgress fails t if the state of d's task shows a progress, once
// the writes sent without waiting had time to land.
func (t *tester) wantNoProgress(d *queue.Delivery, what string) {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // a write may land later than it is called
	if p := t.state(logical(d.Queue), d.ID).Progress; p != nil {
		t.Fatalf("%s: state shows progress %+v, want none", what, *p)
	}
}

// A running task's progress is seen by any reader of its state, the latest
// report standing.
func progressSeen(t *tester) {
	t.enqueue(msg("pg", "job"), time.Time{})
	d := t.takeOne("pg", "job")
	t.q.Started(t.Context(), d, "w1", time.Now())
	if st := t.state("pg", "job"); st.Progress != nil {
		t.Fatalf("progress %+v before any report", *st.Progress)
	}
	t.report(d, 40, 100, "indexing")
	t.wantProgress(d, 40, 100, "indexing")
	t.report(d, 7, 0, "total unknown")
	t.wantProgress(d, 7, 0, "total unknown")
	if st := t.state("pg", "job"); st.Status != queue.Running {
		t.Fatalf("status %s after a report, want running", st.Status)
	}
	// Find and the listings of running tasks, which the CLI and the web view
	// read, show it too.
	ts, err := t.q.Find(t.Context(), "job", "pg")
	if err != nil || len(ts) != 1 || ts[0].Progress == nil || ts[0].Progress.Done != 7 || ts[0].Progress.Message != "total unknown" {
		t.Fatalf("Find = %+v, %v; want the task's progress, 7 total unknown", ts, err)
	}
	ts, err = t.q.Tasks(t.Context(), "pg", queue.RunningTasks, 10)
	if err != nil || len(ts) != 1 || ts[0].Progress == nil || ts[0].Progress.Done != 7 {
		t.Fatalf("Tasks(running) = %+v, %v; want the task's progress, 7", ts, err)
	}
	page, err := t.q.ListTasks(t.Context(), "pg", queue.TaskQuery{Set: queue.RunningTasks})
	if err != nil || len(page.Tasks) != 1 || page.Tasks[0].Progress == nil || page.Tasks[0].Progress.Message != "total unknown" {
		t.Fatalf("ListTasks(running) = %+v, %v; want the task's progress", page, err)
	}
}

// A run's progress ends with it: a finish clears it, whether the task ends
// or is scheduled to run again.
func progressCleared(t *tester) {
	for _, o := range []queue.Outcome{
		{Status: queue.Succeeded, Attempt: 1},
		{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour), Kind: "k", Error: "again", Retry: true},
	} {
		id := "job-" + string(o.Status)
		t.enqueue(msg("pg", id), time.Time{})
		d := t.takeOne("pg", id)
		t.q.Started(t.Context(), d, "w1", time.Now())
		t.report(d, 1, 2, "half")
		t.wantProgress(d, 1, 2, "half")
		t.finish(d, o)
		t.wantNoProgress(d, "after a finish "+string(o.Status))
	}
}

// A report after the finish, or after Recover took the delivery over,
// changes nothing: it resurrects no progress of an ended run.
func progressLate(t *tester) {
	t.enqueue(msg("pg", "ended"), time.Time{})
	d := t.takeOne("pg", "ended")
	t.q.Started(t.Context(), d, "w1", time.Now())
	t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	t.report(d, 9, 10, "late")
	t.wantNoProgress(d, "a report after the finish")
	t.wantState("pg", "ended", queue.Succeeded, 1, "", "")

	t.enqueue(msg("pg", "over"), time.Time{})
	slow := t.take("pg", "slow", 1)[0]
	t.q.Started(t.Context(), slow, "slow", time.Now())
	t.report(slow, 1, 10, "slow")
	t.wantProgress(slow, 1, 10, "slow")
	ds := t.reclaim("pg", "fast", 0, 10)
	wantIDs(t, "Recover", ds, "over")
	t.wantNoProgress(slow, "after Recover took the run over")
	fast := ds[0]
	t.q.Started(t.Context(), fast, "fast", time.Now())
	t.report(slow, 2, 10, "slow, late")
	t.wantNoProgress(slow, "a report of the delivery taken over")
	t.report(fast, 3, 10, "fast")
	t.wantProgress(fast, 3, 10, "fast")
}

// Progress that cannot be recorded is refused with task.ErrBadProgress.
func progressBad(t *tester) {
	t.enqueue(msg("pg", "bad"), time.Time{})
	d := t.takeOne("pg", "bad")
	t.q.Started(t.Context(), d, "w1", time.Now())
	for _, p := range []queue.Progress{
		{Done: -1, Total: 10},
		{Done: 1, Total: -1},
		{Done: 11, Total: 10},
		{Done: 1, Total: 2, Message: strings.Repeat("x", task.MaxProgressMessage+1)},
	} {
		if err := t.q.Progress(t.Context(), d, p); !errors.Is(err, task.ErrBadProgress) {
			t.Fatalf("Progress(%d/%d, %d bytes) = %v, want ErrBadProgress", p.Done, p.Total, len(p.Message), err)
		}
	}
	t.wantNoProgress(d, "after bad reports")
}
