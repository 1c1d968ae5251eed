package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/task"
)

// Defaults of the queue contract, which every backend's queue honours.
const (
	// DefaultQueue is the queue used when none is named.
	DefaultQueue = "default"
	// DefaultStateTTL is how long a finished task's state is kept: its
	// outcome for handles, and the window in which its ID is a duplicate.
	DefaultStateTTL = 24 * time.Hour
	// DefaultDeadLetterMax caps each queue's dead letters, the oldest going
	// first.
	DefaultDeadLetterMax = 10000
)

var (
	// ErrDuplicate means a task with the same ID is already known to the
	// queue: waiting, running, or finished less than the queue's state TTL
	// ago.
	ErrDuplicate = task.NewError("worker.duplicate", "worker: duplicate task ID")
	// ErrNotReady is what Handle.TryGet returns while the task has no
	// outcome yet.
	ErrNotReady = task.NewError("worker.not_ready", "worker: no outcome yet")
	// ErrDeadLettered matches the outcome of a task moved to its queue's
	// dead letters. The error is a *DeadLetterError, whose reason matches
	// ErrUnknownTask, ErrTooManyDeliveries, task.ErrBadPayload, or the kind
	// of the permanent failure that ended it (see task.ErrPermanent).
	ErrDeadLettered = task.NewError("worker.dead_lettered", "worker: dead-lettered")
	// ErrNotFound means the queue knows nothing of the ID: never enqueued,
	// or finished longer ago than the state TTL.
	ErrNotFound = task.NewError("worker.not_found", "worker: task not found")
	// ErrUnknownTask is the reason a task is dead-lettered when no task of
	// its name is registered with the worker that took it.
	ErrUnknownTask = task.NewError("worker.unknown_task", "worker: no task of that name is registered")
	// ErrTooManyDeliveries is the reason a task is dead-lettered when it was
	// handed out more often than MaxDeliveries without finishing: it kills
	// its worker every time.
	ErrTooManyDeliveries = task.NewError("worker.too_many_deliveries", "worker: delivered too often without finishing")
	// ErrCanceled is the outcome of a task canceled (Client.Cancel), and
	// the cause its run's context is cancelled with if it was running.
	ErrCanceled = task.NewError("worker.canceled", "worker: canceled")
	// ErrBadMessage is the reason a message is dead-lettered when the queue
	// cannot read it: a field missing or malformed (written by hand, or by
	// something other than taskware).
	ErrBadMessage = task.NewError("worker.bad_message", "worker: malformed message")
)

// DuplicateError reports a task the queue refused as a duplicate: its ID
// is known already, or another task holds its unique key (UniqueKey,
// UniqueArgs). Existing is the ID of the task that stands, the one to
// follow: the same ID, or the holder of the key. It matches ErrDuplicate.
type DuplicateError struct{ Queue, ID, Existing string }

func (e *DuplicateError) Error() string {
	if e.Existing != "" && e.Existing != e.ID {
		return fmt.Sprintf("worker: task %q duplicates task %q of queue %q", e.ID, e.Existing, e.Queue)
	}
	return fmt.Sprintf("worker: task %q is already known to queue %q", e.ID, e.Queue)
}

// ErrorKind reports ErrDuplicate's kind.
func (e *DuplicateError) ErrorKind() string { return ErrDuplicate.ErrorKind() }

// Is matches ErrDuplicate.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// NotFoundError reports a task the queue knows nothing of. It matches
// ErrNotFound.
type NotFoundError struct{ Queue, ID string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("worker: no task %q on queue %q", e.ID, e.Queue)
}

// ErrorKind reports ErrNotFound's kind.
func (e *NotFoundError) ErrorKind() string { return ErrNotFound.ErrorKind() }

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Message is a task in a queue.
type Message struct {
	ID    string
	Task  string
	Queue string
	// Payload holds the encoded arguments.
	Payload    []byte
	EnqueuedAt time.Time
	// ExpiresAt, if not zero, is when the run must not start any more.
	ExpiresAt time.Time
	// Attempt counts runs, 1 on the first.
	Attempt int
	// LastKind and LastError describe the failure that made this run a
	// retry; both are empty on a run that never failed.
	LastKind, LastError string
	// Unique, if not empty, is the task's unique key: while a task of the
	// queue holds it (until that task ends, for at most UniqueFor), an
	// enqueue with the same key is refused as a duplicate of it. The queue
	// keeps it apart from the message.
	Unique    string
	UniqueFor time.Duration
	// Headers is the message's metadata, set at enqueue (WithHeaders, or a
	// Producer that wraps another, as the OpenTelemetry module's does to
	// carry trace context) and read by middlewares as
	// task.Invocation.Headers. Nil if none.
	Headers map[string]string
}

// Delivery is a message taken by a worker: it stays claimed by that worker
// until finished, and is handed to another if the worker stops extending
// the claim (it died).
type Delivery struct {
	Message
	// Receipt is the queue's handle on the delivery (a stream entry ID).
	Receipt string
	// Deliveries counts how often the message was handed out, when the
	// queue knows; more than one means an earlier worker never finished it.
	Deliveries int
	// Outages counts the times the task went back to its queue because the
	// backend was unavailable (see task.ErrUnavailable).
	Outages int
	// Malformed says why the queue could not read the message, if it could
	// not; a worker dead-letters it with ErrBadMessage.
	Malformed error
}

// Status is where a task is in its life.
type Status string

// The statuses of a task.
const (
	Queued    Status = "queued"    // ready to run
	Running   Status = "running"   // taken by a worker, which started it
	Scheduled Status = "scheduled" // waiting to be due: delayed, retried or rescheduled
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Dead      Status = "dead"     // moved to the dead letters
	Canceled  Status = "canceled" // see Client.Cancel
)

// Terminal reports whether s is a final status.
func (s Status) Terminal() bool {
	return s == Succeeded || s == Failed || s == Skipped || s == Dead || s == Canceled
}

// ResultStatus says whether a run's outcome went to the result store.
type ResultStatus string

// The result statuses of a task's state.
const (
	// NoResult: the run's chain stored nothing (no StoreResult, a skip, a
	// filtered error).
	NoResult ResultStatus = ""
	// ResultStored: a record was written; read it from the store.
	ResultStored ResultStatus = "stored"
	// ResultLost: a record was meant to be written, and the write failed.
	ResultLost ResultStatus = "lost"
)

// State is what a queue knows of one task.
type State struct {
	ID, Task, Queue string
	Status          Status
	Attempt         int
	// Kind and Error describe a failure, skip or dead letter.
	Kind, Error string
	// Result says whether the outcome is in the result store.
	Result ResultStatus
	// StartedAt is when the last run started, and Worker the worker that
	// ran it, if the queue recorded it (see Starter); FinishedAt is when
	// the task ended. Zero or empty when unknown.
	StartedAt, FinishedAt time.Time
	Worker                string
}

// Err returns nil for a success, and otherwise the outcome's error: a skip
// matches task.ErrSkipped and its reason's kind; a dead letter matches
// ErrDeadLettered and its reason's kind; a failure matches its kind.
func (s *State) Err() error {
	f := &task.Failure{Kind: s.Kind, Message: s.Error}
	switch s.Status {
	case Succeeded, Queued, Running, Scheduled:
		return nil
	case Skipped:
		return task.Skip(f)
	case Dead:
		return &DeadLetterError{ID: s.ID, Reason: f}
	case Canceled:
		return fmt.Errorf("worker: task %s: %w", s.ID, ErrCanceled)
	}
	return f
}

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

// Outcome is how a worker ends a delivery.
type Outcome struct {
	// Status is Succeeded, Failed, Skipped or Dead to end the task, or
	// Scheduled to run it again at RunAt as attempt Attempt.
	Status  Status
	Attempt int
	RunAt   time.Time
	// Kind and Error describe a failure, skip, dead letter or requeue.
	Kind, Error string
	// Retry marks a Scheduled outcome that is a retry after a failure: Kind
	// and Error then become the next run's LastKind and LastError. Outage
	// marks one that goes back because the backend was unavailable: it is
	// counted in the next delivery's Outages.
	Retry, Outage bool
	// Final holds the run's deferred last writes (its lock releases and
	// result record), or nil. Finish makes them: those of the queue's own
	// backend in the round trip that ends the task, any other first, on its
	// own. The task's state then says whether a result was stored.
	Final *task.FinalWrites
}

// DeadLetter is one entry of a queue's dead letters.
type DeadLetter struct {
	Message
	Kind, Reason string
	At           time.Time
}

// Producer is the side of a queue that callers use: enqueue, and follow a
// task to its outcome (see Client and Handle).
type Producer interface {
	// Enqueue adds m to m.Queue, to run at runAt (now if zero or past). It
	// returns an error matching ErrDuplicate if m.ID is known.
	Enqueue(ctx context.Context, m *Message, runAt time.Time) error
	// EnqueueMany adds each of ms as Enqueue does, all to run at runAt,
	// and returns the error of each (nil if added, one matching
	// ErrDuplicate if its ID is known), or an error for the whole call if
	// it could not be made: then some may have been added.
	EnqueueMany(ctx context.Context, ms []*Message, runAt time.Time) ([]error, error)
	// State returns what the queue knows of task id, or an error matching
	// ErrNotFound.
	State(ctx context.Context, queue, id string) (*State, error)
	// Wait returns task id's state once it is terminal, or when ctx ends.
	Wait(ctx context.Context, queue, id string) (*State, error)
}

// Consumer is the side of a queue that a Worker uses. Deliveries are at
// least once: a delivery whose worker dies is handed out again.
//
// A backend may have run a call whose reply it lost, and run it again (a
// cut connection, a read timeout): each call must then answer as if it ran
// once. A Take whose reply was lost hands the same messages out when sent
// again; a Finish of a delivery that has been finished already changes
// nothing.
type Consumer interface {
	// Take hands consumer up to n ready messages of queue, waiting up to
	// wait for the first. It returns none, without error, if none came.
	Take(ctx context.Context, queue, consumer string, n int, wait time.Duration) ([]*Delivery, error)
	// Recover moves up to n deliveries of queue whose claim has not been
	// extended for minIdle (their worker died) back to its ready messages,
	// counting each in its next Deliveries, and returns how many it moved.
	// It also forgets consumers idle for far longer with nothing pending.
	Recover(ctx context.Context, queue string, minIdle time.Duration, n int) (int, error)
	// Extend renews consumer's claim on deliveries, all of one queue.
	Extend(ctx context.Context, queue, consumer string, ds []*Delivery) error
	// Promote moves up to n due messages of queue from the delayed set to
	// the ready ones, and returns how many it moved.
	Promote(ctx context.Context, queue string, now time.Time, n int) (int, error)
	// Finish ends d as o says, makes o.Final's writes, and wakes the task's
	// waiters. If it fails, d stays claimed and runs again once recovered.
	// A delivery ended already (by another worker that took it over) stays
	// as that one ended it.
	Finish(ctx context.Context, d *Delivery, o Outcome) error
	// Leave forgets consumer, which has nothing pending on queue any more:
	// a worker's clean stop.
	Leave(ctx context.Context, queue, consumer string) error
}

// Queue is both sides of a queue, and its dead letters. Implementations
// are safe for concurrent use.
type Queue interface {
	Producer
	Consumer
	// DeadLetters lists up to n of queue's dead letters, oldest first.
	DeadLetters(ctx context.Context, queue string, n int) ([]DeadLetter, error)
}

// ValidateQueueName refuses a queue name that would break Redis Cluster
// hash tags: empty, or with a brace.
func ValidateQueueName(queue string) error {
	if queue == "" || strings.ContainsAny(queue, "{}") {
		return fmt.Errorf("%w: worker: queue name %q must be non-empty, without braces", task.ErrInvalidConfig, queue)
	}
	return nil
}

// ValidateMessage checks a message to enqueue, for Queue implementations.
func ValidateMessage(m *Message) error {
	if m.ID == "" {
		return errors.New("worker: message without an ID")
	}
	if m.Task == "" {
		return errors.New("worker: message without a task name")
	}
	return ValidateQueueName(m.Queue)
}

// ValidateOutcome checks an outcome to finish a delivery with, for Queue
// implementations.
func ValidateOutcome(d *Delivery, o Outcome) error {
	switch o.Status {
	case Scheduled, Dead, Succeeded, Failed, Skipped, Canceled:
		return nil
	}
	return fmt.Errorf("worker: finish %s: status %q is not an outcome", d.ID, o.Status)
}
