// Package memorybackend keeps taskware's locks, results and queues in
// memory, in one process: for Task.Call, for tests, and for the demo.
//
// [New] returns a [Backend], whose [Backend.Locker], [Backend.Store] and
// [Backend.Queue] share one clock. They behave as package redisbackend's
// do (owner tokens, TTLs, increasing fences, the same statuses, errors and
// order), so that a test on memory says something about Redis. A run's
// lock release and result write are deferred to the end of the run under a
// worker, as on Redis.
//
// The queue runs workflows too (queue.Workflows): each step is an
// ordinary task's state, "waiting" until its parents end, and the Finish
// that ends a step releases its children in the same critical section, so
// a step is released once, and a failure cancels the steps not started
// before any worker can take one.
//
// Everything here is safe for concurrent use and runs no goroutine of its
// own.
package memorybackend
