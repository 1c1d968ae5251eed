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
//   - [Schedules] is where schedulers publish their entries and ticks, and
//     where entries changed at run time are stored ([ScheduleDef]).
//
// [Admin.ListTasks] pages through a set of a queue's tasks by cursor, with
// the filters of a [TaskQuery]: a task name, a search of IDs, names and
// arguments, a status, an error kind, a time window. A cursor is the
// place of a page's last row (on Redis, a stream entry ID, or a due time
// and ID), so paging lists every task that stays in the set exactly once
// while others come and go. A filtered page reads at most [ScanBudget]
// rows, and may end short of its limit with a cursor to go on from. A
// cursor the backend did not make is an error matching [ErrBadCursor].
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
