package schedule

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// Timings of a Scheduler's loop.
const (
	// maxSleep bounds a wait, so that a wall clock that jumped (a machine
	// that slept, whose timers did not count the sleep) or a test's clock is
	// read again soon.
	maxSleep = time.Second
	// enqueueTimeout bounds one enqueue.
	enqueueTimeout = 10 * time.Second
)

// Pauses before a tick whose enqueue failed is tried again: doubling from
// a second up to a minute, and never past the next tick, which supersedes
// it.
var retryPauses = backoff.Policy{Min: time.Second, Max: time.Minute}

// Scheduler enqueues the ticks of its entries, each a task with its
// arguments on a Schedule, until its Run's ctx ends. Create it with New,
// add entries with Add or AddFunc, then call Run. Any number of processes
// may run a Scheduler with the same entries: each tick is enqueued once
// (see the package doc).
//
// Add and Run are safe for concurrent use; Add panics once Run started
// (Stored runs entries changed at run time).
type Scheduler struct {
	client  *worker.Client
	now     func() time.Time
	onError func(error)
	onTick  func(Tick)
	policy  policy
	// board is where Run publishes the entries (Publish), nil if nowhere,
	// under name.
	board queue.Schedules
	name  string
	// defs is where Run reads the stored entries (Stored), nil if none;
	// parse reads their specs.
	defs  queue.Schedules
	parse func(string) (Schedule, error)

	mu      sync.Mutex
	entries []*entry
	names   map[string]bool
	running bool
}

// entry is a task on a schedule.
type entry struct {
	name     string
	sched    Schedule
	policy   policy
	opts     []worker.EnqueueOption
	expiry   time.Duration // 0: at the next tick
	noExpiry bool
	// task and queue are what each tick enqueues where, as published.
	task, queue string
	// spec is a stored entry's spec as stored, to publish; key tells its
	// versions apart (see stored.go). Both are "" for a code entry.
	spec, key string
	// put enqueues the task of the tick at tick with opts.
	put func(ctx context.Context, c *worker.Client, tick time.Time, opts []worker.EnqueueOption) error
}

// Tick is what a scheduler did with one tick of an entry: what OnTick
// sees.
type Tick struct {
	// Entry is the entry's name, and At the tick's time.
	Entry string
	At    time.Time
	// ID is the tick's task ID (TickID).
	ID string
	// Late is how long after At the scheduler handled it.
	Late time.Duration
	// Status is what the scheduler did.
	Status Status
	// Err is why the enqueue failed, for Failed.
	Err error
}

// Status is what a scheduler did with a tick.
type Status int

// The statuses of a Tick.
const (
	// Enqueued: this scheduler enqueued the tick's task.
	Enqueued Status = iota + 1
	// Duplicate: the queue knew the tick's ID already: another scheduler,
	// or an earlier run of this one, enqueued it. Not an error.
	Duplicate
	// Missed: the tick was found later than its MissedPolicy allows, and
	// not enqueued. (Ticks superseded by a later one, in a stall, are
	// dropped without a Tick.)
	Missed
	// Failed: the enqueue failed (Err), and was reported to OnError. The
	// scheduler tries again, after a pause, while the tick is the latest
	// and late no more than its policy allows.
	Failed
)

// String returns the status in lower case.
func (s Status) String() string {
	switch s {
	case Enqueued:
		return "enqueued"
	case Duplicate:
		return "duplicate"
	case Missed:
		return "missed"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// New returns a Scheduler that enqueues with client. It panics with an
// error matching task.ErrInvalidConfig on a nil client.
func New(client *worker.Client, opts ...Option) *Scheduler {
	if client == nil {
		panic(configError("New: nil Client"))
	}
	s := &Scheduler{client: client, now: time.Now, onError: defaultOnError, policy: policy{window: DefaultCatchUpWindow},
		names: make(map[string]bool)}
	for _, o := range opts {
		if o == nil {
			panic(configError("New: nil Option"))
		}
		o.applyScheduler(s)
	}
	return s
}

// Add enqueues a run of t with args at each tick of sched, under the
// entry name name. The name, with the tick's time, makes the tick's task
// ID (TickID): every process must give the same entry the same name,
// schedule, task and queue.
//
// Add panics with an error matching task.ErrInvalidConfig on an empty or
// taken name, a nil schedule or task, a schedule that never fires (its
// Next from now is zero, or not after now), or once s is running: wiring
// mistakes, caught at start-up.
func Add[A, R any](s *Scheduler, name string, sched Schedule, t *task.Task[A, R], args A, opts ...EntryOption) {
	AddFunc(s, name, sched, t, func(time.Time) A { return args }, opts...)
}

// AddFunc is Add with arguments made for each tick from the tick's time:
// the hour a report covers, say. argsFor runs on Run's goroutine and must
// be deterministic: the copies other schedulers make of the tick are
// refused, not compared.
func AddFunc[A, R any](s *Scheduler, name string, sched Schedule, t *task.Task[A, R], argsFor func(tick time.Time) A, opts ...EntryOption) {
	if s == nil {
		panic(configError("Add(%q): nil Scheduler", name))
	}
	if t == nil || argsFor == nil {
		panic(configError("Add(%q): nil task or arguments func", name))
	}
	e := &entry{name: name, sched: sched, policy: s.policy, task: t.Name(),
		put: func(ctx context.Context, c *worker.Client, tick time.Time, opts []worker.EnqueueOption) error {
			_, err := worker.Enqueue(ctx, c, t, argsFor(tick), opts...)
			return err
		}}
	for _, o := range opts {
		if o == nil {
			panic(configError("Add(%q): nil EntryOption", name))
		}
		o.applyEntry(e)
	}
	e.queue = worker.QueueOf(e.opts...)
	s.add(e)
}

// add checks e and adds it to s's entries.
func (s *Scheduler) add(e *entry) {
	switch {
	case e.name == "":
		panic(configError("Add: empty entry name"))
	case e.sched == nil:
		panic(configError("Add(%q): nil Schedule", e.name))
	}
	now := s.now()
	if next := e.sched.Next(now); next.IsZero() || !next.After(now) {
		panic(configError("Add(%q): the schedule never fires: its next tick after %s is %v",
			e.name, now.Format(time.RFC3339), next))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.running:
		panic(configError("Add(%q): the scheduler is running", e.name))
	case s.names[e.name]:
		panic(configError("Add(%q): an entry of that name exists", e.name))
	}
	s.names[e.name] = true
	s.entries = append(s.entries, e)
}

// state is an entry's progress in one Run.
type state struct {
	*entry
	// last is the latest tick handled: ticks after it, up to now, are due.
	last time.Time
	// next is when to look at the entry again; zero once its schedule
	// has no more ticks.
	next  time.Time
	fails int // enqueues failed in a row
	// tick is the last Tick handled, for Publish; missed counts the
	// Missed ones.
	tick   Tick
	missed int64
	// hold keeps a code entry's ticks waiting while Run learns when the
	// entry was first seen (see Stored).
	hold bool
}

// Run enqueues the ticks of s's entries as they fall, until ctx ends; then
// it returns nil. At its start it handles the ticks already past under
// each entry's MissedPolicy (CatchUpOnce enqueues the latest, if recent
// enough). It returns an error if s is running already.
//
// Run waits on timers for the ticks, and wakes at least once a second to
// read the clock again: a wall clock that jumped ahead (a machine that
// slept) shows as a stall, handled by the MissedPolicy.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("schedule: Run called twice")
	}
	s.running = true
	entries := slices.Clone(s.entries)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	now := s.now()
	code := make([]*state, len(entries))
	for i, e := range entries {
		// At the start, ticks as late as the policy allows are due; with
		// Stored, none before the entry was first seen.
		code[i] = &state{entry: e, last: now.Add(-e.policy.lateness()), next: now, hold: s.defs != nil}
	}
	var stored *storedRun
	if s.defs != nil {
		stored = newStoredRun(s, code)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	pub := &publisher{board: s.board}
	defer pub.withdraw(ctx, s.name)
	states := code
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := s.now()
		handled := false
		if stored != nil && stored.sync(ctx, now) {
			states = append(slices.Clip(code), stored.states...)
			handled = true // publish the change
		}
		now = s.now()
		wake := now.Add(maxSleep)
		for _, st := range states {
			if st.hold {
				continue
			}
			if !st.next.IsZero() && !st.next.After(now) {
				s.handle(ctx, st, now)
				handled = true
				if ctx.Err() != nil {
					return nil
				}
			}
			if !st.next.IsZero() && st.next.Before(wake) {
				wake = st.next
			}
		}
		if err := pub.publish(ctx, s, states, handled); err != nil {
			s.onError(err)
		}
		timer.Reset(max(wake.Sub(s.now()), 0))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// handle enqueues the latest due tick of st, if its policy lets it, and
// sets when to look at st again.
func (s *Scheduler) handle(ctx context.Context, st *state, now time.Time) {
	tick := latest(st.sched, st.last, now)
	if tick.IsZero() { // none due (a clock that went back): wait for it
		st.next = st.sched.Next(st.last)
		return
	}
	following := st.sched.Next(tick)
	ev := Tick{Entry: st.name, At: tick, ID: TickID(st.name, tick), Late: now.Sub(tick)}
	if ev.Late > st.policy.lateness() {
		ev.Status = Missed
		st.done(tick, following)
		s.tick(st, ev)
		return
	}
	err := s.enqueue(ctx, st, ev.ID, tick, following)
	switch {
	case err == nil:
		ev.Status = Enqueued
	case errors.Is(err, queue.ErrDuplicate):
		ev.Status = Duplicate
	case ctx.Err() != nil:
		return // stopping: another scheduler, or the next Run, enqueues it
	default:
		ev.Status, ev.Err = Failed, fmt.Errorf("schedule: enqueue %s: %w", ev.ID, err)
		s.onError(ev.Err)
		// Try again later, unless the following tick comes first: st.last
		// stays, so the tick is still due then, if not superseded.
		st.next = now.Add(retryPauses.Delay(st.fails))
		if !following.IsZero() && following.Before(st.next) {
			st.next = following
		}
		st.fails++
		s.tick(st, ev)
		return
	}
	st.done(tick, following)
	s.tick(st, ev)
}

// done marks tick handled, following the next tick.
func (st *state) done(tick, following time.Time) {
	st.last, st.next, st.fails = tick, following, 0
}

// enqueue enqueues the tick of st at tick under id, to expire as the entry
// says.
func (s *Scheduler) enqueue(ctx context.Context, st *state, id string, tick, following time.Time) error {
	opts := make([]worker.EnqueueOption, 0, len(st.opts)+2)
	opts = append(opts, st.opts...)
	opts = append(opts, worker.ID(id))
	switch {
	case st.noExpiry:
	case st.expiry > 0:
		opts = append(opts, worker.ExpiresAt(tick.Add(st.expiry)))
	case !following.IsZero():
		opts = append(opts, worker.ExpiresAt(following))
	}
	ctx, cancel := context.WithTimeout(ctx, enqueueTimeout)
	defer cancel()
	return st.put(ctx, s.client, tick, opts)
}

// tick records ev as st's last tick, and reports it to OnTick, if set.
func (s *Scheduler) tick(st *state, ev Tick) {
	st.tick = ev
	if ev.Status == Missed {
		st.missed++
	}
	if s.onTick != nil {
		s.onTick(ev)
	}
}
