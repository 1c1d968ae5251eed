package taskotel_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	taskotel "github.com/taskware/taskware/contrib/otel"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// The wiring: Producer around the queue the client enqueues on,
// Middleware around every task the worker runs. The run's span is a child
// of the enqueue's, across the queue, and the task's own spans are
// children of the run's. A skip is no error.
func Example() {
	// An SDK provider that records spans in memory; a real service would
	// export them, and set both globally instead:
	// otel.SetTracerProvider(tp), otel.SetTextMapPropagator(prop).
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	opts := []taskotel.Option{taskotel.WithTracerProvider(tp), taskotel.WithPropagator(propagation.TraceContext{})}

	backend := memorybackend.New()
	name, locker, results := backend.Queue(), backend.Locker(), backend.Store()
	resize := task.New("resize", func(ctx context.Context, width int) (int, error) {
		_, span := tp.Tracer("images").Start(ctx, "scale") // the task's own span
		defer span.End()
		return width / 2, nil
	}, middleware.StoreResult(results))
	nightly := task.New("nightly", func(ctx context.Context, _ struct{}) (string, error) { return "done", nil },
		middleware.SkipLocked(), middleware.WithLock(locker, "nightly"))
	held, _ := locker.TryAcquire(context.Background(), "nightly", time.Minute) // another run's
	defer func() { _ = locker.Release(context.Background(), held) }()

	w := worker.New(name, worker.Around(taskotel.Middleware(opts...)))
	worker.Register(w, resize)
	worker.Register(w, nightly)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() { stop(); <-done }()

	client := worker.NewClient(taskotel.Producer(name, opts...), results)
	reqCtx, req := tp.Tracer("http").Start(context.Background(), "POST /images")
	h1, err := worker.Enqueue(reqCtx, client, resize, 640)
	if err != nil {
		fmt.Println(err)
		return
	}
	h2, err := worker.Enqueue(reqCtx, client, nightly, struct{}{})
	if err != nil {
		fmt.Println(err)
		return
	}
	req.End()
	fmt.Println(h1.Get(context.Background()))
	_, err = h2.Get(context.Background())
	fmt.Println("nightly skipped:", task.IsSkipped(err))

	spans := rec.Ended()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	// Spans end in no set order across goroutines: print them by name.
	slices.SortFunc(spans, func(a, b sdktrace.ReadOnlySpan) int { return strings.Compare(a.Name(), b.Name()) })
	for _, s := range spans {
		parent := "root"
		if p, ok := byID[s.Parent().SpanID()]; ok {
			parent = "child of " + p.Name()
		}
		line := fmt.Sprintf("%s (%s), %s", s.Name(), s.SpanKind(), parent)
		for _, kv := range s.Attributes() {
			if kv.Key == taskotel.TaskOutcomeKey || kv.Key == taskotel.SkipReasonKey {
				line += fmt.Sprintf(", %s=%s", kv.Key, kv.Value.Emit())
			}
		}
		fmt.Printf("%s, status %s\n", line, s.Status().Code)
	}
	// Output:
	// 320 <nil>
	// nightly skipped: true
	// POST /images (internal), root, status Unset
	// process nightly (consumer), child of send nightly, taskware.task.outcome=skipped, taskware.skip.reason=lock.locked, status Unset
	// process resize (consumer), child of send resize, taskware.task.outcome=succeeded, status Unset
	// scale (internal), child of process resize, status Unset
	// send nightly (producer), child of POST /images, status Unset
	// send resize (producer), child of POST /images, status Unset
}

// Producer carries the enqueue's span context in the message's headers,
// through the queue, with the propagator: W3C trace context here.
func ExampleProducer() {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	name := memorybackend.New().Queue()
	producer := taskotel.Producer(name, taskotel.WithTracerProvider(tp), taskotel.WithPropagator(propagation.TraceContext{}))

	m := &queue.Message{ID: "mail-1", Task: "mail", Queue: queue.Default, Headers: map[string]string{"tenant": "acme"}}
	if err := producer.Enqueue(context.Background(), m, time.Time{}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("the caller's headers:", len(m.Headers))

	ds, err := name.Take(context.Background(), queue.Default, "example", 1, time.Second)
	if err != nil || len(ds) != 1 {
		fmt.Println(len(ds), err)
		return
	}
	keys := make([]string, 0, len(ds[0].Headers))
	for k := range ds[0].Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Println("the queued message's headers:", keys)
	// Output:
	// the caller's headers: 1
	// the queued message's headers: [tenant traceparent]
}

// With NewRoot, each run starts a trace of its own, linked to its enqueue:
// for runs long after the request that asked for them.
func ExampleNewRoot() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	prop := propagation.TraceContext{}
	mw := taskotel.Middleware(taskotel.WithTracerProvider(tp), taskotel.WithPropagator(prop), taskotel.NewRoot())

	// The headers a Producer would have set, at enqueue.
	ctx, send := tp.Tracer("example").Start(context.Background(), "send report")
	headers := propagation.MapCarrier{}
	prop.Inject(ctx, headers)
	send.End()

	run := mw(func(ctx context.Context, inv *task.Invocation) (any, error) { return nil, nil })
	_, _ = run(context.Background(), &task.Invocation{ID: "r-1", Name: "report", Queue: "reports", Attempt: 1, Headers: headers})

	process := rec.Ended()[1]
	link := process.Links()[0].SpanContext
	fmt.Println(process.Name(), "is a root:", !process.Parent().IsValid())
	fmt.Println("same trace as its enqueue:", process.SpanContext().TraceID() == send.SpanContext().TraceID())
	fmt.Println("linked to its enqueue:", link.SpanID() == send.SpanContext().SpanID())
	// Output:
	// process report is a root: true
	// same trace as its enqueue: false
	// linked to its enqueue: true
}
