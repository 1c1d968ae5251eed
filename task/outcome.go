package task

import (
	"fmt"
	"runtime/debug"
	"strings"
)

var (
	// ErrPermanent matches a failure that no retry can mend: the run is not
	// retried, and a worker dead-letters its task. Mark one with Permanent;
	// a bad payload and a task out of retries are permanent too.
	ErrPermanent = NewError("task.permanent", "task: permanent failure")
	// ErrPanic matches the failure made of a panic (see PanicError).
	ErrPanic = NewError("task.panic", "task: panicked")
)

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

// Limits of a PanicError, so that one panic cannot bloat every record,
// state and dead letter it reaches.
const (
	MaxPanicMessage = 1 << 10 // bytes of the panic's value in Error()
	MaxPanicStack   = 16 << 10
)

// PanicError is a panic turned into a failure. Its message is one line; the
// stack is kept apart, in Stack, for logs. It matches ErrPanic.
type PanicError struct {
	Value any
	// Stack is the panicking goroutine's stack, at most MaxPanicStack bytes.
	Stack []byte
}

// Recovered returns the failure of a panic with value v, with the stack of
// the goroutine that calls it: call it from the deferred function that
// recovered.
func Recovered(v any) *PanicError {
	stack := debug.Stack()
	if len(stack) > MaxPanicStack {
		stack = append(stack[:MaxPanicStack:MaxPanicStack], "\n…"...)
	}
	return &PanicError{Value: v, Stack: stack}
}

// Error returns "task panicked: " and the panic's value, on one line and
// cut to MaxPanicMessage bytes.
func (e *PanicError) Error() string {
	msg := fmt.Sprint(e.Value)
	if len(msg) > MaxPanicMessage {
		msg = msg[:MaxPanicMessage] + "…"
	}
	return "task panicked: " + strings.Join(strings.Fields(msg), " ")
}

// ErrorKind reports ErrPanic's kind.
func (e *PanicError) ErrorKind() string { return ErrPanic.kind }

// Is matches ErrPanic.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

var (
	// ErrUnavailable matches an error of the infrastructure, not of the
	// task: a backend that could not be reached, a connection cut, a Redis
	// call that timed out. It is no outcome of the task's: a worker runs the
	// task again later without counting an attempt, and policies neither
	// store it nor retry it as a failure. Backends mark such errors with
	// Unavailable.
	ErrUnavailable = NewError("task.unavailable", "taskware: backend unavailable")
	// ErrTooLarge matches arguments or a result over their size cap: at
	// enqueue an error, at the end of a run a permanent failure.
	ErrTooLarge = NewError("task.too_large", "taskware: too large")
)

// Unavailable marks err as an error of the infrastructure (see
// ErrUnavailable); nil stays nil.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return &UnavailableError{Err: err}
}

// UnavailableError is an error marked by Unavailable. It matches
// ErrUnavailable and wraps the backend's error.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "backend unavailable: " + e.Err.Error() }

// ErrorKind reports ErrUnavailable's kind.
func (e *UnavailableError) ErrorKind() string { return ErrUnavailable.kind }

// Is matches ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the backend's error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// TooLargeError reports arguments or a result over their size cap. It
// matches ErrTooLarge.
type TooLargeError struct {
	// What is too large: "arguments of report", "result of report".
	What      string
	Size, Max int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: %d bytes, over the cap of %d", e.What, e.Size, e.Max)
}

// ErrorKind reports ErrTooLarge's kind.
func (e *TooLargeError) ErrorKind() string { return ErrTooLarge.kind }

// Is matches ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

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
