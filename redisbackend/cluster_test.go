package redisbackend_test

import (
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
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
