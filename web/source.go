package web

import (
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

// Source is what the web view reads and changes: a backend's queues,
// locks and results. Queue is required; Locks and Results may be nil, and
// the pages and actions that need them then say so and offer nothing.
// FromBackend fills it from a backend; fill it by hand for any other.
type Source struct {
	// Queue lists queues and tasks, charts their outcomes, pauses and
	// resumes queues, cancels tasks, and requeues and purges dead letters.
	Queue queue.Queue
	// Locks lists and breaks the locks held.
	Locks lock.Inspector
	// Results is the result store: its records are counted and listed,
	// a task's page shows its record, and records are purged.
	Results store.Store
}

// Backend is a backend of taskware's shape: its queue, locker and store,
// as redisbackend.Backend and memorybackend.Backend have them.
type Backend[Q queue.Queue, L lock.Inspector, S store.Store] interface {
	Queue() Q
	Locker() L
	Store() S
}

// FromBackend returns the Source of b: its queue, locker and store. It
// takes b through its methods, so that this package imports no backend.
func FromBackend[Q queue.Queue, L lock.Inspector, S store.Store](b Backend[Q, L, S]) Source {
	return Source{Queue: b.Queue(), Locks: b.Locker(), Results: b.Store()}
}
