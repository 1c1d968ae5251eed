package worker

import (
	"context"
	"time"
)

// QueueStats counts a queue's tasks by where they are, for dashboards,
// metrics and the taskware command.
type QueueStats struct {
	Queue string
	// Ready tasks wait for a worker; Running ones are taken by one (running,
	// or prefetched to start next); Delayed ones wait to be due (delayed,
	// retried or rescheduled); Dead ones are dead letters.
	Ready, Running, Delayed, Dead int64
	// OldestReady is how long the oldest ready task has waited, 0 if none.
	OldestReady time.Duration
	// Workers counts the workers seen on the queue within LiveWorkerWindow.
	Workers int
}

// LiveWorkerWindow is how recently a worker must have taken from, or
// renewed its claims on, a queue to count as live there. A live worker
// does so at least every PollWait and Visibility/3.
const LiveWorkerWindow = time.Minute

// WorkerInfo is what a queue knows of one worker that read from it.
type WorkerInfo struct {
	Name  string
	Queue string
	// Pending counts the tasks it holds: running, or prefetched.
	Pending int64
	// Idle is the time since it last took from, or renewed its claims on,
	// the queue.
	Idle time.Duration
}

// Inspector shows a backend's queues, for operators, metrics and the
// taskware command. Both backends' queues implement it.
type Inspector interface {
	// Queues lists the queues that hold anything (ready, taken, delayed or
	// dead tasks) or are paused. Sorted by name.
	Queues(ctx context.Context) ([]string, error)
	// Stats counts queue's tasks. A queue that holds nothing has zero
	// counts, and no error.
	Stats(ctx context.Context, queue string) (*QueueStats, error)
	// Workers lists the workers known to queue, by name.
	Workers(ctx context.Context, queue string) ([]WorkerInfo, error)
}

// Starter is a Consumer that records when a delivery starts to run, and on
// which worker, in the task's state (Running, StartedAt, Worker). A worker
// calls it, without waiting, as it starts each run; a start recorded after
// the task ended changes nothing.
type Starter interface {
	Started(ctx context.Context, d *Delivery, worker string, at time.Time)
}

// TaskSet names a part of a queue, for a listing of its tasks (see Lister).
type TaskSet string

// The parts of a queue a Lister lists.
const (
	// ReadyTasks wait for a worker, oldest first.
	ReadyTasks TaskSet = "ready"
	// RunningTasks are taken by a worker (running, or prefetched), oldest
	// first, each with its worker and the time since its claim was renewed.
	RunningTasks TaskSet = "running"
	// DelayedTasks wait to be due (delayed, retried or rescheduled), by due
	// time.
	DelayedTasks TaskSet = "delayed"
	// DeadTasks are the dead letters, oldest first.
	DeadTasks TaskSet = "dead"
	// FinishedTasks ended (succeeded, failed, skipped or dead) less than the
	// state TTL ago, the latest first.
	FinishedTasks TaskSet = "finished"
)

// TaskSets lists every TaskSet, in a queue's order.
var TaskSets = []TaskSet{ReadyTasks, RunningTasks, DelayedTasks, DeadTasks, FinishedTasks}

// TaskInfo is one task of a listing: what its queue knows of it where it
// is. Fields that do not apply there are zero.
type TaskInfo struct {
	ID, Task, Queue string
	Status          Status
	// Attempt counts runs, 1 on the first.
	Attempt int
	// EnqueuedAt is when the task was enqueued, zero if unknown.
	EnqueuedAt time.Time
	// Receipt is the queue's entry of a ready, running or dead task (on
	// Redis, a stream entry ID).
	Receipt string
	// Worker holds a running task; of a finished one, it is the worker that
	// ran it, if the queue recorded it.
	Worker string
	// Idle is, for a running task, the time since its worker took it or
	// last renewed its claim.
	Idle time.Duration
	// Deliveries counts how often the task was handed out; more than one
	// means a worker died with it.
	Deliveries int
	// RunAt is when a delayed task is due.
	RunAt time.Time
	// Kind and Error describe a dead letter's reason, a finished task's
	// failure or skip, or the failure a delayed retry follows.
	Kind, Error string
	// StartedAt is when the last run started and FinishedAt when the task
	// ended (for a dead letter, when it was dead-lettered), if known.
	StartedAt, FinishedAt time.Time
	// Malformed says why the queue could not read the task's message.
	Malformed string
}

// Lister lists a queue's tasks, for operators and the taskware command.
// Both backends' queues implement it.
type Lister interface {
	// Tasks lists up to limit tasks of queue in set: all if limit <= 0,
	// up to a backend's cap (100 000 on Redis).
	Tasks(ctx context.Context, queue string, set TaskSet, limit int) ([]TaskInfo, error)
}

// Pauser pauses and resumes queues. Both backends' queues implement it.
// A paused queue is not taken from: workers that find it paused take
// nothing and wait, and go on when it is resumed. Tasks taken before the
// pause go on; enqueues go on too.
type Pauser interface {
	Pause(ctx context.Context, queue string) error
	Resume(ctx context.Context, queue string) error
	Paused(ctx context.Context, queue string) (bool, error)
}

// DeadRepairer requeues and purges dead letters. Both backends' queues
// implement it. The IDs are task IDs (or, on Redis, dead letters' entry
// IDs); none means all of the queue's. RequeueDead puts each back as a
// fresh delivery, attempt 1, and returns the task IDs it requeued and
// the dead letters it kept, those whose task was enqueued anew since;
// PurgeDead returns how many it deleted.
type DeadRepairer interface {
	RequeueDead(ctx context.Context, queue string, ids ...string) (requeued, kept []string, err error)
	PurgeDead(ctx context.Context, queue string, ids ...string) (int, error)
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

// Canceler cancels tasks. Both backends' queues implement it, across
// processes on Redis.
type Canceler interface {
	// Cancel cancels task id of queue, or returns an error matching
	// ErrNotFound.
	Cancel(ctx context.Context, queue, id string) (CancelOutcome, error)
}

// CancelWatcher is a Consumer that tells a worker when a task it may hold
// is canceled. A Worker calls WatchCancels for as long as it runs.
type CancelWatcher interface {
	WatchCancels(fn func(queue, id string)) (stop func())
}

// OutcomeCounts counts the tasks of a queue that ended, or went back to
// wait, in one minute, by how: for dashboards of throughput and outcome
// rates.
type OutcomeCounts struct {
	// Minute is the minute's start.
	Minute time.Time
	// Succeeded, Failed, Dead and Canceled count the tasks that ended so.
	Succeeded, Failed, Dead, Canceled int64
	// SkippedLocked, SkippedExpired and SkippedOther count the skips: a
	// lock held elsewhere (lock.locked), an expiry (middleware.expired),
	// any other reason.
	SkippedLocked, SkippedExpired, SkippedOther int64
	// Retried counts the runs that failed and go back to run again;
	// Rescheduled those that go back without using an attempt.
	Retried, Rescheduled int64
}

// Add adds o's counts to c's (its Minute stays).
func (c *OutcomeCounts) Add(o OutcomeCounts) {
	c.Succeeded += o.Succeeded
	c.Failed += o.Failed
	c.Dead += o.Dead
	c.Canceled += o.Canceled
	c.SkippedLocked += o.SkippedLocked
	c.SkippedExpired += o.SkippedExpired
	c.SkippedOther += o.SkippedOther
	c.Retried += o.Retried
	c.Rescheduled += o.Rescheduled
}

// RateReader reads a queue's outcome counts per minute. The Redis
// backend's queue keeps them for an hour.
type RateReader interface {
	// Rates returns the counts of queue's minutes from since's to now's,
	// oldest first, one per minute, zero where nothing happened.
	Rates(ctx context.Context, queue string, since time.Time) ([]OutcomeCounts, error)
}
