package rows

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/taskware/taskware/internal/humantime"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

// Queue is a queue's tasks counted by where they are, and whether it is
// paused.
type Queue struct {
	Queue         string `json:"queue"`
	Partitions    int    `json:"partitions"` // 1 for a queue never split
	Ready         int64  `json:"ready"`
	Running       int64  `json:"running"`
	Delayed       int64  `json:"delayed"`
	Dead          int64  `json:"dead"`
	Waiting       int64  `json:"waiting"` // workflow steps waiting for their parents
	Grouped       int64  `json:"grouped"` // tasks waiting in their groups for a batch
	OldestReadyMs int64  `json:"oldest_ready_ms"`
	Workers       int    `json:"workers"`
	Paused        bool   `json:"paused"`
}

// QueueOf is the row of the queue st counts.
func QueueOf(st *queue.Stats, paused bool) Queue {
	return Queue{Queue: st.Queue, Partitions: max(st.Partitions, 1), Ready: st.Ready, Running: st.Running, Delayed: st.Delayed, Dead: st.Dead, Waiting: st.Waiting, Grouped: st.Grouped,
		OldestReadyMs: st.OldestReady.Milliseconds(), Workers: st.Workers, Paused: paused}
}

// ReadQueues reads the rows of the queues named, in their order.
func ReadQueues(ctx context.Context, a queue.Admin, names []string) ([]Queue, error) {
	out := make([]Queue, 0, len(names))
	for _, name := range names {
		st, err := a.Stats(ctx, name)
		if err != nil {
			return nil, err
		}
		paused, err := a.Paused(ctx, name)
		if err != nil {
			return nil, err
		}
		row := QueueOf(st, paused)
		row.Queue = name // as asked, whatever the backend filled in
		out = append(out, row)
	}
	return out, nil
}

// Oldest shows how long the oldest ready task has waited, "-" if none is
// ready.
func (q Queue) Oldest() string {
	if q.Ready == 0 {
		return "-"
	}
	return humantime.Duration(time.Duration(q.OldestReadyMs) * time.Millisecond)
}

// Task is a task where its queue holds it: ready, running, delayed, dead
// or finished. Fields that do not apply there are left out.
type Task struct {
	ID         string    `json:"id"`
	Task       string    `json:"task"`
	Queue      string    `json:"queue"`
	Status     string    `json:"status"`
	Attempt    int       `json:"attempt,omitempty"`
	EnqueuedAt time.Time `json:"enqueued_at,omitzero"`
	// Entry is the queue's entry of a ready, running or dead task.
	Entry  string `json:"entry,omitempty"`
	Worker string `json:"worker,omitempty"`
	// IdleMs is, of a running task only, the time since its worker took
	// it or renewed its claim: 0 is a claim just renewed, not unknown.
	IdleMs     *int64    `json:"idle_ms,omitempty"`
	Deliveries int       `json:"deliveries,omitempty"`
	RunAt      time.Time `json:"run_at,omitzero"`
	Kind       string    `json:"kind,omitempty"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Malformed  string    `json:"malformed,omitempty"`
	// Progress is a running task's last report (see task.Progress).
	Progress *Progress `json:"progress,omitempty"`
}

// Progress is a running task's last report: Done of Total (0: unknown).
type Progress struct {
	Done    int64     `json:"done"`
	Total   int64     `json:"total"`
	Percent *int      `json:"percent,omitempty"` // nil if Total is unknown
	Message string    `json:"message,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Text    string    `json:"-"` // "40/100 (40%) indexing", for people
}

// ProgressOf is the row of p; nil if p is.
func ProgressOf(p *queue.Progress) *Progress {
	if p == nil {
		return nil
	}
	r := &Progress{Done: p.Done, Total: p.Total, Message: p.Message, At: p.At.UTC(), Text: p.String()}
	if pc, ok := p.Percent(); ok {
		r.Percent = &pc
	}
	return r
}

// TaskOf is the row of a task of a listing.
func TaskOf(ti queue.TaskInfo) Task {
	t := Task{ID: ti.ID, Task: ti.Task, Queue: ti.Queue, Status: string(ti.Status), Attempt: ti.Attempt,
		EnqueuedAt: ti.EnqueuedAt.UTC(), Entry: ti.Receipt, Worker: ti.Worker, Deliveries: ti.Deliveries,
		RunAt: ti.RunAt.UTC(), Kind: ti.Kind, Error: ti.Error, StartedAt: ti.StartedAt.UTC(),
		FinishedAt: ti.FinishedAt.UTC(), Malformed: ti.Malformed, Progress: ProgressOf(ti.Progress)}
	if ti.Status == queue.Running && ti.Worker != "" && ti.Receipt != "" {
		ms := ti.Idle.Milliseconds()
		t.IdleMs = &ms
	}
	return t
}

// TasksOf is the rows of a listing; never nil, so that none shows as [].
func TasksOf(ts []queue.TaskInfo) []Task {
	out := make([]Task, len(ts))
	for i, ti := range ts {
		out[i] = TaskOf(ti)
	}
	return out
}

// TaskOfState is the row of what a task's state says of it: less than a
// listing knows (no entry, enqueue time or due time).
func TaskOfState(st *queue.State) Task {
	return Task{ID: st.ID, Task: st.Task, Queue: st.Queue, Status: string(st.Status), Attempt: st.Attempt,
		Kind: st.Kind, Error: st.Error, Worker: st.Worker, StartedAt: st.StartedAt.UTC(),
		FinishedAt: st.FinishedAt.UTC(), Progress: ProgressOf(st.Progress)}
}

// Key is what names the task to RequeueDead, PurgeDead and Cancel: its
// ID, or, for a message without one, its entry.
func (t Task) Key() string { return cmp.Or(t.ID, t.Entry) }

// Cancelable reports whether the task has not ended.
func (t Task) Cancelable() bool {
	s := queue.Status(t.Status)
	return s != "" && !s.Terminal()
}

// Idle shows IdleMs, "" if the task is not running.
func (t Task) Idle() string {
	if t.IdleMs == nil {
		return ""
	}
	return humantime.Duration(time.Duration(*t.IdleMs) * time.Millisecond)
}

// RunningFor shows how long a running task's run has gone on, since its
// worker recorded its start; "" if it is not running or that is unknown.
func (t Task) RunningFor() string {
	if queue.Status(t.Status) != queue.Running || t.StartedAt.IsZero() {
		return ""
	}
	return humantime.Duration(max(time.Since(t.StartedAt), 0))
}

// Attempt is one run of a task's history (queue.Admin.Attempts).
type Attempt struct {
	Attempt int    `json:"attempt"`
	Status  string `json:"status"`
	Retry   bool   `json:"retry,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Error   string `json:"error,omitempty"`
	// Stack is a panic's stack, "" if the run did not panic.
	Stack      string    `json:"stack,omitempty"`
	Worker     string    `json:"worker,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	DurationMs int64     `json:"duration_ms"`
}

// AttemptOf is the row of one run of a task.
func AttemptOf(a queue.Attempt) Attempt {
	return Attempt{Attempt: a.Attempt, Status: string(a.Status), Retry: a.Retry, Kind: a.Kind, Error: a.Error,
		Stack: a.Stack, Worker: a.Worker, StartedAt: a.StartedAt.UTC(), FinishedAt: a.FinishedAt.UTC(),
		DurationMs: a.Duration().Milliseconds()}
}

// AttemptsOf is the rows of a task's history; never nil, so that none
// shows as [].
func AttemptsOf(as []queue.Attempt) []Attempt {
	out := make([]Attempt, len(as))
	for i, a := range as {
		out[i] = AttemptOf(a)
	}
	return out
}

// Outcome shows how the run ended: its status, "retried" for a retry and
// "rescheduled" for a run that went back without using an attempt.
func (a Attempt) Outcome() string {
	switch {
	case a.Status != string(queue.Scheduled):
		return a.Status
	case a.Retry:
		return "retried"
	default:
		return "rescheduled"
	}
}

// Took shows how long the run took, "-" if it never started.
func (a Attempt) Took() string {
	switch {
	case a.StartedAt.IsZero():
		return "-"
	case a.DurationMs == 0: // kept in whole ms: not "0s", which reads as no run
		return "<1ms"
	}
	return humantime.Duration(time.Duration(a.DurationMs) * time.Millisecond)
}

// Lock is a lock held.
type Lock struct {
	Key         string    `json:"key"`
	Holder      string    `json:"holder"`
	Fence       int64     `json:"fence"`
	Since       time.Time `json:"since,omitzero"`
	RemainingMs int64     `json:"remaining_ms"`
	// TaskQueue and TaskID name the task run that holds it, if one does
	// ("" is the queue of runs in-process).
	TaskQueue string `json:"task_queue,omitempty"`
	TaskID    string `json:"task_id,omitempty"`
}

// LockOf is the row of a lock held.
func LockOf(l lock.Info) Lock {
	return Lock{Key: l.Key, Holder: l.Holder, Fence: l.Fence, Since: l.Since.UTC(),
		RemainingMs: l.Remaining.Milliseconds(), TaskQueue: l.Task.Queue, TaskID: l.Task.ID}
}

// LocksOf is the rows of the locks held; never nil.
func LocksOf(held []lock.Info) []Lock {
	out := make([]Lock, len(held))
	for i, l := range held {
		out[i] = LockOf(l)
	}
	return out
}

// Left shows the time left before the lock expires unless renewed.
func (l Lock) Left() string {
	return humantime.Duration(time.Duration(l.RemainingMs) * time.Millisecond)
}

// Worker is a worker a queue knows of.
type Worker struct {
	Queue   string `json:"queue"`
	Name    string `json:"name"`
	Pending int64  `json:"pending"`
	IdleMs  int64  `json:"idle_ms"`
	// Live says it took from the queue, or renewed its claims there,
	// within queue.LiveWorkerWindow.
	Live bool `json:"live"`
}

// WorkerOf is the row of a worker.
func WorkerOf(w queue.WorkerInfo) Worker {
	return Worker{Queue: w.Queue, Name: w.Name, Pending: w.Pending, IdleMs: w.Idle.Milliseconds(),
		Live: w.Idle < queue.LiveWorkerWindow}
}

// ReadWorkers reads the workers of the queues named, queue by queue;
// never nil.
func ReadWorkers(ctx context.Context, a queue.Admin, names []string) ([]Worker, error) {
	out := []Worker{}
	for _, name := range names {
		ws, err := a.Workers(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			w.Queue = name // as asked, whatever the backend filled in
			out = append(out, WorkerOf(w))
		}
	}
	return out, nil
}

// Idle shows IdleMs.
func (w Worker) Idle() string {
	return humantime.Duration(time.Duration(w.IdleMs) * time.Millisecond)
}

// LiveText shows Live as "yes" or "no".
func (w Worker) LiveText() string {
	if w.Live {
		return "yes"
	}
	return "no"
}

// Record is a record of the result store.
type Record struct {
	Queue     string    `json:"queue"`
	ID        string    `json:"id"`
	Task      string    `json:"task"`
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Kind      string    `json:"kind,omitempty"`
	Error     string    `json:"error,omitempty"`
	// Value is the stored value as it was encoded (JSON by default).
	Value string `json:"value,omitempty"`
}

// RecordOf is the row of a stored record.
func RecordOf(r *store.Record) Record {
	return Record{Queue: r.Queue, ID: r.ID, Task: r.Task, Status: string(r.Status), Attempt: r.Attempt,
		At: r.At.UTC(), ExpiresAt: r.ExpiresAt.UTC(), Kind: r.Kind, Error: r.Error, Value: string(r.Value)}
}

// ResultStats counts a queue's stored records by status.
type ResultStats struct {
	// Queue is "" for the records of runs in-process.
	Queue     string `json:"queue"`
	Records   int    `json:"records"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
	// FailedKinds counts the failures by kind ("unknown" for none).
	FailedKinds map[string]int `json:"failed_kinds,omitempty"`
	// FirstExpiry and LastExpiry bound when the records expire.
	FirstExpiry time.Time `json:"first_expiry,omitzero"`
	LastExpiry  time.Time `json:"last_expiry,omitzero"`
}

// ResultStatsOf counts recs by queue, sorted by queue; never nil.
func ResultStatsOf(recs []*store.Record) []ResultStats {
	by := map[string]*ResultStats{}
	for _, r := range recs {
		st := by[r.Queue]
		if st == nil {
			st = &ResultStats{Queue: r.Queue}
			by[r.Queue] = st
		}
		st.add(r)
	}
	out := make([]ResultStats, 0, len(by))
	for _, st := range by {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b ResultStats) int { return strings.Compare(a.Queue, b.Queue) })
	return out
}

func (st *ResultStats) add(r *store.Record) {
	st.Records++
	switch r.Status {
	case store.Succeeded:
		st.Succeeded++
	case store.Failed:
		st.Failed++
		if st.FailedKinds == nil {
			st.FailedKinds = map[string]int{}
		}
		st.FailedKinds[cmp.Or(r.Kind, "unknown")]++
	case store.Skipped:
		st.Skipped++
	}
	if exp := r.ExpiresAt.UTC(); !exp.IsZero() {
		if st.FirstExpiry.IsZero() || exp.Before(st.FirstExpiry) {
			st.FirstExpiry = exp
		}
		if exp.After(st.LastExpiry) {
			st.LastExpiry = exp
		}
	}
}
