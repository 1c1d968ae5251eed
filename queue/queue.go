package queue

import (
	"context"
	"time"
)

// Queue is every side of a queue. Implementations are safe for concurrent
// use.
type Queue interface {
	Producer
	Consumer
	Admin
	Server
	Schedules
	Workflows
	Batches
}

// Producer is the side of a queue that callers use: enqueue, follow a
// task to its outcome, cancel it.
//
// Every call answers as if sent once, even when a backend sent it again
// after a lost reply.
type Producer interface {
	// Enqueue adds m to m.Queue, to run at runAt (now if zero or past). It
	// returns an error matching ErrDuplicate if m.ID is known, or m.Unique
	// is held by another task.
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
	// Cancel cancels task id of queue (see CancelOutcome), or returns an
	// error matching ErrNotFound. A Cancel the backend sent again, its
	// reply lost, answers as the first did (CancelDone for the task it
	// canceled); a second Cancel of the caller's says CancelTooLate.
	Cancel(ctx context.Context, queue, id string) (CancelOutcome, error)
}

// CancelOutcome is what Cancel did.
type CancelOutcome string

// The outcomes of a Cancel.
const (
	// CancelDone: the task had not started; it is canceled, and never
	// runs.
	CancelDone CancelOutcome = "canceled"
	// CancelSent: a worker holds the task (running, or about to run it);
	// it was told to cancel the run's context, with cause ErrCanceled. The
	// task ends as canceled if the run stops for it, and is not retried.
	CancelSent CancelOutcome = "cancel sent"
	// CancelTooLate: the task had ended already; nothing changed.
	CancelTooLate CancelOutcome = "too late"
)

// Consumer is the side of a queue that a worker uses. Deliveries are at
// least once: a delivery whose worker dies is handed out again.
//
// A backend may have run a call whose reply it lost, and run it again (a
// cut connection, a read timeout): each call must then answer as if it ran
// once. A Take whose reply was lost hands the same messages out when sent
// again; a Finish of a delivery that has been finished already changes
// nothing.
type Consumer interface {
	// Take hands consumer up to n ready messages of queue, waiting up to
	// wait for the first. It returns none, without error, if none came, or
	// if the queue is paused.
	Take(ctx context.Context, queue, consumer string, n int, wait time.Duration) ([]*Delivery, error)
	// Started records, without waiting, that d started to run on worker at
	// at, in its task's state (Running, StartedAt, Worker). A start
	// recorded after the task ended changes nothing.
	Started(ctx context.Context, d *Delivery, worker string, at time.Time)
	// Progress records p, the progress of d's run, in its task's state
	// (State.Progress), possibly without waiting: a write that is lost
	// loses only that report. It writes only while d is still this
	// worker's and running: a report after the finish, or after Recover
	// took d over, changes nothing. Finish clears it. Bad input returns an
	// error matching task.ErrBadProgress (see ValidateProgress).
	Progress(ctx context.Context, d *Delivery, p Progress) error
	// Extend renews consumer's claim on deliveries, all of one queue, and
	// returns those of ds it no longer holds: finished, or taken over by
	// Recover (their worker was cut off for longer than minIdle). A lost
	// delivery belongs to whoever took it over: its holder must not start
	// it, and should stop its run (cause ErrClaimLost).
	Extend(ctx context.Context, queue, consumer string, ds []*Delivery) (lost []*Delivery, err error)
	// Finish ends d as o says, makes o.Final's writes, and wakes the task's
	// waiters. If it fails, d stays claimed and runs again once recovered.
	// A delivery ended already changes nothing: Finish returns nil if this
	// delivery's own finish ended it (a call sent again after a lost
	// reply), and an error matching ErrSuperseded if Recover took it over
	// (its new delivery's outcome stands; o.Final's releases are made, its
	// results are not written). Finish of a workflow step sets
	// d.WorkflowEnd to the workflow's status if this call ended the
	// workflow (Succeeded or Failed), and leaves it as it was otherwise (a
	// finish sent again changes nothing, and sets nothing): see
	// Delivery.WorkflowEnd.
	Finish(ctx context.Context, d *Delivery, o Outcome) error
	// Recover puts up to n deliveries of queue whose claim has not been
	// extended for minIdle (their worker died) back among its ready
	// messages, ahead of those never taken: the next Takes hand them out
	// first. It counts each in its next Deliveries, and returns how many it
	// moved. It also forgets consumers idle for far longer with nothing
	// pending.
	Recover(ctx context.Context, queue string, minIdle time.Duration, n int) (int, error)
	// Promote moves up to n due messages of queue from the delayed set to
	// the ready ones, and returns how many it moved.
	Promote(ctx context.Context, queue string, now time.Time, n int) (int, error)
	// Leave forgets consumer, which has nothing pending on queue any more:
	// a worker's clean stop.
	Leave(ctx context.Context, queue, consumer string) error
	// WatchCancels calls fn with each task canceled while fn is watched
	// (see Producer.Cancel), until stop is called: a worker that holds the
	// task cancels its run.
	WatchCancels(fn func(queue, id string)) (stop func())
}
