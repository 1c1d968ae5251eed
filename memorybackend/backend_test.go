package memorybackend_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// New refuses a bad configuration with a panic matching
// task.ErrInvalidConfig.
func TestNewRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name string
		opts []memorybackend.Option
	}{
		{"empty holder", []memorybackend.Option{memorybackend.Holder("")}},
		{"zero state TTL", []memorybackend.Option{memorybackend.StateTTL(0)}},
		{"negative state TTL", []memorybackend.Option{memorybackend.StateTTL(-time.Second)}},
		{"zero dead-letter cap", []memorybackend.Option{memorybackend.DeadLetterMax(0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("New panicked with %v, want an error matching task.ErrInvalidConfig", err)
				}
			}()
			memorybackend.New(tc.opts...)
		})
	}
}

// The locker and the store share the backend's clock and record its
// holder.
func TestClockAndHolder(t *testing.T) {
	var offset atomic.Int64
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	b := memorybackend.New(memorybackend.Clock(now), memorybackend.Holder("worker-7"))
	ctx := context.Background()

	lease, err := b.Locker().TryAcquire(ctx, "k", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// AcquiredAt is on the wall clock: a Hold counts the lease's validity
	// from it, and renews it, in real time.
	if d := time.Since(lease.AcquiredAt); d < 0 || d > time.Second {
		t.Errorf("AcquiredAt %v, want the wall clock's now", lease.AcquiredAt)
	}
	if err := b.Store().Put(ctx, &store.Record{Queue: "q", ID: "r", Status: store.Succeeded}, time.Minute); err != nil {
		t.Fatal(err)
	}
	rec, err := b.Store().Get(ctx, "q", "r")
	if err != nil || !rec.At.Equal(start) || !rec.ExpiresAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("Get = %+v, %v; want At and ExpiresAt on the backend's clock", rec, err)
	}
	held, err := b.Locker().Held(ctx)
	if err != nil || len(held) != 1 || held[0].Holder != "worker-7" || !held[0].Since.Equal(start) || held[0].Remaining != time.Minute {
		t.Fatalf("Held = %+v, %v", held, err)
	}

	offset.Store(int64(time.Minute))
	if _, err := b.Store().Get(ctx, "q", "r"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after the TTL on the backend's clock = %v, want ErrNotFound", err)
	}
	if held, _ := b.Locker().Held(ctx); len(held) != 0 {
		t.Errorf("Held after the TTL on the backend's clock = %+v", held)
	}
	if err := b.Locker().Release(ctx, lease); !errors.Is(err, lock.ErrNotHeld) {
		t.Errorf("Release of an expired lease = %v, want ErrNotHeld", err)
	}
}
