// Package testkit runs taskware's tests over every backend: in memory, on
// miniredis and on a real Redis.
//
// The real Redis is TASKWARE_REDIS_URL (redis://127.0.0.1:6379/0 by
// default). Each test gets its own key prefix and deletes only its own keys;
// nothing calls FLUSHALL, because the server is shared. Without a reachable
// Redis the real-Redis cases skip, unless TASKWARE_REQUIRE_REDIS=1, which CI
// sets: then they fail.
package testkit

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/worker"
)

// Backend is one place to keep locks and results, made fresh for one test.
type Backend struct {
	Name   string
	Locker lock.Locker
	Store  store.Store
	Queue  worker.Queue
	// Client and Prefix are set for the Redis backends.
	Client redis.UniversalClient
	Prefix string
	// Advance makes TTLs run out d sooner: it moves the memory backend's
	// clock, fast-forwards miniredis, and sleeps on a real Redis.
	Advance func(d time.Duration)
	// Real is true for a real Redis, where Advance sleeps: keep d short.
	Real bool
}

// Each runs fn as a subtest over the memory, miniredis and real Redis
// backends.
func Each(t *testing.T, fn func(t *testing.T, b *Backend)) {
	t.Helper()
	for _, name := range []string{"memory", "miniredis", "redis"} {
		t.Run(name, func(t *testing.T) { fn(t, New(t, name)) })
	}
}

// New makes the named backend for t and cleans it up when t ends.
func New(t testing.TB, name string) *Backend {
	t.Helper()
	switch name {
	case "memory":
		var offset atomic.Int64
		now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		return &Backend{
			Name:    name,
			Locker:  lock.NewMemoryWithClock(now),
			Store:   store.NewMemoryWithClock(now),
			Queue:   worker.NewMemoryQueueWithClock(now),
			Advance: func(d time.Duration) { offset.Add(int64(d)) },
		}
	case "miniredis":
		m := Miniredis(t)
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { c.Close() })
		return redisBackend(name, c, "taskware:", m.FastForward, false)
	case "redis":
		c, prefix := Redis(t)
		return redisBackend(name, c, prefix, time.Sleep, true)
	}
	t.Fatalf("testkit: unknown backend %q", name)
	return nil
}

func redisBackend(name string, c redis.UniversalClient, prefix string, advance func(time.Duration), real bool) *Backend {
	return &Backend{
		Name:    name,
		Locker:  lock.NewRedis(c, lock.WithPrefix(prefix)),
		Store:   store.NewRedis(c, store.WithPrefix(prefix)),
		Queue:   worker.NewRedisQueue(c, worker.WithPrefix(prefix)),
		Client:  c,
		Prefix:  prefix,
		Advance: advance,
		Real:    real,
	}
}

// Miniredis starts a miniredis whose keys expire in real time too, as a real
// Redis's do, so that renewal is tested for real; FastForward still jumps.
func Miniredis(t testing.TB) *miniredis.Miniredis {
	t.Helper()
	m := miniredis.RunT(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
	return m
}

// RedisURL is the real Redis the tests use.
func RedisURL() string {
	if u := os.Getenv("TASKWARE_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Redis returns a client of the real Redis and a key prefix of t's own. It
// deletes the keys under the prefix and closes the client when t ends. It
// skips t if Redis does not answer, or fails it under TASKWARE_REQUIRE_REDIS=1.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("testkit: TASKWARE_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("TASKWARE_REQUIRE_REDIS") == "1" {
			t.Fatalf("testkit: Redis at %s does not answer and TASKWARE_REQUIRE_REDIS=1: %v", RedisURL(), err)
		}
		t.Skipf("testkit: no Redis at %s (%v); set TASKWARE_REQUIRE_REDIS=1 to fail instead", RedisURL(), err)
	}
	prefix := "taskware-test:" + sanitize(t.Name()) + ":" + randid.New()[:8] + ":"
	t.Cleanup(func() {
		defer c.Close()
		DeletePrefix(t, c, prefix)
	})
	return c, prefix
}

// DeletePrefix deletes every key under prefix.
func DeletePrefix(t testing.TB, c redis.UniversalClient, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("testkit: scan %s*: %v", prefix, err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("testkit: delete %s*: %v", prefix, err)
		}
		keys = keys[n:]
	}
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func sanitize(s string) string { return strings.Trim(unsafe.ReplaceAllString(s, "_"), "_") }

// Counter is a go-redis hook that counts round trips: a command or a
// pipeline is one each.
type Counter struct{ n atomic.Int64 }

// N returns the round trips counted so far.
func (c *Counter) N() int64 { return c.n.Load() }

// DialHook implements redis.Hook.
func (c *Counter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}
