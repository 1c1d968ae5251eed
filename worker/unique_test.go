package worker_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// Concurrent enqueues of one unique key make one task (the queue's
// promise, see package queuetest), and every caller gets a handle on it:
// the duplicates' handles follow the task that stands.
func TestUniqueEnqueue(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs atomic.Int32
		release := make(chan struct{})
		tk := task.New("report", func(ctx context.Context, acct string) (string, error) {
			runs.Add(1)
			<-release
			return "report of " + acct, nil
		}, middleware.StoreResult(b.Store))
		c := worker.NewClient(b.Queue, b.Store)

		const n = 100
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				h, err := worker.Enqueue(ctx, c, tk, "acct-1", worker.UniqueKey("report:acct-1", time.Minute))
				errs[i] = err
				if h != nil {
					ids[i] = h.ID
				}
			})
		}
		wg.Wait()
		added, dups := 0, 0
		for i := range n {
			switch {
			case errs[i] == nil:
				added++
			case errors.Is(errs[i], queue.ErrDuplicate):
				dups++
			default:
				t.Fatalf("enqueue %d: %v", i, errs[i])
			}
			if ids[i] == "" || ids[i] != ids[0] {
				t.Fatalf("enqueue %d got handle %q, want %q: the one task", i, ids[i], ids[0])
			}
		}
		t.Logf("FIGURE unique enqueue: %d concurrent enqueues of one key: %d added, %d duplicates, 1 handle", n, added, dups)
		if added != 1 || dups != n-1 {
			t.Fatalf("%d added, %d duplicates; want 1 and %d", added, dups, n-1)
		}

		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		close(release)
		h := worker.HandleOf(c, tk, queue.Default, ids[0])
		if got, err := getWithin(t, h, 5*time.Second); err != nil || got != "report of acct-1" {
			t.Fatalf("Get = %q, %v", got, err)
		}
		if r := runs.Load(); r != 1 {
			t.Fatalf("%d runs, want 1", r)
		}
	})
}

// UniqueArgs keys by task and arguments; a known ID hands back its own
// handle. (How long a key holds, and when it is let go, is the queue's
// promise: see package queuetest.)
func TestUniqueArgs(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		tk := task.New("charge", func(ctx context.Context, cents int) (int, error) { return cents, nil })
		c := worker.NewClient(b.Queue, b.Store)
		a, err := worker.Enqueue(ctx, c, tk, 5, worker.UniqueArgs(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if h, err := worker.Enqueue(ctx, c, tk, 5, worker.UniqueArgs(time.Minute)); !errors.Is(err, queue.ErrDuplicate) || h.ID != a.ID {
			t.Fatalf("same arguments: %v, %v; want a duplicate of %s", h, err, a.ID)
		}
		if _, err := worker.Enqueue(ctx, c, tk, 6, worker.UniqueArgs(time.Minute)); err != nil {
			t.Fatalf("other arguments: %v", err)
		}
		other := task.New("refund", func(ctx context.Context, cents int) (int, error) { return cents, nil })
		if _, err := worker.Enqueue(ctx, c, other, 5, worker.UniqueArgs(time.Minute)); err != nil {
			t.Fatalf("same arguments of another task: %v", err)
		}
		if h, err := worker.Enqueue(ctx, c, tk, 1, worker.ID(a.ID)); !errors.Is(err, queue.ErrDuplicate) || h == nil || h.ID != a.ID {
			t.Fatalf("known ID: %v, %v", h, err)
		}
	})
}

// A worker runs nothing of a paused queue; resumed, its tasks run.
func TestPauseAndResume(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		p := b.Queue
		var runs atomic.Int32
		tk := task.New("p", func(ctx context.Context, i int) (int, error) { runs.Add(1); return i, nil },
			middleware.StoreResult(b.Store))
		if err := p.Pause(ctx, queue.Default); err != nil {
			t.Fatal(err)
		}
		c := worker.NewClient(b.Queue, b.Store)
		var hs []*worker.Handle[int]
		for i := range 5 {
			h, err := worker.Enqueue(ctx, c, tk, i)
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		time.Sleep(300 * time.Millisecond) // several polls
		if n := runs.Load(); n != 0 {
			t.Fatalf("%d tasks ran on a paused queue", n)
		}
		if st, err := hs[0].State(ctx); err != nil || st.Status != queue.Queued {
			t.Fatalf("state on a paused queue: %+v, %v", st, err)
		}
		if err := p.Resume(ctx, queue.Default); err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			if got, err := getWithin(t, h, 5*time.Second); err != nil || got != i {
				t.Fatalf("task %d after resume: %d, %v", i, got, err)
			}
		}
		if n := runs.Load(); n != 5 {
			t.Fatalf("%d runs, want 5", n)
		}
	})
}

// runOrder enqueues per queue the tasks counts says, starts a worker with
// opts that runs one at a time, and returns the queues of the first n
// runs, in order.
func runOrder(t *testing.T, b *taskwaretest.Backend, counts map[string]int, n int, opts ...worker.Option) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	tk := task.New("w", func(ctx context.Context, _ int) (int, error) { return 0, nil }, func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			mu.Lock()
			order = append(order, inv.Queue)
			mu.Unlock()
			return next(ctx, inv)
		}
	})
	c := worker.NewClient(b.Queue, b.Store)
	for q, k := range counts {
		for i := range k {
			if _, err := worker.Enqueue(ctx, c, tk, i, worker.OnQueue(q)); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := worker.New(b.Queue, fast(append([]worker.Option{worker.Concurrency(1), worker.Prefetch(0)}, opts...)...)...)
	worker.Register(w, tk)
	stop := start(t, w)
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		got := len(order)
		mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("%d runs in 10s, want %d", got, n)
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	return order[:n]
}

// Weighted queues are taken from as often as their weights.
func TestWeightedQueues(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		order := runOrder(t, b, map[string]int{"hi": 30, "mid": 30, "lo": 30}, 20, worker.Queues("hi=6", "mid=3", "lo=1"))
		counts := map[string]int{}
		for _, q := range order {
			counts[q]++
		}
		if counts["hi"] != 12 || counts["mid"] != 6 || counts["lo"] != 2 {
			t.Fatalf("first 20 runs by queue %v (%v), want hi 12, mid 6, lo 2", counts, order)
		}
	})
}

// Strict priority drains the first queue before it takes from the next.
func TestStrictPriority(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		order := runOrder(t, b, map[string]int{"hi": 5, "lo": 5}, 10, worker.Queues("hi", "lo"), worker.StrictPriority())
		want := []string{"hi", "hi", "hi", "hi", "hi", "lo", "lo", "lo", "lo", "lo"}
		if !slices.Equal(order, want) {
			t.Fatalf("order %v, want %v", order, want)
		}
	})
}

// A queue counts its outcomes by minute: what a dashboard charts.
func TestRates(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		rr := b.Queue
		began := time.Now()
		lease, err := b.Locker.TryAcquire(ctx, "rates-held", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = b.Locker.Release(ctx, lease) }()
		var flaky atomic.Int32
		tk := task.New("r", func(ctx context.Context, n int) (int, error) {
			switch n {
			case 1:
				return 0, errors.New("boom")
			case 2:
				return 0, task.Permanent(errors.New("never"))
			case 3:
				if flaky.Add(1) == 1 {
					return 0, errors.New("once")
				}
			}
			return n, nil
		}, middleware.Expires(time.Hour), middleware.Retry(2, middleware.RetryBackoff(5*time.Millisecond, 5*time.Millisecond),
			middleware.RetryIf(func(err error) bool { return err.Error() == "once" })))
		locked := task.New("l", func(ctx context.Context, _ int) (int, error) { return 0, nil },
			middleware.SkipLocked(), middleware.WithLock(b.Locker, "rates-held"))
		c := worker.NewClient(b.Queue, b.Store)
		var hs []*worker.Handle[int]
		for _, n := range []int{0, 0, 0, 1, 1, 2, 3} {
			h, err := worker.Enqueue(ctx, c, tk, n)
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		stale, _ := worker.Enqueue(ctx, c, tk, 0, worker.ExpiresAt(time.Now().Add(-time.Second)))
		skip, _ := worker.Enqueue(ctx, c, locked, 0)
		gone, _ := worker.Enqueue(ctx, c, tk, 0, worker.Delay(time.Hour))
		if _, err := c.Cancel(ctx, gone.Queue, gone.ID); err != nil {
			t.Fatal(err)
		}
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		worker.Register(w, locked)
		start(t, w)
		for _, h := range append(hs, stale) {
			_, _ = getWithin(t, h, 5*time.Second)
		}
		_, _ = getWithin(t, worker.HandleOf(c, locked, skip.Queue, skip.ID), 5*time.Second)
		rates, err := rr.Rates(ctx, queue.Default, began.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var sum queue.OutcomeCounts
		for _, r := range rates {
			sum.Add(r)
		}

		want := queue.OutcomeCounts{Succeeded: 4, Failed: 2, Dead: 1, Canceled: 1, Retried: 1,
			Skipped: map[string]int64{"lock.locked": 1, "middleware.expired": 1}}
		sum.Rescheduled = 0 // not what this test counts
		if !reflect.DeepEqual(sum, want) {
			t.Fatalf("counted %+v over %d minutes, want %+v", sum, len(rates), want)
		}
		if n := len(rates); n < 2 || n > 3 {
			t.Errorf("%d minutes from a minute ago to now, want 2 or 3", n)
		}
	})
}
