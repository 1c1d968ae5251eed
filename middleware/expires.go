package middleware

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/task"
)

// ErrExpired is the reason of a run skipped by Expires. The skip's reason is
// an *ExpiredError.
var ErrExpired = task.NewError("middleware.expired", "middleware: run expired before it started")

// ExpiredError says how late an expired run was.
type ExpiredError struct {
	// Waited is how long the run waited since it was enqueued.
	Waited time.Duration
	// Limit is the longest it was allowed to wait, and Deadline the time it
	// had to start by; either may be zero when not set.
	Limit    time.Duration
	Deadline time.Time
}

func (e *ExpiredError) Error() string {
	if e.Limit > 0 {
		return fmt.Sprintf("run expired: waited %v, limit %v", e.Waited.Round(time.Millisecond), e.Limit)
	}
	return fmt.Sprintf("run expired: deadline %s passed", e.Deadline.Format(time.RFC3339Nano))
}

// ErrorKind reports ErrExpired's kind.
func (e *ExpiredError) ErrorKind() string { return ErrExpired.ErrorKind() }

// Is matches ErrExpired.
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// Expires skips a run that starts more than maxWait after its EnqueuedAt, or
// after its own ExpiresAt deadline (set at enqueue), whichever is earlier.
// It returns task.Skip(*ExpiredError) without calling the rest of the chain,
// so no lock is taken for a stale run. A maxWait of 0 honours only the
// deadlines set at enqueue; a negative one panics. The time is read from
// the run's clock (task.Invocation.Now), the wall clock unless a test sets
// one.
//
// A retry keeps its first EnqueuedAt, so retries can outlive maxWait. A
// retry that expires is not skipped: the run failed before, and a skip
// would hide it. It ends as a permanent failure that carries the last
// failure (task.AfterFailure): StoreResult stores it, a worker
// dead-letters it. That holds in any order of StoreResult, Expires and
// Retry.
func Expires(maxWait time.Duration) task.Middleware {
	if maxWait < 0 {
		configPanic("Expires: negative maxWait %v", maxWait)
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			now := inv.Now()
			waited := now.Sub(inv.EnqueuedAt)
			switch {
			case maxWait > 0 && !inv.EnqueuedAt.IsZero() && waited > maxWait:
				return nil, task.AfterFailure(task.Skip(&ExpiredError{Waited: waited, Limit: maxWait}), inv.LastErr)
			case !inv.ExpiresAt.IsZero() && now.After(inv.ExpiresAt):
				return nil, task.AfterFailure(task.Skip(&ExpiredError{Waited: waited, Deadline: inv.ExpiresAt}), inv.LastErr)
			}
			return next(ctx, inv)
		}
	}
}
