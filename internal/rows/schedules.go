package rows

import (
	"time"

	"github.com/taskware/taskware/internal/everyspec"
	"github.com/taskware/taskware/queue"
)

// StoredSchedule is a stored schedule entry (queue.ScheduleDef), with
// when it next ticks.
type StoredSchedule struct {
	Name  string `json:"name"`
	Spec  string `json:"spec"`
	Task  string `json:"task"`
	Queue string `json:"queue"`
	// Args is the encoded arguments each tick's task gets, as text (JSON
	// for the tasks of the default codec).
	Args    string    `json:"args,omitempty"`
	Paused  bool      `json:"paused"`
	Since   time.Time `json:"since,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
	// Next is its next tick: zero if paused or not known; NextFrom says
	// how it is known: "scheduler" (a running scheduler published it,
	// schedule.Publish), "spec" (an "every" spec says it: it ticks if a
	// scheduler runs with schedule.Stored), or "" (not known: a cron
	// spec no publishing scheduler runs).
	Next     time.Time `json:"next,omitzero"`
	NextFrom string    `json:"next_from,omitempty"`
}

// StoredSchedulesOf is the rows of the stored entries defs, their next
// ticks from the entries the schedulers published (the first of those of
// the same name, spec and task), else from an "every" spec, as of now.
// Never nil.
func StoredSchedulesOf(defs []queue.ScheduleDef, published []queue.ScheduleEntry, now time.Time) []StoredSchedule {
	out := make([]StoredSchedule, len(defs))
	for i, d := range defs {
		s := StoredSchedule{Name: d.Name, Spec: d.Spec, Task: d.Task, Queue: d.Queue, Args: string(d.Args),
			Paused: d.Paused, Since: d.Since.UTC(), Updated: d.Updated.UTC()}
		if !d.Paused {
			s.Next, s.NextFrom = nextOf(d, published, now)
		}
		out[i] = s
	}
	return out
}

func nextOf(d queue.ScheduleDef, published []queue.ScheduleEntry, now time.Time) (time.Time, string) {
	var next time.Time
	for _, e := range published {
		if e.Name == d.Name && e.Spec == d.Spec && e.Task == d.Task && !e.Next.IsZero() && (next.IsZero() || e.Next.Before(next)) {
			next = e.Next
		}
	}
	if !next.IsZero() {
		return next.UTC(), "scheduler"
	}
	if every, err := everyspec.Parse(d.Spec); err == nil {
		return everyspec.Next(every, later(now, d.Since)).UTC(), "spec"
	}
	return time.Time{}, ""
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// PublishedSchedule is an entry a running scheduler published
// (queue.ScheduleEntry), as --json shows it.
type PublishedSchedule struct {
	Name       string    `json:"name"`
	Spec       string    `json:"spec"`
	Task       string    `json:"task"`
	Queue      string    `json:"queue"`
	Scheduler  string    `json:"scheduler"`
	Next       time.Time `json:"next,omitzero"`
	Last       time.Time `json:"last,omitzero"`
	LastStatus string    `json:"last_status,omitempty"`
	Missed     int64     `json:"missed"`
	Published  time.Time `json:"published,omitzero"`
}

// PublishedSchedulesOf is the rows of es; never nil.
func PublishedSchedulesOf(es []queue.ScheduleEntry) []PublishedSchedule {
	out := make([]PublishedSchedule, len(es))
	for i, e := range es {
		out[i] = PublishedSchedule{Name: e.Name, Spec: e.Spec, Task: e.Task, Queue: e.Queue, Scheduler: e.Scheduler,
			Next: e.Next.UTC(), Last: e.Last.UTC(), LastStatus: e.LastStatus, Missed: e.Missed, Published: e.Published.UTC()}
	}
	return out
}
