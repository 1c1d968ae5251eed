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
