package faults_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A Cancel whose notice never reaches the worker (its connections cut
// while the notice waited in the proxy) still stops the run, with cause
// ErrCanceled, and the task ends canceled, not retried: the worker reads
// the mark the Cancel left when it next extends its claims, within a
// third of the visibility timeout.
func TestFaultCancelNoticeLost(t *testing.T) {
	const visibility = 900 * time.Millisecond
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix))
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix))
	ctx := context.Background()

	var runs atomic.Int32
	began := make(chan struct{}, 1)
	type end struct {
		at    time.Time
		cause error
	}
	ended := make(chan end, 1)
	tk := task.New("long", func(ctx context.Context, _ int) (int, error) {
		runs.Add(1)
		began <- struct{}{}
		select {
		case <-ctx.Done():
			ended <- end{time.Now(), context.Cause(ctx)}
			return 0, ctx.Err()
		case <-time.After(10 * time.Second):
			return 1, nil
		}
	}, middleware.Retry(3, middleware.RetryBackoff(10*time.Millisecond, 10*time.Millisecond)))
	w := worker.New(faulty.Queue(), worker.Visibility(visibility), worker.PollWait(50*time.Millisecond),
		worker.OnError(func(err error) { t.Log(err) }))
	worker.Register(w, tk)
	taskwaretest.StartWorker(t, w)
	h, err := worker.Enqueue(ctx, worker.NewClient(clean.Queue(), clean.Store()), tk, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-began:
	case <-time.After(5 * time.Second):
		t.Fatal("the task did not start")
	}

	p.Stall()
	at := time.Now()
	if out, err := clean.Queue().Cancel(ctx, h.Queue, h.ID); err != nil || out != queue.CancelSent {
		p.Resume()
		t.Fatalf("Cancel = %q, %v; want %q", out, err, queue.CancelSent)
	}
	time.Sleep(100 * time.Millisecond) // the notice reaches the proxy, and waits there...
	p.Cut()                            // ...and goes nowhere
	p.Resume()

	var e end
	select {
	case e = <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the run's context was not cancelled: the lost notice was not made up for")
	}
	if !errors.Is(e.cause, queue.ErrCanceled) {
		t.Errorf("cause %v, want ErrCanceled", e.cause)
	}
	if _, err := taskwaretest.Get(h, 5*time.Second); !errors.Is(err, queue.ErrCanceled) {
		t.Fatalf("Get = %v, want ErrCanceled", err)
	}
	time.Sleep(100 * time.Millisecond) // a retry would have begun
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d runs, want 1: a canceled run was retried", n)
	}
	took := e.at.Sub(at)
	figure(t, "cancel notice lost", "the run stopped %v after a Cancel whose notice was cut off (visibility %v: claims extended every %v); 1 run, ended canceled",
		took.Round(time.Millisecond), visibility, visibility/3)
}
