// Package task is taskware's core contract: a task is a plain function, and
// every policy around it is a [Middleware].
//
// One run of one task is an [Invocation]. A [Func] runs it and returns the
// outcome; a [Middleware] wraps a Func in a policy; [Chain] composes
// middlewares, the first one outermost. [New] turns a typed Go function into a
// [Task] whose chain is built once, when the task is defined, and never per
// call.
//
// The outcome travels in the error. [Skip] marks a run that was deliberately
// not done (the lock was held, the run expired): it matches [ErrSkipped] and
// its reason under errors.Is, and it is neither a failure nor retried.
// Sentinel errors made with [NewError] carry a kind, a short stable name
// ("locked", "expired") that is stored with a failure so that the stored
// failure still matches the sentinel; see [KindOf].
//
// Values of this package are safe for concurrent use once built, except
// [Invocation], which belongs to one run.
package task
