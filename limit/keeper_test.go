package limit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/task"
)

// flaky is a Semaphore whose refreshes can be made to fail, and which
// counts them.
type flaky struct {
	limit.Semaphore
	refreshes atomic.Int64
	mu        sync.Mutex
	fail      error
}

func (f *flaky) Refresh(ctx context.Context, p *limit.Permit, ttl time.Duration) error {
	f.refreshes.Add(1)
	f.mu.Lock()
	err := f.fail
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.Semaphore.Refresh(ctx, p, ttl)
}

func (f *flaky) failWith(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

func TestNewKeeperRefusesBadConfig(t *testing.T) {
	sem := memorybackend.New().Semaphore()
	for _, tc := range []struct {
		name string
		s    limit.Semaphore
		n    int
		opts []limit.KeeperOption
	}{
		{"nil semaphore", nil, 1, nil},
		{"zero n", sem, 0, nil},
		{"zero TTL", sem, 1, []limit.KeeperOption{limit.TTL(0)}},
		{"TTL within drift", sem, 1, []limit.KeeperOption{limit.TTL(5 * time.Millisecond)}},
		{"renew too slow", sem, 1, []limit.KeeperOption{limit.TTL(time.Second), limit.RenewEvery(time.Second)}},
		{"negative renew", sem, 1, []limit.KeeperOption{limit.RenewEvery(-time.Second)}},
	} {
		if _, err := limit.NewKeeper(tc.s, tc.n, tc.opts...); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", tc.name, err)
		}
	}
	k, err := limit.NewKeeper(sem, 1)
	if err != nil || k.TTL() != limit.DefaultTTL {
		t.Fatalf("defaults: %v, %v", k, err)
	}
}

// A hold outlives its TTL while renewed, and its permit counts all along.
func TestKeeperRenews(t *testing.T) {
	f := &flaky{Semaphore: memorybackend.New().Semaphore()}
	k, err := limit.NewKeeper(f, 1, limit.TTL(150*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h, err := k.Hold(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if err := h.Err(); err != nil {
		t.Fatalf("hold ended: %v (%v)", err, context.Cause(h))
	}
	if _, err := f.TryAcquire(ctx, "k", 1, time.Second); !errors.Is(err, limit.ErrConcurrencyLimited) {
		t.Fatalf("permit not held after 2 TTLs: %v", err)
	}
	if n := f.refreshes.Load(); n < 3 {
		t.Fatalf("%d refreshes in 400ms at a TTL of 150ms", n)
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if h.Err() == nil {
		t.Fatal("the hold's context outlived its release")
	}
	if err := h.Outcome(nil); err != nil {
		t.Fatalf("outcome of a kept permit: %v", err)
	}
	p, err := f.TryAcquire(ctx, "k", 1, time.Second)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = f.Release(ctx, p)
}

// A refresh refused (the permit expired and went to another) cancels the
// hold at once, with ErrPermitLost; one that cannot reach the backend ends
// it at the end of the permit's validity, before the server could hand
// the permit to another.
func TestKeeperLosesPermit(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail error
	}{
		{"refused", &limit.PermitLostError{Key: "k"}},
		{"unreachable", task.Unavailable(errors.New("connection refused"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{Semaphore: memorybackend.New().Semaphore()}
			const ttl = 200 * time.Millisecond
			k, err := limit.NewKeeper(f, 1, limit.TTL(ttl))
			if err != nil {
				t.Fatal(err)
			}
			f.failWith(tc.fail)
			start := time.Now()
			err = k.Do(context.Background(), "k", func(ctx context.Context) error {
				select {
				case <-ctx.Done():
					if !errors.Is(context.Cause(ctx), limit.ErrPermitLost) {
						t.Errorf("cause %v", context.Cause(ctx))
					}
					return ctx.Err()
				case <-time.After(5 * time.Second):
					return errors.New("never cancelled")
				}
			})
			if !errors.Is(err, limit.ErrPermitLost) || !errors.Is(err, context.Canceled) {
				t.Fatalf("outcome %v", err)
			}
			// The context ends at the lease's validity, short of the TTL;
			// Do returns a few goroutine hand-offs later, which a loaded
			// machine under -race may stretch.
			const slack = 100 * time.Millisecond
			if took := time.Since(start); took > ttl+slack {
				t.Fatalf("lost after %v: past the TTL (%v) and a scheduling slack", took, ttl)
			}
		})
	}
}

// Do gives the permit back on every path, a panic included.
func TestKeeperDoReleasesOnPanic(t *testing.T) {
	sem := memorybackend.New().Semaphore()
	k, err := limit.NewKeeper(sem, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v", v)
			}
		}()
		_ = k.Do(ctx, "k", func(context.Context) error { panic("boom") })
	}()
	if err := k.Do(ctx, "k", func(ctx context.Context) error {
		// Inside, the only permit is held.
		if err := k.Do(ctx, "k", func(context.Context) error { return nil }); !errors.Is(err, limit.ErrConcurrencyLimited) {
			t.Errorf("second holder: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatalf("after a panic: %v", err)
	}
}

// Many holds share the keeper's one goroutine, which stops once idle
// (goleak checks it at the end).
func TestKeeperManyHolds(t *testing.T) {
	sem := memorybackend.New().Semaphore()
	k, err := limit.NewKeeper(sem, 4, limit.TTL(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var running, peak atomic.Int64
	for i := range 40 {
		wg.Go(func() {
			for range 5 {
				err := k.Do(context.Background(), "k", func(ctx context.Context) error {
					n := running.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					time.Sleep(time.Duration(i%3) * time.Millisecond)
					running.Add(-1)
					return nil
				})
				if err != nil && !errors.Is(err, limit.ErrConcurrencyLimited) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 4 || p < 1 {
		t.Fatalf("peak %d, want 1..4", p)
	}
}

// A permit is not a lock: its Hold carries no lease of its own for
// lock.LeaseFrom and lock.Fence, and passes on the lease of a lock held
// outside it.
func TestKeeperHoldIsNoLease(t *testing.T) {
	b := memorybackend.New()
	k, err := limit.NewKeeper(b.Semaphore(), 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := k.Do(ctx, "k", func(ctx context.Context) error {
		if l, ok := lock.LeaseFrom(ctx); ok {
			t.Errorf("a permit's hold carries a lease: %+v", l)
		}
		if f, ok := lock.Fence(ctx); ok {
			t.Errorf("a permit's hold has fence %d", f)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := lock.Do(ctx, b.Locker(), "l", func(ctx context.Context) error {
		want, _ := lock.Fence(ctx)
		return k.Do(ctx, "k", func(ctx context.Context) error {
			if f, ok := lock.Fence(ctx); !ok || f != want {
				t.Errorf("fence inside the permit: %d, %v; want %d", f, ok, want)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
}
