package queuetest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/taskware/taskware/queue"
)

func statePromises() []promise {
	return []promise{
		{Name: "NotFound", Check: stateNotFound},
		{Name: "Started", Check: started},
	}
}

// A task the queue never knew, or knows on another queue only, is not
// found.
func stateNotFound(t *tester) {
	t.wantNotFound("nq", "never")
	t.enqueue(msg("nq", "known"), time.Time{})
	t.wantNotFound("nq", "never")
	t.wantNotFound("other", "known")
	if got, err := t.q.Message(t.Context(), "nq", "never"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Message of an unknown task = %+v, %v; want queue.ErrNotFound", got, err)
	}
}

// Started marks a taken task running, since when and on which worker (in
// its state and in the listing of running tasks), which its end keeps; a start recorded after the end changes nothing.
func started(t *tester) {
	t.enqueue(msg("st", "job"), time.Time{})
	d := t.takeOne("st", "job")
	startedAt := time.Now().Add(-time.Second)
	t.q.Started(t.Context(), d, "worker-1", startedAt)
	var st *queue.State
	t.eventually(5*time.Second, "the task is not marked running", func() bool {
		st = t.state("st", "job")
		return st.Status == queue.Running
	})
	if st.Worker != "worker-1" || !sameTime(st.StartedAt, startedAt) || !st.FinishedAt.IsZero() {
		t.Fatalf("running state %+v; want worker-1, started at %v, not finished", *st, startedAt)
	}
	// The listing of running tasks says so too, for "running for".
	ts, err := t.q.Tasks(t.Context(), "st", queue.RunningTasks, 10)
	if err != nil || len(ts) != 1 || ts[0].ID != "job" || !sameTime(ts[0].StartedAt, startedAt) {
		t.Fatalf("Tasks(running) = %+v, %v; want job, started at %v", ts, err, startedAt)
	}
	page, err := t.q.ListTasks(t.Context(), "st", queue.TaskQuery{Set: queue.RunningTasks})
	if err != nil || len(page.Tasks) != 1 || !sameTime(page.Tasks[0].StartedAt, startedAt) {
		t.Fatalf("ListTasks(running) = %+v, %v; want job, started at %v", page, err, startedAt)
	}
	before := time.Now().Add(-time.Second)
	t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	end := t.wantState("st", "job", queue.Succeeded, 1, "", "")
	if end.Worker != "worker-1" || !sameTime(end.StartedAt, startedAt) || end.FinishedAt.Before(before) {
		t.Fatalf("final state %+v; want worker-1, started at %v, finished after %v", *end, startedAt, before)
	}
	t.q.Started(t.Context(), d, "worker-2", time.Now())
	time.Sleep(100 * time.Millisecond) // a start may be recorded later than it is called
	if late := t.wantState("st", "job", queue.Succeeded, 1, "", ""); late.Worker != "worker-1" {
		t.Fatalf("a start after the end changed the state: %+v", *late)
	}
}

func waitPromises() []promise {
	return []promise{
		{Name: "NotFound", Check: waitNotFound},
		{Name: "WokenByEnd", Check: waitWoken},
		{Name: "ContextEnds", Check: waitContextEnds},
	}
}

func waitNotFound(t *tester) {
	if st, err := t.q.Wait(t.Context(), "w", "unknown"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Wait(unknown) = %+v, %v; want queue.ErrNotFound", st, err)
	}
}

// Waiters of a task are woken by its end, not by a retry; once it ended,
// Wait returns at once.
func waitWoken(t *tester) {
	t.enqueue(msg("w", "job"), time.Time{})
	type result struct {
		st  *queue.State
		err error
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan result, 2)
	for range 2 {
		go func() {
			st, err := t.q.Wait(ctx, "w", "job")
			done <- result{st, err}
		}()
	}
	d := t.takeOne("w", "job")
	time.Sleep(100 * time.Millisecond)
	t.finish(d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Retry: true, Kind: "boom", Error: "x"})
	select {
	case r := <-done:
		t.Fatalf("Wait returned on a retry: %+v, %v", r.st, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	t.promote("w", time.Now(), 10)
	d = t.takeOne("w", "job")
	t.finish(d, queue.Outcome{Status: queue.Failed, Attempt: 2, Kind: "boom", Error: "x"})
	timeout := time.After(5 * time.Second)
	for range 2 {
		select {
		case r := <-done:
			if r.err != nil || r.st.Status != queue.Failed || r.st.Attempt != 2 || r.st.Kind != "boom" {
				t.Fatalf("Wait = %+v, %v; want the failed state", r.st, r.err)
			}
		case <-timeout:
			t.Fatal("Wait did not return within 5s of Finish")
		}
	}
	st, err := t.q.Wait(t.Context(), "w", "job")
	if err != nil || st.Status != queue.Failed {
		t.Fatalf("Wait after the end = %+v, %v", st, err)
	}
}

// A Wait whose context ends returns its cause, and leaves the task alone.
func waitContextEnds(t *tester) {
	t.enqueue(msg("w", "forever"), time.Time{})
	cause := errors.New("caller gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := t.q.Wait(ctx, "w", "forever")
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel(cause)
	select {
	case err := <-done:
		if !errors.Is(err, cause) {
			t.Fatalf("Wait after cancel: %v, want the cause", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return within 5s of its context ending")
	}
	t.wantState("w", "forever", queue.Queued, 1, "", "")
}

func cancelPromises() []promise {
	return []promise{
		{Name: "Ready", Check: cancelReady},
		{Name: "Delayed", Check: cancelDelayed},
		{Name: "Taken", Check: cancelTaken},
		{Name: "EndedOrUnknown", Check: cancelEnded},
	}
}

// wantCanceled fails t unless id ended as canceled.
func (t *tester) wantCanceled(name, id string, attempt int) {
	t.Helper()
	st := t.wantState(name, id, queue.Canceled, attempt, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error())
	if !errors.Is(st.Err(), queue.ErrCanceled) || st.FinishedAt.IsZero() {
		t.Fatalf("canceled state %+v, Err %v; want ErrCanceled and a FinishedAt", *st, st.Err())
	}
}

func (t *tester) cancel(name, id string, want queue.CancelOutcome) {
	t.Helper()
	if out, err := t.q.Cancel(t.Context(), name, id); err != nil || out != want {
		t.Fatalf("Cancel(%q) = %q, %v; want %q", id, out, err, want)
	}
}

// A ready task canceled never runs: it ends as canceled at once, its
// waiters woken.
func cancelReady(t *tester) {
	t.enqueue(msg("c", "ready"), time.Time{})
	t.enqueue(msg("c", "kept"), time.Time{})
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	woken := make(chan *queue.State, 1)
	go func() {
		st, _ := t.q.Wait(ctx, "c", "ready")
		woken <- st
	}()
	time.Sleep(100 * time.Millisecond)
	t.cancel("c", "ready", queue.CancelDone)
	t.wantCanceled("c", "ready", 1)
	select {
	case st := <-woken:
		if st == nil || st.Status != queue.Canceled {
			t.Fatalf("Wait = %+v; want the canceled state", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return within 5s of Cancel")
	}
	wantIDs(t, "Take", t.take("c", "c1", 10), "kept")
	t.wantStats("c", 0, 1, 0, 0)
}

// A delayed task canceled never runs either: Promote passes it by.
func cancelDelayed(t *tester) {
	t.enqueue(msg("c", "delayed"), time.Now().Add(time.Hour))
	t.cancel("c", "delayed", queue.CancelDone)
	t.wantCanceled("c", "delayed", 1)
	t.promote("c", time.Now().Add(2*time.Hour), 10)
	if ds := t.take("c", "c1", 10); ds != nil {
		t.Fatalf("Take after Promote: got %q; a canceled task came back", ids(ds))
	}
	t.wantStats("c", 0, 0, 0, 0)
}

// A task a worker holds is canceled by that worker: Cancel tells it, through
// WatchCancels, and a retry of the run never runs.
func cancelTaken(t *tester) {
	var mu sync.Mutex
	var told []string
	stop := t.q.WatchCancels(func(name, id string) {
		mu.Lock()
		told = append(told, name+"/"+id)
		mu.Unlock()
	})
	defer stop()
	toldOf := func(what string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range told {
			if w == what {
				return true
			}
		}
		return false
	}
	// The watch may begin on its own time: a probe, canceled until the
	// watch hears of it, shows it has.
	t.enqueue(msg("c", "probe"), time.Time{})
	t.takeOne("c", "probe")
	t.eventually(5*time.Second, "WatchCancels was never told of the probe's cancel", func() bool {
		t.cancel("c", "probe", queue.CancelSent)
		time.Sleep(20 * time.Millisecond)
		return toldOf("c/probe")
	})
	t.enqueue(msg("c", "held"), time.Time{})
	d := t.takeOne("c", "held")
	t.cancel("c", "held", queue.CancelSent)
	t.eventually(5*time.Second, "WatchCancels was not told of the cancel", func() bool { return toldOf("c/held") })
	// The worker's run ignored the cancel, failed, and asked for a retry.
	t.finish(d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Kind: "boom", Error: "x", Retry: true})
	t.promote("c", time.Now(), 10)
	if ds := t.take("c", "c1", 10); ds != nil {
		t.Fatalf("Take after Promote: got %q; the retry of a canceled run came back", ids(ds))
	}
	t.wantCanceled("c", "held", 2)
}

// A task that ended is too late to cancel; one the queue never knew is
// not found.
func cancelEnded(t *tester) {
	t.enqueue(msg("c", "done"), time.Time{})
	t.finish(t.takeOne("c", "done"), queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	t.cancel("c", "done", queue.CancelTooLate)
	t.wantState("c", "done", queue.Succeeded, 1, "", "")
	if out, err := t.q.Cancel(t.Context(), "c", "nope"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Cancel of an unknown task = %q, %v; want queue.ErrNotFound", out, err)
	}
}
