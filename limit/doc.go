// Package limit provides rate limits and concurrency limits for tasks: how
// often a task may start, and how many runs of it may run at once.
//
// A [RateLimiter] answers whether one more event may happen now under a
// [Rate] with a burst, by the generic cell rate algorithm (GCRA): each key
// keeps one time, its theoretical arrival time, and an event is allowed if
// it comes no sooner than that time less the burst's worth of intervals.
// When it is not, the [Decision] says how long to wait ([Decision.RetryAfter]),
// exactly: the time at which the next event would be allowed.
// [RateLimiter.Reserve] is for an event that will wait: over the limit, it
// is given the next free turn, counted at once, and it may use that turn
// when it comes, even late (up to [MaxTurnLate]), so that the lateness of
// one event is not passed on to the next: under load, the rate is kept.
//
// A [Semaphore] hands out at most n [Permit]s on a key at once. Permits are
// leases, as locks are (see package lock): each has a random owner token,
// so only its owner can release or refresh it, and a TTL, so the permit of
// a holder that crashed frees itself when the TTL runs out. A [Keeper]
// holds permits and renews them while their holders work: it is a
// lock.Guard over the semaphore, so permits are renewed as leases are, from
// one goroutine for all of them. A [Hold] is the context to work under, and
// it is cancelled with a cause matching [ErrPermitLost] if its permit is
// lost; unlike a lock's, it carries no lease (lock.LeaseFrom, lock.Fence).
//
// This package holds the concepts, not a backend: package redisbackend
// keeps limits on Redis (one round trip per Allow or Reserve, per acquire
// and per release, on the server's clock), package memorybackend in memory. The
// policies that use them, middleware.RateLimit and
// middleware.ConcurrencyLimit, requeue a run that is over its limit without
// using an attempt; the outcome matches [ErrRateLimited] or
// [ErrConcurrencyLimited].
//
// RateLimiters, Semaphores and Keepers are safe for concurrent use; a Hold
// belongs to the goroutine that took it.
package limit
