package faults_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/taskwaretest"
)

// figure prints a figure of the suite, in a line that grep FIGURE finds.
func figure(t *testing.T, name, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE %s: "+format, append([]any{name}, args...)...)
}

// proxied returns the shared Redis's client (direct) and key prefix, and a
// client of the same server through a fault proxy of its own.
func proxied(t *testing.T) (direct *redis.Client, prefix string, p *taskwaretest.Proxy, c *redis.Client) {
	t.Helper()
	direct, prefix = taskwaretest.Redis(t)
	p = taskwaretest.NewProxy(t, direct.Options().Addr)
	c = through(t, direct, p)
	return direct, prefix, p, c
}

// through returns a client of direct's server through p, which retries a
// command whose reply was lost at once, as go-redis does by default, but
// without its default pause (so that a thousand faults take seconds).
func through(t *testing.T, direct *redis.Client, p *taskwaretest.Proxy) *redis.Client {
	o := direct.Options()
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), DB: o.DB, Username: o.Username, Password: o.Password,
		MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond,
		ReadTimeout: time.Second, WriteTimeout: time.Second, DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}
