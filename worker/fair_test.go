package worker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// Weights hold per task started, not per take: with every queue full,
// Queues("critical=6", "default=3", "low=1") at concurrency 10 starts a
// tenth of its tasks from low.
func TestWeightsHoldPerTaskStarted(t *testing.T) {
	const starts, each = 500, 600
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var mu sync.Mutex
		byQueue := map[string]int{}
		total := 0
		enough := make(chan struct{})
		tk := task.New("weighed", func(ctx context.Context, n int) (int, error) {
			inv, _ := task.InvocationFrom(ctx)
			mu.Lock()
			defer mu.Unlock()
			if total < starts {
				byQueue[inv.Queue]++
				if total++; total == starts {
					close(enough)
				}
			}
			return n, nil
		})
		c := worker.NewClient(b.Queue, b.Store)
		args := make([]int, each)
		for _, q := range []string{"critical", "default", "low"} {
			if _, err := worker.EnqueueMany(context.Background(), c, tk, args, worker.OnQueue(q)); err != nil {
				t.Fatal(err)
			}
		}
		w := worker.New(b.Queue, worker.Concurrency(10), worker.Queues("critical=6", "default=3", "low=1"),
			worker.PollWait(50*time.Millisecond), worker.Grace(5*time.Second))
		worker.Register(w, tk)
		stop := taskwaretest.StartWorker(t, w)
		select {
		case <-enough:
		case <-time.After(30 * time.Second):
			t.Fatal("500 starts did not come within 30s")
		}
		stop()
		mu.Lock()
		defer mu.Unlock()
		t.Logf("FIGURE weights 6/3/1 at concurrency 10, first %d starts: critical %d, default %d, low %d (want 300, 150, 50)",
			starts, byQueue["critical"], byQueue["default"], byQueue["low"])
		// Exact per turn of the round robin, but a take's tasks start
		// queue by queue, and the 500th start may cut a take of up to 20
		// (Concurrency and Prefetch), 2 of them low's; runs racing to the
		// count add a few.
		for q, want := range map[string][2]int{"critical": {300, 25}, "default": {150, 25}, "low": {50, 8}} {
			if got := byQueue[q]; got < want[0]-want[1] || got > want[0]+want[1] {
				t.Errorf("%s: %d of %d starts, want %d ± %d", q, got, starts, want[0], want[1])
			}
		}
	})
}

// A burst spreads over the workers: with the default Prefetch, a worker of
// 25 slots that takes first leaves a share of 50 tasks to the next one,
// instead of holding them all.
func TestBurstSpreadsOverWorkers(t *testing.T) {
	const n, slots = 50, 25
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var ran [2]atomic.Int64
		release := make(chan struct{})
		workers := make([]*worker.Worker, 2)
		for i := range workers {
			workers[i] = worker.New(b.Queue, worker.Concurrency(slots), worker.PollWait(50*time.Millisecond),
				worker.Grace(5*time.Second))
			worker.Register(workers[i], task.New("burst", func(ctx context.Context, _ int) (int, error) {
				ran[i].Add(1)
				select { // work until both workers had their chance
				case <-release:
				case <-time.After(10 * time.Second):
				}
				return i, nil
			}))
		}
		c := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(context.Background(), c, task.New("burst", func(context.Context, int) (int, error) { return 0, nil }),
			make([]int, n))
		if err != nil {
			t.Fatal(err)
		}
		// The first worker takes first; the second starts once the first runs.
		taskwaretest.StartWorker(t, workers[0])
		for deadline := time.Now().Add(10 * time.Second); ran[0].Load() == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the first worker ran nothing within 10s")
			}
		}
		taskwaretest.StartWorker(t, workers[1])
		// Until the second runs some (or 3s pass), then until the counts
		// settle for 200ms.
		for deadline := time.Now().Add(3 * time.Second); ran[1].Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		first, second := ran[0].Load(), ran[1].Load()
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
			if f, s := ran[0].Load(), ran[1].Load(); f == first && s == second {
				break
			}
			first, second = ran[0].Load(), ran[1].Load()
		}
		close(release)
		for _, h := range hs {
			if _, err := taskwaretest.Get(h, 20*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("FIGURE burst of %d tasks over 2 workers of %d slots, default Prefetch: first worker ran %d, second %d at once",
			n, slots, first, second)
		if second == 0 || first > slots {
			t.Errorf("first worker ran %d, second %d, of %d: want both to run tasks", first, second, n)
		}
	})
}
