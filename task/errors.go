package task

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"unicode/utf8"
)

// ErrBadPayload matches a payload that the task's codec cannot decode into
// the task's argument type. Retrying cannot help, so it is also permanent
// (see ErrPermanent).
var ErrBadPayload = NewError("task.bad_payload", "task: payload does not decode")

// PayloadError reports a payload that does not decode. It matches
// ErrBadPayload and ErrPermanent.
type PayloadError struct {
	Task string
	Err  error
}

func (e *PayloadError) Error() string {
	return "task " + e.Task + ": payload does not decode: " + e.Err.Error()
}

// ErrorKind reports ErrBadPayload's kind.
func (e *PayloadError) ErrorKind() string { return ErrBadPayload.kind }

// Is matches ErrBadPayload and ErrPermanent.
func (e *PayloadError) Is(target error) bool {
	return target == ErrBadPayload || target == ErrPermanent
}

// Unwrap returns the codec's error.
func (e *PayloadError) Unwrap() error { return e.Err }

// ErrPanic matches the failure made of a panic (see PanicError).
var ErrPanic = NewError("task.panic", "task: panicked")

// Limits of a PanicError, so that one panic cannot bloat every record,
// state and dead letter it reaches.
const (
	MaxPanicMessage = 1 << 10 // bytes of the panic's value in Error()
	MaxPanicStack   = 16 << 10
)

// MaxErrorText caps, in bytes, the text of a failure that an outcome or a
// record keeps (ErrorText), as MaxPanicMessage caps a panic's: one huge
// error message must not be stored, copied to every record, state and
// dead letter, nor make the write that ends its task too large to send.
const MaxErrorText = 4 << 10

// ErrorText returns err's text for an outcome or a record: err.Error(), cut
// to MaxErrorText bytes (CapErrorText).
func ErrorText(err error) string { return CapErrorText(err.Error()) }

// CapErrorText returns msg cut to MaxErrorText bytes, at the start of a
// rune, with "…" after the cut.
func CapErrorText(msg string) string { return capText(msg, MaxErrorText) }

// capText returns s cut to at most n bytes, not inside a rune, marked "…"
// if cut.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

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
	msg := capText(fmt.Sprint(e.Value), MaxPanicMessage)
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
	// Partial says the encoding stopped past the cap (MarshalCapped): Size
	// is how far it got, and the value is larger still.
	Partial bool
}

func (e *TooLargeError) Error() string {
	if e.Partial {
		return fmt.Sprintf("%s: over %d bytes, the cap", e.What, e.Max)
	}
	return fmt.Sprintf("%s: %d bytes, over the cap of %d", e.What, e.Size, e.Max)
}

// ErrorKind reports ErrTooLarge's kind.
func (e *TooLargeError) ErrorKind() string { return ErrTooLarge.kind }

// Is matches ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// ErrAbandoned is the cause with which a worker cancels a run's context
// when it stops before the run ends. The run is not over: another worker
// runs it again, so its outcome is not final, and policies neither store
// nor retry it.
var ErrAbandoned = NewError("task.abandoned", "task: run abandoned by its worker; it will run again")

// Abandoned reports whether ctx was cancelled because its run was
// abandoned.
func Abandoned(ctx context.Context) bool { return errors.Is(context.Cause(ctx), ErrAbandoned) }
