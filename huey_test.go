package taskware_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// Huey's own test of lock_task (TestTaskLocking), ported: a task with one
// retry under a lock named "lock_a", every outcome stored, run by a
// worker.
//
//   - It runs, and returns n+1.
//   - It runs while another lock is held: locks are apart.
//   - It runs while its own lock is held: the run fails as locked, and
//     the failure is the stored result. Once the lock is released, the
//     retry runs, and returns n+1.
//
// As in Huey, where a task's retries wrap its lock and the result store
// records each run, StoreResult sits inside Retry (the first middleware
// is outermost): the run that fails as locked stores its failure in the
// Finish that sends the task back to wait for its retry.
func TestHueyTaskLocking(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		taskA := task.New("task_a", func(ctx context.Context, n int) (int, error) { return n + 1, nil },
			// An hour between tries: the test, not a timer, says when the
			// retry is due, as Huey's test runs the next task when it says.
			middleware.RetryUpTo(1, middleware.RetryBackoff(time.Hour, time.Hour)),
			middleware.StoreResult(b.Store),
			middleware.WithLock(b.Locker, "lock_a"),
		)
		w := worker.New(b.Queue, worker.PollWait(50*time.Millisecond), worker.PromoteEvery(10*time.Millisecond),
			worker.Grace(2*time.Second))
		worker.Register(w, taskA)
		taskwaretest.StartWorker(t, w)
		client := worker.NewClient(b.Queue, b.Store)
		enqueue := func(n int) *worker.Handle[int] {
			t.Helper()
			h, err := worker.Enqueue(ctx, client, taskA, n)
			if err != nil {
				t.Fatalf("Enqueue(%d): %v", n, err)
			}
			return h
		}
		result := func(h *worker.Handle[int], want int) {
			t.Helper()
			if got, err := taskwaretest.Get(h, 10*time.Second); err != nil || got != want {
				t.Fatalf("task_a's result: %d, %v; want %d", got, err, want)
			}
		}
		isLocked := func(key string) bool {
			t.Helper()
			for _, l := range b.Locks(t) {
				if l.Key == key {
					return true
				}
			}
			return false
		}

		result(enqueue(3), 4)

		err := lock.Do(ctx, b.Locker, "lock_x", func(context.Context) error {
			if isLocked("lock_a") || !isLocked("lock_x") {
				t.Errorf("locks held %+v; want lock_x alone", b.Locks(t))
			}
			result(enqueue(4), 5)
			return nil
		})
		if err != nil {
			t.Fatalf("lock.Do(lock_x): %v", err)
		}
		b.RequireNoLocks(t)

		var r *worker.Handle[int]
		err = lock.Do(ctx, b.Locker, "lock_a", func(context.Context) error {
			if !isLocked("lock_a") {
				t.Errorf("locks held %+v; want lock_a", b.Locks(t))
			}
			r = enqueue(5)
			// The run meets the lock held: it fails, and goes back to wait
			// for its retry.
			for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				st, err := r.State(ctx)
				if err == nil && st.Status == queue.Scheduled {
					if st.Attempt != 2 || st.Kind != lock.ErrLocked.ErrorKind() {
						t.Errorf("state of the locked run %+v; want attempt 2 next, after a lock.locked failure", *st)
					}
					break
				}
				if time.Now().After(end) {
					t.Fatalf("the run under a held lock did not go back to wait for its retry: %+v, %v", st, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("lock.Do(lock_a): %v", err)
		}

		// Huey's trap_exception(r): the stored result is the locked error.
		rec, err := b.Store.Get(ctx, r.Queue, r.ID)
		if err != nil {
			t.Fatalf("the stored result of the run that met the lock: %v; want its failure", err)
		}
		if rec.Status != store.Failed || rec.Attempt != 1 || !errors.Is(rec.Err(), lock.ErrLocked) ||
			!strings.Contains(rec.Error, `lock "lock_a": held`) {
			t.Fatalf("stored %+v; want the first run's failure: lock_a held", *rec)
		}
		if st, err := r.State(ctx); err != nil || st.Result != queue.ResultStored {
			t.Errorf("state %+v, %v; want it to say the failure is stored", st, err)
		}

		// The run failed as locked, so it is retried, and succeeds now that
		// the lock is released.
		if _, err := b.Queue.Promote(ctx, r.Queue, time.Now().Add(2*time.Hour), 10); err != nil {
			t.Fatalf("Promote: %v", err)
		}
		result(r, 6)
		if rec := b.RequireRecord(t, r.Queue, r.ID); rec.Status != store.Succeeded || string(rec.Value) != "6" || rec.Attempt != 2 {
			t.Fatalf("stored %+v; want the retry's success", *rec)
		}
		b.RequireNoLocks(t)
	})
}
