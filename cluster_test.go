package taskware_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// On a Redis Cluster every script's keys share a slot (hash tags), and
// inspection scans every master.
func TestRedisCluster(t *testing.T) {
	c := taskwaretest.Cluster(t)
	ctx := context.Background()
	b := redisbackend.New(c)
	locker, results := b.Locker(), b.Store()

	// Keys spread over all three masters.
	const n = 30
	var leases []*lock.Lease
	for i := range n {
		l, err := locker.TryAcquire(ctx, fmt.Sprintf("key-%d", i), time.Minute)
		if err != nil {
			t.Fatalf("acquire on the cluster: %v", err)
		}
		leases = append(leases, l)
	}
	if _, err := locker.TryAcquire(ctx, "key-0", time.Minute); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("second acquire: %v", err)
	}
	held, err := locker.Held(ctx)
	if err != nil || len(held) != n {
		t.Fatalf("Held found %d of %d locks: %v", len(held), n, err)
	}
	for _, l := range leases {
		if err := locker.Refresh(ctx, l, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := locker.Release(ctx, l); err != nil {
			t.Fatal(err)
		}
	}

	tk := task.New("echo", func(ctx context.Context, s string) (string, error) { return s, nil },
		middleware.StoreResult(results), middleware.SkipLocked(), middleware.WithLock(locker, "echo"))
	for i := range n {
		id := fmt.Sprintf("run-%d", i)
		if _, err := tk.Invoke(ctx, &task.Invocation{ID: id, Args: id}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := results.List(ctx)
	if err != nil || len(recs) != n {
		t.Fatalf("List found %d of %d records: %v", len(recs), n, err)
	}
	waited := make(chan error, 1)
	go func() {
		rec, err := results.Wait(ctx, "", "late")
		if err == nil && string(rec.Value) != `"late"` {
			err = fmt.Errorf("waited for %+v", rec)
		}
		waited <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := tk.Invoke(ctx, &task.Invocation{ID: "late", Args: "late"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Wait did not wake on the cluster")
	}

	// A worker's run: its lock release (on the lock's slot) and its result
	// write and task state (on the queue's slot) share one pipeline that
	// spans nodes.
	w := worker.New(b.Queue(), worker.Queues("q0", "q1", "q2"), worker.PollWait(50*time.Millisecond), worker.Grace(time.Second),
		worker.OnError(func(err error) { t.Errorf("worker: %v", err) }))
	worker.Register(w, tk)
	taskwaretest.StartWorker(t, w)
	client := worker.NewClient(b.Queue(), results)
	for i := range 10 {
		h, err := worker.Enqueue(ctx, client, tk, fmt.Sprint("queued ", i), worker.OnQueue(fmt.Sprint("q", i%3)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := taskwaretest.Get(h, 5*time.Second)
		if err != nil || got != fmt.Sprint("queued ", i) {
			t.Fatalf("task %d on the cluster: %q, %v", i, got, err)
		}
		if st, err := h.State(ctx); err != nil || st.Result != queue.ResultStored {
			t.Fatalf("state %+v, %v", st, err)
		}
	}
	if held, err := locker.Held(ctx); err != nil || len(held) != 0 {
		t.Fatalf("locks left held on the cluster: %+v, %v", held, err)
	}
}
