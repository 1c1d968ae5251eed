package taskotel_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	taskotel "github.com/taskware/taskware/contrib/otel"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// tracing is a tracer provider whose spans are recorded in memory, with a
// W3C trace-context propagator: the global ones are left alone.
type tracing struct {
	rec  *tracetest.SpanRecorder
	tp   *sdktrace.TracerProvider
	prop propagation.TextMapPropagator
}

func newTracing(t *testing.T) *tracing {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &tracing{rec: rec, tp: tp, prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}
}

// opts are the options that make taskotel use tr.
func (tr *tracing) opts(more ...taskotel.Option) []taskotel.Option {
	return append([]taskotel.Option{taskotel.WithTracerProvider(tr.tp), taskotel.WithPropagator(tr.prop)}, more...)
}

// ended returns the spans ended so far named name.
func (tr *tracing) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tr.rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// one returns the one ended span named name, and fails t if there is not
// exactly one.
func (tr *tracing) one(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := tr.ended(name)
	if len(spans) != 1 {
		var names []string
		for _, s := range tr.rec.Ended() {
			names = append(names, s.Name())
		}
		t.Fatalf("%d spans named %q, want 1; ended: %q", len(spans), name, names)
	}
	return spans[0]
}

// attrs returns s's attributes by key.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// wantAttrs fails t unless s has each of want.
func wantAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want ...attribute.KeyValue) {
	t.Helper()
	got := attrs(s)
	for _, kv := range want {
		v, ok := got[kv.Key]
		if !ok {
			t.Errorf("%s: no attribute %s, want %s", s.Name(), kv.Key, kv.Value.Emit())
			continue
		}
		if v.Type() != kv.Value.Type() || v.Emit() != kv.Value.Emit() {
			t.Errorf("%s: %s = %s (%s), want %s (%s)", s.Name(), kv.Key, v.Emit(), v.Type(), kv.Value.Emit(), kv.Value.Type())
		}
	}
}

// noAttr fails t if s has key.
func noAttr(t *testing.T, s sdktrace.ReadOnlySpan, key attribute.Key) {
	t.Helper()
	if v, ok := attrs(s)[key]; ok {
		t.Errorf("%s: attribute %s = %s, want none", s.Name(), key, v.Emit())
	}
}

// childOf fails t unless child's parent is parent, in the same trace.
func childOf(t *testing.T, child, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if child.Parent().SpanID() != parent.SpanContext().SpanID() || child.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("%s: parent %s in trace %s, want %s (%s) in trace %s", child.Name(),
			child.Parent().SpanID(), child.SpanContext().TraceID(),
			parent.SpanContext().SpanID(), parent.Name(), parent.SpanContext().TraceID())
	}
}

// hasEvent reports whether s has an event named name.
func hasEvent(s sdktrace.ReadOnlySpan, name string) bool {
	return slices.ContainsFunc(s.Events(), func(e sdktrace.Event) bool { return e.Name == name })
}

// runWorker runs a worker on q with the tasks register adds, wrapped in
// taskotel's middleware, until t ends.
func runWorker(t *testing.T, q queue.Queue, tr *tracing, register func(w *worker.Worker), more ...taskotel.Option) {
	t.Helper()
	w := worker.New(q, worker.Around(taskotel.Middleware(tr.opts(more...)...)),
		worker.PollWait(20*time.Millisecond), worker.Grace(time.Second), worker.Queues("otel", queue.Default))
	register(w)
	taskwaretest.StartWorker(t, w) // stopped when t ends
}

// client returns a client whose enqueues are traced.
func client(q queue.Producer, s store.Reader, tr *tracing) *worker.Client {
	return worker.NewClient(taskotel.Producer(q, tr.opts()...), s)
}

// getCtx bounds a test's waits.
func getCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// spanCtx is the span context of the span in ctx.
func spanCtx(ctx context.Context) trace.SpanContext { return trace.SpanContextFromContext(ctx) }
