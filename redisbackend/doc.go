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
//	<prefix>lock:{<key>}              a lock: "token|fence|sinceµs|holder"
//	<prefix>result:{<queue>}:<id>     a result record, with its TTL
//	<prefix>queue:{<q>}               the stream of ready tasks
//	<prefix>queue:{<q>}:delayed       sorted set of scheduled IDs, by due time
//	<prefix>queue:{<q>}:dead          the dead letters, a capped stream
//	<prefix>queue:{<q>}:task:<id>     a task's state, with its payload while delayed
//	<prefix>queue:{<q>}:taken:<c>     the IDs of consumer c's last Take, for a minute
//	<prefix>done                      the Pub/Sub channel that wakes waiters
//
// Round trips: a lock acquire, release or refresh is one (a script sent by
// its SHA, with the body only if the server lost it); a result write is
// one (SET with PX, and PUBLISH); taking up to n ready tasks is one (two
// more when none is ready: XREAD BLOCK waits for one). Under a worker, a
// run's lock release and result write are deferred (lock.FinalReleaser,
// store.FinalPutter) and go in the round trip that ends the task: the
// release, then the script that acknowledges the task and writes its
// record and its state, in one pipeline. The script writes the record only
// if its XACK acknowledged the task: a worker that finishes late, its task
// taken over and ended meanwhile, overwrites nothing. Only writes of the
// same Backend are joined this way; any other deferred write is made
// first, on its own, and if it fails the state says worker.ResultLost.
//
// Every script answers the same when go-redis sends it again after losing
// its reply, and connection errors come back marked task.ErrUnavailable;
// see FAULTS.md. A client from client.AutoPipeline() lets concurrent
// callers share round trips. Everything here is safe for concurrent use.
package redisbackend
