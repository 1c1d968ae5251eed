// Package middleware holds taskware's policies. Each is a task.Middleware
// that a task opts into, so lock handling and error persistence are chosen
// per task instead of for the whole application:
//
//   - [WithLock] runs the task under an owned, expiring, renewed lock.
//   - [SkipLocked] turns "the lock is held" into a clean skip.
//   - [Expires] skips a run that waited too long, before any lock is taken.
//   - [StoreResult] stores successes and failures, each with a TTL, and can
//     leave chosen errors out.
//   - [Retry] (or [RetryUpTo], counted in retries) runs a failed
//     invocation again with backoff; [Timeout] bounds a run (both can be
//     overridden per enqueue: worker.Retries, worker.Timeout);
//     [Recover] turns a panic into a failure; [RescheduleLocked] runs a
//     locked-out run again later.
//   - [JoinLocked] makes a run that finds its lock held wait for the
//     holder's outcome and return it as its own: a singleflight across
//     processes. A joiner waits without a worker slot, and a holder's
//     failure is one failure: its joiners are skipped (ErrJoined).
//   - [RateLimit] and [ConcurrencyLimit] bound how often and how many runs
//     of a key start; a run over the limit goes back to its queue without
//     using an attempt.
//
// A typical chain puts StoreResult outermost, then Expires, then Retry and
// Timeout, then SkipLocked, then WithLock:
//
//	task.New("report", build,
//		middleware.StoreResult(results, middleware.IgnoreErrors(lock.ErrLocked)),
//		middleware.Expires(10*time.Minute),
//		middleware.SkipLocked(),
//		middleware.WithLock(locker, "report"),
//	)
//
// WithLock and StoreResult take small interfaces (lock.Locker,
// store.Writer), so any backend serves. Under a worker, their release and
// write go in the round trip that ends the task; run in-process, they are
// made at once.
//
// Constructors check their configuration and panic with an error matching
// task.ErrInvalidConfig when it is wrong, so a mistake surfaces when the
// chain is built, at start-up, and never on the hot path. The middlewares
// they return are safe for concurrent use.
package middleware
