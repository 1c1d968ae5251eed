package redisbackend_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// redisNames are the kit's backends on Redis.
var redisNames = []string{"miniredis", "redis"}

// eachRedis runs fn as a subtest over the kit's Redis backends.
func eachRedis(t *testing.T, fn func(t *testing.T, b *taskwaretest.Backend)) {
	t.Helper()
	for _, name := range redisNames {
		t.Run(name, func(t *testing.T) { fn(t, taskwaretest.New(t, name)) })
	}
}

// Acquire and release are one round trip each, once Redis has the scripts.
func TestRoundTripsPerPair(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
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
		// Warm up: load the scripts, each sent once by its body.
		warm, err := b.Locker.TryAcquire(ctx, "warm-up", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Locker.Refresh(ctx, warm, time.Second); err != nil {
			t.Fatal(err)
		}
		if err := b.Locker.Release(ctx, warm); err != nil {
			t.Fatal(err)
		}
		var c taskwaretest.RoundTrips
		b.Client.AddHook(&c)
		for i, key := range []string{"a", "b", "a"} {
			before := c.N()
			pair(key)
			if n := c.N() - before; n != 2 {
				t.Fatalf("pair %d took %d round trips, want 2", i, n)
			}
		}
		before := c.N()
		lease, err := b.Locker.TryAcquire(ctx, "held", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if n := c.N() - before; n != 1 {
			t.Fatalf("an acquire took %d round trips, want 1", n)
		}
		before = c.N()
		if _, err := b.Locker.TryAcquire(ctx, "held", time.Second); !errors.Is(err, lock.ErrLocked) {
			t.Fatal(err)
		}
		if n := c.N() - before; n != 1 {
			t.Fatalf("a refused acquire took %d round trips, want 1", n)
		}
		before = c.N()
		if err := b.Locker.Refresh(ctx, lease, time.Second); err != nil {
			t.Fatal(err)
		}
		if n := c.N() - before; n != 1 {
			t.Fatalf("a refresh took %d round trips, want 1", n)
		}
		// A deferred release is one round trip too when applied on its own.
		before = c.N()
		if err := b.Redis.Locker().FinalRelease(lease).Apply(ctx); err != nil {
			t.Fatal(err)
		}
		if n := c.N() - before; n != 1 {
			t.Fatalf("a final release took %d round trips, want 1", n)
		}
		b.RequireNoLocks(t)
	})
}

// Scripts missing from the server's cache (a restart, SCRIPT FLUSH) are
// sent again, transparently: by a release, a refresh and an acquire, and by
// a deferred release. miniredis only: flushing a shared server's script
// cache would disturb others.
func TestScriptCacheFlushed(t *testing.T) {
	b := taskwaretest.NewMiniredis(t)
	l := b.Redis.Locker()
	ctx := context.Background()
	flush := func() {
		t.Helper()
		if err := b.Client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := lock.Do(ctx, l, "k", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	flush()
	if err := lock.Do(ctx, l, "k", func(context.Context) error { return nil }); err != nil {
		t.Fatalf("after SCRIPT FLUSH: %v", err)
	}
	lease, err := l.TryAcquire(ctx, "k", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var c taskwaretest.RoundTrips
	b.Client.AddHook(&c)
	flush()
	before := c.N()
	if err := l.Refresh(ctx, lease, time.Minute); err != nil {
		t.Fatalf("refresh after SCRIPT FLUSH: %v", err)
	}
	// EVALSHA, refused, then EVAL, which loads the script again.
	if n := c.N() - before; n != 2 {
		t.Fatalf("the refresh after SCRIPT FLUSH took %d round trips, want 2", n)
	}
	before = c.N()
	if err := l.Refresh(ctx, lease, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := c.N() - before; n != 1 {
		t.Fatalf("the next refresh took %d round trips, want 1", n)
	}
	flush()
	if err := l.Release(ctx, lease); err != nil {
		t.Fatalf("release after SCRIPT FLUSH: %v", err)
	}
	if lease, err = l.TryAcquire(ctx, "k", time.Minute); err != nil {
		t.Fatal(err)
	}
	flush()
	if err := l.FinalRelease(lease).Apply(ctx); err != nil {
		t.Fatalf("final release after SCRIPT FLUSH: %v", err)
	}
	b.RequireNoLocks(t)
}

func TestLockKeys(t *testing.T) {
	c, prefix := taskwaretest.Redis(t)
	ctx := context.Background()
	l := redisbackend.New(c, redisbackend.Prefix(prefix), redisbackend.Holder("worker-7")).Locker()
	lease, err := l.TryAcquire(ctx, "report", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	val, err := c.Get(ctx, prefix+"lock:{report}").Result()
	if err != nil {
		t.Fatalf("lock key: %v", err)
	}
	if want := lease.Token + "|"; len(val) < len(want) || val[:len(want)] != want {
		t.Fatalf("lock value %q does not start with the token", val)
	}
	if want := fmt.Sprint(lease.Token, "|", lease.Fence, "|", lease.AcquiredAt.UnixMicro(), "|worker-7"); val != want {
		t.Fatalf("lock value %q, want %q (token|fence|sinceµs|holder)", val, want)
	}
	if n, _ := c.Exists(ctx, prefix+"lock:{report}:fence").Result(); n != 0 {
		t.Fatal("a fence counter key exists: a lock must be one key")
	}
	if keys := c.Keys(ctx, prefix+"*").Val(); len(keys) != 1 {
		t.Fatalf("keys %v: a lock must be one key", keys)
	}
	held, err := l.Held(ctx)
	if err != nil || len(held) != 1 || held[0].Holder != "worker-7" || held[0].Key != "report" || held[0].Fence != lease.Fence {
		t.Fatalf("Held = %+v, %v", held, err)
	}
	// Another prefix is another keyspace.
	other := redisbackend.New(c, redisbackend.Prefix(prefix+"other:")).Locker()
	if held, _ := other.Held(ctx); len(held) != 0 {
		t.Fatalf("other prefix sees %+v", held)
	}
	if _, err := other.TryAcquire(ctx, "report", time.Minute); err != nil {
		t.Fatalf("other prefix shares the lock: %v", err)
	}
	if held, _ := l.Held(ctx); len(held) != 1 {
		t.Fatalf("the other prefix's lock is seen under this one: %+v", held)
	}
	// A release leaves the fence and the releasing token for the rest of
	// the TTL, and nothing else.
	if err := l.Release(ctx, lease); err != nil {
		t.Fatal(err)
	}
	if val, err := c.Get(ctx, prefix+"lock:{report}").Result(); err != nil || val != fmt.Sprint("|", lease.Fence, "|", lease.Token) {
		t.Fatalf("released lock %q, %v; want |%d|%s", val, err, lease.Fence, lease.Token)
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
	// Break deletes the key outright, fence included.
	if err := l.Break(ctx, "report"); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, prefix+"lock:{report}").Val(); n != 0 {
		t.Fatal("a broken lock's key is still there")
	}
}

// New refuses a bad configuration at once, before it talks to Redis, with
// a panic matching task.ErrInvalidConfig.
func TestNewRefusesBadConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never used
	defer c.Close()
	cases := []struct {
		name   string
		client redis.UniversalClient
		opts   []redisbackend.Option
	}{
		{"nil client", nil, nil},
		{"brace in prefix", c, []redisbackend.Option{redisbackend.Prefix("app{1}:")}},
		{"closing brace in prefix", c, []redisbackend.Option{redisbackend.Prefix("app}:")}},
		{"empty holder", c, []redisbackend.Option{redisbackend.Holder("")}},
		{"zero state TTL", c, []redisbackend.Option{redisbackend.StateTTL(0)}},
		{"negative state TTL", c, []redisbackend.Option{redisbackend.StateTTL(-time.Second)}},
		{"zero dead-letter cap", c, []redisbackend.Option{redisbackend.DeadLetterMax(0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("New panicked with %v, want an error matching task.ErrInvalidConfig", err)
				}
			}()
			redisbackend.New(tc.client, tc.opts...)
		})
	}
	// The defaults, and good options, are accepted.
	b := redisbackend.New(c, redisbackend.Prefix("app:"), redisbackend.Holder("h"),
		redisbackend.StateTTL(time.Minute), redisbackend.DeadLetterMax(1))
	if b.Prefix() != "app:" || b.Client() != c {
		t.Errorf("Prefix %q, Client %v", b.Prefix(), b.Client())
	}
	if p := redisbackend.New(c).Prefix(); p != redisbackend.DefaultPrefix || redisbackend.DefaultPrefix != "taskware:" {
		t.Errorf("default prefix %q, DefaultPrefix %q, want both %q", p, redisbackend.DefaultPrefix, "taskware:")
	}
}

// A lock taken for a task run records it as a fifth part of the value, in
// the same one round trip; a refused acquire reads it back from the value
// the script returns, still one round trip. An acquire whose reply is lost
// and that go-redis sends again gets the same lease.
func TestLockValueNamesRun(t *testing.T) {
	c, prefix := taskwaretest.Redis(t)
	ctx := context.Background()
	b := redisbackend.New(c, redisbackend.Prefix(prefix), redisbackend.Holder("worker-7"))
	l := b.Locker()
	run := lock.TaskRef{Queue: "default", ID: "abc/1|x"}
	owned := lock.WithOwnerTask(ctx, run.Queue, run.ID)
	if _, err := l.TryAcquire(owned, "warm-up", time.Second); err != nil { // loads the script
		t.Fatal(err)
	}
	var rt taskwaretest.RoundTrips
	c.AddHook(&rt)
	before := rt.N()
	lease, err := l.TryAcquire(owned, "report", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if n := rt.N() - before; n != 1 {
		t.Fatalf("an acquire for a run took %d round trips, want 1", n)
	}
	if lease.Task != run {
		t.Fatalf("lease task %+v, want %+v", lease.Task, run)
	}
	val := c.Get(ctx, prefix+"lock:{report}").Val()
	if want := fmt.Sprint(lease.Token, "|", lease.Fence, "|", lease.AcquiredAt.UnixMicro(), "|worker-7|task:default/abc%2F1%7Cx"); val != want {
		t.Fatalf("lock value %q, want %q (token|fence|sinceµs|holder|task:queue/id)", val, want)
	}
	before = rt.N()
	_, err = l.TryAcquire(lock.WithOwnerTask(ctx, "default", "other"), "report", time.Minute)
	if n := rt.N() - before; n != 1 {
		t.Fatalf("a refused acquire took %d round trips, want 1", n)
	}
	if le, ok := errors.AsType[*lock.LockedError](err); !ok || le.Task != run || le.Holder != "worker-7" || le.Remaining <= 0 {
		t.Fatalf("%#v, want the holder worker-7 and its run %+v", err, run)
	}
	if info, ok, err := l.Lookup(ctx, "report"); err != nil || !ok || info.Task != run || info.Holder != "worker-7" {
		t.Fatalf("Lookup = %+v, %v, %v", info, ok, err)
	}
	// The run stays in the value through refreshes, and goes with the
	// release.
	if err := l.Refresh(ctx, lease, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(ctx, prefix+"lock:{report}").Val(); got != val {
		t.Fatalf("refreshed value %q, want %q", got, val)
	}
	if err := l.Release(ctx, lease); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(ctx, prefix+"lock:{report}").Val(); got != fmt.Sprint("|", lease.Fence, "|", lease.Token) {
		t.Fatalf("released value %q", got)
	}
	if _, err := l.TryAcquire(owned, "report", time.Minute); err != nil {
		t.Fatalf("after the release: %v", err)
	}
}

// Values written before runs were recorded (four parts), and holders with
// a "|" of their own, still read.
func TestLockValueLegacy(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		since := time.UnixMicro(1_700_000_000_123_456)
		tests := []struct {
			val    string
			holder string
			run    lock.TaskRef
		}{
			{"tok|1700000000000001|1700000000123456|host:42", "host:42", lock.TaskRef{}},
			{"tok|1700000000000001|1700000000123456|a|b", "a|b", lock.TaskRef{}},
			{"tok|1700000000000001|1700000000123456|a|task:nope", "a|task:nope", lock.TaskRef{}},
			{"tok|1700000000000001|1700000000123456|a|b|task:q/7", "a|b", lock.TaskRef{Queue: "q", ID: "7"}},
			{"tok|1700000000000001|1700000000123456|h|task:/in-process", "h", lock.TaskRef{ID: "in-process"}},
			{"tok|1700000000000001|1700000000123456|h|task:q%2F1/id%7C2%25", "h", lock.TaskRef{Queue: "q/1", ID: "id|2%"}},
		}
		for i, tt := range tests {
			key := fmt.Sprint("legacy-", i)
			if err := b.Client.Set(ctx, b.Prefix()+"lock:{"+key+"}", tt.val, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			_, err := b.Locker.TryAcquire(lock.WithOwnerTask(ctx, "q", "me"), key, time.Minute)
			le, ok := errors.AsType[*lock.LockedError](err)
			if !ok || le.Holder != tt.holder || le.Task != tt.run || le.Since != since || le.Remaining <= 0 {
				t.Errorf("%q: %#v, want holder %q, run %+v", tt.val, err, tt.holder, tt.run)
				continue
			}
		}
		held := b.Locks(t)
		if len(held) != len(tests) {
			t.Fatalf("Held = %+v", held)
		}
		for i, info := range held {
			if info.Holder != tests[i].holder || info.Task != tests[i].run || info.Fence != 1700000000000001 {
				t.Errorf("Held[%d] = %+v", i, info)
			}
		}
	})
}

// go-redis sends an acquire again when its reply is lost: the second
// answer is the first's, the lease is the run's, and it is the only one.
func TestAcquireForRunSentTwice(t *testing.T) {
	srv := taskwaretest.Miniredis(t)
	p := taskwaretest.NewProxy(t, srv.Addr())
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), ReadTimeout: time.Second})
	defer c.Close()
	l := redisbackend.New(c, redisbackend.Holder("h")).Locker()
	ctx := lock.WithOwnerTask(context.Background(), "default", "run-1")
	if _, err := l.TryAcquire(ctx, "warm-up", time.Minute); err != nil {
		t.Fatal(err)
	}
	before := p.Dropped()
	p.DropReplies(1, func(cmd []string) bool { return cmd[0] == "evalsha" })
	lease, err := l.TryAcquire(ctx, "report", time.Minute)
	if err != nil {
		t.Fatalf("an acquire sent twice: %v", err)
	}
	if p.Dropped()-before != 1 {
		t.Fatal("no reply was dropped")
	}
	info, ok, err := l.Lookup(context.Background(), "report")
	if err != nil || !ok || info.Fence != lease.Fence || info.Task != lease.Task || lease.Task.ID != "run-1" {
		t.Fatalf("Lookup = %+v, %v, %v; lease %+v", info, ok, err, lease)
	}
}
