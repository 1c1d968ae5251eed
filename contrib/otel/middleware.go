package taskotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// Middleware returns a task.Middleware that runs each invocation in a
// consumer span, "process <task>": pass it to worker.Around, so that it
// wraps every task a worker runs, outside their own chains.
//
// The span's parent is the span context that Producer injected into the
// message's headers (task.Invocation.Headers), extracted with the
// propagator; with NewRoot, the span starts a trace of its own and links
// to it instead. A run without one (headers lost, or a run in-process
// through Task.Call) gets the span in ctx as parent, if any. The task runs
// with the span in its ctx, so the spans it starts are its children.
//
// Once the run is over, the span gets the run's outcome (TaskOutcomeKey)
// and the locks it asked for (LockKeysKey, LockFencesKey, LockLostKey). A
// failure sets the status to error, records the error and sets error.type
// to its kind (task.KindOf). A skip (task.IsSkipped) or a reschedule
// because a lock was held is not an error: it gets SkipReasonKey and a
// SkipEvent. A panic of the task ends the span as a failure and goes on
// up. The result and error of the run are returned unchanged.
//
// Middleware panics with an error matching task.ErrInvalidConfig on a nil
// or invalid option.
func Middleware(opts ...Option) task.Middleware {
	c := newConfig("Middleware", opts)
	m := &consumer{tracer: c.tracer(), prop: c.prop, attrs: c.attrs, newRoot: c.newRoot}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			return m.run(ctx, inv, next)
		}
	}
}

type consumer struct {
	tracer  trace.Tracer
	prop    propagation.TextMapPropagator
	attrs   []attribute.KeyValue
	newRoot bool
}

func (m *consumer) run(ctx context.Context, inv *task.Invocation, next task.Func) (res any, err error) {
	attrs := make([]attribute.KeyValue, 0, 8+len(m.attrs))
	attrs = append(attrs, systemAttr)
	attrs = append(attrs, processAttrs...)
	if inv.Queue != "" {
		// A run from a partition of a split queue names its queue.
		logical, _ := queue.SplitPartition(inv.Queue)
		attrs = append(attrs, semconv.MessagingDestinationName(logical))
	}
	attrs = append(attrs,
		semconv.MessagingMessageID(inv.ID),
		TaskNameKey.String(inv.Name),
		TaskAttemptKey.Int(inv.Attempt))
	attrs = append(attrs, m.attrs...)
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...)}
	if len(inv.Headers) > 0 {
		// Extract reads the carrier only: the invocation's headers are
		// not changed.
		ctx = m.prop.Extract(ctx, propagation.MapCarrier(inv.Headers))
		if m.newRoot {
			if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
				opts = append(opts, trace.WithNewRoot(), trace.WithLinks(trace.Link{SpanContext: sc}))
			}
		}
	}
	ctx, span := m.tracer.Start(ctx, "process "+inv.Name, opts...)
	ended := false
	defer func() {
		if ended {
			return
		}
		// The task panicked (a failure, whoever recovers it), or its
		// goroutine is exiting (runtime.Goexit: recover returns nil).
		v := recover()
		lockAttrs(span, inv)
		span.SetAttributes(TaskOutcomeKey.String(OutcomeFailed))
		if v == nil {
			span.SetStatus(codes.Error, "task exited without returning")
			span.End()
			return
		}
		span.SetAttributes(errorTypeKey.String(task.KindOf(task.ErrPanic)))
		span.SetStatus(codes.Error, (&task.PanicError{Value: v}).Error()) // one line, no stack
		span.End()
		panic(v)
	}()
	res, err = next(ctx, inv)
	ended = true
	lockAttrs(span, inv)
	outcome(span, inv, err)
	span.End()
	return res, err
}

// lockAttrs sets the attributes of the locks inv asked for.
func lockAttrs(span trace.Span, inv *task.Invocation) {
	if len(inv.Locks) == 0 {
		return
	}
	keys := make([]string, len(inv.Locks))
	fences := make([]int64, len(inv.Locks))
	lost := false
	for i, l := range inv.Locks {
		keys[i], fences[i] = l.Key, l.Fence
		lost = lost || l.Lost
	}
	span.SetAttributes(LockKeysKey.StringSlice(keys), LockFencesKey.Int64Slice(fences))
	if lost {
		span.SetAttributes(LockLostKey.Bool(true))
	}
}

// outcome sets the span's outcome and status by err, as a worker ends the
// run.
func outcome(span trace.Span, inv *task.Invocation, err error) {
	if err == nil {
		span.SetAttributes(TaskOutcomeKey.String(OutcomeSucceeded))
		return
	}
	// A skip of a retry hides a failure: the worker ends it as that failure.
	err = task.AfterFailure(err, inv.LastErr)
	var rq *task.RequeueError
	var skip *task.SkipError
	switch {
	case errors.As(err, &rq) && !rq.Retry:
		reason := rq.Err
		if reason == nil {
			reason = err
		}
		skipped(span, OutcomeRescheduled, reason)
	case errors.As(err, &skip):
		reason := skip.Reason
		if reason == nil {
			reason = err
		}
		skipped(span, OutcomeSkipped, reason)
	default:
		name := OutcomeFailed
		if rq != nil {
			name = OutcomeRetry
			if rq.Err != nil {
				err = rq.Err
			}
		}
		span.SetAttributes(TaskOutcomeKey.String(name), errorTypeKey.String(task.KindOf(err)))
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}

// skipped marks a run that was deliberately not done: not an error.
func skipped(span trace.Span, name string, reason error) {
	kind := task.KindOf(reason)
	span.SetAttributes(TaskOutcomeKey.String(name), SkipReasonKey.String(kind))
	span.AddEvent(SkipEvent, trace.WithAttributes(SkipReasonKey.String(kind), SkipMessageKey.String(reason.Error())))
}
