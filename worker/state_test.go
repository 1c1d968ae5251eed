package worker_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A task's state says it is running, since when and on which worker, and
// once it ends, when it finished.
func TestRunningState(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		release := make(chan struct{})
		tk := task.New("slow", func(ctx context.Context, _ int) (int, error) { <-release; return 1, nil },
			middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast(worker.Name("state-worker"))...)
		worker.Register(w, tk)
		start(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		before := time.Now().Add(-time.Millisecond)
		h, err := worker.Enqueue(ctx, c, tk, 0)
		if err != nil {
			t.Fatal(err)
		}
		var st *queue.State
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if st, err = h.State(ctx); err == nil && st.Status == queue.Running {
				break
			}
			if time.Now().After(end) {
				close(release)
				t.Fatalf("state %+v, %v; want running", st, err)
			}
		}
		if st.Worker != "state-worker" || st.StartedAt.Before(before) || !st.FinishedAt.IsZero() || st.Status.Terminal() {
			close(release)
			t.Fatalf("running state %+v", st)
		}
		close(release)
		if _, err := getWithin(t, h, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		end, err := h.State(ctx)
		if err != nil || end.Status != queue.Succeeded || end.Worker != "state-worker" || !end.StartedAt.Equal(st.StartedAt) ||
			end.FinishedAt.Before(end.StartedAt) {
			t.Fatalf("final state %+v, %v; want succeeded, finished after it started at %v", end, err, st.StartedAt)
		}
	})
}

// Headers set at enqueue reach the task's middlewares, ready or delayed,
// and the caller's map is not shared.
func TestHeadersTravelWithTheTask(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var mu sync.Mutex
		seen := map[string]map[string]string{}
		tk := task.New("hdr", func(ctx context.Context, _ int) (int, error) { return 1, nil }, func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				mu.Lock()
				seen[inv.ID] = maps.Clone(inv.Headers)
				mu.Unlock()
				return next(ctx, inv)
			}
		}, middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		h := map[string]string{"tenant": "acme", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "empty": ""}
		ready, err := worker.Enqueue(ctx, c, tk, 0, worker.Headers(h))
		if err != nil {
			t.Fatal(err)
		}
		delayed, err := worker.Enqueue(ctx, c, tk, 0, worker.Headers(h), worker.Delay(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		none, err := worker.Enqueue(ctx, c, tk, 0)
		if err != nil {
			t.Fatal(err)
		}
		h["tenant"] = "changed after enqueue"
		for _, hd := range []*worker.Handle[int]{ready, delayed, none} {
			if _, err := getWithin(t, hd, 5*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		want := map[string]string{"tenant": "acme", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "empty": ""}
		for _, id := range []string{ready.ID, delayed.ID} {
			if !maps.Equal(seen[id], want) {
				t.Errorf("task %s saw headers %v, want %v", id, seen[id], want)
			}
		}
		if len(seen[none.ID]) != 0 {
			t.Errorf("a task enqueued without headers saw %v", seen[none.ID])
		}
	})
}

// A task's message (arguments and headers) can be read while it waits:
// delayed, ready or taken.
func TestMessageOfAWaitingTask(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		mr, ok := b.Queue.(interface {
			Message(ctx context.Context, name, id string) (*queue.Message, error)
		})
		if !ok {
			t.Fatalf("%T reads no messages", b.Queue)
		}
		tk := task.New("msg", func(ctx context.Context, s string) (int, error) { return 0, nil })
		c := worker.NewClient(b.Queue, b.Store)
		h := map[string]string{"tenant": "acme"}
		ready, _ := worker.Enqueue(ctx, c, tk, "ready-args", worker.Headers(h))
		delayed, _ := worker.Enqueue(ctx, c, tk, "delayed-args", worker.Headers(h), worker.Delay(time.Hour))
		for _, tc := range []struct {
			id, args string
		}{{ready.ID, `"ready-args"`}, {delayed.ID, `"delayed-args"`}} {
			m, err := mr.Message(ctx, queue.Default, tc.id)
			if err != nil || string(m.Payload) != tc.args || m.Task != "msg" || m.Headers["tenant"] != "acme" || m.ID != tc.id {
				t.Fatalf("Message(%s) = %+v, %v", tc.id, m, err)
			}
		}
		if ds, err := b.Queue.Take(ctx, queue.Default, "c", 1, 0); err != nil || len(ds) != 1 {
			t.Fatalf("Take: %d, %v", len(ds), err)
		}
		if m, err := mr.Message(ctx, queue.Default, ready.ID); err != nil || string(m.Payload) != `"ready-args"` {
			t.Fatalf("Message of a taken task = %+v, %v", m, err)
		}
		if _, err := mr.Message(ctx, queue.Default, "nope"); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("Message of an unknown task: %v", err)
		}
	})
}
