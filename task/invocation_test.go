package task

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/runctx"
)

type otherKey struct{}

// A task finds its invocation through whatever its middlewares wrapped its
// context in, and every other value, deadline and cancellation still come
// from the parent.
func TestInvocationFromThroughWrappedContexts(t *testing.T) {
	parent, cancelParent := context.WithCancelCause(context.WithValue(context.Background(), otherKey{}, "v"))
	defer cancelParent(nil)
	inv := &Invocation{ID: "r1", Name: "mail", Attempt: 2}
	ic := &runctx.Context[*Invocation]{Context: parent, Inv: inv}

	timed, cancelTimed := context.WithTimeout(ic, time.Minute)
	defer cancelTimed()
	cancellable, cancel := context.WithCancel(context.WithValue(timed, struct{ k int }{1}, 1))
	defer cancel()
	for name, ctx := range map[string]context.Context{
		"as is":          ic,
		"WithValue":      context.WithValue(ic, otherKey{}, "shadowed"),
		"WithTimeout":    timed,
		"WithCancel":     cancellable,
		"WithoutCancel":  context.WithoutCancel(cancellable),
		"WithInvocation": WithInvocation(context.WithValue(parent, otherKey{}, "v"), inv),
	} {
		got, ok := InvocationFrom(ctx)
		if !ok || got != inv {
			t.Errorf("%s: InvocationFrom = %v, %v; want the run's invocation", name, got, ok)
		}
	}
	if v := ic.Value(otherKey{}); v != "v" {
		t.Fatalf("the parent's values are hidden: %v", v)
	}

	// The innermost invocation wins: a sub-task run in-process sees its own.
	sub := &Invocation{ID: "sub"}
	if got, _ := InvocationFrom(WithInvocation(cancellable, sub)); got != sub {
		t.Fatalf("nested: %v, want the sub-task's invocation", got)
	}

	// Cancellation and its cause flow down from the parent, through the
	// carrying context, to contexts derived from it.
	boom := errors.New("boom")
	cancelParent(boom)
	select {
	case <-cancellable.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the parent's cancellation did not reach a context derived from the carrying context")
	}
	if !errors.Is(context.Cause(cancellable), boom) || !errors.Is(ic.Err(), context.Canceled) {
		t.Fatalf("cause %v, err %v", context.Cause(cancellable), ic.Err())
	}
}

func TestInvocationFromWithoutOne(t *testing.T) {
	for name, ctx := range map[string]context.Context{
		"background":  context.Background(),
		"a value":     context.WithValue(context.Background(), otherKey{}, "v"),
		"a nil Inv":   &runctx.Context[*Invocation]{Context: context.Background()},
		"a nil under": WithInvocation(context.Background(), nil),
	} {
		if inv, ok := InvocationFrom(ctx); ok || inv != nil {
			t.Errorf("%s: %v, %v; want none", name, inv, ok)
		}
	}
}

// An in-process run holds its invocation and the context that carries it
// in one allocation, and a retry in-process changes the Attempt the task
// reads.
func TestNewInProcess(t *testing.T) {
	ctx, inv := newInProcess(context.WithValue(context.Background(), otherKey{}, "v"), Invocation{ID: "c", Attempt: 1})
	if got, ok := InvocationFrom(ctx); !ok || got != inv || got.ID != "c" || ctx.Value(otherKey{}) != "v" {
		t.Fatalf("%v, %v", got, ok)
	}
	inv.Attempt++
	if got, _ := InvocationFrom(ctx); got.Attempt != 2 {
		t.Fatalf("attempt %d, want the run's own, 2", got.Attempt)
	}
	if n := testing.AllocsPerRun(100, func() { newInProcess(context.Background(), Invocation{}) }); n != 1 {
		t.Fatalf("%v allocations, want 1", n)
	}
}

func TestReservedHeaders(t *testing.T) {
	retries := []struct {
		v    string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"3", 3, true}, {"25", 25, true}, {"26", MaxHeaderRetries, true},
		{"99999999999999999999999999", MaxHeaderRetries, true},
		{"", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"1.5", 0, false}, {"three", 0, false},
	}
	for _, tt := range retries {
		inv := &Invocation{Headers: map[string]string{HeaderRetries: tt.v}}
		if n, ok := inv.RetriesHeader(); n != tt.want || ok != tt.ok {
			t.Errorf("retries %q: %d, %v; want %d, %v", tt.v, n, ok, tt.want, tt.ok)
		}
	}
	timeouts := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"50ms", 50 * time.Millisecond, true}, {"1m30s", 90 * time.Second, true}, {"1000h", MaxHeaderTimeout, true},
		{"", 0, false}, {"0s", 0, false}, {"-1s", 0, false}, {"50", 0, false}, {"soon", 0, false},
	}
	for _, tt := range timeouts {
		inv := &Invocation{Headers: map[string]string{HeaderTimeout: tt.v}}
		if d, ok := inv.TimeoutHeader(); d != tt.want || ok != tt.ok {
			t.Errorf("timeout %q: %v, %v; want %v, %v", tt.v, d, ok, tt.want, tt.ok)
		}
	}
	for _, inv := range []*Invocation{{}, {Headers: map[string]string{"tenant": "a"}}} {
		if _, ok := inv.RetriesHeader(); ok {
			t.Errorf("retries from %v", inv.Headers)
		}
		if _, ok := inv.TimeoutHeader(); ok {
			t.Errorf("timeout from %v", inv.Headers)
		}
	}
	// Absent or valid, reading them allocates nothing.
	for _, h := range []map[string]string{nil, {"tenant": "a"}, {HeaderRetries: "3", HeaderTimeout: "50ms"}} {
		inv := &Invocation{Headers: h}
		if n := testing.AllocsPerRun(100, func() { inv.RetriesHeader(); inv.TimeoutHeader() }); n != 0 {
			t.Errorf("%v: %v allocations, want 0", h, n)
		}
	}
}

// BenchmarkInvocationFrom is what a runner pays to carry the invocation,
// with a runctx.Context embedded in the struct it allocates per run
// anyway, and what a task pays to read it back through a middleware's
// context: nothing allocated.
func BenchmarkInvocationFrom(b *testing.B) {
	type run struct {
		inv Invocation
		ctx runctx.Context[*Invocation]
	}
	parent := context.WithValue(context.Background(), otherKey{}, "v")
	r := &run{}
	var fn Func = func(ctx context.Context, inv *Invocation) (any, error) {
		got, ok := InvocationFrom(ctx)
		if !ok || got != inv {
			return nil, errors.New("no invocation")
		}
		return nil, nil
	}
	b.ReportAllocs()
	for b.Loop() {
		r.inv = Invocation{ID: "r", Attempt: 1}
		r.ctx = runctx.Context[*Invocation]{Context: parent, Inv: &r.inv}
		if _, err := fn(&r.ctx, &r.inv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvocationFromUnused is a run that never asks: the wrap alone.
func BenchmarkInvocationFromUnused(b *testing.B) {
	type run struct {
		inv Invocation
		ctx runctx.Context[*Invocation]
	}
	r := &run{}
	var fn Func = func(ctx context.Context, inv *Invocation) (any, error) { return nil, ctx.Err() }
	b.ReportAllocs()
	for b.Loop() {
		r.ctx = runctx.Context[*Invocation]{Context: context.Background(), Inv: &r.inv}
		if _, err := fn(&r.ctx, &r.inv); err != nil {
			b.Fatal(err)
		}
	}
}

// A task run in-process, by Call or Invoke, reads its invocation too.
func TestInvocationFromInProcess(t *testing.T) {
	var seen *Invocation
	tk := New("self", func(ctx context.Context, n int) (int, error) {
		seen, _ = InvocationFrom(ctx)
		return n, nil
	})
	if _, err := tk.Call(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if seen == nil {
		t.Fatal("Task.Call ran without its invocation in the context")
	}
	if seen.Name != "self" || seen.Attempt != 1 || seen.ID == "" {
		t.Fatalf("Call: %+v", seen)
	}
	inv := &Invocation{ID: "mine", Attempt: 3}
	if _, err := tk.Invoke(context.Background(), inv); err != nil || seen != inv {
		t.Fatalf("Invoke: %v, %p, want %p", err, seen, inv)
	}
}
