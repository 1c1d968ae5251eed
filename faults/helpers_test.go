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

// resentCall is a call a test makes again and again, each time with its
// reply dropped once (Redis ran it, go-redis sends it again).
type resentCall struct {
	// name names the call in the figure; wrong names its false answers.
	name, wrong string
	// op runs call i, its reply to be dropped, and returns a false error
	// if it answers wrongly.
	op func(i int) error
	// check runs after all the calls, and says what is wrong, if anything.
	check func() error
}

// resend runs each of calls n times through p, dropping the reply to the
// first command of each that drop matches, and prints the figure "resent
// <label><name>": the false answers among them. It fails the test if any
// answer was false, or if fewer than n replies were dropped.
func resend(t *testing.T, p *taskwaretest.Proxy, drop func(cmd []string) bool, n int, label string, calls []resentCall) {
	for _, k := range calls {
		t.Run(k.name, func(t *testing.T) {
			before := p.Dropped()
			wrong := 0
			for i := range n {
				p.DropReplies(1, drop)
				if err := k.op(i); err != nil {
					wrong++
					if wrong <= 3 {
						t.Errorf("call %d: %v", i, err)
					}
				}
			}
			dropped := p.Dropped() - before
			if k.check != nil {
				if err := k.check(); err != nil {
					wrong++
					t.Error(err)
				}
			}
			figure(t, "resent "+label+k.name, "%d false %s in %d calls, %d replies dropped", wrong, k.wrong, n, dropped)
			if dropped < n {
				t.Fatalf("only %d replies dropped: the faults did not happen", dropped)
			}
			if wrong > 0 {
				t.Fatalf("%d calls answered wrongly", wrong)
			}
		})
	}
}
