// Package runctx carries a run's invocation in its context at no
// allocation of its own: a runner embeds a [Context] in what it allocates
// per run anyway. Package task reads the invocation back
// (task.InvocationFrom) and carries it this way in Task.Call; the worker
// does so for each run it takes from a queue. It is internal so that this
// plumbing stays out of taskware's public API.
package runctx
