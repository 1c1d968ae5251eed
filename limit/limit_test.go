package limit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/task"
)

func TestRate(t *testing.T) {
	for _, tc := range []struct {
		rate     limit.Rate
		interval time.Duration
		str      string
	}{
		{limit.PerSecond(10), 100 * time.Millisecond, "10/1s"},
		{limit.PerMinute(6), 10 * time.Second, "6/1m0s"},
		{limit.PerHour(3600), time.Second, "3600/1h0m0s"},
		{limit.Every(250 * time.Millisecond), 250 * time.Millisecond, "1/250ms"},
		{limit.Rate{Events: 3, Per: time.Nanosecond}, time.Nanosecond, "3/1ns"},
		{limit.Rate{}, 0, "0/0s"},
	} {
		if got := tc.rate.Interval(); got != tc.interval {
			t.Errorf("%v.Interval() = %v, want %v", tc.rate, got, tc.interval)
		}
		if got := tc.rate.String(); got != tc.str {
			t.Errorf("String() = %q, want %q", got, tc.str)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"empty key", limit.ValidateRate("", limit.PerSecond(1), 1)},
		{"zero rate", limit.ValidateRate("k", limit.Rate{}, 1)},
		{"negative period", limit.ValidateRate("k", limit.Rate{Events: 1, Per: -time.Second}, 1)},
		{"zero burst", limit.ValidateRate("k", limit.PerSecond(1), 0)},
		{"huge burst", limit.ValidateRate("k", limit.PerHour(1), 1<<40)},
		{"permit: empty key", limit.ValidatePermit("", 1, time.Second)},
		{"permit: zero n", limit.ValidatePermit("k", 0, time.Second)},
		{"permit: zero TTL", limit.ValidatePermit("k", 1, 0)},
	} {
		if !errors.Is(tc.err, task.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", tc.name, tc.err)
		}
	}
	if err := limit.ValidateRate("k", limit.PerSecond(10), 5); err != nil {
		t.Error(err)
	}
	if err := limit.ValidatePermit("k", 3, time.Second); err != nil {
		t.Error(err)
	}
}

// The GCRA on a fake clock: a burst at once, then one event per interval;
// a refusal says exactly when the next event is allowed, and changes
// nothing.
func TestGCRA(t *testing.T) {
	const iv = 100 * time.Millisecond
	t0 := time.Unix(1_700_000_000, 0)
	type step struct {
		at         time.Duration // since t0
		allowed    bool
		remaining  int
		retryAfter time.Duration
		resetAfter time.Duration
	}
	for _, tc := range []struct {
		name  string
		burst int
		steps []step
	}{
		{"burst 1", 1, []step{
			{0, true, 0, 0, iv},
			{0, false, 0, iv, iv},
			{50 * time.Millisecond, false, 0, 50 * time.Millisecond, 50 * time.Millisecond},
			{100 * time.Millisecond, true, 0, 0, iv},
			{350 * time.Millisecond, true, 0, 0, iv}, // idle time is not banked
			{400 * time.Millisecond, false, 0, 50 * time.Millisecond, 50 * time.Millisecond},
		}},
		{"burst 3", 3, []step{
			{0, true, 2, 0, iv},
			{0, true, 1, 0, 2 * iv},
			{0, true, 0, 0, 3 * iv},
			{0, false, 0, iv, 3 * iv},
			{100 * time.Millisecond, true, 0, 0, 3 * iv},
			{1000 * time.Millisecond, true, 2, 0, iv}, // a full burst again
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tat time.Time
			for i, s := range tc.steps {
				d, next := limit.GCRA(t0.Add(s.at), tat, iv, tc.burst)
				want := limit.Decision{Allowed: s.allowed, Remaining: s.remaining, RetryAfter: s.retryAfter, ResetAfter: s.resetAfter}
				if d != want {
					t.Fatalf("step %d at %v: %+v, want %+v", i, s.at, d, want)
				}
				if !d.Allowed && !next.Equal(tat) && !tat.IsZero() {
					t.Fatalf("step %d: a refusal moved the TAT from %v to %v", i, tat, next)
				}
				if d.Allowed {
					tat = next
				}
			}
		})
	}
}

// Over any window, a GCRA lets through at most burst + window/interval
// events, however they are spread.
func TestGCRABound(t *testing.T) {
	const iv, burst = 10 * time.Millisecond, 4
	t0 := time.Unix(1_700_000_000, 0)
	var tat time.Time
	var allowed []time.Duration
	for at := time.Duration(0); at < 2*time.Second; at += 700 * time.Microsecond {
		d, next := limit.GCRA(t0.Add(at), tat, iv, burst)
		if d.Allowed {
			tat = next
			allowed = append(allowed, at)
		}
	}
	for i := range allowed {
		for j := i; j < len(allowed); j++ {
			span := allowed[j] - allowed[i]
			if n := j - i + 1; n > burst+int(span/iv) {
				t.Fatalf("%d events in %v: more than burst %d + %v/%v", n, span, burst, span, iv)
			}
		}
	}
	if n := len(allowed); n < 199 || n > 204 {
		t.Fatalf("%d events allowed over 2s at 100/s, burst 4", n)
	}
}

func TestErrors(t *testing.T) {
	rl := &limit.RateLimitedError{Key: "api", Rate: limit.PerSecond(10), Burst: 1, RetryAfter: 40 * time.Millisecond}
	cl := &limit.ConcurrencyLimitedError{Key: "db", Limit: 3, Held: 3, RetryAfter: 500 * time.Millisecond}
	pl := &limit.PermitLostError{Key: "db", Err: errors.New("refused")}
	for _, tc := range []struct {
		err      error
		sentinel error
		kind     string
		msg      string
	}{
		{rl, limit.ErrRateLimited, "limit.rate_limited", `limit "api": rate limited (10/1s, burst 1): retry after 40ms`},
		{cl, limit.ErrConcurrencyLimited, "limit.concurrency_limited", `limit "db": 3 of 3 permits held: retry after 500ms`},
		{&limit.ConcurrencyLimitedError{Key: "db", Limit: 2, Held: 2}, limit.ErrConcurrencyLimited, "limit.concurrency_limited", `limit "db": 2 of 2 permits held`},
		{pl, limit.ErrPermitLost, "limit.permit_lost", `limit "db": permit lost: refused`},
	} {
		if !errors.Is(tc.err, tc.sentinel) {
			t.Errorf("%v does not match %v", tc.err, tc.sentinel)
		}
		if k := task.KindOf(tc.err); k != tc.kind {
			t.Errorf("%v: kind %q, want %q", tc.err, k, tc.kind)
		}
		if tc.err.Error() != tc.msg {
			t.Errorf("message %q, want %q", tc.err.Error(), tc.msg)
		}
		if errors.Is(tc.err, task.ErrSkipped) || errors.Is(tc.err, task.ErrPermanent) {
			t.Errorf("%v is a skip or permanent", tc.err)
		}
	}
	// Requeued, the outcome still matches its sentinel, as the worker's
	// EventRescheduled's Err does.
	if err := task.Requeue(time.Second, false, rl); !errors.Is(err, limit.ErrRateLimited) || !errors.Is(err, task.ErrRequeued) {
		t.Errorf("requeued: %v", err)
	}
}

// ReserveGCRA: a turn comes when the GCRA allows it; used late, it is
// still the turn it was given, and the turns after it do not move; runs
// late together start a burst + 1 at once, the others keeping their turns;
// a turn later than MaxTurnLate is forgotten.
func TestReserveGCRA(t *testing.T) {
	t0 := time.Unix(1000, 0)
	iv := 100 * time.Millisecond
	var tat, started time.Time
	reserve := func(now time.Time, turn limit.Turn) (limit.Decision, limit.Turn) {
		d, newTat, newStarted, next := limit.ReserveGCRA(now, tat, started, turn, iv, 1)
		tat, started = newTat, newStarted
		return d, next
	}
	if d, a := reserve(t0, limit.Turn{}); !d.Allowed || !a.Used || !tat.Equal(t0.Add(iv)) {
		t.Fatalf("first: %+v, turn %+v, tat %v", d, a, tat)
	}
	turns := make([]limit.Turn, 5)
	for i := range turns {
		var d limit.Decision
		d, turns[i] = reserve(t0, limit.Turn{})
		if d.Allowed || d.RetryAfter != time.Duration(i+1)*iv || !turns[i].At.Equal(t0.Add(time.Duration(i+1)*iv)) {
			t.Fatalf("turn %d: %+v, %+v", i, d, turns[i])
		}
	}
	// The first comes 60 ms late: its turn; the tat does not move.
	tatBefore := tat
	d, used := reserve(turns[0].At.Add(60*time.Millisecond), turns[0])
	if !d.Allowed || !used.Used || !tat.Equal(tatBefore) {
		t.Fatalf("late: %+v, %+v", d, used)
	}
	if d, _ := reserve(turns[0].At.Add(70*time.Millisecond), used); !d.Allowed || !tat.Equal(tatBefore) {
		t.Fatalf("used again: %+v", d)
	}
	// The four others all come 1 s late, together: two start (burst + 1),
	// the next waits an interval, keeping its turn.
	late := t0.Add(time.Second + 500*time.Millisecond)
	for i, turn := range turns[1:] {
		d, kept := reserve(late, turn)
		switch {
		case i < 2 && !d.Allowed:
			t.Fatalf("late turn %d: %+v", i+1, d)
		case i >= 2 && (d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > time.Duration(i-1)*iv || !kept.At.Equal(turn.At)):
			t.Fatalf("late turn %d, beyond burst + 1: %+v, %+v", i+1, d, kept)
		}
	}
	// Past MaxTurnLate: forgotten, a new turn.
	stale := turns[4].At.Add(limit.MaxTurnLate + time.Millisecond)
	if d, fresh := reserve(stale, turns[4]); !d.Allowed || !fresh.At.Equal(stale) {
		t.Fatalf("stale: %+v, %+v", d, fresh)
	}
}
