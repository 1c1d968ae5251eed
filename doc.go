// Package taskware runs background tasks on Redis. A task is a plain Go
// function, and every policy around it is a middleware that the task opts
// into: lock handling, skipping when locked, expiry and result storage.
//
// It fixes, point by point, what Huey's lock_task and result store get
// wrong. In Huey, a run that finds its lock held raises TaskLockedException,
// and db_task stores that expected failure like any other error: the store
// grows without bound, and monitoring counts normal contention as failure.
// Huey's locks have no owner and no TTL, so a crashed holder keeps its lock
// forever. In taskware:
//
//   - middleware.WithLock takes an owned lock with a TTL, renewed while the
//     task runs, with a fencing token (package lock);
//   - middleware.SkipLocked turns "locked" into a clean skip;
//   - middleware.Expires skips a run that waited too long, before any lock;
//   - middleware.StoreResult stores results and errors, each with a TTL and a
//     per-task filter (package store).
//
// The packages:
//
//   - task: the core contract, Invocation, Func, Middleware, Chain, typed
//     tasks and outcome errors such as task.ErrSkipped;
//   - middleware: the policies;
//   - lock: Locker, Lease, Guard and lock.Do;
//   - store: Store, the records of outcomes, with a blocking Wait;
//   - queue: the contract between the executor and its backends, one
//     interface per side (Producer, Consumer, Admin), and queuetest, the
//     conformance suite every backend passes (lock/locktest and
//     store/storetest for the other two contracts);
//   - worker: the executor, the client side (Enqueue, Handle) and events;
//   - redisbackend: locks, results and queues on Redis, from one
//     constructor on one client and key prefix;
//   - memorybackend: the same in memory;
//   - taskwaretest: backends for tests in one line, a clock to move, and
//     helpers to run a chain and check what it left.
//
// An option is named by what it sets (worker.Concurrency,
// worker.Timeout, redisbackend.Prefix), with a With prefix only where that
// name is a type of its package (task.WithCodec, task.WithMiddleware);
// contrib/otel follows OpenTelemetry's own With convention.
//
// The examples below show the cases of the article this project started
// from: the Huey default, per-task SkipLocked, a global filter, the "mixed"
// approach, and lock.Do inside a function.
package taskware
