package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
)

// WithLock runs the task under a lease; the task reads its fencing token
// from the context. A run that finds the lock held fails with ErrLocked.
func ExampleWithLock() {
	locker := memorybackend.New().Locker()
	var second error
	t := task.New("invoice", func(ctx context.Context, n int) (string, error) {
		fence, _ := lock.Fence(ctx)
		if n == 1 { // while the first run holds the lock, start a second
			_, second = task.New("invoice", func(context.Context, int) (string, error) { return "", nil },
				middleware.WithLock(locker, "invoices")).Call(ctx, 2)
		}
		return fmt.Sprint("invoice ", n, " under fence ", fence), nil
	}, middleware.WithLock(locker, "invoices", lock.TTL(time.Minute)))

	fmt.Println(t.Call(context.Background(), 1))
	fmt.Println(errors.Is(second, lock.ErrLocked))
	// Output:
	// invoice 1 under fence 1 <nil>
	// true
}

// A lock per user, with the key derived from the task's arguments.
func ExampleWithLockFunc() {
	type Args struct{ User string }
	t := task.New("sync-user", func(ctx context.Context, a Args) (string, error) {
		l, _ := lock.LeaseFrom(ctx)
		return "synced under " + l.Key, nil
	}, middleware.WithLockFunc(memorybackend.New().Locker(), middleware.KeyFromArgs(func(a Args) string { return "user:" + a.User })))
	fmt.Println(t.Call(context.Background(), Args{User: "ada"}))
	// Output: synced under user:ada <nil>
}

// SkipLocked turns "locked" into a skip, which a hook can count.
func ExampleSkipLocked() {
	locker := memorybackend.New().Locker()
	held, _ := locker.TryAcquire(context.Background(), "nightly", time.Minute) // someone else's run
	defer locker.Release(context.Background(), held)

	t := task.New("nightly", func(context.Context, struct{}) (string, error) { return "done", nil },
		middleware.SkipLocked(func(ctx context.Context, inv *task.Invocation, err error) {
			fmt.Println("skip hook:", task.KindOf(err))
		}),
		middleware.WithLock(locker, "nightly"),
	)
	_, err := t.Call(context.Background(), struct{}{})
	fmt.Println(task.IsSkipped(err), errors.Is(err, lock.ErrLocked))
	// Output:
	// skip hook: lock.locked
	// true true
}

// Expires skips a run that waited too long, before the rest of the chain.
func ExampleExpires() {
	t := task.New("notify", func(context.Context, string) (string, error) { return "sent", nil },
		middleware.Expires(30*time.Second))
	stale := &task.Invocation{ID: "n-1", EnqueuedAt: time.Now().Add(-time.Minute), Args: "ada"}
	_, err := t.Invoke(context.Background(), stale)
	fmt.Println(task.IsSkipped(err), errors.Is(err, middleware.ErrExpired))
	fresh := &task.Invocation{ID: "n-2", EnqueuedAt: time.Now(), Args: "ada"}
	fmt.Println(t.Invoke(context.Background(), fresh))
	// Output:
	// true true
	// sent <nil>
}

// StoreResult keeps outcomes with TTLs, and can leave chosen errors out.
func ExampleStoreResult() {
	results := memorybackend.New().Store()
	boom := errors.New("boom")
	t := task.New("resize", func(ctx context.Context, w int) (int, error) {
		switch w {
		case 0:
			return 0, boom
		case -1:
			return 0, &lock.LockedError{Key: "img"}
		}
		return w / 2, nil
	}, middleware.StoreResult(results,
		middleware.ResultTTL(24*time.Hour),
		middleware.ErrorTTL(time.Hour),
		middleware.IgnoreErrors(lock.ErrLocked),
	))
	ctx := context.Background()
	for i, w := range []int{640, 0, -1} {
		_, _ = t.Invoke(ctx, &task.Invocation{ID: fmt.Sprint("r", i), Args: w})
	}
	recs, _ := results.List(ctx)
	for _, r := range recs {
		fmt.Println(r.ID, r.Status, string(r.Value), r.Error, time.Until(r.ExpiresAt).Round(time.Hour))
	}
	// Output:
	// r0 succeeded 320  24h0m0s
	// r1 failed  boom 1h0m0s
}

// Retry runs a failed invocation again, with backoff; in-process it waits
// itself, under a worker the retry goes back to the queue. When the last
// attempt fails, the outcome says so and keeps the failure.
func ExampleRetry() {
	calls := 0
	flaky := task.New("flaky", func(context.Context, int) (string, error) {
		if calls++; calls < 3 {
			return "", errors.New("upstream timed out")
		}
		return "ok", nil
	}, middleware.Retry(3, middleware.RetryBackoff(time.Millisecond, time.Millisecond)))
	fmt.Println(flaky.Call(context.Background(), 1))

	calls = -10 // fails every time now
	_, err := flaky.Call(context.Background(), 1)
	fmt.Println(errors.Is(err, middleware.ErrRetriesExhausted), errors.Is(err, task.ErrPermanent))
	fmt.Println(err)
	// Output:
	// ok <nil>
	// true true
	// failed after 3 attempts: upstream timed out
}

// A result over the cap is not stored: the run becomes a small, stored
// failure of its own kind, which no retry mends.
func ExampleMaxResultSize() {
	results := memorybackend.New().Store()
	export := task.New("export", func(context.Context, int) ([]int, error) { return make([]int, 1000), nil },
		middleware.StoreResult(results, middleware.MaxResultSize(1024)))
	_, err := export.Invoke(context.Background(), &task.Invocation{ID: "x-1", Args: 1})
	fmt.Println(errors.Is(err, task.ErrTooLarge), errors.Is(err, task.ErrPermanent))
	rec, _ := results.Get(context.Background(), "", "x-1")
	fmt.Println(rec.Status, rec.Kind, len(rec.Value))
	// Output:
	// true true
	// failed task.too_large 0
}

// Recover turns a panic into a failure with a one-line message.
func ExampleRecover() {
	t := task.New("boom", func(context.Context, int) (int, error) { panic("nil map") }, middleware.Recover())
	_, err := t.Call(context.Background(), 1)
	fmt.Println(err, errors.Is(err, task.ErrPanic))
	// Output: task panicked: nil map true
}
