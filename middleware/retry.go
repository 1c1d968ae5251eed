package middleware

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// ErrRetriesExhausted matches the outcome of a run that failed on its last
// attempt. The error keeps the last failure's kind, so a stored failure
// still says "timeout" or "lock.locked". It is permanent
// (task.ErrPermanent): a worker dead-letters it.
var ErrRetriesExhausted = errors.New("middleware: retries exhausted")

// RetriesExhaustedError is the outcome of a run that failed on its last
// allowed attempt. It matches ErrRetriesExhausted and task.ErrPermanent, and
// wraps the failure.
type RetriesExhaustedError struct {
	Attempts int
	Err      error
}

func (e *RetriesExhaustedError) Error() string {
	return fmt.Sprintf("failed after %d attempts: %v", e.Attempts, e.Err)
}

// Is matches ErrRetriesExhausted and task.ErrPermanent.
func (e *RetriesExhaustedError) Is(target error) bool {
	return target == ErrRetriesExhausted || target == task.ErrPermanent
}

// Unwrap returns the last failure.
func (e *RetriesExhaustedError) Unwrap() error { return e.Err }

// RetryOption configures Retry.
type RetryOption interface{ apply(*retryConfig) }

type retryConfig struct {
	base, max time.Duration
	retryIf   func(error) bool
}

type retryOptionFunc func(*retryConfig)

func (f retryOptionFunc) apply(c *retryConfig) { f(c) }

// RetryBackoff sets the pause before the first retry, base (1s by default),
// which doubles with every attempt up to max (1m by default). Each pause is
// jittered down by up to half, so that retries of many runs spread out.
func RetryBackoff(base, max time.Duration) RetryOption {
	return retryOptionFunc(func(c *retryConfig) { c.base, c.max = base, max })
}

// RetryIf narrows which failures are retried to those for which retryable
// returns true. A permanent failure (task.ErrPermanent, a bad payload among
// them), which no retry can mend, is never retried either way.
func RetryIf(retryable func(err error) bool) RetryOption {
	return retryOptionFunc(func(c *retryConfig) { c.retryIf = retryable })
}

// RetryUnless leaves failures matching any of errs unretried, under
// errors.Is: RetryUnless(lock.ErrLocked), say.
func RetryUnless(errs ...error) RetryOption {
	return retryOptionFunc(func(c *retryConfig) {
		for _, target := range errs {
			if target == nil {
				configPanic("Retry: RetryUnless(nil)")
			}
		}
		c.retryIf = func(err error) bool {
			for _, target := range errs {
				if errors.Is(err, target) {
					return false
				}
			}
			return true
		}
	})
}

// Retry runs a failed invocation again, up to maxAttempts runs in all, with
// exponential backoff and jitter. The rules:
//
//   - Skips and requeues are outcomes, not failures: never retried. Nor is
//     a run its worker abandoned (task.ErrAbandoned): it runs again anyway.
//     Nor is an error of the infrastructure (task.ErrUnavailable): a
//     worker runs the task again without counting an attempt.
//   - A permanent failure (task.ErrPermanent: a bad payload, or one the
//     task marked with task.Permanent) is not retried, nor is anything
//     RetryIf or RetryUnless refuses.
//   - lock.ErrLeaseLost is retried: the run may not have finished its work
//     under the lock, and its writes may have been fenced off.
//   - lock.ErrLocked is retried, as a failure. Put SkipLocked or
//     RescheduleLocked inside Retry to make contention a skip or a
//     reschedule that costs no attempt.
//
// Under a worker the retry keeps the invocation's ID and goes back to the
// queue's delayed set (task.Requeue): nothing sleeps in the worker. Run
// in-process (Task.Call), Retry waits out the backoff itself.
//
// When the last attempt fails, the outcome matches ErrRetriesExhausted and
// keeps the failure's kind. Put StoreResult outside Retry, so that only the
// final outcome is stored.
func Retry(maxAttempts int, opts ...RetryOption) task.Middleware {
	if maxAttempts < 1 {
		configPanic("Retry: maxAttempts must be at least 1, got %d", maxAttempts)
	}
	c := retryConfig{base: time.Second, max: time.Minute, retryIf: func(error) bool { return true }}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.base <= 0 || c.max < c.base {
		configPanic("Retry: RetryBackoff needs 0 < base <= max, got %v, %v", c.base, c.max)
	}
	if c.retryIf == nil {
		configPanic("Retry: RetryIf(nil)")
	}
	pauses := backoff.Policy{Min: c.base, Max: c.max}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			for {
				res, err := next(ctx, inv)
				if err == nil || task.IsSkipped(err) || errors.Is(err, task.ErrRequeued) || errors.Is(err, task.ErrUnavailable) ||
					errors.Is(err, task.ErrPermanent) || task.Abandoned(ctx) || !c.retryIf(err) {
					return res, err
				}
				if inv.Attempt >= maxAttempts {
					return res, &RetriesExhaustedError{Attempts: inv.Attempt, Err: err}
				}
				pause := pauses.Jittered(inv.Attempt - 1)
				if task.CanRequeue(ctx) {
					return nil, task.Requeue(pause, true, err)
				}
				if werr := backoff.Sleep(ctx, pause); werr != nil {
					return nil, err
				}
				inv.Attempt, inv.LastErr = inv.Attempt+1, err
			}
		}
	}
}

// RescheduleLocked runs a run that finds its lock held again after about
// delay, without counting an attempt: sidekiq-unique-jobs' "reschedule"
// strategy, next to SkipLocked's "skip". Under a worker, the run goes back
// to the queue's delayed set; in-process, where nothing can requeue it, the
// lock.ErrLocked failure is returned as it is. Put Expires outside it to
// bound how long a run keeps being rescheduled.
func RescheduleLocked(delay time.Duration) task.Middleware {
	if delay <= 0 {
		configPanic("RescheduleLocked: delay must be positive, got %v", delay)
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			if err == nil || !errors.Is(err, lock.ErrLocked) || task.IsSkipped(err) ||
				errors.Is(err, task.ErrRequeued) || !task.CanRequeue(ctx) {
				return res, err
			}
			return nil, task.Requeue(backoff.Jitter(delay), false, err)
		}
	}
}

// Timeout gives each run at most d: its context's deadline. A task that
// heeds it returns context.DeadlineExceeded, whose kind is "timeout".
func Timeout(d time.Duration) task.Middleware {
	if d <= 0 {
		configPanic("Timeout: d must be positive, got %v", d)
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next(ctx, inv)
		}
	}
}

// Recover turns a panic inside it into a failure, a *task.PanicError
// (matching task.ErrPanic) with the panic's value on one line and its stack
// apart, so that one bad run cannot take down a worker. Put it inside
// StoreResult and Retry, so that the failure is stored and retried.
func Recover() task.Middleware {
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (res any, err error) {
			defer func() {
				if v := recover(); v != nil {
					res, err = nil, task.Recovered(v)
				}
			}()
			return next(ctx, inv)
		}
	}
}
