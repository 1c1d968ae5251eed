// Package queue is the contract between taskware's executor and its
// backends: the types a queue stores and returns, and one interface per
// side of it.
//
//   - A [Producer] is what callers use: enqueue, read a task's [State],
//     wait for its outcome, cancel it.
//   - A [Consumer] is what a worker uses: take deliveries, keep them
//     claimed, finish them, recover those of dead workers.
//   - An [Admin] is what operators use: list queues and tasks, count
//     outcomes, pause queues, repair dead letters.
//   - A [Server] describes the server under the backend, for operators.
//   - [Schedules] is where schedulers publish their entries and ticks.
//
// A [Queue] is all of them. Both of taskware's backends implement it whole,
// which their packages check at compile time; a backend that lacks a
// feature still has its method, which returns an error matching
// [ErrNotSupported]. A wrapper (a tracing producer, say) implements the
// whole side it wraps, so a capability is never lost behind it.
//
// Package queuetest holds the conformance suite: a backend passes it to
// keep every promise written here.
//
// This package imports only task and the standard library, so a backend,
// the web view or a tool can use it without the executor.
package queue
