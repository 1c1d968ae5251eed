package faults_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A worker takes 16 tasks and dies (its process stops extending its
// claims), with 3,000 more tasks ready behind them. The tasks taken over
// run ahead of that backlog: within the visibility timeout and a second.
func TestFaultTakeoverAheadOfBacklog(t *testing.T) {
	const (
		n          = 16
		backlog    = 3000
		visibility = time.Second
	)
	b := taskwaretest.NewRedis(t)
	ctx := context.Background()
	var mu sync.Mutex
	started := map[int]time.Time{} // the first start of each task taken over
	ran := 0
	tk := task.New("job", func(ctx context.Context, i int) (int, error) {
		mu.Lock()
		ran++
		if _, ok := started[i]; !ok && i < n {
			started[i] = time.Now()
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		return i, nil
	})
	client := worker.NewClient(b.Queue, b.Store)
	for i := range n {
		if _, err := worker.Enqueue(ctx, client, tk, i); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := b.Queue.Take(ctx, queue.Default, "the-dead", n, 0)
	if err != nil || len(ds) != n {
		t.Fatalf("the dead worker took %d, %v", len(ds), err)
	}
	died := time.Now()
	args := make([]int, backlog)
	for i := range args {
		args[i] = n + i
	}
	if _, err := worker.EnqueueMany(ctx, client, tk, args); err != nil {
		t.Fatal(err)
	}
	w := worker.New(b.Queue, worker.Concurrency(4), worker.Visibility(visibility), worker.PollWait(50*time.Millisecond))
	worker.Register(w, tk)
	stop := taskwaretest.StartWorker(t, w)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		k := len(started)
		mu.Unlock()
		if k == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks taken over ran in 60 s", k, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	var last time.Duration
	for _, at := range started {
		last = max(last, at.Sub(died))
	}
	left := backlog + n - ran
	mu.Unlock()
	stop()
	figure(t, "takeover behind a backlog", "the last of %d tasks of a dead worker ran %v after it died (visibility %v), %d of %d ready tasks still waiting then",
		n, last.Round(10*time.Millisecond), visibility, max(left, 0), backlog)
	if last > visibility+time.Second {
		t.Fatalf("the last task taken over ran %v after the worker died; want within %v", last, visibility+time.Second)
	}
}
