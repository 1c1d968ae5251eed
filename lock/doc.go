// Package lock provides owned, expiring locks with fencing tokens: the fix
// for Huey's lock_task, whose locks have no TTL and no owner.
//
// A [Locker] hands out a [Lease] on a named key. Every lease has a random
// owner token, so only its owner can release or refresh it; a TTL, so a
// holder that crashes frees the lock when the TTL runs out; and a fencing
// token that grows with every lease on the same key, so a resource can turn
// away a holder whose lease was lost. An [Inspector] lists the locks held,
// by whom and since when ([Info]), and breaks a stuck one.
//
// This package holds the concepts, not a backend: package redisbackend
// keeps locks on Redis (one round trip to acquire and one to release),
// package memorybackend in memory.
//
// A [Guard] adds policy to a Locker: how long to wait for a held lock (with
// backoff and jitter), and renewal. [Guard.Hold] takes a lease and renews it
// at a third of its TTL while the caller works; if the lease is lost, the
// hold's context is cancelled with cause [ErrLeaseLost]. [Do] is the
// one-call form, the analogue of Huey's `with lock_task(...)`, and [Fence]
// reads the fencing token from inside it. Do releases on every path, a
// panic included, and at once: it never waits for the end of a worker's
// run (only middleware.WithLock's own release does, see [FinalReleaser]).
//
// A lock taken for a task run ([Guard.HoldFor], as middleware.WithLock
// does, or any acquire under [WithOwnerTask]) records that run ([TaskRef])
// with the lock, so that its Lease, its Info and the [LockedError] another
// run gets name it, as a field: middleware.JoinLocked reads it with
// errors.As and waits for that run's outcome.
//
// Lockers and Guards are safe for concurrent use; a Hold belongs to the
// goroutine that took it.
package lock
