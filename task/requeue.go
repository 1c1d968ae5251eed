package task

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrRequeued matches an outcome that asks for the invocation to run again
// later, with the same ID: a retry (middleware.Retry) or a reschedule
// (middleware.RescheduleLocked). It is not final, so StoreResult does not
// store it; a worker puts the run back in its queue's delayed set.
var ErrRequeued = NewError("task.requeued", "task: requeued")

// RequeueError is the outcome made by Requeue.
type RequeueError struct {
	// After is how long to wait before the next run.
	After time.Duration
	// Retry is true if the next run counts as a new attempt (a retry), and
	// false if it does not (a reschedule, because a lock was held).
	Retry bool
	// Err is the outcome of this run.
	Err error
}

// Requeue returns an outcome that asks for the invocation to run again after
// d. It matches ErrRequeued and err under errors.Is.
func Requeue(d time.Duration, retry bool, err error) error {
	return &RequeueError{After: d, Retry: retry, Err: err}
}

func (e *RequeueError) Error() string {
	what := "rescheduled"
	if e.Retry {
		what = "retrying"
	}
	if e.Err == nil {
		return fmt.Sprintf("task: %s in %v", what, e.After)
	}
	return fmt.Sprintf("task: %s in %v: %v", what, e.After, e.Err)
}

// ErrorKind reports ErrRequeued's kind.
func (e *RequeueError) ErrorKind() string { return ErrRequeued.kind }

// Is matches ErrRequeued.
func (e *RequeueError) Is(target error) bool { return target == ErrRequeued }

// Unwrap returns this run's outcome.
func (e *RequeueError) Unwrap() error { return e.Err }

// ErrAbandoned is the cause with which a worker cancels a run's context
// when it stops before the run ends. The run is not over: another worker
// runs it again, so its outcome is not final, and policies neither store
// nor retry it.
var ErrAbandoned = NewError("task.abandoned", "task: run abandoned by its worker; it will run again")

// Abandoned reports whether ctx was cancelled because its run was
// abandoned.
func Abandoned(ctx context.Context) bool { return errors.Is(context.Cause(ctx), ErrAbandoned) }

type requeueKey struct{}

// WithRequeue marks ctx as run by a worker that can requeue, so that
// policies may return Requeue instead of waiting in-process.
func WithRequeue(ctx context.Context) context.Context {
	return context.WithValue(ctx, requeueKey{}, true)
}

// CanRequeue reports whether whoever runs ctx's invocation honours Requeue.
// In-process calls (Task.Call) do not, so a retry policy waits and runs
// again itself.
func CanRequeue(ctx context.Context) bool {
	ok, _ := ctx.Value(requeueKey{}).(bool)
	return ok
}
