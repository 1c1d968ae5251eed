package worker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// The whole loop in one process: enqueue, run by a worker, read the result.
func ExampleEnqueue() {
	backend := memorybackend.New()
	name, results := backend.Queue(), backend.Store()
	resize := task.New("resize", func(ctx context.Context, width int) (int, error) {
		return width / 2, nil
	}, middleware.StoreResult(results))

	w := worker.New(name, worker.Concurrency(4))
	worker.Register(w, resize)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	client := worker.NewClient(name, results)
	h, err := worker.Enqueue(context.Background(), client, resize, 640, worker.ID("img-1"))
	if err != nil {
		stop()
		fmt.Println(err)
		return
	}
	fmt.Println(h.Get(context.Background()))
	_, err = worker.Enqueue(context.Background(), client, resize, 640, worker.ID("img-1"))
	fmt.Println(errors.Is(err, queue.ErrDuplicate))

	stop()
	fmt.Println(<-done)
	// Output:
	// 320 <nil>
	// true
	// <nil>
}

// A run that is skipped stores nothing, and its handle still learns how it
// ended: Get never waits for a task that has ended.
func ExampleHandle_Get() {
	backend := memorybackend.New()
	name, results, locker := backend.Queue(), backend.Store(), backend.Locker()
	held, _ := locker.TryAcquire(context.Background(), "nightly", time.Minute) // another run
	nightly := task.New("nightly", func(ctx context.Context, _ struct{}) (string, error) { return "done", nil },
		middleware.StoreResult(results), middleware.SkipLocked(), middleware.WithLock(locker, "nightly"))

	w := worker.New(name)
	worker.Register(w, nightly)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	h, _ := worker.Enqueue(context.Background(), worker.NewClient(name, results), nightly, struct{}{})
	_, err := h.Get(context.Background())
	fmt.Println(task.IsSkipped(err), errors.Is(err, lock.ErrLocked))
	st, _ := h.State(context.Background())
	fmt.Println(st.Status)

	stop()
	<-done
	_ = locker.Release(context.Background(), held)
	// Output:
	// true true
	// skipped
}

// Arguments name the work, they do not carry it: larger ones than the
// client's cap are refused at enqueue.
func ExampleMaxPayloadSize() {
	b := memorybackend.New()
	upload := task.New("upload", func(context.Context, []byte) (int, error) { return 0, nil })
	client := worker.NewClient(b.Queue(), b.Store(), worker.MaxPayloadSize(1024))
	_, err := worker.Enqueue(context.Background(), client, upload, make([]byte, 4096))
	fmt.Println(errors.Is(err, task.ErrTooLarge))
	fmt.Println(err)
	// Output:
	// true
	// worker: enqueue: arguments of upload: 5466 bytes, over the cap of 1024
}

// A batch in one call (one round trip on Redis): a task whose ID is known
// already is refused at its place, with a handle on the task that stands,
// and the others are enqueued.
func ExampleEnqueueMany() {
	backend := memorybackend.New()
	client := worker.NewClient(backend.Queue(), nil)
	thumb := task.New("thumb", func(ctx context.Context, img string) (struct{}, error) { return struct{}{}, nil })
	ctx := context.Background()
	if _, err := worker.Enqueue(ctx, client, thumb, "b.png", worker.ID("b")); err != nil {
		fmt.Println(err)
		return
	}

	hs, err := worker.EnqueueMany(ctx, client, thumb, []string{"a.png", "b.png", "c.png"}, worker.IDs("a", "b", "c"))
	var many *worker.ManyError
	if errors.As(err, &many) {
		for i, err := range many.Errs {
			fmt.Println(i, hs[i].ID, errors.Is(err, queue.ErrDuplicate))
		}
	}
	// Output:
	// 0 a false
	// 1 b true
	// 2 c false
}

// Subscribe to a worker's events to count outcomes: here, contention is a
// skip with its lock's name, not a failure. The subscriber runs on its own
// goroutine; Run returns once it has seen every event.
func ExampleOnEvent() {
	backend := memorybackend.New()
	name, locker := backend.Queue(), backend.Locker()
	held, _ := locker.TryAcquire(context.Background(), "nightly", time.Minute) // another run
	nightly := task.New("nightly", func(ctx context.Context, _ struct{}) (string, error) { return "done", nil },
		middleware.SkipLocked(), middleware.WithLock(locker, "nightly"))

	var events []string
	w := worker.New(name, worker.OnEvent(func(e worker.Event) {
		events = append(events, fmt.Sprintf("%s %s lock=%q locked=%v", e.Kind, e.Task, e.LockKey, errors.Is(e.Err, lock.ErrLocked)))
	}))
	worker.Register(w, nightly)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	h, _ := worker.Enqueue(context.Background(), worker.NewClient(name, nil), nightly, struct{}{})
	_, _ = h.Get(context.Background())
	stop()
	<-done
	_ = locker.Release(context.Background(), held)
	for _, e := range events {
		fmt.Println(e)
	}
	// Output:
	// started nightly lock="" locked=false
	// skipped nightly lock="nightly" locked=true
}

// A client's events come on a goroutine of their own: FlushEvents waits
// for them, here before the program reads what was counted, as it would
// before it exits.
func ExampleClient_FlushEvents() {
	backend := memorybackend.New()
	send := task.New("send", func(ctx context.Context, to string) (struct{}, error) { return struct{}{}, nil })
	var enqueued atomic.Int64
	client := worker.NewClient(backend.Queue(), nil, worker.OnEvent(func(e worker.Event) {
		time.Sleep(10 * time.Millisecond) // a slow subscriber: a metrics push, say
		if e.Kind == worker.EventEnqueued {
			enqueued.Add(1)
		}
	}))
	for _, to := range []string{"ada@example.com", "bob@example.com", "eve@example.com"} {
		_, _ = worker.Enqueue(context.Background(), client, send, to)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.FlushEvents(ctx); err != nil {
		fmt.Println("events not delivered:", err)
	}
	fmt.Println("enqueued:", enqueued.Load())
	// Output:
	// enqueued: 3
}

// Logger writes one record per outcome: contention at Info, failures at
// Error. (Times and durations are left out here, to print the same each
// run.)
func ExampleLogger() {
	backend := memorybackend.New()
	name := backend.Queue()
	charge := task.New("charge", func(ctx context.Context, cents int) (int, error) {
		if cents < 0 {
			return 0, errors.New("negative amount")
		}
		return cents, nil
	})
	drop := func(groups []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.TimeKey, "duration", "waited":
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: drop})) // Info and up

	w := worker.New(name, worker.Name("w1"), worker.Concurrency(1), worker.Logger(logger))
	worker.Register(w, charge)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	client := worker.NewClient(name, nil)
	h1, _ := worker.Enqueue(context.Background(), client, charge, 500, worker.ID("c-1"))
	_, _ = h1.Get(context.Background())
	h2, _ := worker.Enqueue(context.Background(), client, charge, -1, worker.ID("c-2"))
	_, _ = h2.Get(context.Background())
	stop()
	<-done
	// Output:
	// level=INFO msg="task succeeded" task=charge queue=default id=c-1 attempt=1 worker=w1
	// level=ERROR msg="task failed" task=charge queue=default id=c-2 attempt=1 worker=w1 err="negative amount"
}

// Around wraps every task a worker runs, whatever its own chain: here a
// middleware that reads the tenant each task was enqueued for from its
// headers (Headers).
func ExampleAround() {
	backend := memorybackend.New()
	name, results := backend.Queue(), backend.Store()
	tenantOf := func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			fmt.Printf("%s runs for tenant %q\n", inv.Name, inv.Headers["tenant"])
			return next(ctx, inv)
		}
	}
	resize := task.New("resize", func(ctx context.Context, width int) (int, error) { return width / 2, nil },
		middleware.StoreResult(results))

	w := worker.New(name, worker.Around(tenantOf))
	worker.Register(w, resize)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	client := worker.NewClient(name, results)
	h, _ := worker.Enqueue(context.Background(), client, resize, 640, worker.Headers(map[string]string{"tenant": "acme"}))
	fmt.Println(h.Get(context.Background()))
	stop()
	<-done
	// Output:
	// resize runs for tenant "acme"
	// 320 <nil>
}

// A backend's queue counts its tasks by where they are, for dashboards
// and alerts (contrib/prometheus exports the same as gauges).
func Example_stats() {
	backend := memorybackend.New()
	q := backend.Queue()
	noop := task.New("noop", func(ctx context.Context, _ int) (int, error) { return 0, nil })
	client := worker.NewClient(q, nil)
	for i := range 3 {
		_, _ = worker.Enqueue(context.Background(), client, noop, i)
	}
	_, _ = worker.Enqueue(context.Background(), client, noop, 9, worker.Delay(time.Hour))

	var admin queue.Admin = q
	st, err := admin.Stats(context.Background(), queue.Default)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("ready %d, running %d, delayed %d, dead %d\n", st.Ready, st.Running, st.Delayed, st.Dead)
	// Output:
	// ready 3, running 0, delayed 1, dead 0
}

// A unique key makes one task of many requests: the duplicates get a
// handle on the task that stands, and the key is free again once it ends.
func ExampleUniqueKey() {
	backend := memorybackend.New()
	name, results := backend.Queue(), backend.Store()
	report := task.New("report", func(ctx context.Context, acct string) (string, error) { return "report of " + acct, nil },
		middleware.StoreResult(results))
	client := worker.NewClient(name, results)
	ctx := context.Background()
	first, _ := worker.Enqueue(ctx, client, report, "acct-1", worker.UniqueKey("report:acct-1", time.Hour), worker.ID("r1"))
	again, err := worker.Enqueue(ctx, client, report, "acct-1", worker.UniqueKey("report:acct-1", time.Hour), worker.ID("r2"))
	fmt.Println(errors.Is(err, queue.ErrDuplicate), first.ID, again.ID)

	w := worker.New(name)
	worker.Register(w, report)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- w.Run(wctx) }()
	fmt.Println(again.Get(ctx))
	_, err = worker.Enqueue(ctx, client, report, "acct-1", worker.UniqueKey("report:acct-1", time.Hour), worker.ID("r3"))
	fmt.Println(err)
	stop()
	<-done
	// Output:
	// true r1 r1
	// report of acct-1 <nil>
	// <nil>
}

// Cancel a task before it runs, from any process: it never runs, and its
// handle says so.
func ExampleClient_Cancel() {
	backend := memorybackend.New()
	name := backend.Queue()
	send := task.New("send", func(ctx context.Context, to string) (bool, error) { return true, nil })
	client := worker.NewClient(name, nil)
	ctx := context.Background()
	h, _ := worker.Enqueue(ctx, client, send, "ann@example.com", worker.Delay(time.Hour))

	out, err := client.Cancel(ctx, h.Queue, h.ID)
	fmt.Println(out, err)
	_, err = h.Get(ctx)
	fmt.Println(errors.Is(err, queue.ErrCanceled))
	// Output:
	// canceled <nil>
	// true
}
