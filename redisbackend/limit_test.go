package redisbackend_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// Allow, acquire, refresh and release are one round trip each, once Redis
// has the scripts, whatever their answer.
func TestLimitRoundTrips(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		rl, sem := b.Redis.RateLimiter(), b.Redis.Semaphore()
		// Warm up: load the scripts.
		if _, err := rl.Allow(ctx, "warm-up", limit.PerSecond(1), 1); err != nil {
			t.Fatal(err)
		}
		p, err := sem.TryAcquire(ctx, "warm-up", 1, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := sem.Refresh(ctx, p, time.Second); err != nil {
			t.Fatal(err)
		}
		if err := sem.Release(ctx, p); err != nil { // a pipeline, whose first use may dial
			t.Fatal(err)
		}
		var c taskwaretest.RoundTrips
		b.Client.AddHook(&c)
		trips := func(what string, want int64, fn func() error) {
			t.Helper()
			before := c.N()
			if err := fn(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if n := c.N() - before; n != want {
				t.Fatalf("%s took %d round trips, want %d", what, n, want)
			}
		}
		allow := func(want bool) func() error {
			return func() error {
				d, err := rl.Allow(ctx, "api", limit.PerMinute(1), 1)
				if err == nil && d.Allowed != want {
					err = errors.New("unexpected decision")
				}
				return err
			}
		}
		trips("an allowed Allow", 1, allow(true))
		trips("a refused Allow", 1, allow(false))
		var held *limit.Permit
		trips("an acquire", 1, func() (err error) { held, err = sem.TryAcquire(ctx, "db", 1, time.Second); return err })
		trips("a refused acquire", 1, func() error {
			if _, err := sem.TryAcquire(ctx, "db", 1, time.Second); !errors.Is(err, limit.ErrConcurrencyLimited) {
				return errors.New("not refused")
			}
			return nil
		})
		trips("a refresh", 1, func() error { return sem.Refresh(ctx, held, time.Second) })
		trips("a release", 1, func() error { return sem.Release(ctx, held) })
		trips("a second release", 1, func() error { return sem.Release(ctx, held) })
	})
}

// The keys: "<prefix>rate:{<key>}" and "<prefix>sem:{<key>}", each with a
// hash tag and a TTL, gone once nothing holds them.
func TestLimitKeys(t *testing.T) {
	c, prefix := taskwaretest.Redis(t)
	b := redisbackend.New(c, redisbackend.Prefix(prefix))
	ctx := context.Background()
	if _, err := b.RateLimiter().Allow(ctx, "api", limit.PerSecond(10), 1); err != nil {
		t.Fatal(err)
	}
	p, err := b.Semaphore().TryAcquire(ctx, "db", 2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// A rate limit's key lives past its TAT by the 10 s a turn or nonce is kept.
	want := map[string]time.Duration{prefix + "rate:{api}": 10*time.Second + 100*time.Millisecond, prefix + "sem:{db}": 5 * time.Second}
	if len(keys) != len(want) {
		t.Fatalf("keys %v, want those of %v", keys, want)
	}
	for k, maxTTL := range want {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > maxTTL {
			t.Errorf("%s: TTL %v, %v; want in (0, %v]", k, ttl, err, maxTTL)
		}
	}
	if err := b.Semaphore().Release(ctx, p); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, prefix+"sem:{db}").Result(); err != nil || n != 0 {
		t.Fatalf("the semaphore's key outlived its last permit: %d, %v", n, err)
	}
}

// go-redis sends a command again when its reply is lost after Redis ran
// it: an Allow allowed then is not counted twice, an acquire finds its own
// permit, and a release finds its permit gone, and all three succeed.
func TestLimitResentCalls(t *testing.T) {
	for _, name := range redisNames {
		t.Run(name, func(t *testing.T) {
			// A prefix of its own: two suites may run beside each other on
			// one server.
			addr, prefix := "", "taskware-test:"+strings.ReplaceAll(t.Name(), "/", "_")+":"
			if name == "miniredis" {
				addr = taskwaretest.Miniredis(t).Addr()
			} else {
				c, p := taskwaretest.Redis(t)
				addr, prefix = c.Options().Addr, p
			}
			p := taskwaretest.NewProxy(t, addr)
			c := redis.NewClient(&redis.Options{Addr: p.Addr(), MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond})
			t.Cleanup(func() { c.Close() })
			b := redisbackend.New(c, redisbackend.Prefix(prefix))
			t.Cleanup(func() { taskwaretest.DeletePrefix(t, c, prefix) })
			ctx := context.Background()
			touches := func(keyPart string) func(cmd []string) bool {
				return func(cmd []string) bool {
					for _, w := range cmd {
						if strings.Contains(w, keyPart) {
							return true
						}
					}
					return false
				}
			}

			p.DropReplies(1, touches("rate:{"))
			d, err := b.RateLimiter().Allow(ctx, "api", limit.PerMinute(1), 2)
			if err != nil || !d.Allowed || d.Remaining != 1 {
				t.Fatalf("a resent Allow: %+v, %v", d, err)
			}
			if d, err = b.RateLimiter().Allow(ctx, "api", limit.PerMinute(1), 2); err != nil || !d.Allowed {
				t.Fatalf("the burst's second event, after a resent first: %+v, %v (counted twice?)", d, err)
			}

			// A resent Reserve: allowed once, then a turn given once.
			rl := b.RateLimiter()
			for i, turn := range []string{"a", "b"} {
				p.DropReplies(1, touches("rate:{"))
				d, err := rl.Reserve(ctx, "turns", turn, limit.PerMinute(1), 1)
				if err != nil || d.Allowed != (i == 0) {
					t.Fatalf("a resent Reserve of %s: %+v, %v", turn, d, err)
				}
			}
			if d, err := rl.Reserve(ctx, "turns", "c", limit.PerMinute(1), 1); err != nil || d.Allowed ||
				d.RetryAfter <= time.Minute || d.RetryAfter > 2*time.Minute {
				t.Fatalf("the turn after two resent Reserves: %+v, %v (counted twice?)", d, err)
			}

			p.DropReplies(1, touches("sem:{"))
			permit, err := b.Semaphore().TryAcquire(ctx, "db", 2, time.Minute)
			if err != nil {
				t.Fatalf("a resent acquire: %v", err)
			}
			other, err := b.Semaphore().TryAcquire(ctx, "db", 2, time.Minute)
			if err != nil {
				t.Fatalf("the second permit, after a resent first: %v (taken twice?)", err)
			}
			p.DropReplies(1, touches("sem:{"))
			if err := b.Semaphore().Release(ctx, permit); err != nil {
				t.Fatalf("a resent release: %v", err)
			}
			if err := b.Semaphore().Release(ctx, other); err != nil {
				t.Fatal(err)
			}
			if p.Dropped() != 5 {
				t.Fatalf("%d replies dropped, want 5", p.Dropped())
			}
		})
	}
}

// The scripts are sent again, transparently, if the server lost them.
// miniredis only: flushing a shared server's script cache would disturb
// others.
func TestLimitScriptCacheFlushed(t *testing.T) {
	b := taskwaretest.NewMiniredis(t)
	ctx := context.Background()
	flush := func() {
		if err := b.Client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	if d, err := b.RateLimiter.Allow(ctx, "api", limit.PerSecond(1), 1); err != nil || !d.Allowed {
		t.Fatalf("%+v, %v", d, err)
	}
	flush()
	p, err := b.Semaphore.TryAcquire(ctx, "db", 1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	flush()
	if err := b.Semaphore.Refresh(ctx, p, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Semaphore.Release(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// The server's clock decides, not the client's: two backends on one Redis
// share one limit.
func TestLimitSharedAcrossClients(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		other := redisbackend.New(b.Client, redisbackend.Prefix(b.Prefix()))
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for i := range 20 {
			wg.Go(func() {
				rl := b.RateLimiter
				if i%2 == 1 {
					rl = other.RateLimiter()
				}
				d, err := rl.Allow(ctx, "shared", limit.PerMinute(5), 5)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				if d.Allowed {
					allowed++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if allowed != 5 {
			t.Fatalf("%d of 20 allowed under a burst of 5", allowed)
		}
	})
}

// The hot path on a real Redis: an allowed RateLimit run, and a
// ConcurrencyLimit run (acquire and release), sequential and concurrent.
func BenchmarkLimitRedis(b *testing.B) {
	c, prefix := taskwaretest.Redis(b)
	r := redisbackend.New(c, redisbackend.Prefix(prefix))
	noop := func(context.Context, *task.Invocation) (any, error) { return nil, nil }
	for _, bc := range []struct {
		name string
		run  task.Func
	}{
		{"RateLimit", middleware.RateLimit(r.RateLimiter(), "k", limit.PerSecond(1e9), 1e6)(noop)},
		{"ConcurrencyLimit", middleware.ConcurrencyLimit(r.Semaphore(), "k", 1e6)(noop)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var trips taskwaretest.RoundTrips
			c.AddHook(&trips)
			ctx := context.Background()
			inv := &task.Invocation{ID: "run", Attempt: 1}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.run(ctx, inv); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(trips.N())/float64(b.N), "trips/op")
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				inv := &task.Invocation{ID: "run", Attempt: 1}
				for pb.Next() {
					if _, err := bc.run(ctx, inv); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
