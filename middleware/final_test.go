package middleware_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// Under a runner that collects a run's last writes (a worker sets
// Invocation.Final), WithLock's release and StoreResult's write wait in
// Final; everything else, lock.Do and sub-tasks included, takes effect at
// once.
func TestEndOfRunWrites(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		heldInside := -1
		sub := task.New("sub", func(context.Context, string) (string, error) { return "sub", nil },
			middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "sub"))
		tk := task.New("outer", func(ctx context.Context, s string) (string, error) {
			if err := lock.Do(ctx, b.Locker, "inner", func(context.Context) error { return nil }); err != nil {
				return "", err
			}
			if _, err := sub.Call(ctx, "x"); err != nil { // a sub-task in-process: its own writes, now
				return "", err
			}
			heldInside = len(b.Locks(t)) // "outer" only: "inner" and "sub" are free
			return s, nil
		}, middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "outer"))

		final := &task.FinalWrites{}
		res, err := tk.Invoke(ctx, &task.Invocation{ID: "r1", Queue: "q", Args: "hi", Final: final})
		if err != nil || res != "hi" {
			t.Fatalf("run: %v, %v", res, err)
		}
		if heldInside != 1 {
			t.Fatalf("%d locks held inside the task after lock.Do and the sub-task returned, want 1 (outer)", heldInside)
		}
		if len(final.Releases) != 1 || len(final.Results) != 1 {
			t.Fatalf("deferred %d releases, %d results; want 1, 1", len(final.Releases), len(final.Results))
		}
		if held := b.Locks(t); len(held) != 1 || held[0].Key != "outer" {
			t.Fatalf("before the end of the run, held %+v, want outer", held)
		}
		b.RequireNoRecord(t, "q", "r1")
		if got := b.Records(t); len(got) != 1 || got[0] != "/"+subID(t, b)+" succeeded" {
			t.Fatalf("records %q: want the sub-task's alone", got)
		}
		if err := final.Apply(ctx); err != nil {
			t.Fatal(err)
		}
		b.RequireNoLocks(t)
		if rec := b.RequireRecord(t, "q", "r1"); rec.Status != store.Succeeded || string(rec.Value) != `"hi"` {
			t.Fatalf("record %+v", rec)
		}
	})
}

// subID is the ID of the one record of queue "" in b's store.
func subID(t *testing.T, b *taskwaretest.Backend) string {
	recs, err := b.Store.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Queue == "" {
			return r.ID
		}
	}
	return "(none)"
}

// A retry loop inside the chain (Retry run where nothing can requeue) takes
// the lock again in the same run: the deferred release of the first attempt
// is made first, so the run does not lock itself out.
func TestRetryInsideChainDoesNotLockItselfOut(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		boom := errors.New("boom")
		runs := 0
		tk := task.New("flaky", func(context.Context, string) (string, error) {
			if runs++; runs == 1 {
				return "", boom
			}
			return "ok", nil
		}, middleware.Retry(2, middleware.RetryBackoff(time.Millisecond, time.Millisecond)), middleware.WithLock(b.Locker, "k"))
		final := &task.FinalWrites{}
		res, err := tk.Invoke(context.Background(), &task.Invocation{ID: "r", Attempt: 1, Args: "x", Final: final})
		if err != nil || res != "ok" || runs != 2 {
			t.Fatalf("outcome %v, %v after %d runs", res, err, runs)
		}
		if err := final.Apply(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.RequireNoLocks(t)
	})
}

// A panic inside WithLock releases the lock on its way up, whoever
// recovers it: in-process at once, under a runner in its last writes.
func TestPanicReleasesLock(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		tk := task.New("boom", func(context.Context, string) (string, error) { panic("boom") },
			middleware.Recover(), middleware.WithLock(b.Locker, "k", lock.TTL(time.Minute)))
		_, err := tk.Call(context.Background(), "x")
		if !errors.Is(err, task.ErrPanic) {
			t.Fatalf("outcome %v", err)
		}
		b.RequireNoLocks(t)

		final := &task.FinalWrites{}
		_, err = tk.Invoke(context.Background(), &task.Invocation{ID: "r", Args: "x", Final: final})
		if !errors.Is(err, task.ErrPanic) || len(final.Releases) != 1 {
			t.Fatalf("outcome %v, %d deferred releases", err, len(final.Releases))
		}
		if err := final.Apply(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.RequireNoLocks(t)
	})
}
