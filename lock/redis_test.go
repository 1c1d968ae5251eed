package lock_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/testkit"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// Acquire and release are one round trip each, once Redis has the scripts.
func TestRoundTripsPerPair(t *testing.T) {
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) {
			b := testkit.New(t, name)
			ctx := context.Background()
			pair := func(key string) {
				l, err := b.Locker.TryAcquire(ctx, key, time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Locker.Release(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			pair("warm-up") // loads the scripts
			var c testkit.Counter
			b.Client.AddHook(&c)
			for i, key := range []string{"a", "b", "a"} {
				before := c.N()
				pair(key)
				if n := c.N() - before; n != 2 {
					t.Fatalf("pair %d took %d round trips, want 2", i, n)
				}
			}
			before := c.N()
			if _, err := b.Locker.TryAcquire(ctx, "held", time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Locker.TryAcquire(ctx, "held", time.Second); !errors.Is(err, lock.ErrLocked) {
				t.Fatal(err)
			}
			if n := c.N() - before; n != 2 {
				t.Fatalf("a refused acquire took %d round trips, want 1", n-1)
			}
		})
	}
}

// Scripts missing from the server's cache (a restart, SCRIPT FLUSH) are
// sent again, transparently. miniredis only: flushing a shared server's
// script cache would disturb others.
func TestScriptCacheFlushed(t *testing.T) {
	m := testkit.Miniredis(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer c.Close()
	l := lock.NewRedis(c)
	ctx := context.Background()
	if err := lock.Do(ctx, l, "k", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := lock.Do(ctx, l, "k", func(context.Context) error { return nil }); err != nil {
		t.Fatalf("after SCRIPT FLUSH: %v", err)
	}
}

func TestRedisKeysAndConfig(t *testing.T) {
	c, prefix := testkit.Redis(t)
	ctx := context.Background()
	l := lock.NewRedis(c, lock.WithPrefix(prefix), lock.WithHolder("worker-7"))
	lease, err := l.TryAcquire(ctx, "report", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	val, err := c.Get(ctx, prefix+"lock:{report}").Result()
	if err != nil {
		t.Fatalf("lock key: %v", err)
	}
	if want := lease.Token + "|"; val[:len(want)] != want {
		t.Fatalf("lock value %q does not start with the token", val)
	}
	if n, _ := c.Exists(ctx, prefix+"lock:{report}:fence").Result(); n != 0 {
		t.Fatal("a fence counter key exists: a lock must be one key")
	}
	held, err := l.Held(ctx)
	if err != nil || len(held) != 1 || held[0].Holder != "worker-7" || held[0].Key != "report" {
		t.Fatalf("Held = %+v, %v", held, err)
	}
	// Another prefix is another keyspace.
	other := lock.NewRedis(c, lock.WithPrefix(prefix+"other:"))
	if held, _ := other.Held(ctx); len(held) != 0 {
		t.Fatalf("other prefix sees %+v", held)
	}
	if _, err := other.TryAcquire(ctx, "report", time.Minute); err != nil {
		t.Fatalf("other prefix shares the lock: %v", err)
	}
	// A release leaves the fence for the rest of the TTL, and nothing else.
	if err := l.Release(ctx, lease); err != nil {
		t.Fatal(err)
	}
	if val, err := c.Get(ctx, prefix+"lock:{report}").Result(); err != nil || val != fmt.Sprint("|", lease.Fence) {
		t.Fatalf("released lock %q, %v; want |%d", val, err, lease.Fence)
	}
	if ttl := c.PTTL(ctx, prefix+"lock:{report}").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("released lock TTL %v: it must keep the lease's", ttl)
	}
	if held, _ := l.Held(ctx); len(held) != 0 {
		t.Fatalf("a released lock is listed as held: %+v", held)
	}
	// The fence keeps growing even if the server's clock is behind it.
	if err := c.Set(ctx, prefix+"lock:{report}", "|8000000000000000", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	next, err := l.TryAcquire(ctx, "report", time.Minute)
	if err != nil || next.Fence != 8000000000000001 {
		t.Fatalf("after a fence ahead of the clock: %+v, %v", next, err)
	}

	for name, build := range map[string]func(){
		"nil client":      func() { lock.NewRedis(nil) },
		"brace in prefix": func() { lock.NewRedis(c, lock.WithPrefix("app{1}:")) },
		"empty holder":    func() { lock.NewRedis(c, lock.WithHolder("")) },
	} {
		func() {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("%s: panic %v, want ErrInvalidConfig", name, err)
				}
			}()
			build()
		}()
	}
}
