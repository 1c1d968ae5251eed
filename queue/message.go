package queue

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/task"
)

// Defaults that every backend's queue honours.
const (
	// Default is the queue used when none is named.
	Default = "default"
	// DefaultStateTTL is how long a finished task's state is kept: its
	// outcome for handles, and the window in which its ID is a duplicate.
	DefaultStateTTL = 24 * time.Hour
	// DefaultDeadLetterMax caps each queue's dead letters, the oldest going
	// first.
	DefaultDeadLetterMax = 10000
)

// Message is a task in a queue.
type Message struct {
	ID    string
	Task  string
	Queue string
	// Payload holds the encoded arguments.
	Payload    []byte
	EnqueuedAt time.Time
	// ExpiresAt, if not zero, is when the run must not start any more. A
	// time before 1970 is as valid as any: such a task has expired.
	ExpiresAt time.Time
	// Attempt counts runs, 1 on the first.
	Attempt int
	// LastKind and LastError describe the failure that made this run a
	// retry; both are empty on a run that never failed.
	LastKind, LastError string
	// Unique, if not empty, is the task's unique key: while a task of the
	// queue holds it (until that task ends, for at most UniqueFor, or the
	// queue's state TTL if UniqueFor is 0), an enqueue with the same key is
	// refused as a duplicate of it. The queue keeps it apart from the
	// message.
	Unique    string
	UniqueFor time.Duration
	// Headers is the message's metadata, set at enqueue and read by
	// middlewares as task.Invocation.Headers. Nil if none.
	Headers map[string]string
	// Step places the message in a workflow (see Workflows); nil for a
	// plain task.
	Step *Step
	// Group, if not empty, is the message's group key: the message waits
	// in its group (of its queue, task and key) until the group is flushed
	// into a batch (Batches.FlushGroups), instead of being ready.
	Group string
	// OrderKey, if not empty, routes the message to one partition of a
	// partitioned queue with every other message of the same key, so that
	// they are handed out in the order they were enqueued (see
	// Message.RouteKey). It changes nothing on a queue of one partition.
	OrderKey string
	// Batch lists a batch message's members' IDs, in order; nil for any
	// other message. A batch is made by FlushGroups, never enqueued.
	Batch []string
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
	// Inputs are a workflow step's parents' outcomes, in the order of
	// Step.Parents, when the step was released; nil for a plain task.
	Inputs []task.Input
	// WorkflowEnd is set by the Consumer.Finish of a workflow step that
	// ended the step's workflow: Succeeded or Failed. No other Finish
	// writes it, so that finishes of one delivery may run at once: a
	// finish sent again after a lost reply sets nothing (the end is told
	// at most once, and a lost reply loses it). "" until then.
	WorkflowEnd Status
}

// Outcome is how a worker ends a delivery.
type Outcome struct {
	// Status is Succeeded, Failed, Skipped, Dead or Canceled to end the
	// task, or Scheduled to run it again at RunAt as attempt Attempt.
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
	// Stack is a panic's stack (task.PanicError), at most MaxAttemptStack
	// bytes (CapStack), for the run's Attempt; "" if the run did not panic.
	Stack string
	// Worker ran the delivery since StartedAt, for the run's Attempt; if
	// empty, the Attempt has those Started recorded, if the task runs.
	Worker    string
	StartedAt time.Time
	// Final holds the run's deferred last writes (its lock releases and
	// result record), or nil. Finish makes them, whatever the status:
	// those of the queue's own backend in the round trip that ends the
	// task, any other first, on its own. The task's state then says
	// whether a result was stored.
	Final *task.FinalWrites
	// Result is a workflow step's result, encoded, when it succeeded: its
	// children's input. At most MaxStepResult bytes; nil for a plain task.
	Result []byte
}

// MaxStepResult caps a step's result, as it becomes its children's
// payload.
const MaxStepResult = 1 << 20

// DeadLetter is one entry of a queue's dead letters.
type DeadLetter struct {
	Message
	Kind, Reason string
	At           time.Time
}

// ValidateName refuses a queue name that would break Redis Cluster hash
// tags (empty, or with a brace), or that holds '#', which names a
// queue's partitions (see PartitionName).
func ValidateName(queue string) error {
	if queue == "" || strings.ContainsAny(queue, "{}#") {
		return fmt.Errorf("%w: queue: name %q must be non-empty, without braces or '#'", task.ErrInvalidConfig, queue)
	}
	return nil
}

// ValidateMessage checks a message to enqueue, for backends.
func ValidateMessage(m *Message) error {
	if m.ID == "" {
		return errors.New("queue: message without an ID")
	}
	if m.Task == "" {
		return errors.New("queue: message without a task name")
	}
	if m.Batch != nil {
		return fmt.Errorf("%w: queue: message %s: a batch is made by FlushGroups, never enqueued", task.ErrInvalidConfig, m.ID)
	}
	if m.Group != "" && m.Step != nil {
		return fmt.Errorf("%w: queue: message %s: a workflow step cannot be grouped", task.ErrInvalidConfig, m.ID)
	}
	if m.UniqueFor < 0 {
		return fmt.Errorf("queue: message %s: negative unique window %v", m.ID, m.UniqueFor)
	}
	return ValidateName(m.Queue)
}

// ValidateOutcome checks an outcome to finish a delivery with, for
// backends: its status, and its Result, at most MaxStepResult bytes (else
// an error matching task.ErrTooLarge).
func ValidateOutcome(d *Delivery, o Outcome) error {
	switch o.Status {
	case Scheduled, Dead, Succeeded, Failed, Skipped, Canceled:
	default:
		return fmt.Errorf("queue: finish %s: status %q is not an outcome", d.ID, o.Status)
	}
	if len(o.Result) > MaxStepResult {
		return fmt.Errorf("queue: finish %s: %w", d.ID, &task.TooLargeError{What: "result of step " + d.ID, Size: len(o.Result), Max: MaxStepResult})
	}
	return nil
}
