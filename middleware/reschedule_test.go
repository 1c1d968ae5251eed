package middleware_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
)

func TestRescheduleLocked(t *testing.T) {
	locked := &lock.LockedError{Key: "k"}
	mw := middleware.RescheduleLocked(time.Second)
	fn := returns(nil, locked)
	_, err := mw(fn)(context.Background(), &task.Invocation{CanRequeue: true})
	var rq *task.RequeueError
	if !errors.As(err, &rq) || rq.Retry || rq.After > time.Second || rq.After < time.Second/2 || !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("under a worker: %v", err)
	}
	// A requeue is not a skip, and SkipLocked outside leaves it alone.
	_, err = middleware.SkipLocked()(mw(fn))(context.Background(), &task.Invocation{CanRequeue: true})
	if task.IsSkipped(err) || !errors.Is(err, task.ErrRequeued) {
		t.Fatalf("SkipLocked turned a reschedule into %v", err)
	}
	if _, err := mw(fn)(context.Background(), &task.Invocation{}); err != locked {
		t.Fatalf("in-process: %v, want the locked error as it is", err)
	}
	boom := errors.New("boom")
	if _, err := mw(returns(nil, boom))(context.Background(), &task.Invocation{CanRequeue: true}); err != boom {
		t.Fatalf("other failures pass: %v", err)
	}
}

// A failure that is already an outcome is not rescheduled, though it
// matches lock.ErrLocked: a skip, and a permanent failure (retries that
// ran out on a held lock).
func TestRescheduleLockedLeavesOutcomes(t *testing.T) {
	locked := &lock.LockedError{Key: "k"}
	mw := middleware.RescheduleLocked(time.Second)
	for _, err := range []error{
		task.Skip(locked),
		&middleware.RetriesExhaustedError{Attempts: 3, Err: locked},
		task.AfterFailure(task.Skip(locked), errors.New("boom")),
	} {
		_, got := mw(returns(nil, err))(context.Background(), &task.Invocation{CanRequeue: true})
		if got != err {
			t.Errorf("%v became %v", err, got)
		}
	}
}
