package memorybackend_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/memorybackend"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// The rate limiter follows the backend's clock: 10/s with a burst of 2 on
// a fake clock lets 2 through at once, then one per 100ms, exactly.
func TestRateLimiterOnClock(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	b := memorybackend.New(memorybackend.Clock(clock.Now))
	rl := b.RateLimiter()
	if b.RateLimiter() != rl {
		t.Fatal("RateLimiter() returns a new limiter on each call")
	}
	ctx := context.Background()
	rate := limit.PerSecond(10)
	allowed := 0
	for step := range 100 { // 1s in steps of 10ms
		for range 3 {
			d, err := rl.Allow(ctx, "k", rate, 2)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				allowed++
			} else if d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond {
				t.Fatalf("step %d: %+v", step, d)
			}
		}
		clock.Advance(10 * time.Millisecond)
	}
	// 2 at once, then one at 100ms, ..., 900ms.
	if allowed != 11 {
		t.Fatalf("%d allowed in 1s at 10/s with a burst of 2, want 11", allowed)
	}
	if _, err := rl.Allow(context.Background(), "", rate, 1); err == nil {
		t.Fatal("empty key accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := rl.Allow(cancelled, "k", rate, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("on a cancelled ctx: %v", err)
	}
}

// Keys whose time has passed are swept, so the map does not grow with
// keys no longer used; their limits are as if never used.
func TestRateLimiterForgets(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	rl := memorybackend.New(memorybackend.Clock(clock.Now)).RateLimiter()
	ctx := context.Background()
	for i := range 3000 {
		if d, err := rl.Allow(ctx, string(rune('a'+i%26))+string(rune(i)), limit.PerSecond(1), 1); err != nil || !d.Allowed {
			t.Fatalf("%+v, %v", d, err)
		}
		clock.Advance(time.Millisecond)
	}
	clock.Advance(time.Hour)
	if d, err := rl.Allow(ctx, "a", limit.PerSecond(1), 1); err != nil || !d.Allowed || d.Remaining != 0 {
		t.Fatalf("%+v, %v", d, err)
	}
}

// A permit expires with its TTL on the backend's clock, unless refreshed.
func TestSemaphoreOnClock(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	b := memorybackend.New(memorybackend.Clock(clock.Now))
	sem := b.Semaphore()
	if b.Semaphore() != sem {
		t.Fatal("Semaphore() returns a new semaphore on each call")
	}
	ctx := context.Background()
	kept, err := sem.TryAcquire(ctx, "k", 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(kept.AcquiredAt) > time.Minute {
		t.Fatalf("AcquiredAt %v is not on the wall clock", kept.AcquiredAt)
	}
	crashed, err := sem.TryAcquire(ctx, "k", 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(40 * time.Second)
	if err := sem.Refresh(ctx, kept, time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err = sem.TryAcquire(ctx, "k", 2, time.Minute)
	var cl *limit.ConcurrencyLimitedError
	if !errors.As(err, &cl) || cl.Held != 2 || cl.Remaining != 20*time.Second {
		t.Fatalf("full: %v", err)
	}
	clock.Advance(20 * time.Second) // the crashed holder's TTL runs out
	if err := sem.Refresh(ctx, crashed, time.Minute); !errors.Is(err, limit.ErrPermitLost) {
		t.Fatalf("an expired permit's refresh: %v", err)
	}
	p, err := sem.TryAcquire(ctx, "k", 2, time.Minute)
	if err != nil {
		t.Fatalf("after the crashed holder's TTL: %v", err)
	}
	for _, p := range []*limit.Permit{kept, p, p, crashed} {
		if err := sem.Release(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
}
