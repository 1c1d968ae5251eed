package faults_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A worker takes 16 tasks and dies. A live worker with two free slots, not
// sixteen, must still take all of them over within the visibility timeout
// and a second.
func TestFaultTakeover(t *testing.T) {
	const n = 16
	visibility := time.Second
	b := taskwaretest.NewRedis(t)
	ctx := context.Background()
	var mu sync.Mutex
	started := map[int]time.Time{} // the first start of each task
	tk := task.New("job", func(ctx context.Context, i int) (int, error) {
		mu.Lock()
		if _, ok := started[i]; !ok {
			started[i] = time.Now()
		}
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		return i, nil
	}, middleware.StoreResult(b.Store))
	client := worker.NewClient(b.Queue, b.Store)
	var hs []*worker.Handle[int]
	for i := range n {
		h, err := worker.Enqueue(ctx, client, tk, i)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	ds, err := b.Queue.Take(ctx, queue.Default, "the-dead", n, 0)
	if err != nil || len(ds) != n {
		t.Fatalf("the dead worker took %d, %v", len(ds), err)
	}
	died := time.Now()
	w := worker.New(b.Queue, worker.Concurrency(2), worker.Visibility(visibility), worker.PollWait(50*time.Millisecond))
	worker.Register(w, tk)
	taskwaretest.StartWorker(t, w)
	var last time.Duration
	for _, h := range hs {
		if _, err := taskwaretest.Get(h, 10*time.Second); err != nil {
			t.Fatalf("task %s: %v", h.ID, err)
		}
		if st, err := h.State(ctx); err != nil || st.Status != queue.Succeeded {
			t.Fatalf("state %+v, %v", st, err)
		}
	}
	mu.Lock()
	for _, at := range started {
		last = max(last, at.Sub(died))
	}
	runs := len(started)
	mu.Unlock()
	figure(t, "takeover", "%d of %d tasks of a dead worker taken over and run within %v (visibility %v, the live worker has 2 slots)",
		runs, n, last.Round(10*time.Millisecond), visibility)
	if runs != n || last > visibility+time.Second {
		t.Fatalf("%d runs, the last %v after the worker died; want %d within %v", runs, last, n, visibility+time.Second)
	}
}

// After a mixed workload (successes, failures retried and dead-lettered,
// delayed tasks, skips, locks, stored records, a clean stop), every key
// under the prefix has a TTL, but the streams: nothing grows without bound
// but what a trim or a cap bounds.
func TestFaultNoKeyWithoutTTL(t *testing.T) {
	b := taskwaretest.NewRedis(t)
	ctx := context.Background()
	tk := task.New("mixed", func(ctx context.Context, i int) (int, error) {
		switch i % 4 {
		case 1:
			return 0, fmt.Errorf("boom %d", i) // retried, then dead
		case 2:
			return 0, task.Skip(nil)
		}
		return i, nil
	}, middleware.StoreResult(b.Store, middleware.StoreSkips(time.Hour)), middleware.Expires(time.Minute),
		middleware.Retry(2, middleware.RetryBackoff(10*time.Millisecond, 10*time.Millisecond)),
		middleware.SkipLocked(), middleware.WithLock(b.Locker, "mixed", lock.Wait(5*time.Second)))
	w := worker.New(b.Queue, worker.Concurrency(4), worker.PollWait(50*time.Millisecond), worker.PromoteEvery(10*time.Millisecond))
	worker.Register(w, tk)
	stop := taskwaretest.StartWorker(t, w)
	client := worker.NewClient(b.Queue, b.Store)
	var hs []*worker.Handle[int]
	for i := range 40 {
		var opts []worker.EnqueueOption
		if i%5 == 0 {
			opts = append(opts, worker.Delay(50*time.Millisecond))
		}
		h, err := worker.Enqueue(ctx, client, tk, i, opts...)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	for _, h := range hs {
		if st, err := h.State(ctx); err != nil {
			t.Fatal(st, err)
		}
		_, _ = taskwaretest.Get(h, 10*time.Second)
		if st, err := h.State(ctx); err != nil || !st.Status.Terminal() {
			t.Fatalf("task %s did not end: %+v, %v", h.ID, st, err)
		}
	}
	stop()

	// Kept without a TTL: the streams, and the set of the queues' names
	// (one key, a member a queue), which lists them.
	var keys, streams, noTTL []string
	iter := b.Client.Scan(ctx, 0, b.Prefix()+"*", 500).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if typ := b.Client.Type(ctx, k).Val(); typ == "stream" || k == b.Prefix()+"queues" {
			streams = append(streams, strings.TrimPrefix(k, b.Prefix()))
			continue
		}
		if ttl := b.Client.PTTL(ctx, k).Val(); ttl < 0 {
			noTTL = append(noTTL, strings.TrimPrefix(k, b.Prefix()))
		}
	}
	figure(t, "keys without a TTL", "%d of %d keys after a mixed workload, but the %d streams and set of queues %q", len(noTTL), len(keys), len(streams), streams)
	if len(noTTL) > 0 {
		t.Fatalf("keys without a TTL: %q", noTTL)
	}
	if len(keys) < 40 {
		t.Fatalf("only %d keys: the workload left too little to look at", len(keys))
	}
}
