// Package worker runs tasks from a queue: the loop the article describes,
// where a task is enqueued, a worker takes it and runs it through its
// chain, the outcome is stored, and the caller reads it back.
//
// A [Client] enqueues typed tasks ([Enqueue], or a batch in one round trip
// with [EnqueueMany]) and returns a [Handle], whose
// Get waits for the outcome: the stored result, or the error, which still
// matches its kind (lock.ErrLocked, middleware.ErrExpired, task.ErrSkipped,
// [ErrDeadLettered]). Every run a worker ends leaves the task's [State] in
// the queue, stored result or not, so a handle never waits for a task that
// has ended.
//
// A [Worker] takes tasks from one or more queues and runs at most
// Concurrency at once, holding as many more ready to start ([Prefetch]).
// Tasks registered with [Register] run with their own
// chain, or the worker's default chain if they have none. [Worker.Run]
// stops on ctx: it lets running tasks finish within a grace period and
// hands the rest, and those not started, back to their queue, for another
// worker. A task that cannot
// run becomes a dead letter with its reason: [ErrUnknownTask],
// [ErrTooManyDeliveries], task.ErrBadPayload, or a permanent failure
// (task.ErrPermanent, retries exhausted among them).
//
// The queue contract has two sides: a [Producer] for callers (enqueue,
// states, handles) and a [Consumer] for workers (take, reclaim, extend,
// promote, finish). This package holds no backend: package redisbackend
// keeps queues in Redis streams, package memorybackend in memory. A worker
// collects each run's last writes (task.FinalWrites: the run's WithLock
// release and StoreResult write) and hands them to [Consumer.Finish], which
// makes those of its own backend in the call that ends the task.
//
// The executor imports task and this contract only: no policy, no backend.
//
// Delivery is at least once: a task whose worker dies mid-run runs again.
// Workers, clients and handles are safe for concurrent use.
package worker
