package redisbackend_test

import (
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// On a Cluster, every script of the queue gets keys of the queue's slot
// only: an end and a retry with their records (their locks, on other
// slots, released beside them), a promotion that ends a canceled task, a
// cancel, a hand back while paused, a recovery, a leave, and the counts
// of each minute. A key of another slot would fail with CROSSSLOT.
func TestQueueScriptsOnCluster(t *testing.T) {
	c := taskwaretest.Cluster(t)
	rb := redisbackend.New(c)
	b := &taskwaretest.Backend{Name: "cluster", Redis: rb, Client: c, Queue: rb.Queue(), Locker: rb.Locker(), Store: rb.Store()}
	q, ctx := rb.Queue(), t.Context()
	for _, name := range []string{"a", "b", "c"} {
		for _, id := range []string{"end", "retry", "cancel", "later", "back"} {
			rqEnqueue(t, q, rqMsg(name, id), time.Time{})
		}
		if _, err := q.Cancel(ctx, name, "cancel"); err != nil { // ready, not taken: ends now
			t.Fatalf("Cancel(%s): %v", name, err)
		}
		ds := rqTake(t, q, name, 2)
		for _, d := range ds {
			q.Started(ctx, d, "w", time.Now())
		}
		if res, err := q.Cancel(ctx, name, "retry"); err != nil || res != queue.CancelSent { // taken: its retry never runs
			t.Fatalf("Cancel(%s, retry) = %q, %v", name, res, err)
		}
		rqFinish(t, q, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: rqFinal(t, b, ds[0], name+"-lock-0")})
		rqFinish(t, q, ds[1], queue.Outcome{Status: queue.Scheduled, Attempt: 2, Retry: true, RunAt: time.Now(),
			Kind: "error", Error: "boom", Final: rqFinal(t, b, ds[1], name+"-lock-1")})
		if err := q.Pause(ctx, name); err != nil {
			t.Fatal(err)
		}
		if ds, err := q.Take(ctx, name, "c1", 10, time.Millisecond); err != nil || len(ds) != 0 { // hands back what it read
			t.Fatalf("Take(%s) while paused: %d, %v", name, len(ds), err)
		}
		if err := q.Resume(ctx, name); err != nil {
			t.Fatal(err)
		}
		rest := rqTake(t, q, name, 10)
		if len(rest) != 2 {
			t.Fatalf("took %d of %s after the pause, want 2", len(rest), name)
		}
		if n, err := q.Recover(ctx, name, 0, 10); err != nil || n != 2 {
			t.Fatalf("Recover(%s) = %d, %v; want 2", name, n, err)
		}
		if n, err := q.Promote(ctx, name, time.Now(), 10); err != nil || n != 1 { // ends the retry canceled
			t.Fatalf("Promote(%s) = %d, %v; want 1", name, n, err)
		}
		if err := q.Leave(ctx, name, "c1"); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]queue.Status{"end": queue.Succeeded, "retry": queue.Canceled, "cancel": queue.Canceled} {
			if st, err := q.Wait(ctx, name, id); err != nil || st.Status != want {
				t.Fatalf("Wait(%s, %s) = %+v, %v; want %s", name, id, st, err, want)
			}
		}
		b.RequireRecord(t, name, "end")
		b.RequireRecord(t, name, "retry")
		if _, err := q.Message(ctx, name, "later"); err != nil {
			t.Fatalf("Message(%s, later): %v", name, err)
		}
		rates, err := q.Rates(ctx, name, time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var sum queue.OutcomeCounts
		for _, r := range rates {
			sum.Add(r)
		}
		if sum.Succeeded != 1 || sum.Retried != 1 || sum.Canceled != 2 {
			t.Fatalf("Rates(%s) = %+v; want 1 succeeded, 1 retried, 2 canceled", name, sum)
		}
	}
	b.RequireNoLocks(t)
}

// On a Cluster, a workflow whose steps are all on its home queue runs:
// its scripts touch that queue's slot only (a key of another slot would
// fail with CROSSSLOT), through a fan-out and fan-in, a failure and its
// retry, a step's cancel, a workflow's cancel and a wait. One whose steps
// span queues is refused, with an error matching task.ErrInvalidConfig.
func TestWorkflowsOnCluster(t *testing.T) {
	c := taskwaretest.Cluster(t)
	q := redisbackend.New(c).Queue()
	ctx := t.Context()
	for _, name := range []string{"a", "b", "c"} {
		wf := "wf-" + name
		wfEnqueue(t, q, wfSpec(wf, name, "r", "x<-r", "y<-r", "j<-x,y"))
		rqFinish(t, q, wfTake(t, q, name, wf, "r")["r"], wfOK)
		ds := wfTake(t, q, name, wf, "x", "y")
		rqFinish(t, q, ds["x"], queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k", Error: "e"})
		wfWant(t, q, name, wf, queue.Failed)
		rqFinish(t, q, ds["y"], wfOK)
		if err := q.RetryStep(ctx, name, wf, "x"); err != nil {
			t.Fatalf("RetryStep on %s: %v", name, err)
		}
		rqFinish(t, q, wfTake(t, q, name, wf, "x")["x"], wfOK)
		rqFinish(t, q, wfTake(t, q, name, wf, "j")["j"], queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("j")})
		if w, err := q.WaitWorkflow(ctx, name, wf); err != nil || w.Status != queue.Succeeded || string(w.Result) != "j" || w.Ended != 4 {
			t.Fatalf("WaitWorkflow on %s = %+v, %v; want it succeeded with j's result", name, w, err)
		}

		wfEnqueue(t, q, wfSpec("stop-"+name, name, "r", "s<-r"))
		if res, err := q.Cancel(ctx, name, "stop-"+name+":s"); err != nil || res != queue.CancelDone {
			t.Fatalf("Cancel of a waiting step on %s = %q, %v", name, res, err)
		}
		wfWant(t, q, name, "stop-"+name, queue.Failed)
		wfEnqueue(t, q, wfSpec("gone-"+name, name, "r", "s<-r"))
		if wc, err := q.CancelWorkflow(ctx, name, "gone-"+name); err != nil || wc.Canceled != 2 {
			t.Fatalf("CancelWorkflow on %s = %+v, %v; want 2 steps canceled", name, wc, err)
		}
		wfTake(t, q, name, "gone-"+name)
	}
	err := q.EnqueueWorkflow(ctx, wfSpec("across", "a", "r", "s@b<-r"), time.Time{})
	if !errors.Is(err, task.ErrInvalidConfig) {
		t.Fatalf("EnqueueWorkflow of steps on two queues on a Cluster = %v; want task.ErrInvalidConfig", err)
	}
	if _, err := q.Workflow(ctx, "a", "across"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Workflow of a refused workflow: %v; want queue.ErrNotFound", err)
	}
}

// On a Cluster, the stored schedule entries' scripts run: their keys
// share one slot (a key of another slot would fail with CROSSSLOT).
func TestStoredSchedulesOnCluster(t *testing.T) {
	q := redisbackend.New(taskwaretest.Cluster(t)).Queue()
	ctx := t.Context()
	def := queue.ScheduleDef{Name: "report", Spec: "every 1h0m0s", Task: "report", Queue: "default"}
	if err := q.PutSchedule(ctx, def); err != nil {
		t.Fatalf("PutSchedule: %v", err)
	}
	if err := q.PauseSchedule(ctx, "report", true, time.Now()); err != nil {
		t.Fatalf("PauseSchedule: %v", err)
	}
	defs, v, err := q.ScheduleDefs(ctx)
	if err != nil || len(defs) != 1 || !defs[0].Paused || v == 0 {
		t.Fatalf("ScheduleDefs = %+v, %d, %v; want report, paused", defs, v, err)
	}
	if got, err := q.ScheduleVersion(ctx); err != nil || got != v {
		t.Fatalf("ScheduleVersion = %d, %v; want %d", got, err, v)
	}
	if err := q.RemoveSchedule(ctx, "report"); err != nil {
		t.Fatalf("RemoveSchedule: %v", err)
	}
	if got, err := q.ScheduleSince(ctx, []string{"a", "b"}, time.Now()); err != nil || len(got) != 2 {
		t.Fatalf("ScheduleSince = %v, %v", got, err)
	}
}
