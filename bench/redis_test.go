package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis returns a client of the real Redis, set up by adjust, and a key
// prefix of tb's own, whose keys are deleted when tb ends. Without Redis it
// skips tb, or fails it under TASKWARE_REQUIRE_REDIS=1.
func testRedis(tb testing.TB, adjust ...func(*redis.Options)) (*redis.Client, string) {
	tb.Helper()
	c := testConnect(tb, adjust...)
	prefix := NewPrefix("lockbench-test")
	tb.Cleanup(func() {
		if _, err := DeletePrefix(context.Background(), c, prefix); err != nil {
			tb.Errorf("delete %s*: %v", prefix, err)
		}
	})
	return c, prefix
}

// testConnect returns a client of the real Redis, set up by adjust, closed
// when tb ends, or skips or fails tb as testRedis does.
func testConnect(tb testing.TB, adjust ...func(*redis.Options)) *redis.Client {
	tb.Helper()
	url := RedisURL()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := Connect(ctx, url, adjust...)
	if err != nil {
		if os.Getenv("TASKWARE_REQUIRE_REDIS") == "1" {
			tb.Fatalf("Redis at %s: %v (TASKWARE_REQUIRE_REDIS=1)", url, err)
		}
		tb.Skipf("no Redis at %s: %v; set TASKWARE_REQUIRE_REDIS=1 to fail instead", url, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// testAsynqDB returns the logical DB that asynq, which takes no key
// prefix, may use: $TASKWARE_ASYNQ_DB, 10 by default (e2ebench's is 9).
// It must be empty; asynq's test deletes its keys, asynq:*, when done.
func testAsynqDB(tb testing.TB) func(*redis.Options) {
	db := 10
	if s := os.Getenv("TASKWARE_ASYNQ_DB"); s != "" {
		var err error
		if db, err = strconv.Atoi(s); err != nil {
			tb.Fatalf("TASKWARE_ASYNQ_DB=%q: %v", s, err)
		}
	}
	return func(o *redis.Options) { o.DB = db }
}

func TestDeletePrefixDeletesOnlyItsOwn(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	mine, sibling := prefix+"a:", prefix+"ab"
	for _, k := range []string{mine + "1", mine + "2", mine + "[x]*", sibling} {
		if err := c.Set(ctx, k, "v", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := DeletePrefix(ctx, c, mine)
	if err != nil || n != 3 {
		t.Fatalf("DeletePrefix = %d, %v; want 3, nil", n, err)
	}
	if got := c.Exists(ctx, sibling).Val(); got != 1 {
		t.Errorf("sibling key %q deleted", sibling)
	}
}

// TestTripsCountsWrites checks what a round trip is: a command, or a
// pipeline, or on the full-duplex AutoPipeliner, a batch of many callers'
// commands.
func TestTripsCountsWrites(t *testing.T) {
	trips := new(Trips)
	c, prefix := testRedis(t, trips.Count)
	ctx := context.Background()
	set3 := func(p redis.Pipeliner) error {
		for i := range 3 {
			p.Set(ctx, prefix+strconv.Itoa(i), "v", time.Minute)
		}
		return nil
	}
	// Dial a connection, and one of the pipeline pool: setting one up
	// takes round trips of its own (HELLO, CLIENT SETINFO).
	c.Ping(ctx)
	c.Pipelined(ctx, set3)

	trips.Reset()
	if err := c.Ping(ctx).Err(); err != nil || trips.Load() != 1 {
		t.Fatalf("a command: %d round trips, err %v; want 1", trips.Load(), err)
	}
	trips.Reset()
	if _, err := c.Pipelined(ctx, set3); err != nil || trips.Load() != 1 {
		t.Fatalf("a pipeline of 3: %d round trips, err %v; want 1", trips.Load(), err)
	}

	ap, err := c.AutoPipelineWithOptions(&redis.AutoPipelineOptions{FullDuplex: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	trips.Reset()
	const rounds, callers = 20, 64
	for range rounds {
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				if err := ap.Set(ctx, prefix+"ap"+strconv.Itoa(i), "v", time.Minute).Err(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if n := trips.Load(); n < 1 || n >= rounds*callers {
		t.Errorf("%d concurrent commands auto-pipelined: %d round trips; want fewer", rounds*callers, n)
	}
}

// TestServerGauges reads INFO: the CPU Redis used goes up with its work,
// and its memory with a value it holds.
func TestServerGauges(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	cpu0, err := RedisCPU(ctx, c)
	if err != nil || cpu0 <= 0 {
		t.Fatalf("RedisCPU = %v, %v", cpu0, err)
	}
	mem0, err := UsedMemory(ctx, c)
	if err != nil || mem0 <= 0 {
		t.Fatalf("UsedMemory = %v, %v", mem0, err)
	}
	const size = 4 << 20
	if err := c.Set(ctx, prefix+"big", strings.Repeat("x", size), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		c.Ping(ctx)
	}
	cpu1, err := RedisCPU(ctx, c)
	if err != nil || cpu1 < cpu0 {
		t.Errorf("RedisCPU went from %v to %v (err %v)", cpu0, cpu1, err)
	}
	// Others may share the server: the rise is at least most of the value.
	if mem1, err := UsedMemory(ctx, c); err != nil || mem1-mem0 < size/2 {
		t.Errorf("UsedMemory went from %d to %d after a %d-byte value (err %v)", mem0, mem1, size, err)
	}
}

// OpenClients connects taskware's client and asynq's, on its own DB, and
// Close deletes the run's keys, and only those.
func TestOpenClients(t *testing.T) {
	probe := testConnect(t) // skips without Redis
	url := RedisURL()
	ctx := context.Background()
	trips := new(Trips)
	c, err := OpenClients(ctx, url, 11, "openclients-test", trips.Count)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Prefix, "openclients-test:") || c.Asynq.Options().DB != 11 || c.Taskware.Options().DB == 11 {
		t.Fatalf("prefix %q, DBs %d and %d", c.Prefix, c.Taskware.Options().DB, c.Asynq.Options().DB)
	}
	other := NewPrefix("openclients-other")
	defer DeletePrefix(ctx, probe, other)
	for _, k := range []string{c.Prefix + "a", other + "b"} {
		if err := c.Taskware.Set(ctx, k, "v", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if trips.Load() == 0 {
		t.Error("the clients' round trips were not counted")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := probe.Exists(ctx, c.Prefix+"a", other+"b").Val(); n != 1 {
		t.Fatalf("%d of the run's key and another's left, want the other's alone", n)
	}
	if err := c.Taskware.Ping(ctx).Err(); err == nil {
		t.Error("the client still answers after Close")
	}
}
