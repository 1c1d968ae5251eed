package worker_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// overrideWorker starts a worker on b with tasks and returns a client.
func overrideWorker(t *testing.T, b *taskwaretest.Backend, register func(w *worker.Worker)) *worker.Client {
	t.Helper()
	w := worker.New(b.Queue, worker.Concurrency(4), worker.PollWait(50*time.Millisecond),
		worker.PromoteEvery(10*time.Millisecond), worker.Grace(2*time.Second), worker.Visibility(2*time.Second))
	register(w)
	taskwaretest.StartWorker(t, w)
	return worker.NewClient(b.Queue, b.Store)
}

// A task built with one retry runs three times when enqueued Retries(2),
// and twice without; its headers survive every requeue.
func TestRetriesOverridesRetry(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var mu sync.Mutex
		runs := map[string]int{}
		boom := errors.New("boom")
		tk := task.New("flaky", func(ctx context.Context, _ struct{}) (int, error) { return 0, boom },
			middleware.StoreResult(b.Store),
			middleware.RetryUpTo(1, middleware.RetryBackoff(10*time.Millisecond, 20*time.Millisecond)),
			func(next task.Func) task.Func {
				return func(ctx context.Context, inv *task.Invocation) (any, error) {
					mu.Lock()
					runs[inv.ID]++
					mu.Unlock()
					return next(ctx, inv)
				}
			})
		c := overrideWorker(t, b, func(w *worker.Worker) { worker.Register(w, tk) })
		ctx := context.Background()

		cases := []struct {
			name string
			opts []worker.EnqueueOption
			runs int
		}{
			{"configured", nil, 2},
			{"Retries(2)", []worker.EnqueueOption{worker.Retries(2)}, 3},
			{"Retries(0)", []worker.EnqueueOption{worker.Retries(0)}, 1},
			{"Headers then Retries", []worker.EnqueueOption{worker.Headers(map[string]string{"tenant": "a"}), worker.Retries(2)}, 3},
			{"Retries(-1) leaves the configured count", []worker.EnqueueOption{worker.Retries(-1)}, 2},
		}
		for _, cs := range cases {
			h, err := worker.Enqueue(ctx, c, tk, struct{}{}, cs.opts...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = taskwaretest.Get(h, 10*time.Second)
			if !errors.Is(err, queue.ErrDeadLettered) || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("%s: %v, want a dead letter of the boom", cs.name, err)
			}
			mu.Lock()
			n := runs[h.ID]
			mu.Unlock()
			if n != cs.runs {
				t.Fatalf("%s: ran %d times, want %d", cs.name, n, cs.runs)
			}
		}
	})
}

// A task built with a timeout of one second times out after 50ms when
// enqueued Timeout(50*time.Millisecond).
func TestWithTimeoutOverridesTimeout(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var mu sync.Mutex
		left := map[string]time.Duration{}
		slow := task.New("slow", func(ctx context.Context, wait time.Duration) (int, error) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(wait):
				return 1, nil
			}
		}, middleware.StoreResult(b.Store), middleware.Timeout(time.Second), func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				dl, _ := ctx.Deadline()
				mu.Lock()
				left[inv.ID] = time.Until(dl)
				mu.Unlock()
				return next(ctx, inv)
			}
		})
		c := overrideWorker(t, b, func(w *worker.Worker) { worker.Register(w, slow) })
		ctx := context.Background()

		short, err := worker.Enqueue(ctx, c, slow, 5*time.Second, worker.Timeout(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := taskwaretest.Get(short, 10*time.Second); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Timeout(50ms): %v, want a timeout", err)
		}
		// Without the option, the configured second holds: 100ms is enough.
		configured, err := worker.Enqueue(ctx, c, slow, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := taskwaretest.Get(configured, 10*time.Second); err != nil || n != 1 {
			t.Fatalf("configured timeout: %d, %v", n, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if d := left[short.ID]; d <= 0 || d > 50*time.Millisecond {
			t.Fatalf("Timeout(50ms): the run had %v", d)
		}
		if d := left[configured.ID]; d <= 500*time.Millisecond || d > time.Second {
			t.Fatalf("configured: the run had %v", d)
		}
	})
}

// The reserved headers sit next to Headers' own whichever option comes
// first, and the caller's map is left as it is.
func TestOverrideHeadersMerge(t *testing.T) {
	b := taskwaretest.NewMemory(t)
	seen := make(chan map[string]string, 4)
	tk := task.New("headers", func(ctx context.Context, _ struct{}) (int, error) { return 0, nil },
		func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				seen <- inv.Headers
				return next(ctx, inv)
			}
		})
	c := overrideWorker(t, b, func(w *worker.Worker) { worker.Register(w, tk) })
	ctx := context.Background()
	mine := map[string]string{"tenant": "a", task.HeaderRetries: "9"}
	headers := worker.Headers(mine)

	get := func(name string, opts ...worker.EnqueueOption) map[string]string {
		t.Helper()
		h, err := worker.Enqueue(ctx, c, tk, struct{}{}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := taskwaretest.Get(h, 10*time.Second); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return <-seen
	}
	want := map[string]string{"tenant": "a", task.HeaderRetries: "2", task.HeaderTimeout: "50ms"}
	check := func(name string, got map[string]string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: headers %v, want %v", name, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s: headers %v, want %v", name, got, want)
			}
		}
	}
	check("Headers first", get("Headers first", headers, worker.Retries(2), worker.Timeout(50*time.Millisecond)))
	if mine[task.HeaderRetries] != "9" || len(mine) != 2 {
		t.Fatalf("the caller's map changed: %v", mine)
	}
	// The options do not leak into the next Enqueue that shares Headers.
	if got := get("Headers alone", headers); got[task.HeaderRetries] != "9" || got[task.HeaderTimeout] != "" {
		t.Fatalf("Headers alone: %v", got)
	}
	if got := get("capped", worker.Retries(1000), worker.Timeout(1000*time.Hour)); got[task.HeaderRetries] != "25" || got[task.HeaderTimeout] != "24h0m0s" {
		t.Fatalf("capped: %v", got)
	}
	got := get("Headers last", worker.Retries(2), worker.Timeout(50*time.Millisecond), headers)
	check("Headers last", got)
}

// A task reads its own invocation from its context under a worker.
func TestInvocationFromUnderWorker(t *testing.T) {
	b := taskwaretest.NewMemory(t)
	type seen struct {
		inv *task.Invocation
		ok  bool
	}
	got := make(chan seen, 1)
	tk := task.New("self", func(ctx context.Context, _ struct{}) (int, error) {
		inv, ok := task.InvocationFrom(ctx)
		got <- seen{inv, ok}
		return 0, nil
	}, middleware.Timeout(time.Minute))
	c := overrideWorker(t, b, func(w *worker.Worker) { worker.Register(w, tk) })
	h, err := worker.Enqueue(context.Background(), c, tk, struct{}{}, worker.Headers(map[string]string{"tenant": "a"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := taskwaretest.Get(h, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if !s.ok {
		t.Fatal("the task found no invocation in its context")
	}
	if s.inv.ID != h.ID || s.inv.Name != "self" || s.inv.Attempt != 1 || s.inv.Headers["tenant"] != "a" {
		t.Fatalf("invocation %+v", s.inv)
	}
}
