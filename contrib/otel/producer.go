package taskotel

import (
	"context"
	"errors"
	"time"

	"github.com/taskware/taskware/queue"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Producer returns next with a producer span around each message it
// enqueues: pass it to worker.NewClient in place of the backend's queue.
// Each span, "send <task>" of kind producer, is a child of the span in the
// enqueue's ctx, and its context is injected into the message's Headers
// with the propagator, for Middleware to pick up where the task runs.
// EnqueueMany makes one span per message. State and Wait pass through,
// untraced.
//
// The caller's Message and its Headers map are not changed: next receives
// a copy of the message, with a headers map of its own that holds the
// caller's headers and the injected ones (or the caller's message itself,
// if the propagator injects nothing). Producer panics
// with an error matching task.ErrInvalidConfig on a nil next or a nil or
// invalid option.
func Producer(next queue.Producer, opts ...Option) queue.Producer {
	c := newConfig("Producer", opts)
	if next == nil {
		panic(newConfigError("Producer: nil queue.Producer"))
	}
	return &producer{next: next, tracer: c.tracer(), prop: c.prop, attrs: c.attrs}
}

type producer struct {
	next   queue.Producer
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	attrs  []attribute.KeyValue
}

// start starts m's span and returns the message to hand to next: m, or a
// copy of it carrying the span's context in its headers.
func (p *producer) start(ctx context.Context, m *queue.Message, batch int) (trace.Span, *queue.Message) {
	attrs := make([]attribute.KeyValue, 0, 8+len(p.attrs))
	attrs = append(attrs, systemAttr)
	attrs = append(attrs, sendAttrs...)
	attrs = append(attrs,
		semconv.MessagingDestinationName(m.Queue),
		semconv.MessagingMessageID(m.ID),
		semconv.MessagingMessageBodySize(len(m.Payload)),
		TaskNameKey.String(m.Task))
	if batch > 0 {
		attrs = append(attrs, semconv.MessagingBatchMessageCount(batch))
	}
	attrs = append(attrs, p.attrs...)
	ctx, span := p.tracer.Start(ctx, "send "+m.Task, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	return span, p.inject(ctx, m)
}

// inject returns m with ctx's span context in its headers: a copy of m
// with a copy of its headers, or m itself if the propagator injects
// nothing.
func (p *producer) inject(ctx context.Context, m *queue.Message) *queue.Message {
	carrier := propagation.MapCarrier{}
	p.prop.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return m
	}
	cp := *m
	cp.Headers = make(map[string]string, len(m.Headers)+len(carrier))
	for k, v := range m.Headers {
		cp.Headers[k] = v
	}
	for k, v := range carrier {
		cp.Headers[k] = v
	}
	return &cp
}

// end ends span with err, the message's own outcome: a duplicate ID is
// not an error.
func end(span trace.Span, err error) {
	switch {
	case err == nil:
	case errors.Is(err, queue.ErrDuplicate):
		span.SetAttributes(DuplicateKey.Bool(true))
	default:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Enqueue implements queue.Producer.
func (p *producer) Enqueue(ctx context.Context, m *queue.Message, runAt time.Time) error {
	if m == nil {
		return p.next.Enqueue(ctx, m, runAt)
	}
	span, sent := p.start(ctx, m, 0)
	err := p.next.Enqueue(ctx, sent, runAt)
	end(span, err)
	return err
}

// EnqueueMany implements queue.Producer.
func (p *producer) EnqueueMany(ctx context.Context, ms []*queue.Message, runAt time.Time) ([]error, error) {
	spans := make([]trace.Span, len(ms))
	sent := make([]*queue.Message, len(ms))
	for i, m := range ms {
		if m == nil {
			sent[i] = m
			continue
		}
		spans[i], sent[i] = p.start(ctx, m, len(ms))
	}
	errs, err := p.next.EnqueueMany(ctx, sent, runAt)
	for i, span := range spans {
		if span == nil {
			continue
		}
		switch {
		case err != nil:
			end(span, err)
		case i < len(errs):
			end(span, errs[i])
		default:
			end(span, nil)
		}
	}
	return errs, err
}

// State implements queue.Producer: it passes through.
func (p *producer) State(ctx context.Context, name, id string) (*queue.State, error) {
	return p.next.State(ctx, name, id)
}

// Wait implements queue.Producer: it passes through.
func (p *producer) Wait(ctx context.Context, name, id string) (*queue.State, error) {
	return p.next.Wait(ctx, name, id)
}

// Cancel implements queue.Producer: it passes through.
func (p *producer) Cancel(ctx context.Context, name, id string) (queue.CancelOutcome, error) {
	return p.next.Cancel(ctx, name, id)
}
