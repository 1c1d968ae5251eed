package task

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Kinds that name no sentinel of their own.
const (
	// KindError is the kind of an error that names no kind of its own.
	KindError = "error"
	// KindTimeout is the kind of context.DeadlineExceeded.
	KindTimeout = "timeout"
	// KindCanceled is the kind of context.Canceled.
	KindCanceled = "canceled"
)

// ErrInvalidConfig matches every misconfiguration that taskware reports
// when a chain, locker or store is built: an empty key, a TTL <= 0, a nil
// store. Constructors panic with it, so it surfaces at start-up.
var ErrInvalidConfig = register(errInvalidConfig)

// kinds holds every kind NewError has handed out, so that no two sentinels
// share one: a stored failure must match only its own sentinel.
var kinds sync.Map

// errInvalidConfig is ErrInvalidConfig, made apart so that NewError can
// panic with it.
var errInvalidConfig = &Error{kind: "task.invalid_config", msg: "taskware: invalid configuration"}

func register(e *Error) *Error {
	if _, taken := kinds.LoadOrStore(e.kind, e); taken {
		panic(fmt.Errorf("%w: task.NewError: kind %q is taken", errInvalidConfig, e.kind))
	}
	return e
}

// Error is a sentinel error with a kind: a short, stable name stored with a
// failure, so that a failure read back from a store still matches the
// sentinel under errors.Is (see Failure).
type Error struct {
	kind, msg string
}

// NewError returns a sentinel error with the given kind and message. Kinds
// are unique: qualify yours with your package's name, as taskware's own are
// ("lock.locked", "store.not_found"). NewError panics with an error
// matching ErrInvalidConfig if kind is empty, one of the kinds above, or
// already taken, so make sentinels once, in package variables.
func NewError(kind, msg string) *Error {
	if kind == "" || kind == KindError || kind == KindTimeout || kind == KindCanceled {
		panic(fmt.Errorf("%w: task.NewError: kind %q is reserved", errInvalidConfig, kind))
	}
	return register(&Error{kind: kind, msg: msg})
}

// Error returns the message.
func (e *Error) Error() string { return e.msg }

// ErrorKind returns the kind.
func (e *Error) ErrorKind() string { return e.kind }

// kinder is implemented by errors that name their kind.
type kinder interface {
	error
	ErrorKind() string
}

// KindOf returns the kind of err: that of the first error in its chain that
// names one, "timeout" or "canceled" for context errors, "" for nil, and
// KindError otherwise.
func KindOf(err error) string {
	if err == nil {
		return ""
	}
	if k, ok := errors.AsType[kinder](err); ok {
		return k.ErrorKind()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, context.Canceled):
		return KindCanceled
	}
	return KindError
}

// Failure is an error rebuilt from a stored kind and message, as a result
// store returns it. It matches under errors.Is every error of the same
// kind, so a stored "lock.locked" failure matches lock.ErrLocked and
// nothing else. Failures of KindError match nothing but themselves.
type Failure struct {
	Kind    string
	Message string
}

func (f *Failure) Error() string { return f.Message }

// ErrorKind returns the stored kind.
func (f *Failure) ErrorKind() string { return f.Kind }

// Is reports whether target has the same, named kind.
func (f *Failure) Is(target error) bool {
	if f.Kind == "" || f.Kind == KindError {
		return false
	}
	return KindOf(target) == f.Kind
}
