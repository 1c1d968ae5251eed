package faults_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A paused queue with a live worker polling it for seconds stays as it
// was: no entry moves (each keeps its stream entry, so its place), none
// runs, and the oldest ready task's age is its real age. Resumed, its
// tasks run, oldest first.
func TestFaultPausedQueueStill(t *testing.T) {
	const (
		n      = 20
		paused = 3 * time.Second
	)
	direct, prefix := taskwaretest.Redis(t)
	b := redisbackend.New(direct, redisbackend.Prefix(prefix))
	q := b.Queue()
	ctx := context.Background()
	if err := q.Pause(ctx, "still"); err != nil {
		t.Fatal(err)
	}

	var runs atomic.Int32
	order := make(chan int, n)
	tk := task.New("still", func(_ context.Context, i int) (int, error) {
		runs.Add(1)
		order <- i
		return i, nil
	})
	c := worker.NewClient(q, b.Store())
	var first time.Time // the oldest task is at least this old
	for i := range n {
		if _, err := worker.Enqueue(ctx, c, tk, i, worker.OnQueue("still")); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = time.Now()
		}
	}
	before := readyReceipts(t, q, n)

	w := worker.New(q, worker.Queues("still"), worker.Concurrency(1), worker.PollWait(50*time.Millisecond),
		worker.OnError(func(err error) { t.Log(err) }))
	worker.Register(w, tk)
	taskwaretest.StartWorker(t, w)
	time.Sleep(paused)

	after := readyReceipts(t, q, n)
	moved := 0
	for i := range before {
		if i >= len(after) || after[i] != before[i] {
			moved++
		}
	}
	age := time.Since(first)
	st, err := q.Stats(ctx, "still")
	if err != nil {
		t.Fatal(err)
	}
	figure(t, "paused queue, a live worker for "+paused.String(), "%d of %d entries moved, %d ran, oldest ready %v for a task %v old",
		moved, n, runs.Load(), st.OldestReady.Round(time.Millisecond), age.Round(time.Millisecond))
	if runs.Load() != 0 {
		t.Errorf("%d tasks ran on a paused queue", runs.Load())
	}
	if moved != 0 {
		t.Errorf("%d of %d entries moved: %q, then %q", moved, n, before, after)
	}
	// Stats reads the server's clock: a margin for its skew.
	if st.OldestReady < age-200*time.Millisecond {
		t.Errorf("oldest ready %v; the oldest task is %v old", st.OldestReady, age)
	}
	if st.Ready != n {
		t.Errorf("%d ready, want %d", st.Ready, n)
	}

	if err := q.Resume(ctx, "still"); err != nil {
		t.Fatal(err)
	}
	var got []int
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case i := <-order:
			got = append(got, i)
		case <-deadline:
			t.Fatalf("resumed, %d of %d tasks ran", len(got), n)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("resumed, the tasks ran in the order %v; want the order they were enqueued in", got)
	}
}

// readyReceipts lists the receipts of queue "still"'s ready tasks, oldest
// first, and fails unless there are n.
func readyReceipts(t *testing.T, q queue.Queue, n int) []string {
	t.Helper()
	ts, err := q.Tasks(context.Background(), "still", queue.ReadyTasks, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(ts))
	for _, ti := range ts {
		out = append(out, ti.Receipt)
	}
	return out
}
