package task

import (
	"errors"
	"fmt"
	"time"
)

// IsOutcome reports whether err already decides what becomes of the run,
// so that no policy may turn it into anything else: a skip, a requeue, a
// permanent failure, or an error of the infrastructure (which is no
// outcome of the task's: a worker runs the task again). The policies that
// act on a failure (a retry, a reschedule, the skip of a held lock) leave
// such an error as it is.
func IsOutcome(err error) bool {
	return err != nil && (errors.Is(err, ErrSkipped) || errors.Is(err, ErrRequeued) ||
		errors.Is(err, ErrPermanent) || errors.Is(err, ErrUnavailable))
}

// ErrSkipped matches every outcome made by Skip: the run was deliberately
// not done. A skip is neither a failure nor retried.
var ErrSkipped = NewError("task.skipped", "task: skipped")

// Skip returns an outcome that marks the run as deliberately not done,
// because of reason. It matches both ErrSkipped and reason under errors.Is.
func Skip(reason error) error { return &SkipError{Reason: reason} }

// SkipError is the outcome made by Skip.
type SkipError struct {
	// Reason says why the run was skipped, for example lock.ErrLocked.
	Reason error
}

func (e *SkipError) Error() string {
	if e.Reason == nil {
		return "task: skipped"
	}
	return "task: skipped: " + e.Reason.Error()
}

// ErrorKind reports ErrSkipped's kind.
func (e *SkipError) ErrorKind() string { return ErrSkipped.kind }

// Is matches ErrSkipped.
func (e *SkipError) Is(target error) bool { return target == ErrSkipped }

// Unwrap returns the reason.
func (e *SkipError) Unwrap() error { return e.Reason }

// IsSkipped reports whether err is, or wraps, a skip.
func IsSkipped(err error) bool { return errors.Is(err, ErrSkipped) }

// ErrRequeued matches an outcome that asks for the invocation to run again
// later, with the same ID: a retry (middleware.Retry) or a reschedule
// (middleware.RescheduleLocked). It is not final, so StoreResult does not
// store it; a worker puts the run back in its queue's delayed set.
var ErrRequeued = NewError("task.requeued", "task: requeued")

// Requeue returns an outcome that asks for the invocation to run again after
// d. It matches ErrRequeued and err under errors.Is. Return it only when
// Invocation.CanRequeue says that whoever runs the invocation honours it.
func Requeue(d time.Duration, retry bool, err error) error {
	return &RequeueError{After: d, Retry: retry, Err: err}
}

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

// ErrPermanent matches a failure that no retry can mend: the run is not
// retried, and a worker dead-letters its task. Mark one with Permanent;
// a bad payload and a task out of retries are permanent too.
var ErrPermanent = NewError("task.permanent", "task: permanent failure")

// Permanent marks err as final: not retried, and dead-lettered by a worker.
// The result matches ErrPermanent and err under errors.Is, and keeps err's
// kind (see KindOf).
func Permanent(err error) error { return &PermanentError{Err: err} }

// PermanentError is the outcome made by Permanent.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return ErrPermanent.msg
	}
	return e.Err.Error()
}

// Is matches ErrPermanent.
func (e *PermanentError) Is(target error) bool { return target == ErrPermanent }

// Unwrap returns the failure.
func (e *PermanentError) Unwrap() error { return e.Err }

// AfterFailure is the outcome of a retry that ends in a skip: the run
// failed before, with last, and a skip now (the retry expired, or its lock
// was held) must not hide that. So it is a failure: permanent, carrying
// last's kind and text, and matching both last and the skip's reason under
// errors.Is. A skip of a run that never failed (last is nil) stays a skip.
func AfterFailure(skip error, last error) error {
	if last == nil || !IsSkipped(skip) {
		return skip
	}
	return &RetryEndedError{Skip: skip, Last: last}
}

// RetryEndedError is the outcome made by AfterFailure. It matches
// ErrPermanent, the last failure, and the skip's reason, and its kind is
// the last failure's.
type RetryEndedError struct {
	Skip, Last error
}

func (e *RetryEndedError) Error() string {
	reason := e.Skip.Error()
	if se, ok := e.Skip.(*SkipError); ok && se.Reason != nil {
		reason = se.Reason.Error()
	}
	return "retry could not run (" + reason + "); last failure: " + e.Last.Error()
}

// ErrorKind reports the last failure's kind.
func (e *RetryEndedError) ErrorKind() string { return KindOf(e.Last) }

// Is matches ErrPermanent.
func (e *RetryEndedError) Is(target error) bool { return target == ErrPermanent }

// Unwrap returns the last failure first, for its kind, then the skip's
// reason.
func (e *RetryEndedError) Unwrap() []error {
	if se, ok := e.Skip.(*SkipError); ok && se.Reason != nil {
		return []error{e.Last, se.Reason}
	}
	return []error{e.Last}
}
