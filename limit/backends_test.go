package limit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// The rate limiters of every backend agree: a burst at once, then a
// refusal that says when to come back, and keys apart.
func TestRateLimiterBackends(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		rl := b.RateLimiter
		// 10 a minute: a burst's calls must come within an interval of
		// each other, which 6 s gives on a busy machine too.
		rate := limit.PerMinute(10)
		for _, tc := range []struct {
			name                string
			key                 string
			rate                limit.Rate
			burst               int
			allowed, remaining0 int
		}{
			{"burst 1", "one", rate, 1, 1, 0},
			{"burst 3", "three", rate, 3, 3, 2},
			{"slow", "slow", limit.PerMinute(1), 2, 2, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for i := range tc.allowed {
					d, err := rl.Allow(ctx, tc.key, tc.rate, tc.burst)
					if err != nil {
						t.Fatal(err)
					}
					if !d.Allowed || d.Remaining != tc.remaining0-i || d.RetryAfter != 0 {
						t.Fatalf("event %d: %+v", i, d)
					}
				}
				d, err := rl.Allow(ctx, tc.key, tc.rate, tc.burst)
				if err != nil {
					t.Fatal(err)
				}
				iv := tc.rate.Interval()
				if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > iv || d.ResetAfter < d.RetryAfter {
					t.Fatalf("over the burst: %+v (interval %v)", d, iv)
				}
			})
		}
		// Once RetryAfter has passed, the next event is allowed (2 a
		// second: the refusal must come within 500 ms of the event).
		fast := limit.PerSecond(2)
		if d, err := rl.Allow(ctx, "again", fast, 1); err != nil || !d.Allowed {
			t.Fatalf("first event: %+v, %v", d, err)
		}
		d, err := rl.Allow(ctx, "again", fast, 1)
		if err != nil || d.Allowed {
			t.Fatalf("%+v, %v", d, err)
		}
		time.Sleep(d.RetryAfter + 5*time.Millisecond)
		if d, err = rl.Allow(ctx, "again", fast, 1); err != nil || !d.Allowed {
			t.Fatalf("after RetryAfter: %+v, %v", d, err)
		}
		// A refusal is not counted: a key refused many times is allowed
		// again one interval after its last allowed event. (A minute's
		// interval: beside another suite at -cpu=1, 20 calls outlasted
		// the 100 ms of 10 a second.)
		slow := limit.PerMinute(1)
		if d, err = rl.Allow(ctx, "refused", slow, 1); err != nil || !d.Allowed {
			t.Fatalf("first event: %+v, %v", d, err)
		}
		for range 20 {
			if d, err = rl.Allow(ctx, "refused", slow, 1); err != nil || d.Allowed {
				t.Fatalf("%+v, %v", d, err)
			}
		}
		if d.RetryAfter > slow.Interval() {
			t.Fatalf("refusals counted: retry after %v", d.RetryAfter)
		}
		for _, bad := range []struct {
			key   string
			rate  limit.Rate
			burst int
		}{{"", rate, 1}, {"k", limit.Rate{}, 1}, {"k", rate, 0}} {
			if _, err := rl.Allow(ctx, bad.key, bad.rate, bad.burst); !errors.Is(err, task.ErrInvalidConfig) {
				t.Errorf("Allow(%q, %v, %d): %v", bad.key, bad.rate, bad.burst, err)
			}
		}
	})
}

// Reserve on every backend: a run over the limit is given the next free
// turn, counted at once; the same turn again is the same answer; a run
// that comes back late uses its turn, and the turns after it do not move.
func TestReserveBackends(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		rl := b.RateLimiter
		rate := limit.PerSecond(5) // a turn every 200 ms
		reserve := func(turn string) limit.Decision {
			t.Helper()
			d, err := rl.Reserve(ctx, "r", turn, rate, 1)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := reserve("a"); !d.Allowed {
			t.Fatalf("the first turn: %+v", d)
		}
		bTurn, cTurn := reserve("b"), reserve("c")
		given := time.Now() // the turns come at most RetryAfter after this
		if bTurn.Allowed || bTurn.RetryAfter <= 0 || bTurn.RetryAfter > 200*time.Millisecond ||
			cTurn.Allowed || cTurn.RetryAfter <= 200*time.Millisecond || cTurn.RetryAfter > 400*time.Millisecond {
			t.Fatalf("turns b %+v, c %+v: want one interval apart", bTurn, cTurn)
		}
		// The same turn again: the same time, not a new turn.
		if d := reserve("b"); d.Allowed || d.RetryAfter > bTurn.RetryAfter || d.RetryAfter <= 0 {
			t.Fatalf("b again: %+v, want its turn in %v at most", d, bTurn.RetryAfter)
		}
		// A used turn again is allowed, and not counted: the next turn
		// still comes after c's.
		if d := reserve("a"); !d.Allowed {
			t.Fatalf("a again: %+v", d)
		}
		if d := reserve("d"); d.Allowed || d.RetryAfter <= 400*time.Millisecond || d.RetryAfter > 600*time.Millisecond {
			t.Fatalf("turn d: %+v", d)
		}
		// b comes back 50 ms late or more: it uses its turn, and c's does
		// not move.
		time.Sleep(time.Until(given.Add(bTurn.RetryAfter + 50*time.Millisecond)))
		if d := reserve("b"); !d.Allowed {
			t.Fatalf("b, late: %+v", d)
		}
		asked := time.Now()
		d := reserve("c")
		if due := given.Add(cTurn.RetryAfter).Sub(asked); d.Allowed || d.RetryAfter > due+5*time.Millisecond {
			t.Fatalf("c after a late b: %+v, want its turn in %v at most", d, due)
		}
		if _, err := rl.Reserve(ctx, "", "t", rate, 1); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("an empty key: %v", err)
		}
	})
}

// The semaphores of every backend agree: n permits and no more, owned
// ones, an idempotent release, and a crashed holder's permit freed by its
// TTL.
func TestSemaphoreBackends(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		s := b.Semaphore
		var permits []*limit.Permit
		for i := range 3 {
			p, err := s.TryAcquire(ctx, "db", 3, time.Minute)
			if err != nil {
				t.Fatalf("permit %d: %v", i, err)
			}
			if p.Key != "db" || p.Token == "" || p.Limit != 3 || p.TTL != time.Minute || p.AcquiredAt.IsZero() {
				t.Fatalf("permit %+v", p)
			}
			permits = append(permits, p)
		}
		_, err := s.TryAcquire(ctx, "db", 3, time.Minute)
		var cl *limit.ConcurrencyLimitedError
		if !errors.As(err, &cl) || !errors.Is(err, limit.ErrConcurrencyLimited) {
			t.Fatalf("a fourth permit: %v", err)
		}
		if cl.Key != "db" || cl.Limit != 3 || cl.Held != 3 || cl.Remaining <= 50*time.Second || cl.Remaining > time.Minute {
			t.Fatalf("refusal %+v", cl)
		}
		// Another key, or a larger n, is another matter.
		if p, err := s.TryAcquire(ctx, "other", 1, time.Minute); err != nil {
			t.Fatal(err)
		} else if err := s.Release(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p, err := s.TryAcquire(ctx, "db", 4, time.Minute); err != nil {
			t.Fatal(err)
		} else if err := s.Release(ctx, p); err != nil {
			t.Fatal(err)
		}
		// A stranger's token releases and refreshes nothing.
		stranger := &limit.Permit{Key: "db", Token: "not-a-token", Limit: 3}
		if err := s.Release(ctx, stranger); err != nil {
			t.Fatal(err)
		}
		if err := s.Refresh(ctx, stranger, time.Minute); !errors.Is(err, limit.ErrPermitLost) {
			t.Fatalf("a stranger's refresh: %v", err)
		}
		if _, err := s.TryAcquire(ctx, "db", 3, time.Minute); !errors.Is(err, limit.ErrConcurrencyLimited) {
			t.Fatalf("after a stranger's release: %v", err)
		}
		// Refresh keeps a permit; release is idempotent.
		if err := s.Refresh(ctx, permits[0], 2*time.Minute); err != nil || permits[0].TTL != 2*time.Minute {
			t.Fatalf("refresh: %v, TTL %v", err, permits[0].TTL)
		}
		for i := range 2 {
			if err := s.Release(ctx, permits[0]); err != nil {
				t.Fatalf("release %d: %v", i, err)
			}
		}
		if err := s.Refresh(ctx, permits[0], time.Minute); !errors.Is(err, limit.ErrPermitLost) {
			t.Fatalf("refresh after release: %v", err)
		}
		p, err := s.TryAcquire(ctx, "db", 3, time.Minute)
		if err != nil {
			t.Fatalf("after a release: %v", err)
		}
		for _, p := range append(permits[1:], p) {
			if err := s.Release(ctx, p); err != nil {
				t.Fatal(err)
			}
		}

		// A holder that crashed (it never releases) holds its permit until
		// its TTL runs out, and no longer.
		const ttl = 300 * time.Millisecond
		crashed, err := s.TryAcquire(ctx, "crash", 1, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TryAcquire(ctx, "crash", 1, ttl); !errors.Is(err, limit.ErrConcurrencyLimited) {
			t.Fatalf("while the crashed holder's TTL runs: %v", err)
		}
		time.Sleep(ttl + 100*time.Millisecond)
		next, err := s.TryAcquire(ctx, "crash", 1, ttl)
		if err != nil {
			t.Fatalf("after the crashed holder's TTL: %v", err)
		}
		if err := s.Refresh(ctx, crashed, ttl); !errors.Is(err, limit.ErrPermitLost) {
			t.Fatalf("the crashed holder's refresh: %v", err)
		}
		if err := s.Release(ctx, next); err != nil {
			t.Fatal(err)
		}

		for _, bad := range []struct {
			key string
			n   int
			ttl time.Duration
		}{{"", 1, time.Second}, {"k", 0, time.Second}, {"k", 1, 0}} {
			if _, err := s.TryAcquire(ctx, bad.key, bad.n, bad.ttl); !errors.Is(err, task.ErrInvalidConfig) {
				t.Errorf("TryAcquire(%q, %d, %v): %v", bad.key, bad.n, bad.ttl, err)
			}
		}
	})
}
