package taskwaretest

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
)

// Locker is a backend's locker: it takes locks and shows them.
type Locker interface {
	lock.Locker
	lock.Inspector
}

// Backend is a locker, a result store and a queue made fresh for one test,
// with a clock the test can move.
type Backend struct {
	// Name is "memory", "miniredis" or "redis".
	Name   string
	Locker Locker
	Store  store.Store
	Queue  queue.Queue
	// RateLimiter and Semaphore are the backend's limits (package limit).
	RateLimiter limit.RateLimiter
	Semaphore   limit.Semaphore
	// Redis is the Redis backend, and Client its client: nil on memory.
	Redis  *redisbackend.Backend
	Client redis.UniversalClient
	// Real is true on a real Redis, whose clock cannot be moved: Advance
	// sleeps there, so keep its durations short.
	Real bool

	offset atomic.Int64 // how far Advance moved the clock
	runs   atomic.Int64 // runs made by Run, to name them
	mini   *miniredis.Miniredis
}

// Names are the backends Each runs over.
var Names = []string{"memory", "miniredis", "redis"}

// Each runs fn as a subtest over every backend: memory, miniredis and a
// real Redis.
func Each(t *testing.T, fn func(t *testing.T, b *Backend)) {
	t.Helper()
	for _, name := range Names {
		t.Run(name, func(t *testing.T) { fn(t, New(t, name)) })
	}
}

// New makes the named backend for t; it is cleaned up when t ends.
func New(t testing.TB, name string) *Backend {
	t.Helper()
	switch name {
	case "memory":
		return NewMemory(t)
	case "miniredis":
		return NewMiniredis(t)
	case "redis":
		return NewRedis(t)
	}
	t.Fatalf("taskwaretest: unknown backend %q", name)
	return nil
}

// NewMemory returns a backend in memory.
func NewMemory(t testing.TB) *Backend {
	b := &Backend{Name: "memory"}
	m := memorybackend.New(memorybackend.Clock(b.Now))
	b.Locker, b.Store, b.Queue = m.Locker(), m.Store(), m.Queue()
	b.RateLimiter, b.Semaphore = m.RateLimiter(), m.Semaphore()
	return b
}

// NewMiniredis returns a backend on a miniredis of t's own, whose keys
// expire in real time too, as a real Redis's do; Advance jumps ahead.
func NewMiniredis(t testing.TB) *Backend {
	t.Helper()
	m := Miniredis(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { c.Close() })
	b := &Backend{Name: "miniredis", mini: m}
	b.setRedis(redisbackend.New(c))
	return b
}

// NewRedis returns a backend on the real Redis, under a key prefix of t's
// own whose keys are deleted when t ends. It skips t if Redis does not
// answer, or fails it under TASKWARE_REQUIRE_REDIS=1.
func NewRedis(t testing.TB) *Backend {
	t.Helper()
	c, prefix := Redis(t)
	b := &Backend{Name: "redis", Real: true}
	b.setRedis(redisbackend.New(c, redisbackend.Prefix(prefix)))
	return b
}

// NewPartitioned returns the named Redis backend ("miniredis", "redis" or
// "cluster", a Cluster of t's own) on which every queue is split into n
// partitions when first used (redisbackend.DefaultPartitions).
func NewPartitioned(t testing.TB, name string, n int) *Backend {
	t.Helper()
	b := &Backend{Name: name + "-partitioned"}
	switch name {
	case "miniredis":
		m := Miniredis(t)
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { c.Close() })
		b.mini = m
		b.setRedis(redisbackend.New(c, redisbackend.DefaultPartitions(n)))
	case "redis":
		c, prefix := Redis(t)
		b.Real = true
		b.setRedis(redisbackend.New(c, redisbackend.Prefix(prefix), redisbackend.DefaultPartitions(n)))
	case "cluster":
		b.Real = true
		b.setRedis(redisbackend.New(Cluster(t), redisbackend.DefaultPartitions(n)))
	default:
		t.Fatalf("taskwaretest: no partitioned backend %q", name)
	}
	return b
}

func (b *Backend) setRedis(r *redisbackend.Backend) {
	b.Redis, b.Client = r, r.Client()
	b.Locker, b.Store, b.Queue = r.Locker(), r.Store(), r.Queue()
	b.RateLimiter, b.Semaphore = r.RateLimiter(), r.Semaphore()
}

// Prefix is the Redis backend's key prefix, "" on memory.
func (b *Backend) Prefix() string {
	if b.Redis == nil {
		return ""
	}
	return b.Redis.Prefix()
}

// Now is the backend's clock: the wall clock, moved on by Advance.
func (b *Backend) Now() time.Time { return time.Now().Add(time.Duration(b.offset.Load())) }

// Advance moves the backend's clock d ahead: TTLs of locks and records run
// out d sooner, and runs enqueued before look d older. On a real Redis,
// whose clock cannot move, it sleeps for d.
func (b *Backend) Advance(d time.Duration) {
	switch {
	case b.Real:
		time.Sleep(d)
	case b.mini != nil:
		b.offset.Add(int64(d))
		b.mini.FastForward(d)
	default:
		b.offset.Add(int64(d))
	}
}

// Miniredis starts a miniredis for t whose keys expire in real time too, as
// a real Redis's do, so that renewal is tested for real; FastForward still
// jumps ahead. It stops when t ends.
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

// RedisURL is the real Redis of the tests: TASKWARE_REDIS_URL, or
// redis://127.0.0.1:6379/0.
func RedisURL() string {
	if u := os.Getenv("TASKWARE_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// RequireRedis reports whether TASKWARE_REQUIRE_REDIS=1: a test that needs
// Redis (or redis-server) fails without one instead of skipping.
func RequireRedis() bool { return os.Getenv("TASKWARE_REQUIRE_REDIS") == "1" }

// Redis returns a client of the real Redis and a key prefix of t's own. It
// deletes the keys under the prefix and closes the client when t ends. It
// skips t if Redis does not answer, or fails it under
// TASKWARE_REQUIRE_REDIS=1.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("taskwaretest: TASKWARE_REDIS_URL does not parse (its text is not shown: it may hold a password)")
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if RequireRedis() {
			t.Fatalf("taskwaretest: Redis at %s does not answer and TASKWARE_REQUIRE_REDIS=1: %v", opt.Addr, err)
		}
		t.Skipf("taskwaretest: no Redis at %s (%v); set TASKWARE_REQUIRE_REDIS=1 to fail instead", opt.Addr, err)
	}
	prefix := "taskware-test:" + sanitize(t.Name()) + ":" + randid.New()[:8] + ":"
	t.Cleanup(func() {
		defer c.Close()
		DeletePrefix(t, c, prefix)
	})
	return c, prefix
}

// DeletePrefix deletes every key under prefix, and only those.
func DeletePrefix(t testing.TB, c redis.UniversalClient, prefix string) {
	if _, err := redisbackend.New(c, redisbackend.Prefix(prefix)).Purge(context.Background()); err != nil {
		t.Errorf("taskwaretest: %v", err)
	}
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func sanitize(s string) string { return strings.Trim(unsafe.ReplaceAllString(s, "_"), "_") }

// RoundTrips is a go-redis hook that counts round trips: a command or a
// pipeline is one each. Add it with client.AddHook.
type RoundTrips struct{ n atomic.Int64 }

// N returns the round trips counted so far.
func (c *RoundTrips) N() int64 { return c.n.Load() }

// DialHook implements redis.Hook.
func (c *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (c *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}
