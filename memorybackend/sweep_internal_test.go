package memorybackend

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

// What has passed is freed on keys never touched again: 200k released
// locks, dead holders' permits, used rate limits with their turns, and
// expired records all go within as many calls again on other keys (the
// sweeps cost O(1) a call), counted as map entries.
func TestSweepFreesUntouchedKeys(t *testing.T) {
	const keys = 200_000
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	b := New(Clock(clock))
	ctx := context.Background()
	for i := range keys {
		k := "k" + strconv.Itoa(i)
		lease, err := b.locker.TryAcquire(ctx, k, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.locker.Release(ctx, lease); err != nil {
			t.Fatal(err)
		}
		if _, err := b.sem.TryAcquire(ctx, k, 1, time.Minute); err != nil { // never released: its holder died
			t.Fatal(err)
		}
		if _, err := b.rate.Reserve(ctx, k, "turn", limitRate, 1); err != nil {
			t.Fatal(err)
		}
		if err := b.store.Put(ctx, &store.Record{Queue: "q", ID: k, Task: "t", Status: store.Succeeded}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	counts := func() [4]int {
		b.locker.mu.Lock()
		b.sem.mu.Lock()
		b.rate.mu.Lock()
		b.store.mu.Lock()
		defer b.locker.mu.Unlock()
		defer b.sem.mu.Unlock()
		defer b.rate.mu.Unlock()
		defer b.store.mu.Unlock()
		return [4]int{len(b.locker.locks), len(b.sem.sems), len(b.rate.keys), len(b.store.records)}
	}
	before := counts()
	if before[0] < keys/2 || before[1] < keys/2 || before[2] < keys/2 || before[3] < keys/2 {
		t.Fatalf("entries before %v: the sweep ran too soon to show anything", before)
	}
	now = now.Add(time.Hour)
	// As many calls again, on one key each, in the hour after.
	for range keys + sweepEvery {
		lease, err := b.locker.TryAcquire(ctx, "x", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.locker.Release(ctx, lease); err != nil {
			t.Fatal(err)
		}
		p, err := b.sem.TryAcquire(ctx, "x", 1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.sem.Release(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := b.rate.Allow(ctx, "x", limitRate, 1<<20); err != nil {
			t.Fatal(err)
		}
		if err := b.store.Put(ctx, &store.Record{Queue: "q", ID: "x", Task: "t", Status: store.Succeeded}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	after := counts()
	t.Logf("FIGURE memory backend sweeps: %d keys' locks, permits, rate limits and records (entries %v) down to %v an hour later, after as many calls on one key", keys, before, after)
	for i, n := range after {
		if n > 1 {
			t.Errorf("entries after %v: [locks, permits, rate limits, records][%d] not freed", after, i)
		}
	}
}

// The records of ended workflows go with the expired states, though
// nobody reads them again; a running workflow's stays.
func TestSweepDropsEndedWorkflows(t *testing.T) {
	const workflows = 100
	now := time.Unix(1_700_000_000, 0)
	b := New(Clock(func() time.Time { return now }), StateTTL(time.Minute))
	q, ctx := b.queue, context.Background()
	one := func(id string) *queue.WorkflowSpec {
		return &queue.WorkflowSpec{ID: id, Queue: "wf", Digest: "d", Steps: []*queue.Message{
			{ID: queue.StepID(id, "only"), Task: "t", Queue: "wf", Step: &queue.Step{Workflow: id, Home: "wf", Name: "only"}}}}
	}
	for i := range workflows + 1 {
		if err := q.EnqueueWorkflow(ctx, one("w"+strconv.Itoa(i)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := q.Take(ctx, "wf", "c", workflows, 0) // all but the last, which runs on
	if err != nil || len(ds) != workflows {
		t.Fatalf("Take = %d, %v", len(ds), err)
	}
	for _, d := range ds {
		if err := q.Finish(ctx, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Hour)
	for i := range 1024 { // plain tasks' finishes: the sweep's turn comes
		id := "p" + strconv.Itoa(i)
		if err := q.Enqueue(ctx, &queue.Message{ID: id, Task: "t", Queue: "wf"}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		ds, err := q.Take(ctx, "wf", "c", 1, 0)
		if err != nil || len(ds) != 1 {
			t.Fatalf("Take = %d, %v", len(ds), err)
		}
		if err := q.Finish(ctx, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	q.mu.Lock()
	left := len(q.queues["wf"].workflows)
	_, running := q.queues["wf"].workflows["w"+strconv.Itoa(workflows)]
	q.mu.Unlock()
	if left != 1 || !running {
		t.Fatalf("%d workflow records left (the running one among them: %v); want only the running one", left, running)
	}
}

var limitRate = limit.PerSecond(1)
