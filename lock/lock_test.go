package lock_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// The Locker's own promises (owned, TTL'd, fenced, listed) are the
// conformance suite in package lock/locktest, which each backend runs.
// These test the lock package's policy over a Locker: validation, Guard,
// Hold and Do.

func TestBadArguments(t *testing.T) {
	for _, c := range []struct {
		key string
		ttl time.Duration
		ok  bool
	}{
		{"k", time.Millisecond, true},
		{"", time.Second, false},
		{"k", 0, false},
		{"k", -time.Second, false},
	} {
		err := lock.Validate(c.key, c.ttl)
		if c.ok && err != nil || !c.ok && !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("Validate(%q, %v) = %v, want ok=%v", c.key, c.ttl, err, c.ok)
		}
	}
	mem := memorybackend.New().Locker()
	for name, opts := range map[string][]lock.Option{
		"zero TTL":              {lock.TTL(0)},
		"negative wait":         {lock.Wait(-time.Second)},
		"renew not below TTL":   {lock.TTL(time.Second), lock.RenewEvery(time.Second)},
		"backoff min above max": {lock.Backoff(time.Second, time.Millisecond)},
		"zero backoff":          {lock.Backoff(0, time.Second)},
	} {
		if _, err := lock.NewGuard(mem, opts...); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("%s: NewGuard error %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := lock.NewGuard(nil); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("nil locker: %v", err)
	}
	if err := lock.Do(context.Background(), mem, "k", func(context.Context) error { return nil }, lock.TTL(-1)); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("Do with a bad option: %v", err)
	}
}

// N goroutines contend for one key with waiting: each gets it in turn,
// never two at once.
func TestContentionOneAtATime(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		const n = 12
		var inside, maxInside, done atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				err := lock.Do(context.Background(), b.Locker, "k", func(ctx context.Context) error {
					now := inside.Add(1)
					for {
						m := maxInside.Load()
						if now <= m || maxInside.CompareAndSwap(m, now) {
							break
						}
					}
					time.Sleep(5 * time.Millisecond)
					inside.Add(-1)
					done.Add(1)
					return nil
				}, lock.TTL(5*time.Second), lock.Wait(10*time.Second), lock.Backoff(time.Millisecond, 10*time.Millisecond))
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if maxInside.Load() != 1 || done.Load() != n {
			t.Fatalf("max %d inside at once, %d of %d done", maxInside.Load(), done.Load(), n)
		}
	})
}

func TestWaitGivesUp(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		if _, err := b.Locker.TryAcquire(ctx, "k", time.Minute); err != nil {
			t.Fatal(err)
		}
		g, err := lock.NewGuard(b.Locker, lock.Wait(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := g.Acquire(ctx, "k"); !errors.Is(err, lock.ErrLocked) {
			t.Fatalf("Acquire: %v, want ErrLocked", err)
		}
		if waited := time.Since(start); waited < 100*time.Millisecond || waited > 2*time.Second {
			t.Fatalf("waited %v for a 100ms wait", waited)
		}
		cause := errors.New("shutting down")
		cctx, cancel := context.WithCancelCause(ctx)
		time.AfterFunc(20*time.Millisecond, func() { cancel(cause) })
		g, _ = lock.NewGuard(b.Locker, lock.Wait(time.Minute))
		if _, err := g.Acquire(cctx, "k"); !errors.Is(err, cause) {
			t.Fatalf("Acquire on a cancelled ctx: %v, want its cause", err)
		}
	})
}

// An acquire cut short by its context says why: it matches the context's
// cause, on every backend, whether the cause came before the call or
// during it.
func TestAcquireReturnsCause(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		cause := errors.New("shutting down")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		if _, err := b.Locker.TryAcquire(ctx, "k", time.Minute); !errors.Is(err, cause) {
			t.Fatalf("TryAcquire on a cancelled ctx: %v, want its cause", err)
		}
	})
}

// A lock freed while a waiter waits is taken by the waiter.
func TestWaitTakesFreedLock(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		first, err := b.Locker.TryAcquire(ctx, "k", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(50*time.Millisecond, func() { _ = b.Locker.Release(ctx, first) })
		g, _ := lock.NewGuard(b.Locker, lock.Wait(5*time.Second))
		l, err := g.Acquire(ctx, "k")
		if err != nil {
			t.Fatalf("waiter did not get the freed lock: %v", err)
		}
		if l.Fence <= first.Fence {
			t.Fatal("fence did not grow")
		}
	})
}

// A task that runs for 3x its TTL keeps the lease through renewal, and no
// second holder gets in meanwhile.
func TestRenewalKeepsLease(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		const ttl = 150 * time.Millisecond
		var intruders atomic.Int32
		err := lock.Do(context.Background(), b.Locker, "k", func(ctx context.Context) error {
			deadline := time.Now().Add(3 * ttl)
			for time.Now().Before(deadline) {
				if l, err := b.Locker.TryAcquire(context.Background(), "k", ttl); err == nil {
					intruders.Add(1)
					_ = b.Locker.Release(context.Background(), l)
				}
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				time.Sleep(10 * time.Millisecond)
			}
			return nil
		}, lock.TTL(ttl))
		if err != nil || intruders.Load() != 0 {
			t.Fatalf("err %v, %d intruders", err, intruders.Load())
		}
	})
}

// Without renewal, the hold's ctx ends with ErrLeaseLost when the TTL runs
// out, since the lock is no longer owned.
func TestNoRenewalLosesAtTTL(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		err := lock.Do(context.Background(), b.Locker, "k", func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Second):
				return errors.New("not cancelled")
			}
		}, lock.TTL(100*time.Millisecond), lock.NoRenewal())
		if !errors.Is(err, lock.ErrLeaseLost) {
			t.Fatalf("err %v, want ErrLeaseLost", err)
		}
	})
}

// A lease broken from outside mid-run cancels the work's ctx with cause
// ErrLeaseLost, and the outcome says so even if the work ignored it.
func TestLeaseLostMidRun(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, ignoreCtx := range []bool{false, true} {
			var cause error
			err := lock.Do(context.Background(), b.Locker, "k", func(ctx context.Context) error {
				if err := b.Locker.Break(context.Background(), "k"); err != nil {
					return err
				}
				select {
				case <-ctx.Done():
					cause = context.Cause(ctx)
				case <-time.After(5 * time.Second):
					return errors.New("ctx not cancelled after the lease was lost")
				}
				if ignoreCtx {
					return nil
				}
				return ctx.Err()
			}, lock.TTL(150*time.Millisecond))
			var lost *lock.LeaseLostError
			if !errors.Is(cause, lock.ErrLeaseLost) || !errors.As(err, &lost) || lost.Key != "k" {
				t.Fatalf("ignoreCtx=%v: cause %v, outcome %v", ignoreCtx, cause, err)
			}
			if !ignoreCtx && !errors.Is(err, context.Canceled) {
				t.Fatalf("the work's own error is lost from %v", err)
			}
			if task.KindOf(err) != "lock.lease_lost" {
				t.Fatalf("kind %q", task.KindOf(err))
			}
		}
	})
}

// A lease whose key expires behind the holder's back (here: fast-forwarded
// past its TTL between renewals) is lost too.
func TestLeaseLostToExpiry(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		if b.Real {
			t.Skip("a real Redis cannot be fast-forwarded; TestLeaseLostMidRun covers the key vanishing")
		}
		err := lock.Do(context.Background(), b.Locker, "k", func(ctx context.Context) error {
			b.Advance(time.Hour)
			<-ctx.Done()
			return ctx.Err()
		}, lock.TTL(300*time.Millisecond))
		if !errors.Is(err, lock.ErrLeaseLost) {
			t.Fatalf("err %v, want ErrLeaseLost", err)
		}
	})
}

func TestFenceInContext(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		if _, ok := lock.Fence(context.Background()); ok {
			t.Fatal("fence outside a hold")
		}
		var fences []int64
		for range 3 {
			err := lock.Do(context.Background(), b.Locker, "k", func(ctx context.Context) error {
				f, ok := lock.Fence(ctx)
				l, _ := lock.LeaseFrom(ctx)
				if !ok || l == nil || l.Fence != f || l.Key != "k" {
					t.Fatalf("fence %d %v, lease %+v", f, ok, l)
				}
				fences = append(fences, f)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !(fences[0] < fences[1] && fences[1] < fences[2]) {
			t.Fatalf("fences %v do not grow", fences)
		}
	})
}

func TestDoReleasesOnEveryOutcome(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		boom := errors.New("boom")
		for _, fn := range []func(context.Context) error{
			func(context.Context) error { return nil },
			func(context.Context) error { return boom },
		} {
			err := lock.Do(context.Background(), b.Locker, "k", fn)
			if err != nil && !errors.Is(err, boom) {
				t.Fatal(err)
			}
			held, err := b.Locker.Held(context.Background())
			if err != nil || len(held) != 0 {
				t.Fatalf("held after Do: %+v, %v", held, err)
			}
		}
		// A cancelled parent still gets its lock released.
		ctx, cancel := context.WithCancel(context.Background())
		_ = lock.Do(ctx, b.Locker, "k", func(context.Context) error { cancel(); return nil })
		if held, _ := b.Locker.Held(context.Background()); len(held) != 0 {
			t.Fatalf("held after a cancelled Do: %+v", held)
		}
	})
}

// One Guard renews many holds at once: none is lost while they all run for
// 2.5x the TTL, and the renewer's goroutine ends after them (goleak
// checks). Renewal is liveness, which a busy machine can starve: the TTL
// leaves room for 40 refreshes per renewal on a miniredis (which runs its
// scripts one at a time) under -race -cpu=1 beside another suite, where a
// 400ms TTL lost leases (the lock's safety holds either way: a late renewer
// makes the hold's Err say the lease is lost, see TestHoldErrReadsTheClock).
func TestManyHoldsShareRenewal(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		const n, ttl = 40, time.Second
		g, err := lock.NewGuard(b.Locker, lock.TTL(ttl))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				err := g.Do(context.Background(), fmt.Sprint("key-", i), func(ctx context.Context) error {
					select {
					case <-ctx.Done():
						return context.Cause(ctx)
					case <-time.After(ttl * 5 / 2):
						return nil
					}
				})
				if err != nil {
					t.Errorf("hold %d: %v", i, err)
				}
			})
		}
		wg.Wait()
	})
}

// A Hold within a run's context (HoldWithin) cancels that context, through
// the run's cancel, with cause ErrLeaseLost when its lease is lost; its
// release ends renewal but not the run's context, which goes on.
func TestHoldWithinSharesRunContext(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		g, err := lock.NewGuard(b.Locker, lock.TTL(150*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		run := lock.TaskRef{Queue: "q", ID: "run-1"}

		// Released: the run's context goes on.
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		h, err := g.HoldWithin(ctx, "k", run, cancel)
		if err != nil {
			t.Fatal(err)
		}
		if owner, ok := lock.OwnerTaskFrom(h); !ok || owner != run {
			t.Fatalf("OwnerTaskFrom = %v, %v; want %v", owner, ok, run)
		}
		if err := h.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil || h.Err() != nil {
			t.Fatalf("a release ended the run's context: %v, %v", ctx.Err(), h.Err())
		}

		// Lost: the run's context ends, with the lease's cause.
		ctx, cancel = context.WithCancelCause(t.Context())
		defer cancel(nil)
		h, err = g.HoldWithin(ctx, "k", run, cancel)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = h.Release(context.Background()) }()
		if err := b.Locker.Break(context.Background(), "k"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the run's context not cancelled after the lease was lost")
		}
		if cause := context.Cause(ctx); !errors.Is(cause, lock.ErrLeaseLost) {
			t.Fatalf("cause %v, want ErrLeaseLost", cause)
		}
		if err := h.Outcome(nil); !errors.Is(err, lock.ErrLeaseLost) {
			t.Fatalf("Outcome(nil) = %v, want ErrLeaseLost", err)
		}
	})
}
