package limit

import (
	"fmt"
	"time"

	"github.com/taskware/taskware/task"
)

var (
	// ErrRateLimited means an event was refused by a rate limit. The error
	// returned is a *RateLimitedError, which says when to try again.
	ErrRateLimited = task.NewError("limit.rate_limited", "limit: rate limited")
	// ErrConcurrencyLimited means every permit of a semaphore was held. The
	// error returned is a *ConcurrencyLimitedError.
	ErrConcurrencyLimited = task.NewError("limit.concurrency_limited", "limit: concurrency limited")
	// ErrPermitLost is the cause with which a Hold's context is cancelled
	// when its permit can no longer be renewed, and what a Semaphore's
	// Refresh returns for a permit it no longer holds.
	ErrPermitLost = task.NewError("limit.permit_lost", "limit: permit lost")
)

// RateLimitedError reports an event refused by a rate limit. It matches
// ErrRateLimited.
type RateLimitedError struct {
	Key   string
	Rate  Rate
	Burst int
	// RetryAfter is how long until the next event would be allowed.
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("limit %q: rate limited (%v, burst %d): retry after %v", e.Key, e.Rate, e.Burst, e.RetryAfter.Round(time.Millisecond))
}

// ErrorKind reports ErrRateLimited's kind.
func (e *RateLimitedError) ErrorKind() string { return ErrRateLimited.ErrorKind() }

// Is matches ErrRateLimited.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// ConcurrencyLimitedError reports a semaphore whose permits were all held.
// It matches ErrConcurrencyLimited.
type ConcurrencyLimitedError struct {
	Key string
	// Limit is the number of permits asked for; Held, how many were held.
	Limit, Held int
	// Remaining is the time left on the permit that expires first, unless
	// renewed, when the semaphore knows.
	Remaining time.Duration
	// RetryAfter is when to try again, as chosen by whoever retries
	// (middleware.ConcurrencyLimit); 0 if nobody chose.
	RetryAfter time.Duration
}

func (e *ConcurrencyLimitedError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("limit %q: %d of %d permits held: retry after %v", e.Key, e.Held, e.Limit, e.RetryAfter.Round(time.Millisecond))
	}
	return fmt.Sprintf("limit %q: %d of %d permits held", e.Key, e.Held, e.Limit)
}

// ErrorKind reports ErrConcurrencyLimited's kind.
func (e *ConcurrencyLimitedError) ErrorKind() string { return ErrConcurrencyLimited.ErrorKind() }

// Is matches ErrConcurrencyLimited.
func (e *ConcurrencyLimitedError) Is(target error) bool { return target == ErrConcurrencyLimited }

// PermitLostError reports a permit that is no longer held: refused by a
// refresh, or not renewed within its validity. It matches ErrPermitLost,
// and wraps what made the renewal fail, if anything.
type PermitLostError struct {
	Key string
	Err error
}

func (e *PermitLostError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("limit %q: permit lost", e.Key)
	}
	return fmt.Sprintf("limit %q: permit lost: %v", e.Key, e.Err)
}

// ErrorKind reports ErrPermitLost's kind.
func (e *PermitLostError) ErrorKind() string { return ErrPermitLost.ErrorKind() }

// Is matches ErrPermitLost.
func (e *PermitLostError) Is(target error) bool { return target == ErrPermitLost }

// Unwrap returns the renewal's error, if any.
func (e *PermitLostError) Unwrap() error { return e.Err }

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: limit: %s", task.ErrInvalidConfig, fmt.Sprintf(format, args...))
}
