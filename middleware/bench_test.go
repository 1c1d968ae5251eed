package middleware_test

import (
	"context"
	"testing"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
)

// BenchmarkPolicyChainMemory runs the full policy chain on the memory
// locker and store: StoreResult, Expires, SkipLocked, WithLock.
func BenchmarkPolicyChainMemory(b *testing.B) {
	run := task.Chain(
		middleware.StoreResult(memorybackend.New().Store()),
		middleware.Expires(time.Hour),
		middleware.SkipLocked(),
		middleware.WithLock(memorybackend.New().Locker(), "k"),
	)(func(ctx context.Context, inv *task.Invocation) (any, error) { return nil, nil })
	ctx := context.Background()
	inv := &task.Invocation{ID: "run", Name: "bench", EnqueuedAt: time.Now(), Attempt: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := run(ctx, inv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWithLockMemory is WithLock alone: acquire, renewal timer, release.
func BenchmarkWithLockMemory(b *testing.B) {
	run := middleware.WithLock(memorybackend.New().Locker(), "k")(func(ctx context.Context, inv *task.Invocation) (any, error) { return nil, nil })
	ctx := context.Background()
	inv := &task.Invocation{ID: "run"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := run(ctx, inv); err != nil {
			b.Fatal(err)
		}
	}
}
