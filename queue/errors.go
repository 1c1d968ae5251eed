package queue

import (
	"fmt"

	"github.com/taskware/taskware/task"
)

var (
	// ErrDuplicate means a task with the same ID is already known to the
	// queue: waiting, running, or finished less than the queue's state TTL
	// ago; or another task holds its unique key.
	ErrDuplicate = task.NewError("queue.duplicate", "queue: duplicate task")
	// ErrNotFound means the queue knows nothing of the ID: never enqueued,
	// or finished longer ago than the state TTL. It is also what a call on
	// a stored schedule entry that does not exist returns.
	ErrNotFound = task.NewError("queue.not_found", "queue: task not found")
	// ErrDeadLettered matches the outcome of a task moved to its queue's
	// dead letters. The error is a *DeadLetterError, whose reason matches
	// the kind of what ended it.
	ErrDeadLettered = task.NewError("queue.dead_lettered", "queue: dead-lettered")
	// ErrCanceled is the outcome of a canceled task (Producer.Cancel), and
	// the cause its run's context is cancelled with if it was running.
	ErrCanceled = task.NewError("queue.canceled", "queue: canceled")
	// ErrClaimLost is the cause a worker cancels a run's context with when
	// it learns (Consumer.Extend) that another worker took the run's
	// delivery over: the task runs there, and this run's end changes
	// nothing.
	ErrClaimLost = task.NewError("queue.claim_lost", "queue: claim lost")
	// ErrSuperseded is what Consumer.Finish returns for a delivery that
	// another worker took over (Consumer.Recover) before it finished: the
	// finish changed nothing, and the new delivery's outcome stands.
	ErrSuperseded = task.NewError("queue.superseded", "queue: finish superseded by a takeover")
	// ErrBadMessage is the reason a message is dead-lettered when the queue
	// cannot read it: a field missing or malformed (written by hand, or by
	// something other than taskware).
	ErrBadMessage = task.NewError("queue.bad_message", "queue: malformed message")
	// ErrBadCursor is what Admin.ListTasks returns for a cursor it did not
	// make: garbled, or of another set of tasks.
	ErrBadCursor = task.NewError("queue.bad_cursor", "queue: bad cursor")
	// ErrNotSupported is what a backend's method returns for a feature the
	// backend does not have.
	ErrNotSupported = task.NewError("queue.not_supported", "queue: not supported by this backend")
)

// DuplicateError reports a task the queue refused as a duplicate: its ID
// is known already, or another task holds its unique key. Existing is the
// ID of the task that stands, the one to follow: the same ID, or the
// holder of the key. It matches ErrDuplicate.
type DuplicateError struct{ Queue, ID, Existing string }

func (e *DuplicateError) Error() string {
	if e.Existing != "" && e.Existing != e.ID {
		return fmt.Sprintf("queue: task %q duplicates task %q of queue %q", e.ID, e.Existing, e.Queue)
	}
	return fmt.Sprintf("queue: task %q is already known to queue %q", e.ID, e.Queue)
}

// ErrorKind reports ErrDuplicate's kind.
func (e *DuplicateError) ErrorKind() string { return ErrDuplicate.ErrorKind() }

// Is matches ErrDuplicate.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// NotFoundError reports a task the queue knows nothing of. It matches
// ErrNotFound.
type NotFoundError struct{ Queue, ID string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("queue: no task %q on queue %q", e.ID, e.Queue)
}

// ErrorKind reports ErrNotFound's kind.
func (e *NotFoundError) ErrorKind() string { return ErrNotFound.ErrorKind() }

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// DeadLetterError is the outcome of a dead-lettered task. It matches
// ErrDeadLettered and wraps the reason.
type DeadLetterError struct {
	ID     string
	Reason error
}

func (e *DeadLetterError) Error() string {
	return fmt.Sprintf("task %s dead-lettered: %v", e.ID, e.Reason)
}

// ErrorKind reports ErrDeadLettered's kind.
func (e *DeadLetterError) ErrorKind() string { return ErrDeadLettered.ErrorKind() }

// Is matches ErrDeadLettered.
func (e *DeadLetterError) Is(target error) bool { return target == ErrDeadLettered }

// Unwrap returns the reason.
func (e *DeadLetterError) Unwrap() error { return e.Reason }
