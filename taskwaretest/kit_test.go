package taskwaretest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func build(ctx context.Context, day string) (int, error) {
	if _, ok := lock.Fence(ctx); !ok {
		return 0, errors.New("no lock")
	}
	return len(day), nil
}

// The README's example, as it is there.
func TestReportSkipsWhenStale(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) { // memory, miniredis, Redis
		report := task.New("report", build, middleware.StoreResult(b.Store),
			middleware.Expires(time.Minute), middleware.SkipLocked(), middleware.WithLock(b.Locker, "report"))
		_, err := taskwaretest.Run(t, b, report, "2026-11-25", taskwaretest.EnqueuedAgo(2*time.Minute))
		taskwaretest.RequireOutcome(t, err, "skipped: middleware.expired")
		if got := b.Records(t); len(got) != 0 {
			t.Fatalf("stored %q", got) // a skip is not a failure: nothing stored
		}
		b.RequireNoLocks(t)
	})
}

// The clock moves TTLs and ages alike, on every backend: a run enqueued now
// expires once the clock has moved past its limit, and a record outlives
// its TTL only until then.
func TestClockMovesTTLsAndAges(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		unit := time.Minute
		if b.Real {
			unit = 100 * time.Millisecond // Advance sleeps on a real Redis
		}
		report := task.New("report", build, middleware.StoreResult(b.Store, middleware.ResultTTL(2*unit)),
			middleware.Expires(unit), middleware.WithLock(b.Locker, "report", lock.TTL(2*unit), lock.NoRenewal()))
		n, err := taskwaretest.Run(t, b, report, "today", taskwaretest.ID("r1"))
		if err != nil || n != 5 {
			t.Fatalf("run: %d, %v", n, err)
		}
		if rec := b.RequireRecord(t, "", "r1"); string(rec.Value) != "5" {
			t.Fatalf("record %+v", rec)
		}
		enqueued := b.Now()
		b.Advance(3 * unit)
		b.RequireNoRecord(t, "", "r1")
		_, err = taskwaretest.Run(t, b, report, "today", taskwaretest.EnqueuedAgo(b.Now().Sub(enqueued)))
		taskwaretest.RequireOutcome(t, err, "skipped: middleware.expired")

		// A lock held elsewhere frees once the clock passes its TTL.
		if _, err := b.Locker.TryAcquire(context.Background(), "report", 2*unit); err != nil {
			t.Fatal(err)
		}
		_, err = taskwaretest.Run(t, b, report, "today")
		taskwaretest.RequireOutcome(t, err, "failed: lock.locked")
		b.Advance(3 * unit)
		if _, err := taskwaretest.Run(t, b, report, "today"); err != nil {
			t.Fatalf("after the holder's TTL: %v", err)
		}
	})
}

func TestOutcomeNames(t *testing.T) {
	boom := errors.New("boom")
	for err, want := range map[error]string{
		nil:                                    "succeeded",
		boom:                                   "failed: error",
		&lock.LockedError{Key: "k"}:            "failed: lock.locked",
		task.Skip(&lock.LockedError{Key: "k"}): "skipped: lock.locked",
		task.Requeue(time.Second, true, boom):  "requeued: error",
		context.DeadlineExceeded:               "failed: timeout",
	} {
		if got := taskwaretest.Outcome(err); got != want {
			t.Errorf("Outcome(%v) = %q, want %q", err, got, want)
		}
	}
}
