package taskotel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	taskotel "github.com/taskware/taskware/contrib/otel"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

var errBoom = errors.New("boom")

// scenario enqueues three tasks through a traced producer under one request
// span, runs them on a traced worker over q, and checks the spans: one that
// succeeds holding a lock and starts a span of its own, one that fails,
// and one skipped because its lock is held elsewhere.
func scenario(t *testing.T, q queue.Queue, l lock.Locker) {
	tr := newTracing(t)
	ctx := getCtx(t)
	held, err := l.TryAcquire(ctx, "held", time.Minute) // another run's
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Release(context.Background(), held) })

	work := task.New("work", func(ctx context.Context, s string) (int, error) {
		_, inner := tr.tp.Tracer("test").Start(ctx, "inner")
		inner.End()
		return len(s), nil
	}, middleware.WithLock(l, "work-lock"))
	broken := task.New("broken", func(ctx context.Context, _ string) (int, error) { return 0, errBoom })
	contended := task.New("contended", func(ctx context.Context, _ string) (int, error) { return 1, nil },
		middleware.SkipLocked(), middleware.WithLock(l, "held"))
	runWorker(t, q, tr, func(w *worker.Worker) {
		worker.Register(w, work)
		worker.Register(w, broken)
		worker.Register(w, contended)
	})

	c := client(q, nil, tr)
	reqCtx, req := tr.tp.Tracer("test").Start(ctx, "request")
	hWork, err := worker.Enqueue(reqCtx, c, work, "hello", worker.ID("w-1"), worker.OnQueue("otel"))
	if err != nil {
		t.Fatal(err)
	}
	hBroken, err := worker.Enqueue(reqCtx, c, broken, "x", worker.ID("b-1"), worker.OnQueue("otel"))
	if err != nil {
		t.Fatal(err)
	}
	hContended, err := worker.Enqueue(reqCtx, c, contended, "x", worker.ID("c-1"), worker.OnQueue("otel"))
	if err != nil {
		t.Fatal(err)
	}
	req.End()
	if _, err := hWork.Get(ctx); err != nil {
		t.Fatalf("work: %v", err)
	}
	if _, err := hBroken.Get(ctx); err == nil || err.Error() != "boom" {
		t.Fatalf("broken: %v, want boom", err)
	}
	if _, err := hContended.Get(ctx); !task.IsSkipped(err) || !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("contended: %v, want a skip of lock.ErrLocked", err)
	}

	request := tr.one(t, "request")
	for _, name := range []string{"work", "broken", "contended"} {
		send, process := tr.one(t, "send "+name), tr.one(t, "process "+name)
		if send.SpanKind() != trace.SpanKindProducer || process.SpanKind() != trace.SpanKindConsumer {
			t.Errorf("%s: kinds %v and %v, want producer and consumer", name, send.SpanKind(), process.SpanKind())
		}
		childOf(t, send, request)
		childOf(t, process, send)
		if send.InstrumentationScope().Name != taskotel.ScopeName {
			t.Errorf("scope %q, want %q", send.InstrumentationScope().Name, taskotel.ScopeName)
		}
		wantAttrs(t, send,
			attribute.String("messaging.system", "taskware"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.operation.name", "send"),
			attribute.String("messaging.destination.name", "otel"),
			attribute.String("taskware.task.name", name))
		wantAttrs(t, process,
			attribute.String("messaging.system", "taskware"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.operation.name", "process"),
			attribute.String("messaging.destination.name", "otel"),
			attribute.String("taskware.task.name", name),
			attribute.Int("taskware.task.attempt", 1))
		if send.Status().Code != codes.Unset {
			t.Errorf("%s: status %v, want unset", send.Name(), send.Status())
		}
	}

	send, process := tr.one(t, "send work"), tr.one(t, "process work")
	wantAttrs(t, send, attribute.String("messaging.message.id", "w-1"), attribute.Int("messaging.message.body.size", len(`"hello"`)))
	wantAttrs(t, process,
		attribute.String("messaging.message.id", "w-1"),
		attribute.String("taskware.task.outcome", "succeeded"),
		attribute.StringSlice("taskware.lock.keys", []string{"work-lock"}))
	if f := attrs(process)["taskware.lock.fences"].AsInt64Slice(); len(f) != 1 || f[0] <= 0 {
		t.Errorf("process work: lock fences %v, want one positive", f)
	}
	noAttr(t, process, "taskware.lock.lost")
	if process.Status().Code != codes.Unset {
		t.Errorf("process work: status %v, want unset", process.Status())
	}
	childOf(t, tr.one(t, "inner"), process)

	process = tr.one(t, "process broken")
	if process.Status().Code != codes.Error || process.Status().Description != "boom" {
		t.Errorf("process broken: status %v, want error boom", process.Status())
	}
	wantAttrs(t, process, attribute.String("taskware.task.outcome", "failed"), attribute.String("error.type", "error"))
	if !hasEvent(process, "exception") {
		t.Errorf("process broken: no exception event: %v", process.Events())
	}

	process = tr.one(t, "process contended")
	if process.Status().Code != codes.Unset {
		t.Errorf("process contended: status %v, want unset: a skip is no failure", process.Status())
	}
	wantAttrs(t, process,
		attribute.String("taskware.task.outcome", "skipped"),
		attribute.String("taskware.skip.reason", "lock.locked"),
		attribute.StringSlice("taskware.lock.keys", []string{"held"}),
		attribute.Int64Slice("taskware.lock.fences", []int64{0}))
	noAttr(t, process, "error.type")
	if !hasEvent(process, taskotel.SkipEvent) || hasEvent(process, "exception") {
		t.Errorf("process contended: events %v, want %s and no exception", process.Events(), taskotel.SkipEvent)
	}
	if n := len(tr.rec.Ended()); n != 8 {
		t.Errorf("%d spans ended, want 8", n)
	}
}
