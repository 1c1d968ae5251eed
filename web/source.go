package web

import (
	"context"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/worker"
)

// Source is what the web view reads and changes: a backend's queues,
// locks and results, as interfaces. Queue is required; each other field
// may be nil, and the pages and actions that need it then say so and
// offer nothing. FromRedis and FromMemory fill it from a backend; fill it
// by hand for any other.
type Source struct {
	// Queue lists queues and tasks, pauses and resumes queues, and cancels
	// tasks.
	Queue Queue
	// Locks lists and breaks the locks held.
	Locks lock.Inspector
	// Results is the result store: its records are counted and listed,
	// a task's page shows its record, and records are purged. A store that
	// is a ResultPurger purges through it; any other, record by record.
	Results store.Store
	// Dead requeues and purges dead letters. Without it the dead letters
	// are shown, without their actions.
	Dead worker.DeadRepairer
	// Rates reads the outcome counts per minute that the overview charts.
	// Without it, or while it fails, the overview shows no charts.
	Rates worker.RateReader
}

// Queue is the part of a backend's queue the web view uses. Both
// backends' queues implement it. A Queue that is also a MessageReader, or
// else a DeadLetterReader, shows a task's arguments and headers on its
// page (the second only for dead letters).
type Queue interface {
	worker.Inspector
	worker.Lister
	worker.Pauser
	worker.Canceler
	// State returns what the queue knows of task id, or an error matching
	// worker.ErrNotFound (see worker.Producer).
	State(ctx context.Context, queue, id string) (*worker.State, error)
}

// ResultPurger is a store.Store that purges records in bulk, as the Redis
// backend's store does: those of the given queues, or all if none is
// given.
type ResultPurger interface {
	Purge(ctx context.Context, queues ...string) (int, error)
}

// MessageReader is a Queue that returns a task's message (its arguments
// and headers) while it waits: ready, running or delayed. Both backends'
// queues implement it; a task's page uses it when the Queue does, and
// DeadLetterReader for a dead one.
type MessageReader interface {
	Message(ctx context.Context, queue, id string) (*worker.Message, error)
}

// DeadLetterReader is a Queue that lists dead letters with their
// messages (see worker.Queue): a dead task's page shows its arguments and
// headers from there.
type DeadLetterReader interface {
	DeadLetters(ctx context.Context, queue string, n int) ([]worker.DeadLetter, error)
}

// Backend is a backend of taskware's shape: one constructor's queue,
// locker and store, as redisbackend.Backend and memorybackend.Backend
// have them.
type Backend[Q Queue, L lock.Inspector, S store.Store] interface {
	Queue() Q
	Locker() L
	Store() S
}

// FromRedis returns the Source of b, a *redisbackend.Backend: its queue,
// locker and store, dead-letter repair and outcome rates. It takes b
// through its methods (any Backend will do), so that this package, like
// every package but the Redis backend's, does not import go-redis.
func FromRedis[Q Queue, L lock.Inspector, S store.Store](b Backend[Q, L, S]) Source {
	return fromBackend(b)
}

// FromMemory returns the Source of b, a memory backend: its queue (which
// repairs dead letters and counts outcomes per minute too), locker and
// store.
func FromMemory(b *memorybackend.Backend) Source { return fromBackend(b) }

func fromBackend[Q Queue, L lock.Inspector, S store.Store](b Backend[Q, L, S]) Source {
	q := b.Queue()
	src := Source{Queue: q, Locks: b.Locker(), Results: b.Store()}
	if d, ok := any(q).(worker.DeadRepairer); ok {
		src.Dead = d
	}
	if r, ok := any(q).(worker.RateReader); ok {
		src.Rates = r
	}
	return src
}
