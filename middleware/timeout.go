package middleware

import (
	"context"
	"time"

	"github.com/taskware/taskware/task"
)

// Timeout gives each run at most d: its context's deadline. A task that
// heeds it returns context.DeadlineExceeded, whose kind is "timeout". It
// panics with an error matching task.ErrInvalidConfig if d is not
// positive.
//
// A run's message may ask for another timeout, in the header
// task.HeaderTimeout (worker.Timeout sets it): a valid one replaces d
// for that run, shorter or longer, up to task.MaxHeaderTimeout; one that is
// not a positive duration is ignored.
func Timeout(d time.Duration) task.Middleware {
	if d <= 0 {
		configPanic("Timeout: d must be positive, got %v", d)
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			timeout := d
			if h, ok := inv.TimeoutHeader(); ok {
				timeout = h
			}
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return next(ctx, inv)
		}
	}
}
