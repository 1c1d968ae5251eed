// Package worker runs tasks from a queue: the loop the article describes,
// where a task is enqueued, a worker takes it and runs it through its
// chain, the outcome is stored, and the caller reads it back.
//
// A [Client] enqueues typed tasks ([Enqueue], or a batch in one round trip
// with [EnqueueMany]) and returns a [Handle], whose
// Get waits for the outcome: the stored result, or the error, which still
// matches its kind (lock.ErrLocked, middleware.ErrExpired, task.ErrSkipped,
// queue.ErrDeadLettered). Every run a worker ends leaves the task's state in
// the queue, stored result or not, so a handle never waits for a task that
// has ended.
//
// A [Worker] takes tasks from one or more queues and runs at most
// Concurrency at once, holding up to as many more ready to start, as many
// as ended since its last take ([Prefetch]). A run that waits on another
// run parks (task.Invocation.Park): it gives back its slot while it waits.
// A run's task.Progress reports go to its task's state (Handle.State),
// at most one write a second, without waiting on the backend.
// Tasks registered with [Register] run with their own
// chain, or the worker's default chain if they have none. [Worker.Run]
// stops on ctx: it lets running tasks finish within a grace period and
// hands the rest, and those not started, back to their queue, for another
// worker. A task that cannot
// run becomes a dead letter with its reason: [ErrUnknownTask],
// [ErrTooManyDeliveries], task.ErrBadPayload, or a permanent failure
// (task.ErrPermanent, retries exhausted among them).
//
// The queue contract lives in package queue: a [Client] uses its
// queue.Producer side (enqueue, states, waits, cancels), a [Worker] its
// queue.Consumer side (take, reclaim, extend, promote, finish) and its
// queue.Batches side (see Batches below), which make a [Queue], and
// operators its queue.Admin side. This package holds no backend: package
// redisbackend keeps queues in Redis streams, package memorybackend in
// memory. A worker collects each run's last writes (task.FinalWrites: the
// run's WithLock release and StoreResult write) and hands them to the
// queue's Finish, which makes those of its own backend in the call that
// ends the task.
//
// A workflow step (package workflow) is a task like any other, and its
// task must be registered as any task is. Its delivery carries its
// parents' outcomes, which the worker hands to the run
// (task.Invocation.Inputs) for the task to build its arguments from; its
// success gives the queue its result, encoded with its codec
// (queue.Outcome.Result), for the queue to hand to its children. A
// Client enqueues workflows once given the queue's workflow side
// ([WithWorkflows]). A step's events name its workflow and step
// (Event.Workflow, Event.Step); the workflow's own events are published
// by the client that starts or cancels it ([EventWorkflowStarted],
// [EventWorkflowCanceled]) and by the worker whose step's finish ends it
// ([EventWorkflowSucceeded], [EventWorkflowFailed]), at most once each.
//
// # Batches
//
// Tasks enqueued with [Group] wait in their group (of their queue, task
// and key) until a worker that registered their task with [RegisterBatch]
// makes the group a batch: once it holds [BatchSize] tasks, its oldest
// waited [BatchDelay], or its newest [BatchGrace] (the worker's promote
// loop asks the queue, queue.Batches.FlushGroups). The batch is a
// delivery of its own, taken, kept claimed, recovered and finished like
// any: the batch handler gets its tasks' arguments in one call, and
// returns a result per task, one error for all, or a [*BatchError] with an
// error per task. Each task runs through its own chain around its share
// of that call, so it keeps its own retries (a retried task goes back to
// its group), stored result (its Handle's Get reads it), state and events;
// the queue ends all the batch's tasks, and the batch, in one
// FinishBatch. A batch whose worker dies runs again, whole but for the
// tasks that ended; no task is in two batches.
//
// The executor imports task and the queue contract only: no policy, no
// backend.
//
// # Flow control
//
// [UniqueKey] and [UniqueArgs] make one task of many enqueues: a duplicate
// returns, with its *queue.DuplicateError, a handle on the task that
// stands, and the key is let go as soon as that task ends. [Client.Cancel]
// cancels a task from any process: one not run yet never runs; a running
// one has its context cancelled with cause queue.ErrCanceled and ends as
// canceled, not retried. A queue's Admin side pauses it (nothing more is
// taken from it until it is resumed), and requeues dead letters as fresh
// tasks, or purges them. [Queues] takes weights ("critical=6"), and
// [StrictPriority] drains queues in order. Per enqueue, [Retries] and
// [Timeout] override the task's middleware.Retry and Timeout.
//
// # Seeing it run
//
// [OnEvent] subscribes a function to a worker's or a client's events, one
// typed [Event] per outcome, with the task, queue, ID, attempt, duration,
// lock key and fence, and the error (matchable with errors.Is). Each
// subscriber has a goroutine and a buffer of its own: a slow one falls
// behind, and past [DefaultEventBuffer] loses events (counted by
// [Worker.DroppedEvents]), but never slows a task; a panicking one is
// reported and goes on. An event that ends a run is published once the
// queue has ended it: if that fails (the backend is down), the task runs
// again later, and its next end is published then, after a
// [EventTakenOver]. A worker's Run returns once its subscribers have seen
// its events; a program that enqueues calls [Client.FlushEvents] before it
// exits. [Logger] logs each event with log/slog, at a level
// that tells contention (Info) from failure (Error). [Around] wraps every
// task in middlewares (tracing, say). The modules contrib/prometheus and
// contrib/otel build metrics and traces on these. A task's state says
// when it started, on which worker, and when it finished; a queue's Admin
// side counts its tasks (queue.Stats) and lists its workers.
//
// Huey's signals map onto the events so:
//
//	Huey signal          taskware event
//	SIGNAL_ENQUEUED      EventEnqueued (RunAt set if delayed)
//	SIGNAL_SCHEDULED     EventEnqueued with a RunAt, EventRetrying, EventRescheduled
//	SIGNAL_EXECUTING     EventStarted
//	SIGNAL_COMPLETE      EventSucceeded
//	SIGNAL_ERROR         EventFailed; EventDeadLettered for a permanent failure
//	SIGNAL_RETRYING      EventRetrying
//	SIGNAL_LOCKED        EventSkipped, Err matching lock.ErrLocked (under
//	                     middleware.SkipLocked; EventFailed without it)
//	SIGNAL_EXPIRED       EventSkipped, Err matching middleware.ErrExpired
//	SIGNAL_TIMEOUT       EventFailed, Err matching context.DeadlineExceeded
//	                     (middleware.Timeout)
//	SIGNAL_CANCELED      EventSkipped (a run that chose not to run: task.Skip)
//	SIGNAL_INTERRUPTED   EventAbandoned
//	SIGNAL_REVOKED       EventCanceled (Client.Cancel of a task not run yet)
//	SIGNAL_RATE_LIMITED  EventRescheduled, Err matching limit.ErrRateLimited
//
// and taskware adds what Huey cannot tell: EventDeadLettered with its
// reason (an unknown task, a malformed message, too many deliveries),
// EventLeaseLost, EventTakenOver (a dead worker's task runs again),
// EventCanceled while it runs, EventHandedBack (a task taken but not
// started when its worker stopped goes back to its queue, unrun), and
// EventSuperseded (a worker cut off from its queue for longer than the
// visibility timeout learns that another took its task over: its run is
// stopped or never starts, and its finish changes nothing), and, from a
// worker made with [ProgressEvents], EventProgress for each progress
// report it writes.
//
// Delivery is at least once: a task whose worker dies mid-run runs again.
// Workers, clients and handles are safe for concurrent use.
package worker
