package taskotel_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	taskotel "github.com/taskware/taskware/contrib/otel"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// fakeProducer records what it is given, and answers as told.
type fakeProducer struct {
	queue.Producer // the rest, unused: a call panics
	mu             sync.Mutex
	got            []*queue.Message
	err            error   // the whole call's
	errs           []error // EnqueueMany's, per message
}

func (f *fakeProducer) Enqueue(ctx context.Context, m *queue.Message, runAt time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, m)
	return f.err
}

func (f *fakeProducer) EnqueueMany(ctx context.Context, ms []*queue.Message, runAt time.Time) ([]error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, ms...)
	if f.err != nil {
		return nil, f.err
	}
	return f.errs, nil
}

func (f *fakeProducer) State(ctx context.Context, name, id string) (*queue.State, error) {
	return &queue.State{ID: id, Queue: name, Status: queue.Succeeded}, nil
}

func (f *fakeProducer) Wait(ctx context.Context, name, id string) (*queue.State, error) {
	return f.State(ctx, name, id)
}

// The message handed on is a copy carrying the span's context; the
// caller's message and headers map are left as they were.
func TestProducerCopiesHeaders(t *testing.T) {
	tr := newTracing(t)
	f := &fakeProducer{}
	p := taskotel.Producer(f, tr.opts()...)
	shared := map[string]string{"tenant": "acme"}
	m := &queue.Message{ID: "m-1", Task: "mail", Queue: "q", Headers: shared}
	if err := p.Enqueue(context.Background(), m, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(shared) != 1 || m.Headers["traceparent"] != "" {
		t.Fatalf("the caller's headers changed: %v", m.Headers)
	}
	if len(f.got) != 1 || f.got[0] == m {
		t.Fatalf("next got %v, want a copy of the message", f.got)
	}
	sent := f.got[0]
	if sent.Headers["tenant"] != "acme" || sent.Headers["traceparent"] == "" || sent.ID != "m-1" || sent.Task != "mail" {
		t.Fatalf("next got headers %v, ID %q, task %q", sent.Headers, sent.ID, sent.Task)
	}
	// The header names the producer span.
	sc := trace.SpanContextFromContext(tr.prop.Extract(context.Background(), propagation.MapCarrier(sent.Headers)))
	send := tr.one(t, "send mail")
	if !sc.IsRemote() || sc.SpanID() != send.SpanContext().SpanID() || sc.TraceID() != send.SpanContext().TraceID() {
		t.Errorf("headers carry %v, want the span %v", sc, send.SpanContext())
	}
	if send.Parent().IsValid() {
		t.Errorf("send mail: parent %v, want none (no span in ctx)", send.Parent())
	}
}

// A propagator that injects nothing leaves the message as it is.
func TestProducerNothingToInject(t *testing.T) {
	tr := newTracing(t)
	f := &fakeProducer{}
	p := taskotel.Producer(f, taskotel.WithTracerProvider(tr.tp), taskotel.WithPropagator(propagation.NewCompositeTextMapPropagator()))
	m := &queue.Message{ID: "m-1", Task: "mail", Queue: "q"}
	if err := p.Enqueue(context.Background(), m, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if f.got[0] != m || m.Headers != nil {
		t.Errorf("next got %p with headers %v, want the caller's %p, unchanged", f.got[0], f.got[0].Headers, m)
	}
	tr.one(t, "send mail")
}

func TestProducerErrors(t *testing.T) {
	tr := newTracing(t)
	down := errors.New("redis down")
	p := taskotel.Producer(&fakeProducer{err: down}, tr.opts()...)
	if err := p.Enqueue(context.Background(), &queue.Message{ID: "m-1", Task: "mail", Queue: "q"}, time.Time{}); err != down {
		t.Fatalf("Enqueue: %v, want %v", err, down)
	}
	send := tr.one(t, "send mail")
	if send.Status().Code != codes.Error || send.Status().Description != "redis down" || !hasEvent(send, "exception") {
		t.Errorf("send mail: status %v, events %v, want an error", send.Status(), send.Events())
	}

	// A duplicate is no failure: enqueueing under a known ID is idempotent.
	p = taskotel.Producer(&fakeProducer{err: &queue.DuplicateError{Queue: "q", ID: "m-2"}}, tr.opts()...)
	if err := p.Enqueue(context.Background(), &queue.Message{ID: "m-2", Task: "dup", Queue: "q"}, time.Time{}); !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("Enqueue: %v, want a duplicate", err)
	}
	dup := tr.one(t, "send dup")
	if dup.Status().Code != codes.Unset {
		t.Errorf("send dup: status %v, want unset", dup.Status())
	}
	wantAttrs(t, dup, attribute.Bool("taskware.enqueue.duplicate", true))

	// A whole EnqueueMany that fails fails each message's span.
	p = taskotel.Producer(&fakeProducer{err: down}, tr.opts()...)
	ms := []*queue.Message{{ID: "a", Task: "many", Queue: "q"}, {ID: "b", Task: "many", Queue: "q"}}
	if _, err := p.EnqueueMany(context.Background(), ms, time.Time{}); err != down {
		t.Fatalf("EnqueueMany: %v, want %v", err, down)
	}
	for _, s := range tr.ended("send many") {
		if s.Status().Code != codes.Error {
			t.Errorf("%s: status %v, want error", s.Name(), s.Status())
		}
	}
	if n := len(tr.ended("send many")); n != 2 {
		t.Errorf("%d spans, want 2", n)
	}
}

// EnqueueMany makes a span per message, each the parent of its run's.
func TestEnqueueMany(t *testing.T) {
	tr := newTracing(t)
	b := memorybackend.New()
	thumb := task.New("thumb", func(ctx context.Context, img string) (string, error) { return img, nil })
	runWorker(t, b.Queue(), tr, func(w *worker.Worker) { worker.Register(w, thumb) })
	c := client(b.Queue(), nil, tr)
	ctx := getCtx(t)
	hb, err := worker.Enqueue(ctx, c, thumb, "b.png", worker.ID("b"))
	if err != nil {
		t.Fatal(err)
	}
	hs, err := worker.EnqueueMany(ctx, c, thumb, []string{"a.png", "b.png", "c.png"}, worker.IDs("a", "b", "c"))
	if !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("EnqueueMany: %v, want b refused", err)
	}
	for _, h := range append(hs, hb) {
		if h != nil {
			if _, err := h.Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	sends := map[string][]trace.SpanContext{}
	for _, s := range tr.ended("send thumb") {
		a := attrs(s)
		id := a["messaging.message.id"].AsString()
		sends[id] = append(sends[id], s.SpanContext())
		if s.Status().Code != codes.Unset {
			t.Errorf("send %s: status %v, want unset", id, s.Status())
		}
		_, batch := a["messaging.batch.message_count"]
		_, dup := a["taskware.enqueue.duplicate"]
		if want := len(sends[id]) == 2 || id != "b"; batch != want {
			t.Errorf("send %s: batch count %v, want %v", id, a["messaging.batch.message_count"].Emit(), want)
		}
		if batch && a["messaging.batch.message_count"].AsInt64() != 3 {
			t.Errorf("send %s: batch count %d, want 3", id, a["messaging.batch.message_count"].AsInt64())
		}
		if want := id == "b" && batch; dup != want {
			t.Errorf("send %s: duplicate %v, want %v", id, dup, want)
		}
	}
	if len(sends["a"]) != 1 || len(sends["b"]) != 2 || len(sends["c"]) != 1 {
		t.Fatalf("send spans by ID: %v", sends)
	}
	processes := tr.ended("process thumb")
	if len(processes) != 3 {
		t.Fatalf("%d process spans, want 3 (a, b once, c)", len(processes))
	}
	for _, s := range processes {
		id := attrs(s)["messaging.message.id"].AsString()
		if want := sends[id][0]; s.Parent().SpanID() != want.SpanID() || s.SpanContext().TraceID() != want.TraceID() {
			t.Errorf("process %s: parent %v, want the first send of %s, %v", id, s.Parent(), id, want)
		}
	}
}

// With NewRoot, a run starts a trace of its own, linked to its enqueue.
func TestNewRoot(t *testing.T) {
	tr := newTracing(t)
	b := memorybackend.New()
	nightly := task.New("nightly", func(ctx context.Context, _ struct{}) (int, error) { return 1, nil })
	runWorker(t, b.Queue(), tr, func(w *worker.Worker) { worker.Register(w, nightly) }, taskotel.NewRoot())
	ctx := getCtx(t)
	h, err := worker.Enqueue(ctx, client(b.Queue(), nil, tr), nightly, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(ctx); err != nil {
		t.Fatal(err)
	}
	send, process := tr.one(t, "send nightly"), tr.one(t, "process nightly")
	if process.Parent().IsValid() || process.SpanContext().TraceID() == send.SpanContext().TraceID() {
		t.Errorf("process: parent %v in trace %v, want a root of a trace apart from %v", process.Parent(), process.SpanContext().TraceID(), send.SpanContext().TraceID())
	}
	if l := process.Links(); len(l) != 1 || l[0].SpanContext.SpanID() != send.SpanContext().SpanID() || l[0].SpanContext.TraceID() != send.SpanContext().TraceID() {
		t.Errorf("process: links %v, want one to %v", process.Links(), send.SpanContext())
	}
}

// A retry's failure and a reschedule: the first an error, the second not.
func TestRequeueOutcomes(t *testing.T) {
	tr := newTracing(t)
	mw := taskotel.Middleware(tr.opts()...)
	locked := &lock.LockedError{Key: "k"}
	for _, tc := range []struct {
		name, outcome string
		err           error
		status        codes.Code
		errType       string
	}{
		{"retry", taskotel.OutcomeRetry, task.Requeue(time.Second, true, errBoom), codes.Error, "error"},
		{"reschedule", taskotel.OutcomeRescheduled, task.Requeue(time.Second, false, locked), codes.Unset, ""},
		{"skip", taskotel.OutcomeSkipped, task.Skip(nil), codes.Unset, ""},
		{"permanent", taskotel.OutcomeFailed, task.Permanent(errBoom), codes.Error, "error"},
		{"timeout", taskotel.OutcomeFailed, context.DeadlineExceeded, codes.Error, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := mw(func(ctx context.Context, inv *task.Invocation) (any, error) { return nil, tc.err })
			if _, err := fn(context.Background(), &task.Invocation{ID: tc.name, Name: tc.name, Attempt: 2}); err != tc.err {
				t.Fatalf("the error changed: %v, want %v", err, tc.err)
			}
			s := tr.one(t, "process "+tc.name)
			if s.Status().Code != tc.status {
				t.Errorf("status %v, want %v", s.Status(), tc.status)
			}
			wantAttrs(t, s, attribute.String("taskware.task.outcome", tc.outcome), attribute.Int("taskware.task.attempt", 2))
			if tc.errType != "" {
				wantAttrs(t, s, attribute.String("error.type", tc.errType))
			} else {
				noAttr(t, s, "error.type")
			}
			noAttr(t, s, "messaging.destination.name") // in-process: no queue
		})
	}
}

// A skip of a retry hides a failure: it is one, as the worker ends it.
func TestSkipAfterFailure(t *testing.T) {
	tr := newTracing(t)
	fn := taskotel.Middleware(tr.opts()...)(func(ctx context.Context, inv *task.Invocation) (any, error) {
		return nil, task.Skip(lock.ErrLocked)
	})
	inv := &task.Invocation{ID: "r", Name: "retried", Attempt: 2, LastErr: errBoom}
	if _, err := fn(context.Background(), inv); !task.IsSkipped(err) {
		t.Fatalf("the error changed: %v", err)
	}
	s := tr.one(t, "process retried")
	if s.Status().Code != codes.Error {
		t.Errorf("status %v, want error", s.Status())
	}
	wantAttrs(t, s, attribute.String("taskware.task.outcome", taskotel.OutcomeFailed))
}

// A lost lease is said on the span.
func TestLockLost(t *testing.T) {
	tr := newTracing(t)
	fn := taskotel.Middleware(tr.opts()...)(func(ctx context.Context, inv *task.Invocation) (any, error) {
		inv.Locks = append(inv.Locks, task.LockUse{Key: "a", Fence: 3}, task.LockUse{Key: "b", Fence: 7, Lost: true})
		return nil, lock.ErrLeaseLost
	})
	_, _ = fn(context.Background(), &task.Invocation{ID: "l", Name: "lost", Attempt: 1})
	s := tr.one(t, "process lost")
	wantAttrs(t, s,
		attribute.StringSlice("taskware.lock.keys", []string{"a", "b"}),
		attribute.Int64Slice("taskware.lock.fences", []int64{3, 7}),
		attribute.Bool("taskware.lock.lost", true),
		attribute.String("error.type", "lock.lease_lost"))
}

// A panic ends the span as a failure and goes on up, unchanged.
func TestPanic(t *testing.T) {
	tr := newTracing(t)
	fn := taskotel.Middleware(tr.opts()...)(func(ctx context.Context, inv *task.Invocation) (any, error) {
		inv.Locks = append(inv.Locks, task.LockUse{Key: "k", Fence: 1})
		panic("oops")
	})
	func() {
		defer func() {
			if v := recover(); v != "oops" {
				t.Errorf("recovered %v, want oops", v)
			}
		}()
		_, _ = fn(context.Background(), &task.Invocation{ID: "p", Name: "panicky", Attempt: 1})
	}()
	s := tr.one(t, "process panicky")
	if s.Status().Code != codes.Error || s.Status().Description != "task panicked: oops" {
		t.Errorf("status %v, want error: task panicked: oops", s.Status())
	}
	wantAttrs(t, s, attribute.String("error.type", "task.panic"), attribute.StringSlice("taskware.lock.keys", []string{"k"}))

	// Under a worker the panic becomes the task's failure.
	b := memorybackend.New()
	boom := task.New("boom", func(ctx context.Context, _ int) (int, error) { panic("oops") })
	runWorker(t, b.Queue(), tr, func(w *worker.Worker) { worker.Register(w, boom) })
	ctx := getCtx(t)
	h, err := worker.Enqueue(ctx, client(b.Queue(), nil, tr), boom, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(ctx); !errors.Is(err, task.ErrPanic) {
		t.Fatalf("Get: %v, want a panic", err)
	}
	if s := tr.one(t, "process boom"); s.Status().Code != codes.Error {
		t.Errorf("process boom: status %v, want error", s.Status())
	}
}

// In a task's own chain, run in-process, the span in ctx is the parent.
func TestInProcess(t *testing.T) {
	tr := newTracing(t)
	double := task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil }, taskotel.Middleware(tr.opts()...))
	ctx, parent := tr.tp.Tracer("test").Start(context.Background(), "caller")
	if n, err := double.Call(ctx, 21); n != 42 || err != nil {
		t.Fatalf("Call: %d, %v", n, err)
	}
	parent.End()
	childOf(t, tr.one(t, "process double"), tr.one(t, "caller"))
}

// Headers with no trace context leave the run to the span in ctx, and are
// not changed.
func TestHeadersRead(t *testing.T) {
	tr := newTracing(t)
	var seen trace.SpanContext
	fn := taskotel.Middleware(tr.opts()...)(func(ctx context.Context, inv *task.Invocation) (any, error) {
		seen = spanCtx(ctx)
		return nil, nil
	})
	h := map[string]string{"tenant": "acme"}
	if _, err := fn(context.Background(), &task.Invocation{ID: "h", Name: "plain", Headers: h}); err != nil {
		t.Fatal(err)
	}
	s := tr.one(t, "process plain")
	if s.Parent().IsValid() || !maps.Equal(h, map[string]string{"tenant": "acme"}) {
		t.Errorf("parent %v, headers %v", s.Parent(), h)
	}
	if seen.SpanID() != s.SpanContext().SpanID() {
		t.Errorf("the task ran with span %v, want %v", seen.SpanID(), s.SpanContext().SpanID())
	}
}

func TestWithAttributes(t *testing.T) {
	tr := newTracing(t)
	extra := attribute.String("service.role", "mailer")
	p := taskotel.Producer(&fakeProducer{}, tr.opts(taskotel.WithAttributes(extra))...)
	_ = p.Enqueue(context.Background(), &queue.Message{ID: "1", Task: "mail", Queue: "q"}, time.Time{})
	fn := taskotel.Middleware(tr.opts(taskotel.WithAttributes(extra))...)(func(ctx context.Context, inv *task.Invocation) (any, error) { return nil, nil })
	_, _ = fn(context.Background(), &task.Invocation{ID: "1", Name: "mail"})
	wantAttrs(t, tr.one(t, "send mail"), extra)
	wantAttrs(t, tr.one(t, "process mail"), extra)
}

func TestInvalidConfig(t *testing.T) {
	tr := newTracing(t)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"nil TracerProvider", func() { taskotel.Middleware(taskotel.WithTracerProvider(nil)) }},
		{"nil Propagator", func() { taskotel.Middleware(taskotel.WithPropagator(nil)) }},
		{"nil Option", func() { taskotel.Middleware(nil) }},
		{"Producer nil Option", func() { taskotel.Producer(&fakeProducer{}, tr.opts(nil)...) }},
		{"Producer nil TracerProvider", func() { taskotel.Producer(&fakeProducer{}, taskotel.WithTracerProvider(nil)) }},
		{"nil Producer", func() { taskotel.Producer(nil, tr.opts()...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("panicked with %v, want an error matching task.ErrInvalidConfig", err)
				}
			}()
			tc.fn()
		})
	}
}

// State and Wait pass through, untraced.
func TestProducerPassThrough(t *testing.T) {
	tr := newTracing(t)
	p := taskotel.Producer(&fakeProducer{}, tr.opts()...)
	st, err := p.State(context.Background(), "q", "x")
	st2, err2 := p.Wait(context.Background(), "q", "x")
	if err != nil || err2 != nil || st.ID != "x" || st2.Status != queue.Succeeded {
		t.Fatalf("State %v %v, Wait %v %v", st, err, st2, err2)
	}
	if n := len(tr.rec.Ended()); n != 0 {
		t.Errorf("%d spans, want none", n)
	}
}

// Concurrent enqueues and runs through one Producer and Middleware.
func TestConcurrent(t *testing.T) {
	tr := newTracing(t)
	b := memorybackend.New()
	echo := task.New("echo", func(ctx context.Context, n int) (int, error) { return n, nil })
	runWorker(t, b.Queue(), tr, func(w *worker.Worker) { worker.Register(w, echo) })
	c := client(b.Queue(), nil, tr)
	ctx := getCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			h, err := worker.Enqueue(ctx, c, echo, i, worker.ID(fmt.Sprint(i)))
			if err == nil {
				_, err = h.Get(ctx)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sends, processes := tr.ended("send echo"), tr.ended("process echo")
	if len(sends) != 20 || len(processes) != 20 {
		t.Fatalf("%d sends, %d processes, want 20 each", len(sends), len(processes))
	}
	parents := map[trace.SpanID]bool{}
	for _, s := range sends {
		parents[s.SpanContext().SpanID()] = true
	}
	for _, p := range processes {
		if !parents[p.Parent().SpanID()] {
			t.Errorf("process %s: parent %v is no send span", attrs(p)["messaging.message.id"].Emit(), p.Parent())
		}
	}
}

// Each attempt of a retried task is a span of its own, all children of the
// one enqueue.
func TestRetryUnderWorker(t *testing.T) {
	tr := newTracing(t)
	b := memorybackend.New()
	var calls atomic.Int32
	flaky := task.New("flaky", func(ctx context.Context, _ int) (int, error) {
		if calls.Add(1) == 1 {
			return 0, errBoom
		}
		return 1, nil
	}, middleware.Retry(3, middleware.RetryBackoff(time.Millisecond, time.Millisecond)))
	runWorker(t, b.Queue(), tr, func(w *worker.Worker) { worker.Register(w, flaky) })
	ctx := getCtx(t)
	h, err := worker.Enqueue(ctx, client(b.Queue(), nil, tr), flaky, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(ctx); err != nil {
		t.Fatal(err)
	}
	send := tr.one(t, "send flaky")
	runs := tr.ended("process flaky")
	if len(runs) != 2 {
		t.Fatalf("%d process spans, want 2", len(runs))
	}
	for i, want := range []struct {
		outcome string
		status  codes.Code
	}{{taskotel.OutcomeRetry, codes.Error}, {taskotel.OutcomeSucceeded, codes.Unset}} {
		childOf(t, runs[i], send)
		wantAttrs(t, runs[i], attribute.Int("taskware.task.attempt", i+1), attribute.String("taskware.task.outcome", want.outcome))
		if runs[i].Status().Code != want.status {
			t.Errorf("attempt %d: status %v, want %v", i+1, runs[i].Status(), want.status)
		}
	}
}
