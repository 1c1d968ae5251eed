// Package redisbackend keeps taskware's locks, results and queues on Redis,
// a single server or a Redis Cluster, through go-redis v9. It is the only
// package of the module that talks to Redis.
//
// [New] takes a redis.UniversalClient and one key prefix, and returns a
// [Backend] whose [Backend.Locker], [Backend.Store] and [Backend.Queue]
// share both:
//
//	b := redisbackend.New(rdb) // keys under "taskware:"
//	middleware.WithLock(b.Locker(), "report")
//	middleware.StoreResult(b.Store())
//	worker.New(b.Queue())
//
// The keys, each with a hash tag so that every script's keys share a
// Cluster slot:
//
//	<prefix>lock:{<key>}              a lock: "token|fence|sinceµs|holder[|task:<q>/<id>]"
//	<prefix>result:{<queue>}:<id>     a result record, with its TTL
//	<prefix>queue:{<q>}               the stream of ready and taken tasks
//	<prefix>queue:{<q>}:delayed       sorted set of scheduled IDs, by due time
//	<prefix>queue:{<q>}:dead          the dead letters, a capped stream
//	<prefix>queue:{<q>}:task:<id>     a task's state, with its message while delayed
//	<prefix>queue:{<q>}:unique:<key>  the task holding a unique key, for its window
//	<prefix>queue:{<q>}:paused        present while the queue is paused
//	<prefix>rate:{<key>}              a rate limit's schedule (GCRA), with a TTL
//	<prefix>sem:{<key>}               a concurrency limit's permits, with a TTL
//	<prefix>done                      the Pub/Sub channel that wakes waiters,
//	                                  and tells workers of canceled tasks
//
// A task's state names its current stream entry ("e"), so that a Cancel
// deletes the entry of a task not taken yet, in the one script that ends
// it; a task a worker holds is told to cancel on the channel instead.
//
// A stream entry holds a message as one string under "m" (its ID, task,
// times and payload), beside its attempt and, once they apply, its
// takeovers, outages and last failure; a payload is stored once. A
// finished entry is acknowledged, not deleted: each worker's Recover trims
// the stream below its oldest pending entry, so it stays bounded.
//
// Round trips. The hot calls of concurrent tasks (lock acquires, releases
// and refreshes, and finishes) share pipelines: a call that finds fewer
// than two pipelines in flight goes at once, and those that come meanwhile
// go together in the next one, each reading its own reply. Taking up to n
// ready tasks is one round trip (two more when none is ready: XREAD BLOCK
// waits for one). An EnqueueMany is one, whatever its size. Under a
// worker, a run's lock releases and its result write are deferred
// (lock.FinalReleaser, store.FinalPutter) and made by the one script that
// ends the task: it releases the locks, acknowledges the task and, only if
// that acknowledged it, writes the record and the state, so a worker that
// finishes late, its task taken over and ended meanwhile, overwrites
// nothing. (On a Cluster, where a lock's key and the queue's lie apart, the
// releases go beside the script, in its pipeline.) Only writes of the same
// Backend are joined this way; any other deferred write is made first, on
// its own, and if it fails the state says queue.ResultLost. A task's end
// is published only if someone waits for it: Wait marks the task's state.
//
// Every script answers the same when go-redis sends it again after losing
// its reply, and connection errors come back marked task.ErrUnavailable;
// see FAULTS.md. Everything here is safe for concurrent use.
package redisbackend
