package memorybackend

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// Backend is a Locker, a Store and a Queue in memory, on one clock. Create
// it with New.
type Backend struct {
	locker *Locker
	store  *Store
	queue  *Queue
	rate   *RateLimiter
	sem    *Semaphore
}

// Option configures a Backend.
type Option interface{ apply(*config) }

type config struct {
	now      func() time.Time
	holder   string
	stateTTL time.Duration
	deadMax  int
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Clock makes TTLs, idle times and timestamps follow now instead of
// the wall clock, so that tests can move time. A nil now is the wall clock.
func Clock(now func() time.Time) Option { return optionFunc(func(c *config) { c.now = now }) }

// Holder sets the holder recorded with each lock, lock.DefaultHolder()
// by default.
func Holder(h string) Option { return optionFunc(func(c *config) { c.holder = h }) }

// StateTTL sets how long a finished task's state is kept
// (queue.DefaultStateTTL).
func StateTTL(d time.Duration) Option { return optionFunc(func(c *config) { c.stateTTL = d }) }

// DeadLetterMax caps each queue's dead letters at n
// (queue.DefaultDeadLetterMax), the oldest going first.
func DeadLetterMax(n int) Option { return optionFunc(func(c *config) { c.deadMax = n }) }

// New returns an empty Backend. It panics with an error matching
// task.ErrInvalidConfig on a nil clock, an empty holder, or a state TTL or
// dead-letter cap that is not positive.
func New(opts ...Option) *Backend {
	c := config{holder: lock.DefaultHolder(), stateTTL: queue.DefaultStateTTL, deadMax: queue.DefaultDeadLetterMax}
	for _, o := range opts {
		o.apply(&c)
	}
	wall := c.now == nil
	if wall {
		c.now = time.Now
	}
	if c.holder == "" || c.stateTTL <= 0 || c.deadMax <= 0 {
		panic(fmt.Errorf("%w: memorybackend.New: empty holder, or a state TTL or dead-letter cap that is not positive", task.ErrInvalidConfig))
	}
	b := &Backend{
		locker: newLocker(c.now, wall, c.holder),
		store:  newStore(c.now),
		queue:  newQueue(c.now, c.stateTTL, c.deadMax),
	}
	b.rate, b.sem = newLimiters(c.now, wall)
	return b
}

// Locker returns the backend's locker.
func (b *Backend) Locker() *Locker { return b.locker }

// Store returns the backend's result store.
func (b *Backend) Store() *Store { return b.store }

// Queue returns the backend's queues.
func (b *Backend) Queue() *Queue { return b.queue }

// finalFunc is a deferred write of this backend: it has no round trip to
// save, so it runs when applied.
type finalFunc func(ctx context.Context) error

func (f finalFunc) Apply(ctx context.Context) error { return f(ctx) }
