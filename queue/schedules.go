package queue

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/taskware/taskware/task"
)

// Schedules is where schedulers (package schedule) publish their entries
// and ticks, so that operators see every process's schedules in one
// place: a web view's schedules page. It also stores the entries that
// live in the backend rather than in code (ScheduleDef): any process puts,
// pauses and removes them, and every running scheduler picks the change
// up, reading ScheduleVersion at each wake.
//
// Every call answers as if sent once, even when a backend sent it again
// after a lost reply.
type Schedules interface {
	// PublishSchedules records entries as scheduler's, replacing what it
	// published before, for ttl: a scheduler that stops publishing drops
	// off once ttl has passed. No entries withdraws scheduler's.
	PublishSchedules(ctx context.Context, scheduler string, entries []ScheduleEntry, ttl time.Duration) error
	// Schedules lists the entries of the schedulers whose publication has
	// not expired, by entry name, then scheduler.
	Schedules(ctx context.Context) ([]ScheduleEntry, error)

	// PutSchedule stores def, replacing the stored entry of its name, and
	// changes the version. A zero def.Since or def.Updated is set to the
	// backend's now. A put that changes nothing of the stored entry (the
	// same Spec, Task, Queue, Args and Paused) keeps it as it is, its
	// Since too, and leaves the version: so a put sent again after a lost
	// reply, or made by every deploy, answers as the first did and moves
	// nothing. Bad input (see ValidateScheduleDef) returns an error
	// matching task.ErrInvalidConfig.
	PutSchedule(ctx context.Context, def ScheduleDef) error
	// RemoveSchedule removes the stored entry named name, and changes the
	// version; an error matching ErrNotFound if there is none. A remove
	// sent again after a lost reply answers as the first did (nil); a
	// second remove of the caller's finds nothing.
	RemoveSchedule(ctx context.Context, name string) error
	// PauseSchedule pauses (paused true) or resumes the stored entry named
	// name at at, and changes the version; an error matching ErrNotFound if
	// there is none. A resume sets Since to at: ticks while paused are
	// never caught up. A zero at is the backend's now. Pausing a paused
	// entry, or resuming a running one, changes nothing (its Since stays).
	PauseSchedule(ctx context.Context, name string, paused bool, at time.Time) error
	// ScheduleDefs returns every stored entry, by name, and the version
	// they are at.
	ScheduleDefs(ctx context.Context) ([]ScheduleDef, int64, error)
	// ScheduleVersion returns a number that changes with every Put, Remove
	// and Pause that changed something: a scheduler reads it each wake (one
	// cheap round trip) and reloads ScheduleDefs only when it changed.
	ScheduleVersion(ctx context.Context) (int64, error)
	// ScheduleSince records now as the first-seen time of each of names not
	// seen before, and returns each name's first-seen time, in the order
	// of names: a code entry's catch-up never goes before it.
	ScheduleSince(ctx context.Context, names []string, now time.Time) ([]time.Time, error)
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

// ScheduleDef is a stored schedule entry.
type ScheduleDef struct {
	// Name names the entry, as a code entry's name does: with each tick's
	// time, it makes the tick's task ID.
	Name string
	// Spec is the schedule as text: "every 1h0m0s" (schedule.Every's
	// String) or what the scheduler's parser reads (contrib/cron).
	Spec        string
	Task, Queue string
	// Args is the task's encoded arguments (the payload each tick's task
	// gets), nil for none.
	Args   []byte
	Paused bool
	// Since is when the entry was put or last resumed: its first tick is
	// the first after Since.
	Since time.Time
	// Updated is when it was last put, paused or resumed.
	Updated time.Time
}

// Limits of a ScheduleDef.
const (
	// MaxScheduleName caps a stored entry's name, and its Spec, in bytes.
	MaxScheduleName = 200
	// MaxScheduleArgs caps a stored entry's Args, in bytes.
	MaxScheduleArgs = 64 << 10
)

// ValidateScheduleDef checks def for PutSchedule, for backends: a name
// that ValidateScheduleName accepts, a Spec of at most MaxScheduleName
// bytes, a Task, a queue name that ValidateName accepts, Args of at most
// MaxScheduleArgs bytes, and times zero or not before 1970. Else it returns an error matching
// task.ErrInvalidConfig. Whether the Spec parses is the scheduler's to
// say: backends store it as text.
func ValidateScheduleDef(def ScheduleDef) error {
	if err := ValidateScheduleName(def.Name); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(def.Spec) == "" || len(def.Spec) > MaxScheduleName:
		return fmt.Errorf("%w: schedule %q: spec %q must be non-empty, at most %d bytes", task.ErrInvalidConfig, def.Name, def.Spec, MaxScheduleName)
	case def.Task == "":
		return fmt.Errorf("%w: schedule %q: no task", task.ErrInvalidConfig, def.Name)
	case def.Since.Before(epoch) && !def.Since.IsZero(), def.Updated.Before(epoch) && !def.Updated.IsZero():
		return fmt.Errorf("%w: schedule %q: Since %v or Updated %v before 1970", task.ErrInvalidConfig, def.Name, def.Since, def.Updated)
	case len(def.Args) > MaxScheduleArgs:
		return fmt.Errorf("%w: schedule %q: %w", task.ErrInvalidConfig, def.Name,
			&task.TooLargeError{What: "arguments of schedule " + def.Name, Size: len(def.Args), Max: MaxScheduleArgs})
	}
	if err := ValidateName(def.Queue); err != nil {
		return fmt.Errorf("schedule %q: %w", def.Name, err)
	}
	return nil
}

var epoch = time.Unix(0, 0)

// ValidatePauseTime checks the time of PauseSchedule, for backends: zero
// (the backend's now), or not before 1970. Else it returns an error
// matching task.ErrInvalidConfig.
func ValidatePauseTime(at time.Time) error {
	if !at.IsZero() && at.Before(epoch) {
		return fmt.Errorf("%w: pause or resume a schedule at %v, before 1970", task.ErrInvalidConfig, at)
	}
	return nil
}

// ValidateScheduleName checks the name of a stored entry: non-empty, at
// most MaxScheduleName bytes of UTF-8, without spaces or control
// characters (it is typed in commands and shown in URLs). Else it returns
// an error matching task.ErrInvalidConfig.
func ValidateScheduleName(name string) error {
	bad := name == "" || len(name) > MaxScheduleName || !utf8.ValidString(name) ||
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
	if bad {
		return fmt.Errorf("%w: schedule name %q must be non-empty, at most %d bytes, without spaces or control characters",
			task.ErrInvalidConfig, name, MaxScheduleName)
	}
	return nil
}

// ScheduleNotFound is the error of a call on a stored entry that does not
// exist: it matches ErrNotFound.
func ScheduleNotFound(name string) error {
	return fmt.Errorf("queue: no stored schedule %q: %w", name, ErrNotFound)
}
