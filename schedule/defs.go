package schedule

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/internal/everyspec"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// PutOption configures an entry that Put stores.
type PutOption interface{ applyPut(*queue.ScheduleDef) }

type putOptionFunc func(*queue.ScheduleDef)

func (f putOptionFunc) applyPut(d *queue.ScheduleDef) { f(d) }

// OnQueue makes the entry's ticks go to queue name (queue.Default
// otherwise).
func OnQueue(name string) PutOption {
	return putOptionFunc(func(d *queue.ScheduleDef) { d.Queue = name })
}

// PutPaused stores the entry paused: no tick until Resume.
func PutPaused() PutOption {
	return putOptionFunc(func(d *queue.ScheduleDef) { d.Paused = true })
}

// Put stores in defs the entry name, which enqueues a run of t with args at
// each tick of spec, for every scheduler running with Stored(defs) to
// pick up within a second or so; it replaces the stored entry of that
// name. args are encoded with t's codec, as worker.Enqueue encodes them.
// spec is "every <duration>" (ParseEvery; Every's String), or what the
// schedulers' SpecParser reads: a spec beginning with "every " must parse
// here, another is the parser's to judge, and one it refuses is reported
// by the schedulers and not run. The entry's first tick is the first
// after now. Putting what is stored already changes nothing.
//
// Bad input (a bad name, spec or queue name, arguments that do not encode
// or are over queue.MaxScheduleArgs) returns an error matching
// task.ErrInvalidConfig.
func Put[A, R any](ctx context.Context, defs queue.Schedules, name, spec string, t *task.Task[A, R], args A, opts ...PutOption) error {
	if t == nil {
		return configError("Put(%q): nil task", name)
	}
	d := queue.ScheduleDef{Name: name, Spec: spec, Task: t.Name(), Queue: queue.Default}
	for _, o := range opts {
		if o == nil {
			return configError("Put(%q): nil PutOption", name)
		}
		o.applyPut(&d)
	}
	if _, err := ParseEvery(spec); err != nil && isEvery(spec) {
		return fmt.Errorf("schedule: put %q: %w", name, err)
	}
	payload, err := t.Encode(args)
	if err != nil {
		return fmt.Errorf("%w: schedule: put %q: arguments do not encode: %w", task.ErrInvalidConfig, name, err)
	}
	d.Args = payload
	return defs.PutSchedule(ctx, d)
}

// Remove removes the stored entry name from defs: the schedulers enqueue
// no tick of it once they see the change, within a second or so. An
// entry that does not exist is an error matching queue.ErrNotFound.
func Remove(ctx context.Context, defs queue.Schedules, name string) error {
	return defs.RemoveSchedule(ctx, name)
}

// Pause pauses the stored entry name: no tick of it is enqueued until
// Resume, and none of the ticks while paused ever is. An entry that does
// not exist is an error matching queue.ErrNotFound.
func Pause(ctx context.Context, defs queue.Schedules, name string) error {
	return defs.PauseSchedule(ctx, name, true, time.Now())
}

// Resume resumes the stored entry name: its first tick is the first after
// now, with no catch-up of the ticks while it was paused. An entry that
// does not exist is an error matching queue.ErrNotFound.
func Resume(ctx context.Context, defs queue.Schedules, name string) error {
	return defs.PauseSchedule(ctx, name, false, time.Now())
}

// List returns the entries stored in defs, by name, paused or not. An
// entry's Args are its task's encoded arguments: decode them with the
// task's codec.
func List(ctx context.Context, defs queue.Schedules) ([]queue.ScheduleDef, error) {
	out, _, err := defs.ScheduleDefs(ctx)
	return out, err
}

func isEvery(spec string) bool { return everyspec.Is(spec) }
