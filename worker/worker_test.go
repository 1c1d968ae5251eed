package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// fast are the worker options of the tests: short waits, so that they run
// in seconds.
func fast(opts ...worker.Option) []worker.Option {
	return append([]worker.Option{
		worker.Concurrency(4), worker.PollWait(50 * time.Millisecond), worker.PromoteEvery(10 * time.Millisecond),
		worker.Grace(2 * time.Second), worker.Visibility(2 * time.Second),
	}, opts...)
}

// start runs w until the test ends.
func start(t *testing.T, w *worker.Worker) (stop func()) {
	t.Helper()
	return taskwaretest.StartWorker(t, w)
}

func getWithin[R any](t *testing.T, h *worker.Handle[R], d time.Duration) (R, error) {
	t.Helper()
	return taskwaretest.Get(h, d)
}

type sumArgs struct{ A, B int }

func TestEndToEnd(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		add := task.New("add", func(ctx context.Context, a sumArgs) (int, error) { return a.A + a.B, nil },
			middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, add)
		c := worker.NewClient(b.Queue, b.Store)
		ctx := context.Background()

		h, err := worker.Enqueue(ctx, c, add, sumArgs{2, 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.TryGet(ctx); !errors.Is(err, worker.ErrNotReady) {
			t.Fatalf("TryGet before any worker: %v, want ErrNotReady", err)
		}
		start(t, w)
		if sum, err := getWithin(t, h, 5*time.Second); err != nil || sum != 5 {
			t.Fatalf("Get = %d, %v", sum, err)
		}
		if sum, err := h.TryGet(ctx); err != nil || sum != 5 {
			t.Fatalf("TryGet after = %d, %v", sum, err)
		}
		st, err := h.State(ctx)
		if err != nil || st.Status != queue.Succeeded || st.Attempt != 1 || st.Task != "add" || st.Result != queue.ResultStored {
			t.Fatalf("state %+v, %v", st, err)
		}
		if rec := b.RequireRecord(t, h.Queue, h.ID); rec.Status != store.Succeeded || rec.Task != "add" || rec.Queue != queue.Default {
			t.Fatalf("stored %+v", rec)
		}
		// Many at once, each with its own result.
		var hs []*worker.Handle[int]
		for i := range 20 {
			h, err := worker.Enqueue(ctx, c, add, sumArgs{i, 100})
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		for i, h := range hs {
			if sum, err := getWithin(t, h, 5*time.Second); err != nil || sum != i+100 {
				t.Fatalf("task %d: %d, %v", i, sum, err)
			}
		}
	})
}

func TestEnqueueOptions(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ran := make(chan *task.Invocation, 10)
		echo := task.New("echo", func(ctx context.Context, s string) (string, error) { return s, nil },
			func(next task.Func) task.Func {
				return func(ctx context.Context, inv *task.Invocation) (any, error) {
					ran <- inv
					return next(ctx, inv)
				}
			}, middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast(worker.Queues("default", "mail"))...)
		worker.Register(w, echo)
		start(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		ctx := context.Background()

		// A caller-chosen ID, on another queue; a second time is refused.
		h, err := worker.Enqueue(ctx, c, echo, "hi", worker.ID("greeting-1"), worker.OnQueue("mail"))
		if err != nil || h.ID != "greeting-1" || h.Queue != "mail" {
			t.Fatalf("%+v, %v", h, err)
		}
		if _, err := worker.Enqueue(ctx, c, echo, "again", worker.ID("greeting-1"), worker.OnQueue("mail")); !errors.Is(err, queue.ErrDuplicate) {
			t.Fatalf("duplicate ID: %v, want ErrDuplicate", err)
		}
		if s, err := getWithin(t, h, 5*time.Second); err != nil || s != "hi" {
			t.Fatalf("%q, %v", s, err)
		}
		if inv := <-ran; inv.ID != "greeting-1" || inv.EnqueuedAt.IsZero() || inv.Attempt != 1 {
			t.Fatalf("ran %+v", inv)
		}
		if _, err := worker.Enqueue(ctx, c, echo, "later", worker.ID("greeting-1"), worker.OnQueue("mail")); !errors.Is(err, queue.ErrDuplicate) {
			t.Fatalf("duplicate of a finished ID: %v, want ErrDuplicate", err)
		}

		// A delay is honoured.
		enq := time.Now()
		h, err = worker.Enqueue(ctx, c, echo, "delayed", worker.Delay(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := h.State(ctx); st.Status != queue.Scheduled {
			t.Fatalf("a delayed task is %s", st.Status)
		}
		if _, err := getWithin(t, h, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		inv := <-ran
		if waited := time.Since(enq); waited < 300*time.Millisecond {
			t.Fatalf("a 300ms delay ran after %v", waited)
		}
		if inv.ID != h.ID {
			t.Fatalf("ran %s", inv.ID)
		}
		// RunAt too.
		h, _ = worker.Enqueue(ctx, c, echo, "at", worker.RunAt(time.Now().Add(200*time.Millisecond)))
		if _, err := h.TryGet(ctx); !errors.Is(err, worker.ErrNotReady) {
			t.Fatalf("TryGet of a scheduled task: %v", err)
		}
		if s, err := getWithin(t, h, 5*time.Second); err != nil || s != "at" {
			t.Fatalf("%q, %v", s, err)
		}
		<-ran
	})
}

// Retries keep the ID, go through the delayed set with backoff, and the
// handle sees the final outcome only.
func TestRetries(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		type run struct {
			id      string
			attempt int
			at      time.Time
		}
		var mu sync.Mutex
		runs := map[string][]run{}
		boom := errors.New("boom")
		tk := task.New("flaky", func(ctx context.Context, failures int) (string, error) { return "ok", nil },
			middleware.StoreResult(b.Store),
			middleware.Retry(3, middleware.RetryBackoff(100*time.Millisecond, 200*time.Millisecond)),
			func(next task.Func) task.Func {
				return func(ctx context.Context, inv *task.Invocation) (any, error) {
					mu.Lock()
					runs[inv.ID] = append(runs[inv.ID], run{inv.ID, inv.Attempt, time.Now()})
					n := len(runs[inv.ID])
					mu.Unlock()
					if failures, _ := task.ArgsOf[int](inv); n <= failures {
						return nil, boom
					}
					return next(ctx, inv)
				}
			})
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		ctx := context.Background()

		ok, _ := worker.Enqueue(ctx, c, tk, 2)
		dead, _ := worker.Enqueue(ctx, c, tk, 5)
		if s, err := getWithin(t, ok, 5*time.Second); err != nil || s != "ok" {
			t.Fatalf("after two failures: %q, %v", s, err)
		}
		_, err := getWithin(t, dead, 5*time.Second)
		if !errors.Is(err, queue.ErrDeadLettered) || !strings.Contains(fmt.Sprint(err), "boom") {
			t.Fatalf("out of retries: %v, want a dead letter of the boom", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, h := range []*worker.Handle[string]{ok, dead} {
			rs := runs[h.ID]
			if len(rs) != 3 {
				t.Fatalf("%s ran %d times, want 3", h.ID, len(rs))
			}
			for i, r := range rs {
				if r.attempt != i+1 {
					t.Fatalf("run %d was attempt %d", i, r.attempt)
				}
				if i > 0 && r.at.Sub(rs[i-1].at) < 50*time.Millisecond {
					t.Fatalf("retry %d came %v after the failure: no backoff", i, r.at.Sub(rs[i-1].at))
				}
			}
		}
		st, _ := dead.State(ctx)
		if st.Status != queue.Dead || st.Attempt != 3 || st.Result != queue.ResultStored {
			t.Fatalf("out of retries: state %+v", st)
		}
		dls, err := b.Queue.DeadLetters(ctx, queue.Default, 10)
		if err != nil || len(dls) != 1 || dls[0].ID != dead.ID || !strings.Contains(dls[0].Reason, "boom") {
			t.Fatalf("dead letters %+v, %v", dls, err)
		}
		rec, err := b.Store.Get(ctx, dead.Queue, dead.ID)
		if err != nil || rec.Status != store.Failed || rec.Attempt != 3 {
			t.Fatalf("stored %+v, %v: the final failure, once", rec, err)
		}
	})
}

func TestTimeoutAndPanic(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		slow := task.New("slow", func(ctx context.Context, _ struct{}) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		}, middleware.StoreResult(b.Store), middleware.Timeout(50*time.Millisecond))
		recovered := task.New("recovered", func(ctx context.Context, _ struct{}) (int, error) { panic("boom") },
			middleware.StoreResult(b.Store), middleware.Recover())
		bare := task.New("bare", func(ctx context.Context, _ struct{}) (int, error) { panic("no Recover") })
		fine := task.New("fine", func(ctx context.Context, _ struct{}) (int, error) { return 1, nil }, middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, slow)
		worker.Register(w, recovered)
		worker.Register(w, bare)
		worker.Register(w, fine)
		start(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		ctx := context.Background()

		h1, _ := worker.Enqueue(ctx, c, slow, struct{}{})
		if _, err := getWithin(t, h1, 5*time.Second); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("timeout: %v", err)
		}
		h2, _ := worker.Enqueue(ctx, c, recovered, struct{}{})
		if _, err := getWithin(t, h2, 5*time.Second); !errors.Is(err, task.ErrPanic) || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("panic: %v", err)
		}
		// Without Recover the worker still survives; the failure is in the
		// task's state, since nothing stores it.
		h3, _ := worker.Enqueue(ctx, c, bare, struct{}{})
		if _, err := getWithin(t, h3, 5*time.Second); !errors.Is(err, task.ErrPanic) {
			t.Fatalf("bare panic: %v", err)
		}
		h4, _ := worker.Enqueue(ctx, c, fine, struct{}{})
		if n, err := getWithin(t, h4, 5*time.Second); err != nil || n != 1 {
			t.Fatalf("after the panics: %d, %v", n, err)
		}
	})
}

// Bad input goes to the dead-letter stream with its reason, and the worker
// keeps running.
func TestDeadLetters(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		add := task.New("add", func(ctx context.Context, a sumArgs) (int, error) { return a.A + a.B, nil }, middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, add)
		start(t, w)
		ctx := context.Background()
		c := worker.NewClient(b.Queue, b.Store)
		now := time.Now()
		for _, m := range []*queue.Message{
			{ID: "bad-payload", Task: "add", Queue: queue.Default, Payload: []byte(`{"A":`), EnqueuedAt: now, Attempt: 1},
			{ID: "unknown", Task: "no-such-task", Queue: queue.Default, Payload: []byte(`{}`), EnqueuedAt: now, Attempt: 1},
		} {
			if err := b.Queue.Enqueue(ctx, m, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		reasons := map[string]*task.Error{"bad-payload": task.ErrBadPayload, "unknown": worker.ErrUnknownTask}
		for id, reason := range reasons {
			_, err := getWithin(t, worker.HandleOf(c, add, queue.Default, id), 5*time.Second)
			var dl *queue.DeadLetterError
			if !errors.Is(err, queue.ErrDeadLettered) || !errors.Is(err, reason) || !errors.As(err, &dl) ||
				dl.ID != id || task.KindOf(dl.Reason) != reason.ErrorKind() {
				t.Fatalf("%s: %v, want a dead letter matching %v", id, err, reason)
			}
			if st, err := worker.HandleOf(c, add, queue.Default, id).State(ctx); err != nil || st.Status != queue.Dead ||
				st.Kind != reason.ErrorKind() {
				t.Fatalf("%s: state %+v, %v", id, st, err)
			}
		}
		dls, err := b.Queue.DeadLetters(ctx, queue.Default, 10)
		if err != nil || len(dls) != 2 {
			t.Fatalf("dead letters %+v, %v", dls, err)
		}
		for _, d := range dls {
			reason := reasons[d.ID]
			if reason == nil || d.Reason == "" || d.Kind != reason.ErrorKind() || d.Task == "" {
				t.Fatalf("dead letter without its reason: %+v", d)
			}
		}
		h, _ := worker.Enqueue(ctx, c, add, sumArgs{1, 1})
		if n, err := getWithin(t, h, 5*time.Second); err != nil || n != 2 {
			t.Fatalf("the worker stopped after bad input: %d, %v", n, err)
		}
	})
}

// A handle never waits for a task that has ended: skipped, expired or
// filtered outcomes, which store nothing, end Get with their outcome.
func TestHandleNeverHangs(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		held, err := b.Locker.TryAcquire(ctx, "busy", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Locker.Release(ctx, held)
		fn := func(ctx context.Context, _ struct{}) (int, error) { return 1, nil }
		skipper := task.New("skipper", fn, middleware.StoreResult(b.Store), middleware.SkipLocked(), middleware.WithLock(b.Locker, "busy"))
		filtered := task.New("filtered", fn, middleware.StoreResult(b.Store, middleware.IgnoreErrors(lock.ErrLocked)), middleware.WithLock(b.Locker, "busy"))
		expiring := task.New("expiring", fn, middleware.StoreResult(b.Store), middleware.Expires(0))
		quiet := task.New("quiet", fn) // no StoreResult at all
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, skipper)
		worker.Register(w, filtered)
		worker.Register(w, expiring)
		worker.Register(w, quiet)
		start(t, w)
		c := worker.NewClient(b.Queue, b.Store)

		h1, _ := worker.Enqueue(ctx, c, skipper, struct{}{})
		if _, err := getWithin(t, h1, 5*time.Second); !task.IsSkipped(err) || !errors.Is(err, lock.ErrLocked) {
			t.Fatalf("skipped: %v", err)
		}
		h2, _ := worker.Enqueue(ctx, c, filtered, struct{}{})
		if _, err := getWithin(t, h2, 5*time.Second); !errors.Is(err, lock.ErrLocked) || task.IsSkipped(err) {
			t.Fatalf("filtered failure: %v", err)
		}
		h3, _ := worker.Enqueue(ctx, c, expiring, struct{}{}, worker.ExpiresIn(50*time.Millisecond), worker.Delay(150*time.Millisecond))
		if _, err := getWithin(t, h3, 5*time.Second); !task.IsSkipped(err) || !errors.Is(err, middleware.ErrExpired) {
			t.Fatalf("expired: %v", err)
		}
		h4, _ := worker.Enqueue(ctx, c, quiet, struct{}{})
		if n, err := getWithin(t, h4, 5*time.Second); err != nil || n != 0 {
			t.Fatalf("nothing stored: %d, %v (a zero result, no error)", n, err)
		}
		for _, h := range []*worker.Handle[int]{h1, h2, h3, h4} {
			b.RequireNoRecord(t, h.Queue, h.ID)
			if st, err := h.State(ctx); err != nil || st.Result != queue.NoResult {
				t.Fatalf("%s: state %+v, %v; want no result", h.ID, st, err)
			}
		}
		// An ID nobody enqueued ends Get at once.
		if _, err := getWithin(t, worker.HandleOf(c, quiet, queue.Default, "nobody"), 5*time.Second); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("unknown ID: %v", err)
		}
		// And a handle whose ctx ends returns its cause.
		h5, _ := worker.Enqueue(ctx, c, quiet, struct{}{}, worker.Delay(time.Hour))
		cause := errors.New("gave up")
		cctx, cancel := context.WithCancelCause(ctx)
		time.AfterFunc(50*time.Millisecond, func() { cancel(cause) })
		if _, err := h5.Get(cctx); !errors.Is(err, cause) {
			t.Fatalf("Get on an ended ctx: %v", err)
		}
	})
}

// The worker's default chain serves tasks without their own; a task with
// its own chain overrides it.
func TestDefaultChain(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		boom := errors.New("boom")
		fail := func(ctx context.Context, _ struct{}) (int, error) { return 0, boom }
		plain := task.New("plain", fail)
		own := task.New("own", fail, middleware.StoreResult(b.Store, middleware.ErrorTTL(time.Hour)))
		w := worker.New(b.Queue, fast(worker.DefaultChain(middleware.StoreResult(b.Store, middleware.IgnoreErrors(boom))))...)
		worker.Register(w, plain)
		worker.Register(w, own)
		start(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		ctx := context.Background()
		h1, _ := worker.Enqueue(ctx, c, plain, struct{}{})
		h2, _ := worker.Enqueue(ctx, c, own, struct{}{})
		for _, h := range []*worker.Handle[int]{h1, h2} {
			if _, err := getWithin(t, h, 5*time.Second); err == nil || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("%s: %v", h.ID, err)
			}
		}
		if _, err := b.Store.Get(ctx, h1.Queue, h1.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the default chain's filter did not apply: %v", err)
		}
		if rec, err := b.Store.Get(ctx, h2.Queue, h2.ID); err != nil || rec.Status != store.Failed {
			t.Fatalf("the task's own chain did not apply: %+v, %v", rec, err)
		}
	})
}

// RescheduleLocked runs a locked-out task again later without spending an
// attempt, until the lock frees.
func TestRescheduleLocked(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		held, err := b.Locker.TryAcquire(ctx, "report", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var runs atomic.Int32
		tk := task.New("report", func(ctx context.Context, _ struct{}) (int, error) { return 7, nil },
			middleware.StoreResult(b.Store),
			func(next task.Func) task.Func {
				return func(ctx context.Context, inv *task.Invocation) (any, error) { runs.Add(1); return next(ctx, inv) }
			},
			middleware.RescheduleLocked(50*time.Millisecond), middleware.WithLock(b.Locker, "report"))
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		h, _ := worker.Enqueue(ctx, c, tk, struct{}{})
		for end := time.Now().Add(5 * time.Second); runs.Load() < 2; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("while locked: %d runs in 5s, want a run rescheduled and run again", runs.Load())
			}
		}
		if st, _ := h.State(ctx); st.Status.Terminal() {
			t.Fatalf("while locked: state %+v after %d runs", st, runs.Load())
		}
		if err := b.Locker.Release(ctx, held); err != nil {
			t.Fatal(err)
		}
		if n, err := getWithin(t, h, 5*time.Second); err != nil || n != 7 {
			t.Fatalf("after the lock freed: %d, %v", n, err)
		}
		if st, _ := h.State(ctx); st.Attempt != 1 {
			t.Fatalf("reschedules spent attempts: %+v", st)
		}
	})
}

// On shutdown, running tasks finish within the grace period; a task that
// outlives it is cancelled, left unacknowledged, and another worker takes
// it over after the visibility timeout.
func TestGracefulShutdown(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs sync.Map
		tk := task.New("work", func(ctx context.Context, d time.Duration) (string, error) {
			select {
			case <-time.After(d):
				return "done", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}, middleware.StoreResult(b.Store), func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				n, _ := runs.LoadOrStore(inv.ID, new(atomic.Int32))
				n.(*atomic.Int32).Add(1)
				return next(ctx, inv)
			}
		})
		opts := fast(worker.Grace(300*time.Millisecond), worker.Visibility(500*time.Millisecond), worker.OnError(func(err error) { t.Log(err) }))
		w1 := worker.New(b.Queue, opts...)
		worker.Register(w1, tk)
		stop1 := start(t, w1)
		c := worker.NewClient(b.Queue, b.Store)
		short, _ := worker.Enqueue(ctx, c, tk, 100*time.Millisecond)
		long, _ := worker.Enqueue(ctx, c, tk, 3*time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, a := runs.Load(short.ID)
			_, b := runs.Load(long.ID)
			if a && b {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("tasks did not start")
			}
			time.Sleep(5 * time.Millisecond)
		}
		began := time.Now()
		stop1()
		if took := time.Since(began); took > 2*time.Second {
			t.Fatalf("Run took %v to stop with a 300ms grace", took)
		}
		if s, err := short.TryGet(ctx); err != nil || s != "done" {
			t.Fatalf("the short task did not finish in the grace period: %q, %v", s, err)
		}
		if _, err := long.TryGet(ctx); !errors.Is(err, worker.ErrNotReady) {
			t.Fatalf("the cut-short task was ended: %v", err)
		}
		if _, err := b.Store.Get(ctx, long.Queue, long.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the cut-short run stored an outcome: %v", err)
		}
		// Another worker takes it over once the claim lapses. Its own claim
		// is kept for 2s, not 500ms: on a busy machine a renewal late by
		// 500ms lets it take its own run over, a third run the at-least-once
		// contract allows but this test does not count on.
		w2 := worker.New(b.Queue, fast(worker.Grace(300*time.Millisecond), worker.Visibility(2*time.Second), worker.OnError(func(err error) { t.Log(err) }))...)
		worker.Register(w2, tk)
		start(t, w2)
		if s, err := getWithin(t, long, 30*time.Second); err != nil || s != "done" {
			t.Fatalf("taken over: %q, %v", s, err)
		}
		if n, _ := runs.Load(long.ID); n.(*atomic.Int32).Load() != 2 {
			t.Fatalf("the long task ran %d times, want 2", n.(*atomic.Int32).Load())
		}
	})
}

// errNoAccount is the permanent failure of TestPermanentFailure.
var errNoAccount = task.NewError("worker_test.no_account", "no such account")

// A permanent failure is not retried: its task goes to the dead letters at
// once, with its failure as the reason.
func TestPermanentFailure(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var runs atomic.Int32
		tk := task.New("charge", func(ctx context.Context, _ struct{}) (int, error) {
			runs.Add(1)
			return 0, task.Permanent(errNoAccount)
		}, middleware.StoreResult(b.Store), middleware.Retry(3, middleware.RetryBackoff(10*time.Millisecond, 10*time.Millisecond)))
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		ctx := context.Background()
		h, err := worker.Enqueue(ctx, worker.NewClient(b.Queue, b.Store), tk, struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = getWithin(t, h, 5*time.Second)
		if !errors.Is(err, queue.ErrDeadLettered) || !errors.Is(err, errNoAccount) {
			t.Fatalf("Get = %v, want a dead letter matching errNoAccount", err)
		}
		st, err := h.State(ctx)
		if err != nil || st.Status != queue.Dead || st.Attempt != 1 || st.Kind != errNoAccount.ErrorKind() || st.Result != queue.ResultStored {
			t.Fatalf("state %+v, %v", st, err)
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("a permanent failure ran %d times, want once", n)
		}
		dls, err := b.Queue.DeadLetters(ctx, queue.Default, 10)
		if err != nil || len(dls) != 1 || dls[0].ID != h.ID || dls[0].Kind != errNoAccount.ErrorKind() {
			t.Fatalf("dead letters %+v, %v", dls, err)
		}
	})
}

// A task handed out more often than MaxDeliveries without finishing (it
// kills its worker every time) goes to the dead letters instead of running.
func TestTooManyDeliveries(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var runs atomic.Int32
		tk := task.New("deadly", func(ctx context.Context, _ struct{}) (int, error) { runs.Add(1); return 1, nil },
			middleware.StoreResult(b.Store))
		ctx := context.Background()
		h, err := worker.Enqueue(ctx, worker.NewClient(b.Queue, b.Store), tk, struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		// Two workers took it, and died.
		if ds, err := b.Queue.Take(ctx, queue.Default, "died-1", 1, 0); err != nil || len(ds) != 1 {
			t.Fatalf("Take = %d deliveries, %v", len(ds), err)
		}
		if n, err := b.Queue.Recover(ctx, queue.Default, 0, 1); err != nil || n != 1 {
			t.Fatalf("Recover = %d, %v; want the task back", n, err)
		}
		if ds, err := b.Queue.Take(ctx, queue.Default, "died-2", 1, 0); err != nil || len(ds) != 1 || ds[0].Deliveries != 2 {
			t.Fatalf("Take = %+v, %v; want the task, delivered twice", ds, err)
		}
		w := worker.New(b.Queue, fast(worker.MaxDeliveries(2), worker.Visibility(300*time.Millisecond))...)
		worker.Register(w, tk)
		start(t, w)
		_, err = getWithin(t, h, 5*time.Second)
		var dl *queue.DeadLetterError
		if !errors.Is(err, queue.ErrDeadLettered) || !errors.Is(err, worker.ErrTooManyDeliveries) || !errors.As(err, &dl) || dl.ID != h.ID {
			t.Fatalf("Get = %v, want a dead letter matching worker.ErrTooManyDeliveries", err)
		}
		if n := runs.Load(); n != 0 {
			t.Fatalf("the task ran %d times on its third delivery, want never", n)
		}
		st, err := h.State(ctx)
		if err != nil || st.Status != queue.Dead || st.Kind != worker.ErrTooManyDeliveries.ErrorKind() || st.Result != queue.NoResult {
			t.Fatalf("state %+v, %v", st, err)
		}
		dls, err := b.Queue.DeadLetters(ctx, queue.Default, 10)
		if err != nil || len(dls) != 1 || dls[0].ID != h.ID || dls[0].Kind != worker.ErrTooManyDeliveries.ErrorKind() || dls[0].Task != "deadly" {
			t.Fatalf("dead letters %+v, %v", dls, err)
		}
		b.RequireNoRecord(t, h.Queue, h.ID)
	})
}

// A worker holds tasks beyond those it runs (Prefetch: while none has
// ended, one), in the order taken; at a stop they go back to their queue at once, unrun and without using
// an attempt, and another worker runs each of them once.
func TestPrefetchedTasksGoBackUnrunAtStop(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var mu sync.Mutex
		runs := map[int]int{}
		attempts := map[int]int{}
		release := make(chan struct{})
		tk := task.New("hold", func(ctx context.Context, i int) (int, error) {
			if i == 0 {
				<-release
			}
			return i, nil
		}, func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				var i int
				_ = inv.Codec.Unmarshal(inv.Payload, &i)
				mu.Lock()
				runs[i]++
				attempts[i] = inv.Attempt
				mu.Unlock()
				return next(ctx, inv)
			}
		}, middleware.StoreResult(b.Store))
		c := worker.NewClient(b.Queue, b.Store)
		var hs []*worker.Handle[int]
		for i := range 2 {
			h, err := worker.Enqueue(ctx, c, tk, i)
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		var handedBack atomic.Int32
		w1 := worker.New(b.Queue, fast(worker.Concurrency(1), worker.Prefetch(2), worker.Grace(5*time.Second),
			worker.Visibility(time.Minute), worker.OnEvent(func(e worker.Event) {
				if e.Kind == worker.EventHandedBack {
					handedBack.Add(1)
				}
			}))...)
		worker.Register(w1, tk)
		stop1 := start(t, w1)
		ran := func(i int) int {
			mu.Lock()
			defer mu.Unlock()
			return runs[i]
		}
		for end := time.Now().Add(5 * time.Second); ran(0) == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal("the first task did not start")
			}
		}
		time.Sleep(100 * time.Millisecond) // time enough to take the others
		if ran(1) != 0 {
			close(release)
			t.Fatalf("with one slot busy, other tasks ran: %v", runs)
		}
		// Task 1 is held by w1: another consumer finds none ready.
		if ds, err := b.Queue.Take(ctx, queue.Default, "probe", 10, 0); err != nil || len(ds) != 0 {
			close(release)
			t.Fatalf("another consumer took %d tasks (%v); want none: w1 holds them", len(ds), err)
		}
		stopped := make(chan struct{})
		go func() { stop1(); close(stopped) }()
		// Task 0 frees its slot only once task 1 went back: else a
		// slow stop could still hand that slot to one of them.
		for end := time.Now().Add(5 * time.Second); handedBack.Load() < 1; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(end) {
				close(release)
				t.Fatalf("%d prefetched tasks handed back at the stop, want 1", handedBack.Load())
			}
		}
		close(release)
		<-stopped
		if ran(1) != 0 {
			t.Fatalf("prefetched tasks ran after the stop: %v", runs)
		}
		// The visibility is a minute: only a hand-back brings them back soon.
		w2 := worker.New(b.Queue, fast()...)
		worker.Register(w2, tk)
		start(t, w2)
		for i, h := range hs {
			if got, err := getWithin(t, h, 5*time.Second); err != nil || got != i {
				t.Fatalf("task %d: Get = %d, %v", i, got, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range 2 {
			if runs[i] != 1 || attempts[i] != 1 {
				t.Errorf("task %d ran %d times, last as attempt %d; want once, as attempt 1", i, runs[i], attempts[i])
			}
		}
	})
}

// EnqueueMany enqueues a batch in one round trip on Redis (several
// scripts, one pipeline), refuses each duplicate ID on its own, reports
// it at its place, and every other task runs once.
func TestEnqueueMany(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var mu sync.Mutex
		runs := map[string]int{}
		echo := task.New("echo", func(ctx context.Context, i int) (int, error) { return i, nil },
			func(next task.Func) task.Func {
				return func(ctx context.Context, inv *task.Invocation) (any, error) {
					mu.Lock()
					runs[inv.ID]++
					mu.Unlock()
					return next(ctx, inv)
				}
			}, middleware.StoreResult(b.Store))
		c := worker.NewClient(b.Queue, b.Store)
		if _, err := worker.Enqueue(ctx, c, echo, -1, worker.ID("known")); err != nil {
			t.Fatal(err)
		}
		// 600 tasks: more than one script's chunk. Task 7 has an ID known
		// already; task 9 repeats task 8's.
		const n = 600
		args, ids := make([]int, n), make([]string, n)
		for i := range n {
			args[i], ids[i] = i, fmt.Sprintf("many-%d", i)
		}
		ids[7], ids[9] = "known", ids[8]
		// A first call loads the script (EVALSHA, then EVAL), and dials
		// the connection that pipelines go on.
		if _, err := worker.EnqueueMany(ctx, c, echo, make([]int, 300)); err != nil {
			t.Fatal(err)
		}
		trips := &taskwaretest.RoundTrips{}
		if b.Client != nil {
			b.Client.AddHook(trips)
		}
		hs, err := worker.EnqueueMany(ctx, c, echo, args, worker.IDs(ids...))
		if b.Client != nil && trips.N() != 1 {
			t.Errorf("EnqueueMany of %d tasks took %d round trips, want 1", n, trips.N())
		}
		var many *worker.ManyError
		if !errors.As(err, &many) || !errors.Is(err, queue.ErrDuplicate) || len(many.Errs) != n || len(hs) != n {
			t.Fatalf("EnqueueMany = %d handles, %v; want a ManyError of %d, matching ErrDuplicate", len(hs), err, n)
		}
		refusedIDs := map[string]bool{}
		for i := range n {
			refused := i == 7 || i == 9
			if (many.Errs[i] != nil) != refused || hs[i] == nil || hs[i].ID != ids[i] {
				t.Fatalf("task %d: error %v, handle %v; refused should be %v, the handle on %s either way", i, many.Errs[i], hs[i], refused, ids[i])
			}
			if refused {
				refusedIDs[ids[i]] = true
			}
		}
		w := worker.New(b.Queue, fast(worker.Concurrency(16))...)
		worker.Register(w, echo)
		start(t, w)
		// 900 tasks with a stored result each: on miniredis under -race on
		// a busy machine the first of these 600 may wait 10s behind the
		// 300 before it. The promise is each runs once, not a speed.
		for i, h := range hs {
			if refusedIDs[h.ID] {
				continue // a handle on the task that stood, enqueued before
			}
			if got, err := getWithin(t, h, time.Minute); err != nil || got != i {
				t.Fatalf("task %d: Get = %d, %v", i, got, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if want := 1; runs[id] != want {
				t.Fatalf("task %s ran %d times, want %d", id, runs[id], want)
			}
		}
		// Bad options are refused before anything is enqueued.
		for _, opts := range [][]worker.EnqueueOption{{worker.IDs("a")}, {worker.ID("a")}} {
			if _, err := worker.EnqueueMany(ctx, c, echo, []int{1, 2}, opts...); !errors.Is(err, task.ErrInvalidConfig) {
				t.Errorf("EnqueueMany with %d options: %v, want ErrInvalidConfig", len(opts), err)
			}
		}
		if hs, err := worker.EnqueueMany(ctx, c, echo, nil); err != nil || len(hs) != 0 {
			t.Errorf("EnqueueMany of none = %v, %v", hs, err)
		}
	})
}

// A payload cap Redis could never hold, or one that is not positive, is
// a configuration error, not a cap that fails at the first large enqueue.
func TestMaxPayloadSizeIsBounded(t *testing.T) {
	q := memorybackend.New().Queue()
	for _, n := range []int{0, -1, worker.MaxPayloadLimit + 1} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, task.ErrInvalidConfig) || !strings.Contains(err.Error(), fmt.Sprint(n)) {
					t.Errorf("NewClient(MaxPayloadSize(%d)) panicked with %v, want ErrInvalidConfig naming it", n, err)
				}
			}()
			worker.NewClient(q, nil, worker.MaxPayloadSize(n))
		}()
	}
	worker.NewClient(q, nil, worker.MaxPayloadSize(worker.MaxPayloadLimit)) // the limit itself is allowed
}
