package queue

import (
	"context"
	"time"
)

// Schedules is where schedulers (package schedule) publish their entries
// and ticks, so that operators see every process's schedules in one
// place: a web view's schedules page.
type Schedules interface {
	// PublishSchedules records entries as scheduler's, replacing what it
	// published before, for ttl: a scheduler that stops publishing drops
	// off once ttl has passed. No entries withdraws scheduler's.
	PublishSchedules(ctx context.Context, scheduler string, entries []ScheduleEntry, ttl time.Duration) error
	// Schedules lists the entries of the schedulers whose publication has
	// not expired, by entry name, then scheduler.
	Schedules(ctx context.Context) ([]ScheduleEntry, error)
}

// ScheduleEntry is what a scheduler knows of one of its entries.
type ScheduleEntry struct {
	// Name is the entry's; Spec its schedule as text ("every 1h0m0s", a
	// cron expression); Task and Queue what each tick enqueues where.
	Name, Spec, Task, Queue string
	// Scheduler names the scheduler that published the entry.
	Scheduler string
	// Next is when the scheduler next looks at the entry (its next tick,
	// or the retry of a failed one); zero if the schedule has no more.
	Next time.Time
	// Last is the latest tick handled, zero if none yet, and LastStatus
	// what was done with it: "enqueued", "duplicate", "missed", "failed".
	Last       time.Time
	LastStatus string
	// Missed counts the ticks found too late to enqueue since the
	// scheduler started.
	Missed int64
	// Published is when the scheduler published this.
	Published time.Time
}
