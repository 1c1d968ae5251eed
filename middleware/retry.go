package middleware

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/internal/backoff"
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

// Retry runs a failed invocation again, with exponential backoff and
// jitter, until it has run attempts times in all.
//
// attempts counts runs, THE FIRST RUN INCLUDED: Retry(1) never retries,
// Retry(4) retries up to three times. RetryUpTo counts retries instead:
// RetryUpTo(3) is Retry(4). It panics with an error matching
// task.ErrInvalidConfig if attempts is below 1.
//
// A run's message may ask for another count of retries, in the header
// task.HeaderRetries (worker.Retries sets it): a valid one replaces
// the configured count for that run, up to task.MaxHeaderRetries; one that
// is not a count is ignored.
//
// The rules:
//
//   - An error that is already an outcome (task.IsOutcome) is not
//     retried: a skip or a requeue, which is no failure; a permanent
//     failure (task.ErrPermanent: a bad payload, or one the task marked
//     with task.Permanent); an error of the infrastructure
//     (task.ErrUnavailable), after which a worker runs the task again
//     without counting an attempt. Nor is a run its worker abandoned
//     (task.ErrAbandoned): it runs again anyway. Nor is anything RetryIf
//     or RetryUnless refuses.
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
func Retry(attempts int, opts ...RetryOption) task.Middleware {
	if attempts < 1 {
		configPanic("Retry: attempts (runs, the first included) must be at least 1, got %d", attempts)
	}
	return retry("Retry", attempts, opts)
}

// RetryUpTo retries a failed invocation up to retries times, so that it
// runs at most retries+1 times: RetryUpTo(3) is "three retries, four runs
// at most", the same as Retry(4), under the same rules and options.
// RetryUpTo(0) never retries. It panics with an error matching
// task.ErrInvalidConfig if retries is negative.
func RetryUpTo(retries int, opts ...RetryOption) task.Middleware {
	if retries < 0 {
		configPanic("RetryUpTo: retries must not be negative, got %d", retries)
	}
	return retry("RetryUpTo", retries+1, opts)
}

// retry is Retry of maxAttempts runs, named name in configuration panics.
func retry(name string, maxAttempts int, opts []RetryOption) task.Middleware {
	c := retryConfig{base: time.Second, max: time.Minute, retryIf: func(error) bool { return true }}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.base <= 0 || c.max < c.base {
		configPanic("%s: RetryBackoff needs 0 < base <= max, got %v, %v", name, c.base, c.max)
	}
	if c.retryIf == nil {
		configPanic("%s: RetryIf(nil)", name)
	}
	pauses := backoff.Policy{Min: c.base, Max: c.max}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			for {
				res, err := next(ctx, inv)
				if err == nil || task.IsOutcome(err) || task.Abandoned(ctx) || !c.retryIf(err) {
					return res, err
				}
				limit := maxAttempts
				if retries, ok := inv.RetriesHeader(); ok {
					limit = retries + 1
				}
				if inv.Attempt >= limit {
					return res, &RetriesExhaustedError{Attempts: inv.Attempt, Err: err}
				}
				pause := pauses.Jittered(inv.Attempt - 1)
				if inv.CanRequeue {
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
