package queue

import (
	"bytes"
	"context"
	"maps"
	"strings"
	"time"
	"unicode/utf8"
)

// Admin is the side of a queue that operators, metrics and tools use:
// inspection and repair.
type Admin interface {
	// Queues lists the queues the backend knows, sorted by name: those that
	// hold anything (ready, taken, delayed or dead tasks, or workflow steps
	// waiting for their parents) or are paused,
	// and those that drained while their tasks' states are kept (a backend
	// may keep a drained queue listed for longer, never shorter).
	Queues(ctx context.Context) ([]string, error)
	// Stats counts queue's tasks. A queue that holds nothing has zero
	// counts, and no error.
	Stats(ctx context.Context, queue string) (*Stats, error)
	// Workers lists the workers known to queue, by name.
	Workers(ctx context.Context, queue string) ([]WorkerInfo, error)
	// Tasks lists up to limit tasks of queue in set: all if limit <= 0, up
	// to a backend's cap (100 000 on Redis).
	Tasks(ctx context.Context, queue string, set TaskSet, limit int) ([]TaskInfo, error)
	// ListTasks returns one page of queue's tasks in q.Set that match q's
	// filters, in the order Tasks lists them, and the cursor of the next
	// page ("" at the end). Paging from "" to the end lists every task
	// that stayed in the set meanwhile exactly once, in order; tasks added
	// or removed between pages change nothing else. A backend may stop a
	// filtered page short of q.Limit, after scanning its budget of rows
	// (ScanBudget), with a Next to go on from. A cursor it cannot read, or
	// one of another set, is an error matching ErrBadCursor.
	ListTasks(ctx context.Context, queue string, q TaskQuery) (*TaskPage, error)
	// Find returns what each of queues (all, if none is given) knows of
	// task id: none if none knows it.
	Find(ctx context.Context, id string, queues ...string) ([]TaskInfo, error)
	// Message returns task id's message (its arguments and headers) while
	// it waits: ready, running or delayed; or, once it failed, as its last
	// run had it, while its state is kept; or an error matching
	// ErrNotFound.
	Message(ctx context.Context, queue, id string) (*Message, error)
	// DeadLetters lists up to n of queue's dead letters, oldest first.
	DeadLetters(ctx context.Context, queue string, n int) ([]DeadLetter, error)
	// RequeueDead puts dead letters back as fresh deliveries, attempt 1,
	// and returns the task IDs it requeued and the dead letters it kept:
	// those whose task was enqueued anew since, and those of workflow
	// steps (Workflows.RetryStep runs a step again, in its workflow). The IDs are task IDs (or a
	// backend's dead letter entries); none means all of the queue's.
	RequeueDead(ctx context.Context, queue string, ids ...string) (requeued, kept []string, err error)
	// PurgeDead deletes dead letters, named as RequeueDead names them, and
	// returns how many it deleted. Either, sent again by the backend after
	// a lost reply, answers as the first time; called again by the caller,
	// it finds nothing more to do.
	PurgeDead(ctx context.Context, queue string, ids ...string) (int, error)
	// Pause stops workers taking from queue, until Resume: tasks taken
	// before go on, and so do enqueues. The ready tasks stay as they are,
	// however often workers poll: in order, and with their age
	// (Stats.OldestReady).
	Pause(ctx context.Context, queue string) error
	Resume(ctx context.Context, queue string) error
	Paused(ctx context.Context, queue string) (bool, error)
	// Rates returns the outcome counts of queue's minutes from since's to
	// now's, oldest first, one per minute, zero where nothing happened. A
	// backend keeps at least the last RatesKept: older minutes are left
	// out.
	Rates(ctx context.Context, queue string, since time.Time) ([]OutcomeCounts, error)
	// Attempts returns task id's history of runs, oldest first: one
	// Attempt for each Finish of a delivery, the last MaxAttempts of them,
	// kept as long as the task's state. It returns none, and no error, for
	// a task the queue knows no run of.
	Attempts(ctx context.Context, queue, id string) ([]Attempt, error)
}

// MaxAttempts is how many runs a task's history (Admin.Attempts) keeps:
// the last ones.
const MaxAttempts = 20

// MaxAttemptStack caps, in bytes, the panic stack an Attempt keeps.
const MaxAttemptStack = 8 << 10

// Attempt is one run of a task, as its Finish recorded it.
type Attempt struct {
	// Attempt is the run's attempt, 1 on the first; a run that went back
	// without using an attempt (rescheduled) shares its number with the
	// next.
	Attempt int
	// Status is how the run ended: the task's end (Succeeded, Failed,
	// Skipped, Dead, Canceled), or Scheduled if it goes back to run again
	// (Retry if for a failure).
	Status Status
	Retry  bool
	// Kind and Error are the run's error, capped as an Outcome's; Stack
	// is a panic's stack, at most MaxAttemptStack bytes, "" if none.
	Kind, Error, Stack string
	// Worker ran it since StartedAt, as Consumer.Started recorded; empty
	// and zero if the delivery ended without starting.
	Worker    string
	StartedAt time.Time
	// FinishedAt is when the run's Finish was made.
	FinishedAt time.Time
}

// Duration is how long the run took, from its start to its finish; 0 if
// it never started.
func (a Attempt) Duration() time.Duration {
	if a.StartedAt.IsZero() || a.FinishedAt.Before(a.StartedAt) {
		return 0
	}
	return a.FinishedAt.Sub(a.StartedAt)
}

// CapStack cuts a panic's stack to MaxAttemptStack bytes, at the start of
// a character.
func CapStack(stack string) string {
	if len(stack) <= MaxAttemptStack {
		return stack
	}
	n := MaxAttemptStack
	for n > 0 && !utf8.RuneStart(stack[n]) {
		n--
	}
	return stack[:n]
}

// RatesKept is how far back Admin.Rates reaches: a day of minutes, for
// the web view's 24 hour charts.
const RatesKept = 24 * time.Hour

// Stats counts a queue's tasks by where they are.
type Stats struct {
	Queue string
	// Ready tasks wait for a worker; Running ones are taken by one (running,
	// or prefetched to start next); Delayed ones wait to be due (delayed,
	// retried or rescheduled); Dead ones are dead letters.
	Ready, Running, Delayed, Dead int64
	// Waiting counts the workflow steps of the queue that wait for their
	// parents (status Waiting), in none of the counts above.
	Waiting int64
	// Grouped counts the messages that wait in their groups (see
	// Batches), in none of the counts above.
	Grouped int64
	// Partitions is how many partitions the queue has (see
	// PartitionName): 1 unless it was split.
	Partitions int
	// OldestReady is how long the oldest ready task has waited since it
	// became ready (enqueued, due, or requeued), 0 if none. A paused queue's
	// keeps growing.
	OldestReady time.Duration
	// Workers counts the workers seen on the queue within LiveWorkerWindow.
	Workers int
}

// LiveWorkerWindow is how recently a worker must have taken from, or
// renewed its claims on, a queue to count as live there.
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

// TaskSet names a part of a queue, for a listing of its tasks.
type TaskSet string

// The parts of a queue that Admin.Tasks lists.
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
	// StartedAt is when the last run started (for a running task, the
	// run going on, once its worker recorded the start: Consumer.Started)
	// and FinishedAt when the task ended (for a dead letter, when it was
	// dead-lettered), if known.
	StartedAt, FinishedAt time.Time
	// Malformed says why the queue could not read the task's message.
	Malformed string
	// Progress is a running task's last report (Find and the listings of
	// running tasks have it); nil if none.
	Progress *Progress
}

// TaskQuery asks ListTasks for one page of a set of tasks, filtered.
// Zero fields filter nothing.
type TaskQuery struct {
	Set TaskSet
	// After is the Next of the page before: "" for the first page.
	After string
	// Limit is the most tasks on the page: DefaultPageSize if <= 0, at
	// most MaxPageSize.
	Limit int
	// Task keeps the tasks of this name.
	Task string
	// Search keeps the tasks whose ID, task name or arguments (as encoded)
	// contain it, ignoring case. A finished task's arguments are gone: its
	// ID and name are searched.
	Search string
	// Status keeps the tasks of this status (in FinishedTasks: succeeded,
	// failed, skipped, dead or canceled).
	Status Status
	// Kind keeps the tasks whose error kind (TaskInfo.Kind) is this.
	Kind string
	// Since and Until keep the tasks whose time (TaskInfo.Time) is in
	// [Since, Until).
	Since, Until time.Time
}

// Page sizes of ListTasks, and how many rows a backend reads for one
// filtered page before it returns what it found.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
	ScanBudget      = 20_000
)

// PageLimit is q.Limit, defaulted and capped.
func (q TaskQuery) PageLimit() int {
	if q.Limit <= 0 {
		return DefaultPageSize
	}
	return min(q.Limit, MaxPageSize)
}

// Filtered says whether q has a filter, so that a page may be short.
func (q TaskQuery) Filtered() bool {
	return q.Task != "" || q.Search != "" || q.Status != "" || q.Kind != "" || !q.Since.IsZero() || !q.Until.IsZero()
}

// Match says whether t, whose encoded arguments are args (nil if
// unknown), passes q's filters. Backends share it, so that they filter
// alike.
func (q TaskQuery) Match(t TaskInfo, args []byte) bool {
	if q.Task != "" && t.Task != q.Task || q.Status != "" && t.Status != q.Status || q.Kind != "" && t.Kind != q.Kind {
		return false
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		at := t.Time()
		if at.IsZero() || !q.Since.IsZero() && at.Before(q.Since) || !q.Until.IsZero() && !at.Before(q.Until) {
			return false
		}
	}
	if q.Search != "" {
		s := strings.ToLower(q.Search)
		return strings.Contains(strings.ToLower(t.ID), s) || strings.Contains(strings.ToLower(t.Task), s) ||
			bytes.Contains(bytes.ToLower(args), []byte(s))
	}
	return true
}

// Time is the time a listing filters t by: when a dead or finished task
// ended, when a delayed one is due, else when it was enqueued.
func (t TaskInfo) Time() time.Time {
	switch {
	case !t.FinishedAt.IsZero():
		return t.FinishedAt
	case !t.RunAt.IsZero():
		return t.RunAt
	}
	return t.EnqueuedAt
}

// TaskPage is one page of ListTasks.
type TaskPage struct {
	Tasks []TaskInfo
	// Next is the cursor of the next page, "" if this one is the last.
	Next string
}

// OutcomeCounts counts the tasks of a queue that ended, or went back to
// wait, in one minute, by how: for dashboards of throughput and outcome
// rates.
type OutcomeCounts struct {
	// Minute is the minute's start.
	Minute time.Time
	// Succeeded, Failed, Dead and Canceled count the tasks that ended so.
	Succeeded, Failed, Dead, Canceled int64
	// Skipped counts the skips by the kind of their reason, as the run
	// reported it ("lock.locked", "middleware.expired"; "" for a skip
	// without one). Nil if none.
	Skipped map[string]int64
	// Retried counts the runs that failed and go back to run again;
	// Rescheduled those that go back without using an attempt.
	Retried, Rescheduled int64
}

// Count counts one outcome: a task that ended with status, or went back
// to wait (Scheduled, a retry if retry), with kind as its reason.
func (c *OutcomeCounts) Count(status Status, kind string, retry bool) {
	switch status {
	case Succeeded:
		c.Succeeded++
	case Failed:
		c.Failed++
	case Dead:
		c.Dead++
	case Canceled:
		c.Canceled++
	case Skipped:
		if c.Skipped == nil {
			c.Skipped = make(map[string]int64, 1)
		}
		c.Skipped[kind]++
	case Scheduled:
		if retry {
			c.Retried++
		} else {
			c.Rescheduled++
		}
	}
}

// Add adds o's counts to c's (its Minute stays).
func (c *OutcomeCounts) Add(o OutcomeCounts) {
	c.Succeeded += o.Succeeded
	c.Failed += o.Failed
	c.Dead += o.Dead
	c.Canceled += o.Canceled
	for kind, n := range o.Skipped {
		if c.Skipped == nil {
			c.Skipped = make(map[string]int64, len(o.Skipped))
		}
		c.Skipped[kind] += n
	}
	c.Retried += o.Retried
	c.Rescheduled += o.Rescheduled
}

// Clone returns a copy of c that shares no map with it.
func (c OutcomeCounts) Clone() OutcomeCounts {
	c.Skipped = maps.Clone(c.Skipped)
	return c
}

// SkippedTotal is the number of skips, whatever their reason.
func (c OutcomeCounts) SkippedTotal() int64 {
	var n int64
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

// Ended is the number of tasks that ended: succeeded, failed, dead,
// canceled or skipped.
func (c OutcomeCounts) Ended() int64 {
	return c.Succeeded + c.Failed + c.Dead + c.Canceled + c.SkippedTotal()
}
