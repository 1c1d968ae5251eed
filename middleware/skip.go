package middleware

import (
	"context"
	"errors"
	"time"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// RetryLockedDelay is about how long SkipLocked waits before a retry that
// found its lock held runs again (see SkipLocked).
const RetryLockedDelay = 100 * time.Millisecond

// SkipHook sees every run that SkipLocked turns into a skip, with the
// original error (a *lock.LockedError, usually). Count it in a metric rather
// than in the result store.
type SkipHook func(ctx context.Context, inv *task.Invocation, err error)

// SkipLocked turns an error matching lock.ErrLocked, from anywhere inside
// it, into task.Skip(err), which matches task.ErrSkipped and still
// lock.ErrLocked. Skips are neither failures nor retried, and StoreResult
// does not store them. Each hook sees every skip. An error that is already
// an outcome (task.IsOutcome: a requeue, a permanent failure) stays as it
// is.
//
// A retry of a run that failed is not skipped: a skip would hide the
// failure. Under a worker it runs again about RetryLockedDelay later,
// without counting an attempt (put Expires outside to bound that); run
// in-process, it ends as a permanent failure that carries the last one
// (task.AfterFailure).
func SkipLocked(hooks ...SkipHook) task.Middleware {
	for _, h := range hooks {
		if h == nil {
			configPanic("SkipLocked: nil hook")
		}
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			if err == nil || !errors.Is(err, lock.ErrLocked) || task.IsOutcome(err) {
				return res, err
			}
			if inv.LastErr != nil && inv.CanRequeue {
				return nil, task.Requeue(backoff.Jitter(RetryLockedDelay), false, err)
			}
			for _, h := range hooks {
				h(ctx, inv, err)
			}
			return nil, task.AfterFailure(task.Skip(err), inv.LastErr)
		}
	}
}
