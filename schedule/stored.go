package schedule

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/taskware/taskware/internal/everyspec"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/worker"
)

// Stored makes the Scheduler also run the entries stored in defs (a
// backend's queue: redisbackend's and memorybackend's implement
// queue.Schedules), which any process puts, pauses, resumes and removes
// while it runs (Put, Pause, Resume, Remove; the taskware command; the web
// view). Run reads defs's version at each wake, at least once a second,
// and reloads the entries when it changed: a change is running within a
// second or so, and the entries it did not touch keep their state.
//
// A stored entry's first tick is the first after its Since (when it was
// put or last resumed): no catch-up of a tick from before it existed, or
// from while it was paused. Its ticks are enqueued with its Args as the
// task's payload, on its Queue, with TickID as code entries are, and
// expire at the next tick; ticks missed after its Since (every scheduler
// down) are handled by the Scheduler's MissedPolicy and CatchUpWindow. Its Spec is read by ParseEvery, or, for a spec
// that does not begin with "every ", by the SpecParser given (contrib/cron
// for cron expressions). A spec that does not parse, or a stored entry
// with the name of a code entry (Add), is reported to OnError, and
// ignored.
//
// With Stored, the code entries' catch-up never reaches before the first
// time any scheduler saw the entry's name (queue.Schedules.ScheduleSince):
// the first deploy of a daily entry does not run last night's tick. Run
// learns that time as it starts; while the backend does not answer, the
// code entries wait, and their ticks are handled by their MissedPolicy once
// it does.
//
// It panics with an error matching task.ErrInvalidConfig on a nil defs.
func Stored(defs queue.Schedules) Option {
	if defs == nil {
		panic(configError("Stored: nil defs"))
	}
	return optionFunc(func(s *Scheduler) { s.defs = defs })
}

// SpecParser sets how the Scheduler reads the Spec of a stored entry that
// does not begin with "every " (which ParseEvery reads): contrib/cron's
// Parse for cron expressions,
//
//	schedule.SpecParser(func(spec string) (schedule.Schedule, error) { return taskcron.Parse(spec) })
//
// Every process must read a spec alike. Without one, such specs are
// reported, and their entries ignored. It panics with an error matching
// task.ErrInvalidConfig on a nil func.
func SpecParser(parse func(spec string) (Schedule, error)) Option {
	if parse == nil {
		panic(configError("SpecParser: nil func"))
	}
	return optionFunc(func(s *Scheduler) { s.parse = parse })
}

// ParseEvery reads "every <duration>", the String of Every: "every 1h0m0s",
// "every 90s". Its error matches task.ErrInvalidConfig.
func ParseEvery(spec string) (Schedule, error) {
	d, err := everyspec.Parse(spec)
	if err != nil {
		return nil, configError("%v", err)
	}
	return Every(d), nil
}

// parseSpec reads a stored entry's spec.
func (s *Scheduler) parseSpec(spec string) (Schedule, error) {
	if isEvery(spec) || s.parse == nil {
		return ParseEvery(spec)
	}
	sched, err := s.parse(spec)
	if err == nil && sched == nil {
		err = configError("spec %q: the parser returned no schedule", spec)
	}
	return sched, err
}

// readTimeout bounds a read of the stored entries, or of the code
// entries' first-seen times: a backend that hangs delays the ticks by no
// more.
const readTimeout = 2 * time.Second

// storedRun is a Run's view of the stored entries.
type storedRun struct {
	s *Scheduler
	// code are the code entries, held until their first-seen times are
	// known (seen); seenAt is when to ask again after a failure.
	code      []*state
	codeNames map[string]bool
	seen      bool
	seenAt    time.Time
	seenFails int
	// version is the stored entries' version loaded (if loaded), states
	// their states, by name; failing says a read failed last, reported.
	version  int64
	loaded   bool
	failing  bool
	off      bool // the backend does not support stored entries
	states   []*state
	reported map[string]string // entry name -> key of a version reported bad
}

func newStoredRun(s *Scheduler, code []*state) *storedRun {
	r := &storedRun{s: s, code: code, codeNames: make(map[string]bool, len(code)), seen: len(code) == 0}
	for _, st := range code {
		r.codeNames[st.name] = true
	}
	return r
}

// sync learns the code entries' first-seen times, if not yet, and reloads
// the stored entries if their version changed. It reports whether the
// states changed.
func (r *storedRun) sync(ctx context.Context, now time.Time) (changed bool) {
	if !r.seen && !now.Before(r.seenAt) {
		changed = r.firstSeen(ctx, now)
	}
	if r.off {
		return changed
	}
	cctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	v, err := r.s.defs.ScheduleVersion(cctx)
	if err == nil && r.loaded && v == r.version {
		r.failing = false
		return changed
	}
	var defs []queue.ScheduleDef
	if err == nil {
		defs, v, err = r.s.defs.ScheduleDefs(cctx)
	}
	if err != nil {
		if !r.failing && ctx.Err() == nil { // once, not every second while the backend is down
			r.s.onError(fmt.Errorf("schedule: read the stored entries: %w", err))
		}
		r.failing = true
		r.off = errors.Is(err, queue.ErrNotSupported)
		return changed
	}
	r.failing = false
	r.reload(defs, now)
	r.version, r.loaded = v, true
	return true
}

// firstSeen sets the code entries' catch-up to begin no earlier than
// their names' first-seen times, and lets them run.
func (r *storedRun) firstSeen(ctx context.Context, now time.Time) bool {
	names := make([]string, len(r.code))
	for i, st := range r.code {
		names[i] = st.name
	}
	cctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	since, err := r.s.defs.ScheduleSince(cctx, names, now)
	if err == nil && len(since) != len(names) {
		err = fmt.Errorf("%d times for %d names", len(since), len(names))
	}
	if errors.Is(err, queue.ErrNotSupported) { // a backend without: catch up as without Stored
		r.s.onError(fmt.Errorf("schedule: read when the code entries were first seen: %w", err))
		since, err = make([]time.Time, len(names)), nil
	}
	if err != nil {
		if ctx.Err() == nil {
			r.s.onError(fmt.Errorf("schedule: read when the code entries were first seen: %w", err))
		}
		r.seenAt = now.Add(retryPauses.Delay(r.seenFails))
		r.seenFails++
		return false
	}
	for i, st := range r.code {
		if since[i].After(st.last) {
			st.last = since[i]
		}
		st.hold = false
	}
	r.seen = true
	return true
}

// reload makes the states of defs: an entry unchanged keeps its state, a
// new or changed one starts after its Since, and one paused or removed
// goes.
func (r *storedRun) reload(defs []queue.ScheduleDef, now time.Time) {
	old := make(map[string]*state, len(r.states))
	for _, st := range r.states {
		old[st.name] = st
	}
	reported := make(map[string]string)
	r.states = r.states[:0:0]
	for _, d := range defs {
		if d.Paused {
			continue
		}
		key := defKey(d)
		if st := old[d.Name]; st != nil && st.key == key {
			r.states = append(r.states, st)
			continue
		}
		e, err := r.entry(d, key, now)
		if err != nil {
			reported[d.Name] = key
			if r.reported[d.Name] != key {
				r.s.onError(err)
			}
			continue
		}
		last := now.Add(-e.policy.lateness())
		if d.Since.After(last) {
			last = d.Since
		}
		r.states = append(r.states, &state{entry: e, last: last, next: now})
	}
	r.reported = reported
}

// entry makes the entry of d, or says why it cannot run.
func (r *storedRun) entry(d queue.ScheduleDef, key string, now time.Time) (*entry, error) {
	if r.codeNames[d.Name] {
		return nil, fmt.Errorf("schedule: stored entry %q ignored: a code entry has that name", d.Name)
	}
	sched, err := r.s.parseSpec(d.Spec)
	if err != nil {
		return nil, fmt.Errorf("schedule: stored entry %q ignored: %w", d.Name, err)
	}
	if next := sched.Next(now); next.IsZero() || !next.After(now) {
		return nil, fmt.Errorf("schedule: stored entry %q ignored: %w", d.Name, configError("spec %q never fires", d.Spec))
	}
	taskName, args := d.Task, d.Args
	return &entry{name: d.Name, sched: sched, policy: r.s.policy, task: d.Task, queue: d.Queue, spec: d.Spec, key: key,
		opts: []worker.EnqueueOption{worker.OnQueue(d.Queue)},
		put: func(ctx context.Context, c *worker.Client, _ time.Time, opts []worker.EnqueueOption) error {
			_, err := c.EnqueuePayload(ctx, taskName, args, opts...)
			return err
		}}, nil
}

// defKey tells the versions of a stored entry apart: a change of any of
// these makes its state anew.
func defKey(d queue.ScheduleDef) string {
	return strings.Join([]string{d.Spec, d.Task, d.Queue, string(d.Args), strconv.FormatInt(d.Since.UnixNano(), 10)}, "\x00")
}
