// Package store keeps the outcomes of task runs, each with a TTL, so that a
// result store cannot grow without bound (Huey's keeps every error forever).
//
// A [Store] puts, gets and deletes [Record]s, keyed by queue and run ID
// (IDs are unique per queue; a run in-process has queue ""), and
// [Reader.Wait] blocks until a run's record arrives. The interfaces are
// small, for their users: middleware.StoreResult needs only a [Writer], a
// worker's handles only a [Reader].
//
// This package holds no backend: package redisbackend keeps records on
// Redis, package memorybackend in memory.
//
// A stored failure keeps its error's kind ("lock.locked", ...), and
// [Record.Err] rebuilds it as a *task.Failure, which still matches the
// original sentinel under errors.Is.
//
// Stores are safe for concurrent use.
package store
