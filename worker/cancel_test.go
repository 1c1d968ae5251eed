package worker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// elsewhere returns a client of b's queue as another process would have
// one: on Redis, its own connection and backend.
func elsewhere(t *testing.T, b *taskwaretest.Backend) *worker.Client {
	t.Helper()
	if b.Client == nil {
		return worker.NewClient(b.Queue, b.Store)
	}
	opt := *b.Client.(*redis.Client).Options()
	c := redis.NewClient(&opt)
	t.Cleanup(func() { c.Close() })
	other := redisbackend.New(c, redisbackend.Prefix(b.Prefix()))
	return worker.NewClient(other.Queue(), other.Store())
}

// A canceled task that has not run never runs under a worker, ready or
// delayed, and its handle says it was canceled. (What Cancel answers, and
// when, is the queue's promise: see package queuetest.)
func TestCancelPending(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs atomic.Int32
		tk := task.New("c", func(ctx context.Context, i int) (int, error) { runs.Add(1); return i, nil },
			middleware.StoreResult(b.Store))
		c := worker.NewClient(b.Queue, b.Store)
		ready, _ := worker.Enqueue(ctx, c, tk, 1)
		delayed, _ := worker.Enqueue(ctx, c, tk, 2, worker.Delay(50*time.Millisecond))
		kept, _ := worker.Enqueue(ctx, c, tk, 3)
		other := elsewhere(t, b)
		for _, h := range []*worker.Handle[int]{ready, delayed} {
			if out, err := other.Cancel(ctx, h.Queue, h.ID); err != nil || out != queue.CancelDone {
				t.Fatalf("Cancel(%s) = %q, %v; want %q", h.ID, out, err, queue.CancelDone)
			}
		}
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		if got, err := getWithin(t, kept, 5*time.Second); err != nil || got != 3 {
			t.Fatalf("the task not canceled: %d, %v", got, err)
		}
		time.Sleep(150 * time.Millisecond) // the delayed one is due
		for _, h := range []*worker.Handle[int]{ready, delayed} {
			if _, err := getWithin(t, h, 5*time.Second); !errors.Is(err, queue.ErrCanceled) {
				t.Errorf("Get(%s) = %v, want ErrCanceled", h.ID, err)
			}
			if st, err := h.State(ctx); err != nil || st.Status != queue.Canceled {
				t.Errorf("state %+v, %v", st, err)
			}
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("%d runs, want 1: canceled tasks ran", n)
		}
	})
}

// A running task canceled from another process has its context cancelled,
// with cause ErrCanceled, and ends as canceled: not retried.
func TestCancelRunning(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs atomic.Int32
		began := make(chan struct{}, 1)
		ended := make(chan time.Time, 1)
		var cause atomic.Value
		tk := task.New("long", func(ctx context.Context, _ int) (int, error) {
			runs.Add(1)
			began <- struct{}{}
			select {
			case <-ctx.Done():
				cause.Store(context.Cause(ctx)) // before ended: the test reads it on receipt
				ended <- time.Now()
				return 0, ctx.Err()
			case <-time.After(10 * time.Second):
				return 1, nil
			}
		}, middleware.StoreResult(b.Store), middleware.Retry(3, middleware.RetryBackoff(10*time.Millisecond, 10*time.Millisecond)))
		rec := newRecorder()
		w := worker.New(b.Queue, fast(worker.OnEvent(rec.add))...)
		worker.Register(w, tk)
		stop := start(t, w)
		h, err := worker.Enqueue(ctx, worker.NewClient(b.Queue, b.Store, worker.OnEvent(rec.add)), tk, 0)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-began:
		case <-time.After(5 * time.Second):
			t.Fatal("the task did not start")
		}
		other := elsewhere(t, b)
		at := time.Now()
		if out, err := other.Cancel(ctx, h.Queue, h.ID); err != nil || out != queue.CancelSent {
			t.Fatalf("Cancel = %q, %v; want %q", out, err, queue.CancelSent)
		}
		var took time.Duration
		select {
		case e := <-ended:
			took = e.Sub(at)
		case <-time.After(5 * time.Second):
			t.Fatal("the run's context was not cancelled")
		}
		t.Logf("FIGURE cancel: the running task's context was done %v after Cancel from another client", took.Round(time.Microsecond))
		if c, _ := cause.Load().(error); !errors.Is(c, queue.ErrCanceled) {
			t.Errorf("cause %v, want ErrCanceled", c)
		}
		if _, err := getWithin(t, h, 5*time.Second); !errors.Is(err, queue.ErrCanceled) {
			t.Fatalf("Get = %v, want ErrCanceled", err)
		}
		time.Sleep(100 * time.Millisecond) // a retry would have begun
		if n := runs.Load(); n != 1 {
			t.Fatalf("%d runs, want 1: a canceled run was retried", n)
		}
		stop()
		if got := rec.kinds(t, h.ID); len(got) != 2 || got[0] != worker.EventStarted || got[1] != worker.EventCanceled {
			t.Errorf("events %v, want started, canceled", got)
		}
	})
}
