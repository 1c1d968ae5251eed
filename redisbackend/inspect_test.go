package redisbackend_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/taskwaretest"
)

// inspectState leaves queue "q" of b with one ready task (d), one running
// (b, taken by "c1"), one delayed (e), one dead letter (a) and one
// finished (c), and queue "other" with one ready task.
func inspectState(t *testing.T, b *taskwaretest.Backend) {
	t.Helper()
	q := b.Queue
	for _, id := range []string{"a", "b", "c", "d"} {
		rqEnqueue(t, q, rqMsg("q", id), time.Time{})
	}
	rqEnqueue(t, q, rqMsg("q", "e"), time.Now().Add(time.Hour))
	rqEnqueue(t, q, rqMsg("other", "x"), time.Time{})
	ds := rqTake(t, q, "q", 3)
	if len(ds) != 3 {
		t.Fatalf("took %d, want 3", len(ds))
	}
	rqFinish(t, q, ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "worker.unknown_task", Error: "no such task"})
	rqFinish(t, q, ds[2], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
}

func TestInspectQueues(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		inspectState(t, b)
		rq := b.Redis.Queue()
		ctx := t.Context()
		queues, err := rq.Queues(ctx)
		if err != nil || !slices.Equal(queues, []string{"other", "q"}) {
			t.Fatalf("Queues = %q, %v; want [other q]", queues, err)
		}
		st, err := rq.Stats(ctx, "q")
		if err != nil {
			t.Fatal(err)
		}
		want := queue.Stats{Queue: "q", Ready: 1, Running: 1, Delayed: 1, Dead: 1, Workers: 1, Partitions: 1}
		got := *st
		if got.OldestReady <= 0 || got.OldestReady > time.Minute {
			t.Errorf("OldestReady = %v, want a few ms", got.OldestReady)
		}
		got.OldestReady = 0
		if got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
		if st, err := rq.Stats(ctx, "none"); err != nil || *st != (queue.Stats{Queue: "none", Partitions: 1}) {
			t.Errorf("Stats(none) = %+v, %v; want zeros", st, err)
		}
		ws, err := rq.Workers(ctx, "q")
		if err != nil || len(ws) != 1 || ws[0].Name != "c1" || ws[0].Pending != 1 || ws[0].Queue != "q" {
			t.Errorf("Workers = %+v, %v; want c1 with 1 pending", ws, err)
		}
		if ws, err := rq.Workers(ctx, "none"); err != nil || len(ws) != 0 {
			t.Errorf("Workers(none) = %+v, %v; want none", ws, err)
		}
		// Recovery's consumer is no worker.
		if _, err := rq.Recover(ctx, "q", time.Hour, 10); err != nil {
			t.Fatal(err)
		}
		if ws, _ := rq.Workers(ctx, "q"); len(ws) != 1 {
			t.Errorf("after Recover, Workers = %+v; want c1 alone", ws)
		}
		if st, _ := rq.Stats(ctx, "q"); st.Workers != 1 {
			t.Errorf("after Recover, Stats.Workers = %d; want 1", st.Workers)
		}
	})
}

func TestInspectTasks(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		inspectState(t, b)
		rq := b.Redis.Queue()
		ctx := t.Context()
		ids := func(set queue.TaskSet) []queue.TaskInfo {
			t.Helper()
			ts, err := rq.Tasks(ctx, "q", set, 10)
			if err != nil {
				t.Fatalf("Tasks(%s): %v", set, err)
			}
			return ts
		}
		check := func(set queue.TaskSet, id string, status queue.Status) queue.TaskInfo {
			t.Helper()
			ts := ids(set)
			if len(ts) != 1 || ts[0].ID != id || ts[0].Status != status || ts[0].Task != "email" || ts[0].Queue != "q" {
				t.Fatalf("Tasks(%s) = %+v; want %s, %s", set, ts, id, status)
			}
			return ts[0]
		}
		if ti := check(queue.ReadyTasks, "d", queue.Queued); ti.Receipt == "" || ti.EnqueuedAt.IsZero() || ti.Attempt != 1 {
			t.Errorf("ready: %+v", ti)
		}
		if ti := check(queue.RunningTasks, "b", queue.Running); ti.Worker != "c1" || ti.Idle < 0 || ti.Deliveries != 1 {
			t.Errorf("running: %+v", ti)
		}
		if ti := check(queue.DelayedTasks, "e", queue.Scheduled); time.Until(ti.RunAt) < 59*time.Minute || ti.EnqueuedAt.IsZero() {
			t.Errorf("delayed: %+v", ti)
		}
		if ti := check(queue.DeadTasks, "a", queue.Dead); ti.Kind != "worker.unknown_task" || ti.Error != "no such task" || ti.FinishedAt.IsZero() {
			t.Errorf("dead: %+v", ti)
		}
		fin := ids(queue.FinishedTasks)
		if len(fin) != 2 || !slices.ContainsFunc(fin, func(ti queue.TaskInfo) bool { return ti.ID == "c" && ti.Status == queue.Succeeded }) {
			t.Errorf("finished: %+v; want a (dead) and c (succeeded)", fin)
		}
		if _, err := rq.Tasks(ctx, "q", "bogus", 1); err == nil {
			t.Error("Tasks(bogus) gave no error")
		}
		if ts, err := rq.Tasks(ctx, "none", queue.RunningTasks, 1); err != nil || len(ts) != 0 {
			t.Errorf("Tasks(none, running) = %+v, %v", ts, err)
		}
		found, err := rq.Find(ctx, "e")
		if err != nil || len(found) != 1 || found[0].Status != queue.Scheduled || found[0].RunAt.IsZero() {
			t.Errorf("Find(e) = %+v, %v", found, err)
		}
		if found, err := rq.Find(ctx, "zzz"); err != nil || len(found) != 0 {
			t.Errorf("Find(zzz) = %+v, %v", found, err)
		}
	})
}

func TestRequeueAndPurgeDead(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		inspectState(t, b)
		rq := b.Redis.Queue()
		ctx := t.Context()
		requeued, kept, err := rq.RequeueDead(ctx, "q", "a")
		if err != nil || !slices.Equal(requeued, []string{"a"}) || len(kept) != 0 {
			t.Fatalf("RequeueDead(a) = %q, %q, %v", requeued, kept, err)
		}
		if requeued, _, err := rq.RequeueDead(ctx, "q", "a"); err != nil || len(requeued) != 0 {
			t.Fatalf("RequeueDead(a) again = %q, %v; want nothing", requeued, err)
		}
		st, _ := rq.Stats(ctx, "q")
		if st.Dead != 0 || st.Ready != 2 {
			t.Errorf("after requeue: %+v; want 2 ready, 0 dead", st)
		}
		if s, err := rq.State(ctx, "q", "a"); err != nil || s.Status != queue.Queued || s.Attempt != 1 || s.Task != "email" {
			t.Errorf("state of a = %+v, %v; want queued", s, err)
		}
		ds := rqTake(t, rq, "q", 10)
		i := slices.IndexFunc(ds, func(d *queue.Delivery) bool { return d.ID == "a" })
		if i < 0 || ds[i].Attempt != 1 || ds[i].Deliveries != 1 || ds[i].Malformed != nil || string(ds[i].Payload) != "payload of a" {
			t.Fatalf("took %+v; want a afresh", ds)
		}
		// Dead again, with an expired state: requeued all the same.
		rqFinish(t, rq, ds[i], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
		if err := b.Client.Del(ctx, b.Prefix()+"queue:{q}:task:a").Err(); err != nil {
			t.Fatal(err)
		}
		if requeued, _, err := rq.RequeueDead(ctx, "q"); err != nil || !slices.Equal(requeued, []string{"a"}) {
			t.Fatalf("RequeueDead() = %q, %v; want a", requeued, err)
		}
		if s, err := rq.State(ctx, "q", "a"); err != nil || s.Status != queue.Queued {
			t.Errorf("state of a = %+v, %v; want queued", s, err)
		}
		// Purge by ID, then all.
		ds = rqTake(t, rq, "q", 10)
		for _, d := range ds {
			rqFinish(t, rq, d, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
		}
		if n, err := rq.PurgeDead(ctx, "q", "a", "nope"); err != nil || n != 1 {
			t.Errorf("PurgeDead(a) = %d, %v; want 1", n, err)
		}
		st, _ = rq.Stats(ctx, "q")
		if st.Dead != int64(len(ds)-1) {
			t.Errorf("after purging a: %d dead, want %d", st.Dead, len(ds)-1)
		}
		if n, err := rq.PurgeDead(ctx, "q"); err != nil || n != len(ds)-1 {
			t.Errorf("PurgeDead() = %d, %v; want %d", n, err, len(ds)-1)
		}
		if n, err := rq.PurgeDead(ctx, "q"); err != nil || n != 0 {
			t.Errorf("PurgeDead() again = %d, %v; want 0", n, err)
		}
	})
}

func TestStorePurgeAndLockLookup(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		s := b.Redis.Store()
		for _, r := range []struct{ queue, id string }{{"q", "1"}, {"q", "2"}, {"p", "1"}, {"", "3"}} {
			rec := &store.Record{Queue: r.queue, ID: r.id, Task: "t", Status: store.Succeeded}
			if err := s.Put(ctx, rec, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.Purge(ctx, "q"); err != nil || n != 2 {
			t.Errorf("Purge(q) = %d, %v; want 2", n, err)
		}
		if n, err := s.Purge(ctx); err != nil || n != 2 {
			t.Errorf("Purge() = %d, %v; want 2", n, err)
		}
		if recs, _ := s.List(ctx); len(recs) != 0 {
			t.Errorf("left %d records", len(recs))
		}

		l := b.Redis.Locker()
		lease, err := l.TryAcquire(ctx, "report", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		info, ok, err := l.Lookup(ctx, "report")
		if err != nil || !ok || info.Key != "report" || info.Fence != lease.Fence || info.Remaining <= 0 {
			t.Errorf("Lookup = %+v, %v, %v", info, ok, err)
		}
		if err := l.Release(ctx, lease); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := l.Lookup(ctx, "report"); ok || err != nil {
			t.Errorf("Lookup after release = %v, %v; want not held", ok, err)
		}
	})
}

var _ interface {
	Lookup(context.Context, string) (lock.Info, bool, error)
} = (*redisbackend.Locker)(nil)

// On a Cluster, the queues spread over the masters are all found, and each
// queue's calls stay within its slot.
func TestInspectCluster(t *testing.T) {
	c := taskwaretest.Cluster(t)
	b := &taskwaretest.Backend{Name: "cluster"}
	rb := redisbackend.New(c)
	b.Redis, b.Client, b.Queue = rb, c, rb.Queue()
	inspectState(t, b)
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		rqEnqueue(t, b.Queue, rqMsg(name, "x"), time.Time{})
	}
	rq := rb.Queue()
	ctx := t.Context()
	queues, err := rq.Queues(ctx)
	if want := []string{"a", "b", "c", "d", "e", "f", "other", "q"}; err != nil || !slices.Equal(queues, want) {
		t.Fatalf("Queues = %q, %v; want %q", queues, err, want)
	}
	st, err := rq.Stats(ctx, "q")
	if err != nil || st.Ready != 1 || st.Running != 1 || st.Delayed != 1 || st.Dead != 1 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
	if ts, err := rq.Tasks(ctx, "q", queue.FinishedTasks, 10); err != nil || len(ts) != 2 {
		t.Errorf("finished: %+v, %v", ts, err)
	}
	if found, err := rq.Find(ctx, "x"); err != nil || len(found) != 7 {
		t.Errorf("Find(x) = %d found, %v; want 7", len(found), err)
	}
	if requeued, _, err := rq.RequeueDead(ctx, "q"); err != nil || len(requeued) != 1 {
		t.Errorf("RequeueDead = %q, %v", requeued, err)
	}
}

// Queues reads the set of queues that producers, workers and admins add
// to, with no SCAN: a queue enqueued to, one only paused and one only
// taken from are listed, and one in the set whose keys are gone is not.
// Keys written with no set (before it was kept) are found by a SCAN.
func TestQueuesFromTheSetOfQueues(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		legacy := b.Prefix() + "queue:{legacy}"
		if err := b.Client.XAdd(ctx, &redis.XAddArgs{Stream: legacy, Values: []string{"m", "x"}}).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Queue.Queues(ctx); err != nil || fmt.Sprint(got) != "[legacy]" {
			t.Fatalf("Queues with no set of queues = %v, %v; want [legacy], found by a SCAN", got, err)
		}

		q := b.Redis.Queue() // a new Queue: it adds each queue to the set once
		rqEnqueue(t, q, rqMsg("sent", "a"), time.Time{})
		if err := q.Pause(ctx, "held"); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Take(ctx, "served", "c1", 1, 0); err != nil {
			t.Fatal(err)
		}
		rqEnqueue(t, q, rqMsg("gone", "g"), time.Time{})
		if err := b.Client.Del(ctx, b.Prefix()+"queue:{gone}", b.Prefix()+"queue:{gone}:task:g").Err(); err != nil {
			t.Fatal(err)
		}
		var scans atomic.Int32
		b.Client.AddHook(scanCounter{&scans})
		got, err := q.Queues(ctx)
		if err != nil || fmt.Sprint(got) != "[held sent served]" {
			t.Fatalf("Queues = %v, %v; want [held sent served] (legacy was never added, gone has no keys)", got, err)
		}
		if n := scans.Load(); n != 0 {
			t.Fatalf("Queues sent %d SCANs, want none", n)
		}
	})
}

// scanCounter counts the SCANs a client sends.
type scanCounter struct{ n *atomic.Int32 }

func (c scanCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c scanCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "scan" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (c scanCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if cmd.Name() == "scan" {
				c.n.Add(1)
			}
		}
		return next(ctx, cmds)
	}
}
