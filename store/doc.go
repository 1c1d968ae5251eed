// Package store keeps the outcomes of task runs, each with a TTL, so that a
// result store cannot grow without bound (Huey's keeps every error forever).
//
// A [Store] puts, gets and deletes [Record]s by run ID, and [Store.Wait]
// blocks until a run's record arrives. [NewRedis] keeps records on Redis:
// one string per record under "<prefix>result:{<id>}", written with its
// TTL by a SET and announced on a Pub/Sub channel in one round trip, so that waiters wake
// without polling. [NewMemory] behaves the same in one process.
//
// A stored failure keeps its error's kind ("locked", "expired", ...), and
// [Record.Err] rebuilds it as a *task.Failure, which still matches the
// original sentinel under errors.Is.
//
// Stores are safe for concurrent use.
package store
