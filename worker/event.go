package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskware/taskware/queue"
)

// EventKind names what happened to a task.
type EventKind string

// The kinds of events. Each run a worker takes ends in exactly one of
// Succeeded, Failed, Retrying, Rescheduled, Skipped, DeadLettered,
// Abandoned, Canceled, HandedBack or Superseded; Started comes before it if the run reached its
// chain, TakenOver before that if an earlier worker never finished it, and
// LeaseLost before the end if the run lost a lock.
const (
	// EventEnqueued: a Client added the task to its queue.
	EventEnqueued EventKind = "enqueued"
	// EventStarted: the task's chain is about to run.
	EventStarted EventKind = "started"
	// EventSucceeded: the run returned no error.
	EventSucceeded EventKind = "succeeded"
	// EventFailed: the run failed, and is not retried.
	EventFailed EventKind = "failed"
	// EventRetrying: the run failed, and runs again at RunAt as the next
	// attempt (middleware.Retry).
	EventRetrying EventKind = "retrying"
	// EventRescheduled: the run asked to run again at RunAt without
	// counting an attempt (middleware.RescheduleLocked, a retry that found
	// its lock held), or the backend was unavailable during it.
	EventRescheduled EventKind = "rescheduled"
	// EventSkipped: the run was skipped on purpose (locked, expired): not
	// a failure. Err says why.
	EventSkipped EventKind = "skipped"
	// EventDeadLettered: the task moved to its queue's dead letters. Err
	// matches the reason: ErrUnknownTask, ErrBadMessage,
	// ErrTooManyDeliveries, or the permanent failure that ended it.
	EventDeadLettered EventKind = "dead_lettered"
	// EventLeaseLost: the run lost a lock it held (LockKey); its end
	// follows.
	EventLeaseLost EventKind = "lease_lost"
	// EventAbandoned: a stopping worker cut the run short, after its grace
	// period (at once for a run parked waiting on another, see
	// task.Invocation.Park); the task goes back to its queue, for another
	// worker.
	EventAbandoned EventKind = "abandoned"
	// EventTakenOver: a worker took a task that an earlier one took and
	// never finished (it died); the run starts again.
	EventTakenOver EventKind = "taken_over"
	// EventCanceled: the task was canceled (Client.Cancel): before it ran
	// (published by the client that canceled it), or while it ran (by the
	// worker, once the run's context, cancelled with cause ErrCanceled,
	// ended it).
	EventCanceled EventKind = "canceled"
	// EventHandedBack: a stopping worker gave back a task it had taken but
	// not started (prefetched): it goes back to its queue, unrun.
	EventHandedBack EventKind = "handed_back"
	// EventSuperseded: another worker took the task over (this one was cut
	// off from its queue for longer than the visibility timeout), and this
	// worker's delivery ended with no effect: dropped before it started,
	// its run stopped, or its finish changed nothing. The other delivery's
	// outcome stands. Err matches queue.ErrClaimLost if the worker learned
	// of the takeover before the run ended (the run never started, or its
	// context was cancelled with that cause), else queue.ErrSuperseded.
	EventSuperseded EventKind = "superseded"
	// EventProgress: the run's progress report (task.Progress) was
	// written, in Event.Progress. Published only by a worker made with
	// ProgressEvents, at most once a second per run (the rate reports are
	// written at), between the run's EventStarted and its end; it is no
	// end of a run.
	EventProgress EventKind = "progress"
)

// The kinds of a workflow's events (see package workflow), which name the
// workflow (Event.Workflow, and its home queue in Queue), not a task: Task
// and ID are empty, Attempt 0. Each is published at most once: a backend
// that lost the reply of the call that started or ended a workflow hears
// "nothing changed" when it sends it again, and the event is lost (a
// failed Finish or Enqueue is tried again). A workflow retried
// (queue.Workflows.RetryStep) ends again, and is published again.
const (
	// EventWorkflowStarted: a Client enqueued the workflow (an enqueue
	// sent again that stored nothing new publishes none). RunAt is when
	// its roots are due, if later than now. It is published once the
	// backend stored the workflow, so a listener may see a quick
	// workflow's end, published by a worker, before it.
	EventWorkflowStarted EventKind = "workflow_started"
	// EventWorkflowSucceeded: every step ended and none failed it; Step
	// is the step whose finish, on Worker, ended it.
	EventWorkflowSucceeded EventKind = "workflow_succeeded"
	// EventWorkflowFailed: a step failed it; Step is the step whose
	// finish, on Worker, failed it, and Err that step's error if its own
	// failure did (a step a skipped parent fails has none: the workflow's
	// state says why, queue.WorkflowState.Kind and Error). A workflow
	// that fails because Client.Cancel canceled a step before it ran
	// publishes none: no finish ended it, and the client does not know
	// the task it canceled was a step; its EventCanceled tells the cancel.
	EventWorkflowFailed EventKind = "workflow_failed"
	// EventWorkflowCanceled: a Client canceled the running workflow
	// (queue.Workflows.CancelWorkflow). Err matches queue.ErrCanceled.
	EventWorkflowCanceled EventKind = "workflow_canceled"
)

// OfWorkflow reports whether k is a workflow's event, not a task's.
func (k EventKind) OfWorkflow() bool {
	switch k {
	case EventWorkflowStarted, EventWorkflowSucceeded, EventWorkflowFailed, EventWorkflowCanceled:
		return true
	}
	return false
}

// Event is one thing that happened to a task, or to a workflow (see
// EventKind.OfWorkflow).
type Event struct {
	Kind EventKind
	// Task, Queue and ID name the task; Queue is the queue it was
	// enqueued on, never a partition's name (see queue.SplitPartition).
	Task, Queue, ID string
	// Workflow and Step name the workflow and step of a workflow step's
	// events, and a workflow's events; empty for a plain task's.
	Workflow, Step string
	// Attempt is the run's attempt, 1 on the first.
	Attempt int
	// Worker names the worker (see Name); empty for EventEnqueued.
	Worker string
	// At is when it happened.
	At time.Time
	// Duration is how long the run took, for the events that end a run
	// that reached its chain; Waited, on EventStarted, how long the task
	// waited since it was enqueued.
	Duration, Waited time.Duration
	// LockKey and Fence name the lock the run asked for, if it did (the
	// last one, if several), and LockWait and LockHeld how long it took to
	// take it and how long the run held it.
	LockKey            string
	Fence              int64
	LockWait, LockHeld time.Duration
	// Err is the failure, the reason of a skip or dead letter, or the
	// cause of a retry or reschedule; nil otherwise. It matches its kind
	// (errors.Is), as a Handle's error does.
	Err error
	// RunAt is when a retried or rescheduled task runs again.
	RunAt time.Time
	// Progress is the report written, on EventProgress; zero otherwise.
	Progress queue.Progress
}

// DefaultEventBuffer is how many events a subscriber may fall behind by
// before the next ones are dropped for it (and counted: see
// Worker.DroppedEvents).
const DefaultEventBuffer = 10000

// EventOption is an option of both New and NewClient.
type EventOption interface {
	Option
	ClientOption
}

type eventOption struct{ fn func(Event) }

func (o eventOption) apply(w *Worker) { w.events.subscribe(o.fn, &w.onError) }

func (o eventOption) applyClient(c *Client) { c.events.subscribe(o.fn, nil) }

// OnEvent calls fn with each event of the worker or client, in the order
// they were published, on a goroutine of its own: a slow fn never slows
// the tasks. A run's events are in order; the runs of one task are not
// always: a run's end event is published once its finish landed, so a
// retry due at once may start on another slot first (started, started,
// retrying, succeeded). If fn falls more
// than DefaultEventBuffer events behind, the next ones are dropped for it,
// and counted. A panic in fn is recovered and reported (OnError), and fn
// goes on with the next event. A worker's Run waits, up to its grace
// period, for its subscribers to see its last events before it returns.
func OnEvent(fn func(Event)) EventOption {
	if fn == nil {
		panic(configError("OnEvent: nil func"))
	}
	return eventOption{fn}
}

// events fans events out to subscribers.
type events struct{ subs []*subscriber }

func (es *events) subscribe(fn func(Event), onError *func(error)) {
	es.subs = append(es.subs, &subscriber{fn: fn, onError: onError, max: DefaultEventBuffer})
}

func (es *events) on() bool { return len(es.subs) > 0 }

func (es *events) publish(e *Event) {
	for _, s := range es.subs {
		s.publish(e)
	}
}

func (es *events) dropped() uint64 {
	var n uint64
	for _, s := range es.subs {
		n += s.dropped.Load()
	}
	return n
}

// flush waits until every subscriber has seen what was published, or
// until ctx ends.
func (es *events) flush(ctx context.Context) error {
	for _, s := range es.subs {
		s.mu.Lock()
		done := s.idle
		s.mu.Unlock()
		if done == nil {
			continue
		}
		select {
		case <-done:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// subscriber is one subscriber's queue of events and the goroutine that
// feeds them to it. The goroutine runs while events wait, and exits when
// none does: an idle worker or client keeps none.
type subscriber struct {
	fn      func(Event)
	onError *func(error) // the worker's, or nil: report to slog
	max     int
	dropped atomic.Uint64

	mu    sync.Mutex
	queue []Event
	spare []Event
	idle  chan struct{} // closed when the running goroutine exits; nil if none runs
}

func (s *subscriber) publish(e *Event) {
	s.mu.Lock()
	if len(s.queue) >= s.max {
		s.mu.Unlock()
		s.dropped.Add(1)
		return
	}
	s.queue = append(s.queue, *e)
	if s.idle == nil {
		s.idle = make(chan struct{})
		go s.drain(s.idle)
	}
	s.mu.Unlock()
}

func (s *subscriber) drain(idle chan struct{}) {
	for {
		s.mu.Lock()
		batch := s.queue
		if len(batch) == 0 {
			s.idle = nil
			s.mu.Unlock()
			close(idle)
			return
		}
		s.queue, s.spare = s.spare[:0], nil
		s.mu.Unlock()
		for i := range batch {
			s.call(&batch[i])
			batch[i] = Event{} // drop its error for the GC
		}
		s.mu.Lock()
		if s.spare == nil {
			s.spare = batch[:0]
		}
		s.mu.Unlock()
	}
}

// call runs the subscriber on one event; a panic is reported, not spread.
func (s *subscriber) call(e *Event) {
	defer func() {
		if v := recover(); v != nil {
			err := fmt.Errorf("worker: event subscriber panicked on %s of %s: %v", e.Kind, e.ID, v)
			if s.onError != nil && *s.onError != nil {
				(*s.onError)(err)
			} else {
				defaultOnError(err)
			}
		}
	}()
	s.fn(*e)
}

// defaultOnError reports an error nobody asked for to slog.Default.
func defaultOnError(err error) { slog.Default().Error("taskware worker", "err", err) }

// DroppedEvents counts the events dropped for subscribers that fell too
// far behind (see OnEvent).
func (w *Worker) DroppedEvents() uint64 { return w.events.dropped() }

// DroppedEvents counts the events dropped for subscribers that fell too
// far behind (see OnEvent).
func (c *Client) DroppedEvents() uint64 { return c.events.dropped() }

// FlushEvents waits until the client's subscribers have seen every event
// published so far, or until ctx ends, and then returns its cause. A
// client's events are delivered on goroutines of their own: call it
// before a program that enqueued exits, or before it reads what its
// subscribers counted. (A worker's Run does as much for its own events.)
func (c *Client) FlushEvents(ctx context.Context) error { return c.events.flush(ctx) }
