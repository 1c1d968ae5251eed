// Package taskotel traces taskware tasks with OpenTelemetry, from the
// enqueue that asks for a run to the run itself, across processes.
//
// It has two halves, wired at the two ends of a queue:
//
//   - Producer wraps a queue.Producer (a backend's Queue), for
//     worker.NewClient. Each message enqueued through it gets a producer
//     span, "send <task>", and that span's context is injected into the
//     message's Headers with the configured propagator, so it travels with
//     the message through the queue.
//   - Middleware is a task.Middleware for worker.Around. It extracts the
//     context from the run's task.Invocation.Headers and starts a consumer
//     span, "process <task>", as a child of the producer span (or, with
//     NewRoot, as the root of a trace of its own, linked to it). The task
//     runs with that span in its context, so the spans it starts are its
//     children.
//
// A skipped run (task.IsSkipped: a lock held elsewhere under SkipLocked, an
// expired task) and a run rescheduled because its lock was held are not
// errors: contention is not a failure. Their spans keep an unset status
// and say what happened in the taskware.task.outcome attribute and an
// event. A failure sets the span's status to error and records the error.
// A duplicate ID refused at enqueue is not an error either: enqueueing
// under a known ID is how idempotent enqueues are made.
//
// Both halves use the global tracer provider and propagator
// (otel.GetTracerProvider, otel.GetTextMapPropagator) unless told
// otherwise with WithTracerProvider and WithPropagator. The global
// propagator propagates nothing until one is set, with
// otel.SetTextMapPropagator(propagation.TraceContext{}), say: without one,
// producer and consumer spans land in separate traces.
//
// The values returned by Producer and Middleware are safe for concurrent
// use. Options are checked when they are built into one of them: a nil
// option, tracer provider or propagator panics there with an error matching
// task.ErrInvalidConfig.
package taskotel
