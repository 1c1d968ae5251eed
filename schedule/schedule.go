package schedule

import (
	"fmt"
	"time"

	"github.com/taskware/taskware/internal/everyspec"
	"github.com/taskware/taskware/task"
)

// Schedule says when an entry's ticks fall. It has the shape of
// robfig/cron's Schedule, so its parsed expressions fit as they are (the
// contrib/cron module parses them).
//
// Next returns the first tick strictly after after, or the zero time if
// there is none. It must give the same answer in every process for the
// same argument: the tick's time names its task (see TickID), and that is
// what makes a tick enqueued once however many schedulers run it. A
// schedule relative to the moment it was asked (robfig/cron's @every, whose
// next tick is "after plus the delay") breaks that; Every is aligned on
// the Unix epoch instead.
type Schedule interface {
	Next(after time.Time) time.Time
}

// Every returns a schedule that ticks every d, at the whole multiples of d
// since the Unix epoch (1970-01-01 00:00 UTC): Every(time.Hour) at the top
// of each hour, Every(24*time.Hour) at midnight UTC, whatever the process
// and whenever it started. It panics with an error matching
// task.ErrInvalidConfig if d is not positive.
//
// Ticks are computed on UnixNano, so they fall between the years 1678 and
// 2262.
func Every(d time.Duration) Schedule {
	if d <= 0 {
		panic(configError("Every(%v): the interval must be positive", d))
	}
	return every(d)
}

type every time.Duration

// Next returns the first multiple of the interval after after, in after's
// location.
func (e every) Next(after time.Time) time.Time { return everyspec.Next(time.Duration(e), after) }

// String returns "every" and the interval.
func (e every) String() string { return "every " + time.Duration(e).String() }

// TickID is the task ID of the tick at tick of the entry named name: the
// name, "@", and the tick's time in UTC, RFC 3339 with as many fractional
// digits as it needs ("report@2026-11-25T03:00:00Z"). Every scheduler
// gives a tick this ID, so the queue refuses all copies but the first
// (queue.ErrDuplicate). Read a tick's outcome with
// worker.HandleOf(client, t, queue, TickID(name, tick)).
func TickID(name string, tick time.Time) string {
	return name + "@" + tick.UTC().Format(time.RFC3339Nano)
}

// latest returns the latest tick of s in (after, now], or the zero time if
// there is none. It costs a few calls of Next, or, after a long stall, a
// binary search of about 64: never a walk over every tick missed.
func latest(s Schedule, after, now time.Time) time.Time {
	due := func(from time.Time) (time.Time, bool) {
		t := s.Next(from)
		return t, !t.IsZero() && !t.After(now)
	}
	t, ok := due(after)
	if !ok {
		return time.Time{}
	}
	// The usual case: one tick, or a few, due.
	lo := after // Next(lo) is t, due
	for range 4 {
		n, ok := due(t)
		if !ok {
			return t
		}
		lo, t = t, n
	}
	// A stall: search for the last instant lo whose next tick is due; that
	// tick is the latest. Next(lo) <= now < Next(hi) holds throughout.
	hi := now
	for hi.Sub(lo) > time.Nanosecond {
		mid := lo.Add(hi.Sub(lo) / 2)
		if _, ok := due(mid); ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	t, _ = due(lo)
	return t
}

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: schedule: %s", task.ErrInvalidConfig, fmt.Sprintf(format, args...))
}
