package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/task"
)

// DefaultQueue is the queue used when none is named.
const DefaultQueue = "default"

var (
	// ErrDuplicate means a task with the same ID is already known to the
	// queue: waiting, running, or finished less than the queue's state TTL
	// ago.
	ErrDuplicate = task.NewError("duplicate", "worker: duplicate task ID")
	// ErrNotReady is what Handle.TryGet returns while the task has no
	// outcome yet.
	ErrNotReady = task.NewError("not_ready", "worker: no outcome yet")
	// ErrDeadLettered matches the outcome of a task moved to its queue's
	// dead-letter stream: a payload that does not decode, an unknown task
	// name, a task out of retries, or one delivered too often without
	// finishing.
	ErrDeadLettered = task.NewError("dead_lettered", "worker: dead-lettered")
	// ErrNotFound means the queue knows nothing of the ID: never enqueued,
	// or finished longer ago than the state TTL.
	ErrNotFound = task.NewError("not_found", "worker: task not found")
)

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
}

// Status is where a task is in its life.
type Status string

// The statuses of a task.
const (
	Queued    Status = "queued"    // ready to run
	Scheduled Status = "scheduled" // waiting to be due: delayed, retried or rescheduled
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Dead      Status = "dead" // moved to the dead-letter stream
)

// Terminal reports whether s is a final status.
func (s Status) Terminal() bool {
	return s == Succeeded || s == Failed || s == Skipped || s == Dead
}

// State is what a queue knows of one task.
type State struct {
	ID, Task, Queue string
	Status          Status
	Attempt         int
	// Kind and Error describe a failure, skip or dead letter.
	Kind, Error string
	// Result is true if a result record was written for the outcome, so a
	// handle should read it from the store.
	Result bool
}

// Err returns nil for a success, and otherwise the outcome's error: a skip
// matches task.ErrSkipped and its reason's kind; a dead letter matches
// ErrDeadLettered and its reason's kind; a failure matches its kind.
func (s *State) Err() error {
	f := &task.Failure{Kind: s.Kind, Message: s.Error}
	switch s.Status {
	case Succeeded, Queued, Scheduled:
		return nil
	case Skipped:
		return task.Skip(f)
	case Dead:
		return &DeadLetterError{ID: s.ID, Reason: f}
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

// ErrorKind reports "dead_lettered".
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
	// Result is true if a result record was written for the outcome.
	Result bool
}

// DeadLetter is one entry of a queue's dead-letter stream.
type DeadLetter struct {
	Message
	Kind, Reason string
	At           time.Time
}

// Queue holds tasks for workers: ready ones in order, delayed ones until they
// are due, taken ones until finished, and each task's state for a while
// after. Implementations are safe for concurrent use, and at-least-once: a
// delivery whose worker dies is handed out again.
type Queue interface {
	// Enqueue adds m to m.Queue, to run at runAt (now if zero or past). It
	// returns an error matching ErrDuplicate if m.ID is known.
	Enqueue(ctx context.Context, m *Message, runAt time.Time) error
	// Take hands consumer up to n ready messages of queue, waiting up to
	// wait for the first. It returns none, without error, if none came.
	Take(ctx context.Context, queue, consumer string, n int, wait time.Duration) ([]*Delivery, error)
	// Reclaim hands consumer up to n deliveries of queue whose claim has not
	// been extended for minIdle: their worker died.
	Reclaim(ctx context.Context, queue, consumer string, minIdle time.Duration, n int) ([]*Delivery, error)
	// Extend renews consumer's claim on deliveries, all of one queue.
	Extend(ctx context.Context, queue, consumer string, ds []*Delivery) error
	// Promote moves up to n due messages of queue from the delayed set to
	// the ready ones, and returns how many it moved.
	Promote(ctx context.Context, queue string, now time.Time, n int) (int, error)
	// Finish ends d as o says, and wakes the task's waiters.
	Finish(ctx context.Context, d *Delivery, o Outcome) error
	// State returns what the queue knows of task id, or an error matching
	// ErrNotFound.
	State(ctx context.Context, queue, id string) (*State, error)
	// Wait returns task id's state once it is terminal, or when ctx ends.
	Wait(ctx context.Context, queue, id string) (*State, error)
	// DeadLetters lists up to n entries of queue's dead-letter stream,
	// oldest first.
	DeadLetters(ctx context.Context, queue string, n int) ([]DeadLetter, error)
}

// checkName refuses a queue name that would break Redis Cluster hash tags.
func checkName(queue string) error {
	if queue == "" || strings.ContainsAny(queue, "{}") {
		return fmt.Errorf("%w: worker: queue name %q must be non-empty, without braces", task.ErrInvalidConfig, queue)
	}
	return nil
}

var errNoID = errors.New("worker: message without an ID")

func checkMessage(m *Message) error {
	if m.ID == "" {
		return errNoID
	}
	if m.Task == "" {
		return errors.New("worker: message without a task name")
	}
	return checkName(m.Queue)
}
