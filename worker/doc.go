// Package worker runs tasks from a queue: the loop the article describes,
// where a task is enqueued, a worker takes it and runs it through its
// chain, the outcome is stored, and the caller reads it back.
//
// A [Client] enqueues typed tasks ([Enqueue]) and returns a [Handle], whose
// Get waits for the outcome: the stored result, or the error, which still
// matches its kind (lock.ErrLocked, middleware.ErrExpired, task.ErrSkipped,
// [ErrDeadLettered]). Every run a worker ends leaves the task's [State] in
// the queue, stored result or not, so a handle never waits for a task that
// has ended.
//
// A [Worker] takes tasks from one or more queues and runs at most
// Concurrency at once. Tasks registered with [Register] run with their own
// chain, or the worker's default chain if they have none. [Worker.Run]
// stops on ctx: it lets running tasks finish within a grace period and
// leaves the rest unacknowledged, for another worker.
//
// [RedisQueue] keeps each queue in a Redis stream read by a consumer group:
// several tasks per round trip, delayed runs and retries in a sorted set,
// tasks of a dead worker taken over with XAUTOCLAIM after a visibility
// timeout (a live worker renews its claims), and a capped dead-letter stream
// for what cannot run: a payload that does not decode, an unknown task, a
// task out of retries. When the locker and result store share the queue's
// client, a run's lock release, result write and acknowledgement go in one
// round trip. [MemoryQueue] behaves the same in one process.
//
// Delivery is at least once: a task whose worker dies mid-run runs again.
// Workers, clients, queues and handles are safe for concurrent use.
package worker
