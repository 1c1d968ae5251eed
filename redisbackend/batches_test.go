package redisbackend_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// groupedQueue is a Redis queue on kit name, its client counting round
// trips.
func groupedQueue(t *testing.T, name string) (*redisbackend.Queue, *taskwaretest.RoundTrips) {
	kb := taskwaretest.New(t, name)
	rt := &taskwaretest.RoundTrips{}
	kb.Client.AddHook(rt)
	return redisbackend.New(kb.Client, redisbackend.Prefix(kb.Prefix())).Queue(), rt
}

// enqueueGrouped enqueues n tasks "sum" of group key, IDs <key>-0, ...
func enqueueGrouped(t *testing.T, q queue.Queue, key string, n int, runAt time.Time) []string {
	t.Helper()
	ms := make([]*queue.Message, n)
	ids := make([]string, n)
	for i := range ms {
		ids[i] = fmt.Sprintf("%s-%d", key, i)
		ms[i] = &queue.Message{ID: ids[i], Task: "sum", Queue: "q", Payload: []byte(fmt.Sprint(i)), Group: key}
	}
	errs, err := q.EnqueueMany(t.Context(), ms, runAt)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func grouped(t *testing.T, q queue.Queue) (grouped, ready int64) {
	t.Helper()
	st, err := q.Stats(t.Context(), "q")
	if err != nil {
		t.Fatal(err)
	}
	return st.Grouped, st.Ready
}

func status(t *testing.T, q queue.Queue, id string) queue.Status {
	t.Helper()
	st, err := q.State(t.Context(), "q", id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Status
}

var sumPolicy = []queue.GroupPolicy{{Task: "sum", Size: 100, Delay: time.Hour}}

// takeBatches takes every ready delivery, and fails t unless there are n,
// each a batch.
func takeBatches(t *testing.T, q queue.Queue, n int) []*queue.Delivery {
	t.Helper()
	ds, err := q.Take(t.Context(), "q", "c1", 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != n {
		t.Fatalf("took %d deliveries, want %d", len(ds), n)
	}
	for _, d := range ds {
		if d.Batch == nil || d.Malformed != nil || d.Task != "sum" {
			t.Fatalf("delivery %s: batch %v, task %q, malformed %v", d.ID, d.Batch, d.Task, d.Malformed)
		}
	}
	return ds
}

func outcomes(n int, o queue.Outcome) []queue.Outcome {
	os := make([]queue.Outcome, n)
	for i := range os {
		os[i] = o
	}
	return os
}

// 250 grouped tasks, Size 100: two batches of the 100 oldest each, in
// order, at once; the 50 left wait until the oldest waited Delay. Each
// call is one round trip; a finish sent again changes nothing.
func TestBatchesBySizeThenDelay(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q, rt := groupedQueue(t, name)
		ctx := t.Context()
		ids := enqueueGrouped(t, q, "k", 250, time.Time{})
		if g, r := grouped(t, q); g != 250 || r != 0 {
			t.Fatalf("grouped %d, ready %d; want 250, 0", g, r)
		}
		if s := status(t, q, ids[0]); s != queue.Queued {
			t.Fatalf("grouped task is %s, want queued", s)
		}
		if m, err := q.Message(ctx, "q", ids[5]); err != nil || m.Group != "k" || string(m.Payload) != "5" {
			t.Fatalf("Message of a grouped task = %+v, %v", m, err)
		}
		// The scripts' first calls load them (a second round trip): these
		// calls are not counted.
		if _, err := q.FlushGroups(ctx, "other", sumPolicy, time.Now()); err != nil {
			t.Fatal(err)
		}
		before := rt.N()
		made, err := q.FlushGroups(ctx, "q", sumPolicy, time.Now())
		if err != nil || made != 2 {
			t.Fatalf("FlushGroups = %d, %v; want 2 batches", made, err)
		}
		if n := rt.N() - before; n != 1 {
			t.Errorf("FlushGroups took %d round trips, want 1", n)
		}
		if g, _ := grouped(t, q); g != 50 {
			t.Fatalf("grouped %d after the flush, want 50", g)
		}
		ds := takeBatches(t, q, 2)
		if !slices.Equal(ds[0].Batch, ids[:100]) || !slices.Equal(ds[1].Batch, ids[100:200]) || ds[0].ID == ds[1].ID {
			t.Fatalf("batches %s %v, %s %v", ds[0].ID, ds[0].Batch[:3], ds[1].ID, ds[1].Batch[:3])
		}
		ms1, err := q.StartBatch(ctx, ds[1], "w1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := q.FinishBatch(ctx, ds[1], ms1, outcomes(100, queue.Outcome{Status: queue.Succeeded, Attempt: 1})); err != nil {
			t.Fatal(err)
		}
		before = rt.N()
		ms, err := q.StartBatch(ctx, ds[0], "w1", time.Now())
		if err != nil || len(ms) != 100 {
			t.Fatalf("StartBatch = %d members, %v", len(ms), err)
		}
		if n := rt.N() - before; n != 1 {
			t.Errorf("StartBatch took %d round trips, want 1", n)
		}
		if ms[7].ID != ids[7] || string(ms[7].Payload) != "7" || ms[7].Group != "k" || ms[7].Attempt != 1 || ms[7].Queue != "q" {
			t.Fatalf("member 7: %+v", ms[7])
		}
		st, _ := q.State(ctx, "q", ids[7])
		if st.Status != queue.Running || st.Worker != "w1" || st.StartedAt.IsZero() {
			t.Fatalf("started member: %+v", st)
		}
		before = rt.N()
		if err := q.FinishBatch(ctx, ds[0], ms, outcomes(100, queue.Outcome{Status: queue.Succeeded, Attempt: 1})); err != nil {
			t.Fatal(err)
		}
		if n := rt.N() - before; n != 1 {
			t.Errorf("FinishBatch took %d round trips, want 1", n)
		}
		for _, id := range ids[:100] {
			if s := status(t, q, id); s != queue.Succeeded {
				t.Fatalf("member %s is %s, want succeeded", id, s)
			}
		}
		// Sent again: nil, and nothing changes.
		if err := q.FinishBatch(ctx, ds[0], ms, outcomes(100, queue.Outcome{Status: queue.Failed, Attempt: 1})); err != nil {
			t.Fatalf("FinishBatch sent again: %v", err)
		}
		if s := status(t, q, ids[3]); s != queue.Succeeded {
			t.Fatalf("a finish sent again changed member 3 to %s", s)
		}
		// Not due by delay yet; due an hour on.
		if made, _ := q.FlushGroups(ctx, "q", sumPolicy, time.Now().Add(30*time.Minute)); made != 0 {
			t.Fatalf("flushed %d batches before the delay", made)
		}
		if made, _ := q.FlushGroups(ctx, "q", sumPolicy, time.Now().Add(2*time.Hour)); made != 1 {
			t.Fatalf("flushed %d batches after the delay, want 1", made)
		}
		last := takeBatches(t, q, 1)[0]
		if !slices.Equal(last.Batch, ids[200:]) {
			t.Fatalf("the last batch has %d members", len(last.Batch))
		}
		if g, _ := grouped(t, q); g != 0 {
			t.Fatalf("grouped %d, want 0", g)
		}
	})
}

// Grace flushes a group whose newest waited that long; groups are by task
// and key.
func TestBatchesGraceAndKeys(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q, _ := groupedQueue(t, name)
		a := enqueueGrouped(t, q, "a", 3, time.Time{})
		b := enqueueGrouped(t, q, "b", 2, time.Time{})
		p := []queue.GroupPolicy{{Task: "sum", Size: 100, Delay: time.Hour, Grace: time.Minute}}
		if made, _ := q.FlushGroups(t.Context(), "q", p, time.Now().Add(10*time.Second)); made != 0 {
			t.Fatalf("flushed %d batches within grace", made)
		}
		if made, err := q.FlushGroups(t.Context(), "q", p, time.Now().Add(2*time.Minute)); made != 2 || err != nil {
			t.Fatalf("FlushGroups = %d, %v; want 2", made, err)
		}
		ds := takeBatches(t, q, 2)
		got := [][]string{ds[0].Batch, ds[1].Batch}
		if !slices.ContainsFunc(got, func(s []string) bool { return slices.Equal(s, a) }) ||
			!slices.ContainsFunc(got, func(s []string) bool { return slices.Equal(s, b) }) {
			t.Fatalf("batches %v, want %v and %v", got, a, b)
		}
	})
}

// Cancel of a grouped task waiting, of a member of a batch not started,
// and of one of a running batch.
func TestBatchesCancel(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q, _ := groupedQueue(t, name)
		ctx := t.Context()
		ids := enqueueGrouped(t, q, "k", 5, time.Time{})
		if o, err := q.Cancel(ctx, "q", ids[0]); o != queue.CancelDone || err != nil {
			t.Fatalf("Cancel of a grouped task = %v, %v", o, err)
		}
		if g, _ := grouped(t, q); g != 4 {
			t.Fatalf("grouped %d, want 4", g)
		}
		p := []queue.GroupPolicy{{Task: "sum", Size: 2, Delay: time.Hour}}
		if made, _ := q.FlushGroups(ctx, "q", p, time.Now()); made != 2 {
			t.Fatalf("flushed %d, want 2", made)
		}
		ds := takeBatches(t, q, 2)
		if !slices.Equal(ds[0].Batch, ids[1:3]) {
			t.Fatalf("first batch %v", ds[0].Batch)
		}
		if o, _ := q.Cancel(ctx, "q", ids[1]); o != queue.CancelDone {
			t.Fatalf("Cancel of a member not started = %v", o)
		}
		ms, err := q.StartBatch(ctx, ds[0], "w", time.Now())
		if err != nil || len(ms) != 1 || ms[0].ID != ids[2] {
			t.Fatalf("StartBatch = %v, %v; want only %s", ms, err, ids[2])
		}
		if o, _ := q.Cancel(ctx, "q", ids[2]); o != queue.CancelSent {
			t.Fatalf("Cancel of a running member = %v", o)
		}
		if err := q.FinishBatch(ctx, ds[0], ms, outcomes(1, queue.Outcome{Status: queue.Succeeded, Attempt: 1})); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]queue.Status{ids[0]: queue.Canceled, ids[1]: queue.Canceled, ids[2]: queue.Canceled} {
			if s := status(t, q, id); s != want {
				t.Errorf("%s is %s, want %s", id, s, want)
			}
		}
		// The other batch: one member retried goes back delayed, then into
		// its group, not to the ready ones; one fails.
		ms, _ = q.StartBatch(ctx, ds[1], "w", time.Now())
		runAt := time.Now().Add(time.Minute)
		if err := q.FinishBatch(ctx, ds[1], ms, []queue.Outcome{
			{Status: queue.Scheduled, Attempt: 2, RunAt: runAt, Retry: true, Kind: "boom", Error: "broke"},
			{Status: queue.Failed, Attempt: 1, Kind: "boom", Error: "broke"}}); err != nil {
			t.Fatal(err)
		}
		if s := status(t, q, ids[3]); s != queue.Scheduled {
			t.Fatalf("retried member is %s", s)
		}
		if s := status(t, q, ids[4]); s != queue.Failed {
			t.Fatalf("failed member is %s", s)
		}
		if n, err := q.Promote(ctx, "q", runAt.Add(time.Second), 10); n != 1 || err != nil {
			t.Fatalf("Promote = %d, %v", n, err)
		}
		if g, r := grouped(t, q); g != 1 || r != 0 {
			t.Fatalf("after the promote: grouped %d, ready %d; want 1, 0", g, r)
		}
		if made, _ := q.FlushGroups(ctx, "q", p, time.Now().Add(2*time.Hour)); made != 1 {
			t.Fatalf("flushed %d, want 1", made)
		}
		d := takeBatches(t, q, 1)[0]
		ms, _ = q.StartBatch(ctx, d, "w", time.Now())
		if len(ms) != 1 || ms[0].Attempt != 2 || ms[0].LastKind != "boom" {
			t.Fatalf("retried member: %+v", ms)
		}
		// Each outcome counted once, those of a batch's members together.
		var sum queue.OutcomeCounts
		rates, err := q.Rates(ctx, "q", time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rates {
			sum.Canceled, sum.Failed, sum.Retried = sum.Canceled+r.Canceled, sum.Failed+r.Failed, sum.Retried+r.Retried
		}
		if sum.Canceled != 3 || sum.Failed != 1 || sum.Retried != 1 {
			t.Fatalf("counted %d canceled, %d failed, %d retried; want 3, 1, 1", sum.Canceled, sum.Failed, sum.Retried)
		}
	})
}

// A batch taken over by Recover: its first delivery's finish is
// superseded, and the new one runs every member not ended.
func TestBatchesRecovered(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q, _ := groupedQueue(t, name)
		ctx := t.Context()
		ids := enqueueGrouped(t, q, "k", 3, time.Time{})
		if made, _ := q.FlushGroups(ctx, "q", sumPolicy, time.Now().Add(2*time.Hour)); made != 1 {
			t.Fatal("no batch")
		}
		d := takeBatches(t, q, 1)[0]
		ms, _ := q.StartBatch(ctx, d, "dead-worker", time.Now())
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, err := q.Recover(ctx, "q", time.Millisecond, 10)
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("Recover took nothing over")
			}
			time.Sleep(5 * time.Millisecond)
		}
		d2 := takeBatches(t, q, 1)[0]
		if d2.ID != d.ID || d2.Deliveries != 2 {
			t.Fatalf("taken over: %s, deliveries %d", d2.ID, d2.Deliveries)
		}
		if err := q.FinishBatch(ctx, d, ms, outcomes(3, queue.Outcome{Status: queue.Succeeded, Attempt: 1})); !errors.Is(err, queue.ErrSuperseded) {
			t.Fatalf("late FinishBatch = %v, want ErrSuperseded", err)
		}
		ms2, _ := q.StartBatch(ctx, d2, "w2", time.Now())
		if len(ms2) != 3 {
			t.Fatalf("new delivery started %d members", len(ms2))
		}
		if err := q.FinishBatch(ctx, d2, ms2, outcomes(3, queue.Outcome{Status: queue.Succeeded, Attempt: 1})); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if st, _ := q.State(ctx, "q", id); st.Status != queue.Succeeded || st.Worker != "w2" {
				t.Fatalf("%s: %+v", id, st)
			}
		}
	})
}

// A batch canceled before it was taken ends its members canceled with it.
func TestBatchesCancelBatch(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q, _ := groupedQueue(t, name)
		ctx := t.Context()
		ids := enqueueGrouped(t, q, "k", 3, time.Time{})
		if made, _ := q.FlushGroups(ctx, "q", sumPolicy, time.Now().Add(2*time.Hour)); made != 1 {
			t.Fatal("no batch")
		}
		if o, err := q.Cancel(ctx, "q", ids[1]); o != queue.CancelDone || err != nil {
			t.Fatalf("Cancel of a member = %v, %v", o, err)
		}
		st, err := q.Stats(ctx, "q")
		if err != nil || st.Ready != 1 {
			t.Fatalf("stats %+v, %v; want the batch ready", st, err)
		}
		tasks, err := q.Tasks(ctx, "q", queue.ReadyTasks, 10)
		if err != nil || len(tasks) != 1 {
			t.Fatalf("ready tasks %v, %v", tasks, err)
		}
		bid := tasks[0].ID
		if o, err := q.Cancel(ctx, "q", bid); o != queue.CancelDone || err != nil {
			t.Fatalf("Cancel of the batch = %v, %v", o, err)
		}
		for _, id := range ids {
			if s := status(t, q, id); s != queue.Canceled {
				t.Errorf("%s is %s, want canceled", id, s)
			}
		}
		if ds, _ := q.Take(ctx, "q", "c", 10, 0); len(ds) != 0 {
			t.Fatalf("took %d after the cancel", len(ds))
		}
	})
}

// On a Cluster, every batch script gets keys of the queue's slot only: a
// grouped enqueue, a flush, a start, a finish with a member's record (its
// lock, on another slot, released beside it), a retry regrouped by
// Promote, and a cancel of a grouped task.
func TestBatchesOnCluster(t *testing.T) {
	c := taskwaretest.Cluster(t)
	rb := redisbackend.New(c)
	b := &taskwaretest.Backend{Name: "cluster", Redis: rb, Client: c, Queue: rb.Queue(), Locker: rb.Locker(), Store: rb.Store()}
	q, ctx := rb.Queue(), t.Context()
	for _, name := range []string{"a", "b", "c"} {
		ms := make([]*queue.Message, 3)
		for i := range ms {
			ms[i] = &queue.Message{ID: fmt.Sprint("m", i), Task: "sum", Queue: name, Group: "k", Payload: []byte("1")}
		}
		if _, err := q.EnqueueMany(ctx, ms, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if o, err := q.Cancel(ctx, name, "m2"); o != queue.CancelDone || err != nil {
			t.Fatalf("Cancel(%s) = %v, %v", name, o, err)
		}
		if made, err := q.FlushGroups(ctx, name, sumPolicy, time.Now().Add(2*time.Hour)); made != 1 || err != nil {
			t.Fatalf("FlushGroups(%s) = %d, %v", name, made, err)
		}
		ds, err := q.Take(ctx, name, "c", 10, 0)
		if err != nil || len(ds) != 1 {
			t.Fatalf("Take(%s) = %d, %v", name, len(ds), err)
		}
		members, err := q.StartBatch(ctx, ds[0], "w", time.Now())
		if err != nil || len(members) != 2 {
			t.Fatalf("StartBatch(%s) = %d, %v", name, len(members), err)
		}
		runAt := time.Now()
		err = q.FinishBatch(ctx, ds[0], members, []queue.Outcome{
			{Status: queue.Succeeded, Attempt: 1, Final: rqFinal(t, b, &queue.Delivery{Message: *members[0]}, name+"-lock")},
			{Status: queue.Scheduled, Attempt: 2, Retry: true, RunAt: runAt, Kind: "k", Error: "e"}})
		if err != nil {
			t.Fatalf("FinishBatch(%s): %v", name, err)
		}
		if st, err := q.State(ctx, name, "m0"); err != nil || st.Status != queue.Succeeded || st.Result != queue.ResultStored {
			t.Fatalf("m0 of %s: %+v, %v", name, st, err)
		}
		if _, err := rb.Locker().TryAcquire(ctx, name+"-lock", time.Minute); err != nil {
			t.Fatalf("the member's lock was not released: %v", err)
		}
		if n, err := q.Promote(ctx, name, runAt.Add(time.Second), 10); n != 1 || err != nil {
			t.Fatalf("Promote(%s) = %d, %v", name, n, err)
		}
		if st, err := q.Stats(ctx, name); err != nil || st.Grouped != 1 {
			t.Fatalf("Stats(%s) = %+v, %v; want 1 grouped", name, st, err)
		}
	}
}

// A member whose message cannot be read comes back with Attempt 0, and
// ends dead, its letter what its state kept.
func TestBatchesUnreadableMember(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		kb := taskwaretest.New(t, name)
		q := redisbackend.New(kb.Client, redisbackend.Prefix(kb.Prefix())).Queue()
		ctx := t.Context()
		ids := enqueueGrouped(t, q, "k", 2, time.Time{})
		if err := kb.Client.HSet(ctx, kb.Prefix()+"queue:{q}:task:"+ids[1], "m", "garbage").Err(); err != nil {
			t.Fatal(err)
		}
		if made, _ := q.FlushGroups(ctx, "q", sumPolicy, time.Now().Add(2*time.Hour)); made != 1 {
			t.Fatal("no batch")
		}
		d := takeBatches(t, q, 1)[0]
		ms, err := q.StartBatch(ctx, d, "w", time.Now())
		if err != nil || len(ms) != 2 {
			t.Fatalf("StartBatch = %d, %v", len(ms), err)
		}
		if ms[0].Attempt != 1 || ms[1].Attempt != 0 || ms[1].ID != ids[1] || ms[1].Task != "sum" || ms[1].Payload != nil {
			t.Fatalf("members %+v, %+v; want the second unread, Attempt 0", ms[0], ms[1])
		}
		err = q.FinishBatch(ctx, d, ms, []queue.Outcome{{Status: queue.Succeeded, Attempt: 1},
			{Status: queue.Dead, Attempt: 1, Kind: "queue.bad_message", Error: "unreadable"}})
		if err != nil {
			t.Fatal(err)
		}
		if s := status(t, q, ids[1]); s != queue.Dead {
			t.Fatalf("unread member is %s, want dead", s)
		}
		if dls, err := q.DeadLetters(ctx, "q", 10); err != nil || len(dls) != 1 || dls[0].Reason != "unreadable" {
			t.Fatalf("dead letters %+v, %v", dls, err)
		}
	})
}

// One FlushGroups makes at most 64 batches: Redis runs nothing else
// meanwhile. The next call makes the rest.
func TestBatchesFlushBounded(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q, _ := groupedQueue(t, name)
		enqueueGrouped(t, q, "k", 130, time.Time{})
		p := []queue.GroupPolicy{{Task: "sum", Size: 2, Delay: time.Hour}}
		for _, want := range []int{64, 1, 0} {
			if made, err := q.FlushGroups(t.Context(), "q", p, time.Now()); made != want || err != nil {
				t.Fatalf("FlushGroups = %d, %v; want %d", made, err, want)
			}
		}
		takeBatches(t, q, 65)
	})
}

// A grouped task's dead letter requeued goes back to its group.
func TestBatchesRequeueDeadRegroups(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q, _ := groupedQueue(t, name)
		ctx := t.Context()
		ids := enqueueGrouped(t, q, "k", 2, time.Time{})
		if made, _ := q.FlushGroups(ctx, "q", sumPolicy, time.Now().Add(2*time.Hour)); made != 1 {
			t.Fatal("no batch")
		}
		d := takeBatches(t, q, 1)[0]
		ms, _ := q.StartBatch(ctx, d, "w", time.Now())
		if err := q.FinishBatch(ctx, d, ms, outcomes(2, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})); err != nil {
			t.Fatal(err)
		}
		done, kept, err := q.RequeueDead(ctx, "q", ids[0])
		if err != nil || !slices.Equal(done, ids[:1]) || len(kept) != 0 {
			t.Fatalf("RequeueDead = %v, %v, %v", done, kept, err)
		}
		if g, r := grouped(t, q); g != 1 || r != 0 {
			t.Fatalf("grouped %d, ready %d; want 1, 0", g, r)
		}
		if made, _ := q.FlushGroups(ctx, "q", sumPolicy, time.Now().Add(2*time.Hour)); made != 1 {
			t.Fatal("no batch of the requeued task")
		}
		d = takeBatches(t, q, 1)[0]
		ms, err = q.StartBatch(ctx, d, "w", time.Now())
		if err != nil || len(ms) != 1 || ms[0].ID != ids[0] || ms[0].Attempt != 1 || string(ms[0].Payload) != "0" {
			t.Fatalf("StartBatch = %+v, %v", ms, err)
		}
	})
}

// A cancel notice lost for a member of a running batch is made up for by
// the batch's Extend, which reads its members' cancel marks too.
func TestBatchesExtendReadsMembersCancel(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		kb := taskwaretest.New(t, name)
		q := redisbackend.New(kb.Client, redisbackend.Prefix(kb.Prefix())).Queue()
		ctx := t.Context()
		ids := enqueueGrouped(t, q, "k", 3, time.Time{})
		if made, _ := q.FlushGroups(ctx, "q", sumPolicy, time.Now().Add(2*time.Hour)); made != 1 {
			t.Fatal("no batch")
		}
		d := takeBatches(t, q, 1)[0]
		if _, err := q.StartBatch(ctx, d, "w", time.Now()); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 10)
		stop := q.WatchCancels(func(_, id string) { got <- id })
		defer stop()
		// The mark a Cancel leaves, its notice lost.
		if err := kb.Client.HSet(ctx, kb.Prefix()+"queue:{q}:task:"+ids[1], "cx", "1").Err(); err != nil {
			t.Fatal(err)
		}
		lost, err := q.Extend(ctx, "q", "c1", []*queue.Delivery{d})
		if err != nil || len(lost) != 0 {
			t.Fatalf("Extend = %v, %v", lost, err)
		}
		select {
		case id := <-got:
			if id != ids[1] {
				t.Fatalf("told of %s, want %s", id, ids[1])
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Extend told of no canceled member")
		}
	})
}
