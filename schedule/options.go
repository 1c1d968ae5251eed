package schedule

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/worker"
)

// MissedPolicy says what a scheduler does with ticks it finds past when it
// looks: at its start, and after a stall (the process paused, the machine
// asleep, the backend down).
type MissedPolicy int

const (
	// CatchUpOnce, the default, enqueues the most recent past tick once, if
	// it is less than the catch-up window old (DefaultCatchUpWindow), and
	// drops the ticks before it: a scheduler down over a tick runs it when
	// it is back, but a day down does not make a day of runs.
	CatchUpOnce MissedPolicy = iota
	// Skip enqueues only the ticks from now on: a tick less than
	// SkipTolerance late is on time, one later is missed.
	Skip
)

// String returns "catch-up-once" or "skip".
func (p MissedPolicy) String() string {
	switch p {
	case CatchUpOnce:
		return "catch-up-once"
	case Skip:
		return "skip"
	}
	return "MissedPolicy(" + strconv.Itoa(int(p)) + ")"
}

const (
	// DefaultCatchUpWindow is how old a tick CatchUpOnce still enqueues:
	// an hour short of the queue's state TTL (queue.DefaultStateTTL), so
	// that a tick enqueued before is still known to the queue, and refused,
	// when a scheduler catches it up. Keep a window of your own below the
	// state TTL of your queue too.
	DefaultCatchUpWindow = queue.DefaultStateTTL - time.Hour
	// SkipTolerance is how late a tick may be handled and still count as
	// on time under Skip: a timer's delay, a slow enqueue before it.
	SkipTolerance = time.Second
)

// Option configures a Scheduler.
type Option interface{ applyScheduler(*Scheduler) }

// EntryOption configures one entry of a Scheduler.
type EntryOption interface{ applyEntry(*entry) }

type optionFunc func(*Scheduler)

func (f optionFunc) applyScheduler(s *Scheduler) { f(s) }

type entryOptionFunc func(*entry)

func (f entryOptionFunc) applyEntry(e *entry) { f(e) }

// PolicyOption is an option of both a Scheduler, for all its entries, and
// an entry, for itself.
type PolicyOption struct{ apply func(*policy) }

func (o PolicyOption) applyScheduler(s *Scheduler) { o.set(&s.policy) }
func (o PolicyOption) applyEntry(e *entry)         { o.set(&e.policy) }

func (o PolicyOption) set(p *policy) {
	if o.apply != nil { // a PolicyOption{} does nothing
		o.apply(p)
	}
}

// policy is what to do with missed ticks.
type policy struct {
	missed MissedPolicy
	window time.Duration
}

// lateness is how late a tick may be enqueued under p.
func (p policy) lateness() time.Duration {
	if p.missed == Skip {
		return SkipTolerance
	}
	return p.window
}

// MissedTicks sets the policy for missed ticks (CatchUpOnce). It panics
// with an error matching task.ErrInvalidConfig on an unknown policy.
func MissedTicks(p MissedPolicy) PolicyOption {
	if p != CatchUpOnce && p != Skip {
		panic(configError("MissedTicks: unknown policy %v", p))
	}
	return PolicyOption{func(c *policy) { c.missed = p }}
}

// CatchUpWindow sets how old a tick CatchUpOnce still enqueues
// (DefaultCatchUpWindow). Keep it below the state TTL of the queue, or a
// tick enqueued, run and forgotten by the queue could be enqueued again.
// Skip ignores it. It panics with an error matching task.ErrInvalidConfig
// if d is not positive.
func CatchUpWindow(d time.Duration) PolicyOption {
	if d <= 0 {
		panic(configError("CatchUpWindow(%v): the window must be positive", d))
	}
	return PolicyOption{func(c *policy) { c.window = d }}
}

// OnError sets where a scheduler reports the enqueues that failed for
// another reason than a duplicate (which is how a tick enqueued by another
// scheduler looks, and no error): by default, slog.Default. The tick is
// tried again while it is due (see Tick), and the ticks after it go on.
// It panics with an error matching task.ErrInvalidConfig on a nil func.
func OnError(fn func(error)) Option {
	if fn == nil {
		panic(configError("OnError: nil func"))
	}
	return optionFunc(func(s *Scheduler) { s.onError = fn })
}

// OnTick sets a func that sees what the scheduler did with each tick: to
// count them in metrics, or to log them. It is called from Run's
// goroutine, one tick at a time, and must not block. It panics with an
// error matching task.ErrInvalidConfig on a nil func.
func OnTick(fn func(Tick)) Option {
	if fn == nil {
		panic(configError("OnTick: nil func"))
	}
	return optionFunc(func(s *Scheduler) { s.onTick = fn })
}

// Clock makes the scheduler read the time from now instead of
// time.Now: for tests. The scheduler still waits on real timers, for at
// most a second at a time, then reads now again, so a clock moved ahead is
// noticed within a second. It panics with an error matching
// task.ErrInvalidConfig on a nil func.
func Clock(now func() time.Time) Option {
	if now == nil {
		panic(configError("Clock: nil func"))
	}
	return optionFunc(func(s *Scheduler) { s.now = now })
}

// EnqueueOptions adds opts to every enqueue of the entry's ticks: OnQueue,
// Headers, Delay. The scheduler sets the ID (TickID) and the expiry
// (see Expiry) itself, after them.
func EnqueueOptions(opts ...worker.EnqueueOption) EntryOption {
	for _, o := range opts {
		if o == nil {
			panic(configError("EnqueueOptions: nil option"))
		}
	}
	return entryOptionFunc(func(e *entry) { e.opts = append(e.opts, opts...) })
}

// Expiry makes each tick's task expire d after the tick's time, instead of
// at the next tick (the default, so that a backlog of stale ticks never
// runs). A task expires under middleware.Expires, which skips a run past
// its deadline: put it in the task's chain. It panics with an error
// matching task.ErrInvalidConfig if d is not positive.
func Expiry(d time.Duration) EntryOption {
	if d <= 0 {
		panic(configError("Expiry(%v): must be positive; use NoExpiry for none", d))
	}
	return entryOptionFunc(func(e *entry) { e.expiry, e.noExpiry = d, false })
}

// NoExpiry enqueues the entry's ticks without an expiry: each runs however
// late a worker takes it.
func NoExpiry() EntryOption {
	return entryOptionFunc(func(e *entry) { e.expiry, e.noExpiry = 0, true })
}

// defaultOnError reports an error nobody asked for to slog.Default.
func defaultOnError(err error) { slog.Default().Error("taskware schedule", "err", err) }
