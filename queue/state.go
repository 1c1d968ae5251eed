package queue

import (
	"fmt"
	"time"

	"github.com/taskware/taskware/task"
)

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
	Canceled  Status = "canceled" // see Producer.Cancel
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
	// ran it (see Consumer.Started); FinishedAt is when the task ended.
	// Zero or empty when unknown.
	StartedAt, FinishedAt time.Time
	Worker                string
	// Progress is the last progress the running task reported (see
	// task.Progress and Consumer.Progress); nil if none, and once the run
	// ended.
	Progress *Progress
}

// Progress is how far a running task is: Done of Total units (Total 0 if
// unknown), a short message, and when it was reported.
type Progress struct {
	Done, Total int64
	Message     string
	At          time.Time
}

// Percent returns Done as a share of Total, 0 to 100, and false if Total
// is unknown.
func (p *Progress) Percent() (int, bool) {
	if p.Total <= 0 {
		return 0, false
	}
	return int(min(p.Done, p.Total) * 100 / p.Total), true
}

// String shows p as "40/100 (40%) indexing", or "40 indexing" if the
// total is unknown.
func (p *Progress) String() string {
	s := fmt.Sprint(p.Done)
	if pc, ok := p.Percent(); ok {
		s = fmt.Sprintf("%d/%d (%d%%)", p.Done, p.Total, pc)
	}
	if p.Message != "" {
		s += " " + p.Message
	}
	return s
}

// ValidateProgress returns an error matching task.ErrBadProgress if p
// cannot be recorded: a negative count, Done beyond a known Total, or a
// message longer than task.MaxProgressMessage.
func ValidateProgress(p Progress) error {
	switch {
	case p.Done < 0 || p.Total < 0 || (p.Total > 0 && p.Done > p.Total):
		return fmt.Errorf("%w: %d/%d", task.ErrBadProgress, p.Done, p.Total)
	case len(p.Message) > task.MaxProgressMessage:
		return fmt.Errorf("%w: message of %d bytes, more than %d", task.ErrBadProgress, len(p.Message), task.MaxProgressMessage)
	}
	return nil
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
		return fmt.Errorf("queue: task %s: %w", s.ID, ErrCanceled)
	}
	return f
}
