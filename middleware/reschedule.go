package middleware

import (
	"context"
	"errors"
	"time"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// RescheduleLocked runs a run that finds its lock held again after about
// delay, without counting an attempt: sidekiq-unique-jobs' "reschedule"
// strategy, next to SkipLocked's "skip". Under a worker, the run goes back
// to the queue's delayed set; in-process, where nothing can requeue it, the
// lock.ErrLocked failure is returned as it is, as is any error that is
// already an outcome (task.IsOutcome): a skip, a permanent failure. Put
// Expires outside it to bound how long a run keeps being rescheduled.
func RescheduleLocked(delay time.Duration) task.Middleware {
	if delay <= 0 {
		configPanic("RescheduleLocked: delay must be positive, got %v", delay)
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			if err == nil || !errors.Is(err, lock.ErrLocked) || task.IsOutcome(err) || !inv.CanRequeue {
				return res, err
			}
			return nil, task.Requeue(backoff.Jitter(delay), false, err)
		}
	}
}
