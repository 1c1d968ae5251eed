// Package task is taskware's core contract: a task is a plain function, and
// every policy around it is a [Middleware].
//
// One run of one task is an [Invocation]: its facts, whether whoever runs
// it honours a requeue ([Invocation.CanRequeue]), and the clock it reads
// the time from ([Invocation.Now]). A [Func] runs it and returns the
// outcome; a [Middleware] wraps a Func in a policy; [Chain] composes
// middlewares, the first one outermost. [New] turns a typed Go function
// into a [Task] whose chain is built once, when the task is defined, and
// never per call.
//
// The outcome travels in the error. [Skip] marks a run that was
// deliberately not done (the lock was held, the run expired): it matches
// [ErrSkipped] and its reason under errors.Is, and it is neither a failure
// nor retried. [Requeue] asks for the run again later. [Permanent] marks a
// failure no retry can mend: a worker dead-letters it. [Unavailable] marks
// an error of the infrastructure, which is no outcome at all: a worker
// runs the task again later. [IsOutcome] tells any of these four, which no
// other policy may turn into something else. [AfterFailure] keeps a retry
// from ending as a skip that would hide why it was retried. A panic
// becomes a [PanicError] with a one-line message. The text of a failure
// that an outcome or a record keeps is cut to [MaxErrorText] ([ErrorText]),
// and a result is encoded no further than its cap ([MarshalCapped]).
//
// Sentinel errors made with [NewError] carry a kind, a short, stable and
// unique name ("lock.locked", "middleware.expired") that is stored with a
// failure, so that the stored failure still matches the sentinel, and only
// it; see [KindOf] and [Failure].
//
// [FinalWrites] is how a run's own policies defer their last writes (the
// lock release, the result record) to whoever runs the invocation, so that
// a worker sends them in the round trip that ends the task.
//
// A long run says how far it is with [Progress], which reaches the
// [Reporter] its runner set ([Invocation.Reporter]); a worker shows it in
// the task's state. Without one it does nothing, and allocates nothing.
//
// Values of this package are safe for concurrent use once built, except
// [Invocation], which belongs to one run.
package task
