package taskwaretest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/taskwaretest"
)

// The proxy's three faults, on a real Redis: a dropped reply makes go-redis
// send the command again (an INCR then counts twice), a stall holds a
// command until it resumes, a cut breaks the connections in use.
func TestProxyFaults(t *testing.T) {
	direct, prefix := taskwaretest.Redis(t)
	p := taskwaretest.NewProxy(t, direct.Options().Addr)
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), DB: direct.Options().DB, Password: direct.Options().Password,
		ReadTimeout: 500 * time.Millisecond})
	defer c.Close()
	ctx := context.Background()
	key := prefix + "n"

	p.DropReplies(1, func(cmd []string) bool { return cmd[0] == "incr" })
	n, err := c.Incr(ctx, key).Result()
	if err != nil || n != 2 {
		t.Fatalf("INCR with its first reply dropped = %d, %v; want 2 (run twice, retried by go-redis)", n, err)
	}
	if v, _ := direct.Get(ctx, key).Int(); v != 2 {
		t.Fatalf("the server counted %d", v)
	}

	p.Stall()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- c.Set(ctx, key, "x", 0).Err() }()
	time.Sleep(100 * time.Millisecond)
	if v, _ := direct.Get(ctx, key).Result(); v == "x" {
		t.Fatal("a stalled command reached the server")
	}
	p.Resume()
	if err := <-done; err != nil || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("the stalled SET: %v after %v", err, time.Since(start))
	}

	noRetry := redis.NewClient(&redis.Options{Addr: p.Addr(), DB: direct.Options().DB, Password: direct.Options().Password, MaxRetries: -1})
	defer noRetry.Close()
	if err := noRetry.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	errc := make(chan error, 1)
	go func() { errc <- noRetry.Get(ctx, key).Err() }()
	time.Sleep(50 * time.Millisecond)
	p.Cut()
	p.Resume()
	if err := <-errc; err == nil {
		t.Fatal("a command on a cut connection succeeded")
	}
	if err := noRetry.Ping(ctx).Err(); err != nil {
		t.Fatalf("after a cut, a new connection: %v", err)
	}
}
