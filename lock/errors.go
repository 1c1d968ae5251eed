package lock

import (
	"fmt"
	"time"

	"github.com/taskware/taskware/task"
)

var (
	// ErrLocked means the lock is held by another owner. The error returned
	// is a *LockedError that says who holds it.
	ErrLocked = task.NewError("lock.locked", "lock: held by another owner")
	// ErrNotHeld means a release or refresh was refused because the caller's
	// lease is not the current one: it expired, or someone else owns the key.
	// The error returned is a *NotHeldError.
	ErrNotHeld = task.NewError("lock.not_held", "lock: lease not held")
	// ErrLeaseLost is the cause with which a Hold's context is cancelled when
	// its lease can no longer be renewed.
	ErrLeaseLost = task.NewError("lock.lease_lost", "lock: lease lost")
)

// LockedError reports a lock held by another owner. It matches ErrLocked.
// Read who holds the lock from its fields, with errors.As: its text is
// for people.
type LockedError struct {
	Key string
	// Holder and Since describe the current holder, when the backend knows.
	Holder string
	Since  time.Time
	// Remaining is the holder's remaining TTL, when the backend knows.
	Remaining time.Duration
	// Task is the holder's task run, when the lock was taken for one (see
	// WithOwnerTask): where its result will be stored. The backend reads
	// it from the lock as it stores it, so it crosses processes;
	// middleware.JoinLocked waits for that run's outcome.
	Task TaskRef
}

// Error says which lock is held and, when known, by whom, for which task
// run and for how much longer:
//
//	lock "report:42": held by host:4711 (task default/5f0c…) (expires in 29.8s)
func (e *LockedError) Error() string {
	holder := e.Holder
	if holder == "" {
		holder = "another owner"
	}
	var task string
	if !e.Task.IsZero() {
		task = " (task " + e.Task.String() + ")"
	}
	if e.Holder == "" {
		return fmt.Sprintf("lock %q: held by %s%s", e.Key, holder, task)
	}
	return fmt.Sprintf("lock %q: held by %s%s (expires in %v)", e.Key, holder, task, e.Remaining.Round(time.Millisecond))
}

// ErrorKind reports ErrLocked's kind.
func (e *LockedError) ErrorKind() string { return ErrLocked.ErrorKind() }

// Is matches ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// NotHeldError reports a release or refresh of a lease that does not own
// its key. It matches ErrNotHeld.
type NotHeldError struct{ Key string }

func (e *NotHeldError) Error() string { return fmt.Sprintf("lock %q: lease not held", e.Key) }

// ErrorKind reports ErrNotHeld's kind.
func (e *NotHeldError) ErrorKind() string { return ErrNotHeld.ErrorKind() }

// Is matches ErrNotHeld.
func (e *NotHeldError) Is(target error) bool { return target == ErrNotHeld }

// LeaseLostError is the cause of a Hold's cancellation. It matches
// ErrLeaseLost and wraps what made the renewal fail.
type LeaseLostError struct {
	Key string
	Err error
}

func (e *LeaseLostError) Error() string {
	return fmt.Sprintf("lock %q: lease lost: %v", e.Key, e.Err)
}

// ErrorKind reports ErrLeaseLost's kind.
func (e *LeaseLostError) ErrorKind() string { return ErrLeaseLost.ErrorKind() }

// Is matches ErrLeaseLost.
func (e *LeaseLostError) Is(target error) bool { return target == ErrLeaseLost }

// Unwrap returns the renewal's error.
func (e *LeaseLostError) Unwrap() error { return e.Err }

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: lock: %s", task.ErrInvalidConfig, fmt.Sprintf(format, args...))
}
