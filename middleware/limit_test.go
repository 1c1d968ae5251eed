package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// observe records each run that reaches it: when it started, and the
// highest attempt seen.
type observe struct {
	mu         sync.Mutex
	starts     []time.Time
	maxAttempt atomic.Int64
}

func (o *observe) middleware(next task.Func) task.Func {
	return func(ctx context.Context, inv *task.Invocation) (any, error) {
		o.mu.Lock()
		o.starts = append(o.starts, time.Now())
		o.mu.Unlock()
		for {
			m := o.maxAttempt.Load()
			if int64(inv.Attempt) <= m || o.maxAttempt.CompareAndSwap(m, int64(inv.Attempt)) {
				break
			}
		}
		return next(ctx, inv)
	}
}

// first returns the first start, waiting up to d for it.
func (o *observe) first(t *testing.T, d time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		if len(o.starts) > 0 {
			t0 := o.starts[0]
			o.mu.Unlock()
			return t0
		}
		o.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no run started within %v", d)
	return time.Time{}
}

// gaps returns the mean and the longest time between two starts in
// [from, to).
func (o *observe) gaps(from, to time.Time) (mean, longest time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var last time.Time
	n := 0
	var sum time.Duration
	for _, s := range o.starts {
		if s.Before(from) || !s.Before(to) {
			continue
		}
		if !last.IsZero() {
			sum += s.Sub(last)
			longest = max(longest, s.Sub(last))
			n++
		}
		last = s
	}
	if n > 0 {
		mean = sum / time.Duration(n)
	}
	return mean, longest
}

func (o *observe) within(from, to time.Time) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, s := range o.starts {
		if !s.Before(from) && s.Before(to) {
			n++
		}
	}
	return n
}

// eventCounts counts a worker's events by kind, and the reschedules whose
// cause matches target.
type eventCounts struct {
	mu         sync.Mutex
	kinds      map[worker.EventKind]int
	matching   int
	maxAttempt int
}

func (c *eventCounts) option(target error) worker.EventOption {
	c.kinds = map[worker.EventKind]int{}
	return worker.OnEvent(func(e worker.Event) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.kinds[e.Kind]++
		if e.Kind == worker.EventRescheduled && errors.Is(e.Err, target) {
			c.matching++
		}
		c.maxAttempt = max(c.maxAttempt, e.Attempt)
	})
}

func (c *eventCounts) get() (map[worker.EventKind]int, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kinds := make(map[worker.EventKind]int, len(c.kinds))
	for k, v := range c.kinds {
		kinds[k] = v
	}
	return kinds, c.matching, c.maxAttempt
}

// stalls sleeps for d, and returns how long the process was kept from
// running meanwhile: the sum of a 5ms ticker's delays past 20ms, which a
// machine busy with other work causes, and no limiter can.
func stalls(d time.Duration) time.Duration {
	const tick = 5 * time.Millisecond
	tk := time.NewTicker(tick)
	defer tk.Stop()
	var stalled time.Duration
	last, end := time.Now(), time.Now().Add(d)
	for now := range tk.C {
		if late := now.Sub(last) - tick; late > 4*tick {
			stalled += late
		}
		last = now
		if !now.Before(end) {
			break
		}
	}
	return stalled
}

// The required figure: RateLimit(10/s, burst 1) over a 5s window lets
// 50 ± 2 runs start, on a real worker with many tasks waiting, and the
// runs turned away use no attempt: they come back rescheduled, with an
// event that says why.
func TestRateLimitFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 5s per backend")
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		const window, tasks = 5 * time.Second, 56
		var obs observe
		var events eventCounts
		tk := task.New("rate-limited", func(ctx context.Context, i int) (int, error) { return i, nil },
			middleware.RateLimit(b.RateLimiter, "api", limit.PerSecond(10), 1),
			obs.middleware,
		)
		w := worker.New(b.Queue, worker.Concurrency(8), worker.PollWait(50*time.Millisecond),
			worker.PromoteEvery(time.Millisecond), worker.Grace(2*time.Second), events.option(limit.ErrRateLimited))
		worker.Register(w, tk)
		ctx := context.Background()
		args := make([]int, tasks)
		for i := range args {
			args[i] = i
		}
		if _, err := worker.EnqueueMany(ctx, worker.NewClient(b.Queue, b.Store), tk, args); err != nil {
			t.Fatal(err)
		}
		stop := taskwaretest.StartWorker(t, w)
		t0 := obs.first(t, 10*time.Second)
		stalled := stalls(time.Until(t0.Add(window + 100*time.Millisecond)))
		stop()
		n := obs.within(t0, t0.Add(window))
		// With burst 1 a turn no run reached in time is gone, by design: a
		// process the machine stalled past a turn loses that turn, so the
		// floor drops by the turns its stalls spanned.
		floor := 48 - int(stalled/(100*time.Millisecond))
		kinds, limited, maxEventAttempt := events.get()
		mean, longest := obs.gaps(t0, t0.Add(window))
		t.Logf("FIGURE RateLimit(10/s, burst 1) on %s: %d runs started in %v (want 50 ± 2, at least %d after %v of stalls of the test process), %v apart on average, %v at most; max attempt %d; %d runs rescheduled by the limit (EventRescheduled matching limit.ErrRateLimited), %d retries",
			b.Name, n, window, floor, stalled.Round(time.Millisecond), mean.Round(100*time.Microsecond), longest.Round(100*time.Microsecond), obs.maxAttempt.Load(), limited, kinds[worker.EventRetrying])
		if n < floor || n > 52 {
			t.Errorf("%d runs started in %v, want at most 52, and at least %d (50 - 2, less a turn for each 100ms the test process stalled)", n, window, floor)
		}
		if a := obs.maxAttempt.Load(); a != 1 || maxEventAttempt != 1 {
			t.Errorf("max attempt %d (events: %d), want 1: the limit used attempts", a, maxEventAttempt)
		}
		if limited == 0 || limited != kinds[worker.EventRescheduled] {
			t.Errorf("%d reschedules matching limit.ErrRateLimited of %d", limited, kinds[worker.EventRescheduled])
		}
		if kinds[worker.EventFailed] > 0 || kinds[worker.EventRetrying] > 0 || kinds[worker.EventDeadLettered] > 0 {
			t.Errorf("events %v", kinds)
		}
	})
}

// ConcurrencyLimit(3) on a real worker that could run 10 at once: 20 slow
// tasks never have more than 3 running at once, and all finish, without
// using an attempt.
func TestConcurrencyLimitWorker(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		const tasks, n = 20, 3
		var running, peak, done atomic.Int64
		var events eventCounts
		tk := task.New("concurrency-limited", func(ctx context.Context, i int) (int, error) {
			now := running.Add(1)
			for {
				p := peak.Load()
				if now <= p || peak.CompareAndSwap(p, now) {
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
			running.Add(-1)
			done.Add(1)
			return i, nil
		}, middleware.ConcurrencyLimit(b.Semaphore, "db", n, middleware.LimitRetryDelay(40*time.Millisecond), middleware.PermitTTL(2*time.Second)))
		w := worker.New(b.Queue, worker.Concurrency(10), worker.PollWait(50*time.Millisecond),
			worker.PromoteEvery(5*time.Millisecond), worker.Grace(2*time.Second), events.option(limit.ErrConcurrencyLimited))
		worker.Register(w, tk)
		ctx := context.Background()
		args := make([]int, tasks)
		for i := range args {
			args[i] = i
		}
		hs, err := worker.EnqueueMany(ctx, worker.NewClient(b.Queue, b.Store), tk, args)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := taskwaretest.StartWorker(t, w)
		for i, h := range hs {
			if _, err := taskwaretest.Get(h, 20*time.Second); err != nil {
				t.Fatalf("task %d: %v", i, err)
			}
		}
		took := time.Since(start)
		stop()
		kinds, limited, maxAttempt := events.get()
		t.Logf("FIGURE ConcurrencyLimit(3) on %s: %d tasks of 100ms done in %v, at most %d running at once; %d runs rescheduled by the limit; max attempt %d",
			b.Name, done.Load(), took.Round(time.Millisecond), peak.Load(), limited, maxAttempt)
		if p := peak.Load(); p > n || p < 1 {
			t.Errorf("peak %d running, want at most %d", p, n)
		}
		if done.Load() != tasks || kinds[worker.EventSucceeded] != tasks {
			t.Errorf("%d done, events %v", done.Load(), kinds)
		}
		if maxAttempt != 1 || limited != kinds[worker.EventRescheduled] {
			t.Errorf("max attempt %d; %d of %d reschedules match the limit", maxAttempt, limited, kinds[worker.EventRescheduled])
		}
		// Every permit went back.
		p, err := b.Semaphore.TryAcquire(ctx, "db", n, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = b.Semaphore.Release(ctx, p)
	})
}

// In-process, a run over a limit returns the limit's error, which says
// when to try again; nothing is requeued.
func TestLimitInProcess(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var hooked []error
		hook := middleware.OnLimited(func(_ context.Context, _ *task.Invocation, err error) { hooked = append(hooked, err) })
		calls := 0
		rated := task.New("rated", func(ctx context.Context, user string) (string, error) { calls++; return user, nil },
			middleware.RateLimitFunc(b.RateLimiter, middleware.KeyFromArgs(func(user string) string { return "user:" + user }),
				limit.PerMinute(1), 1, hook))
		if _, err := rated.Call(ctx, "ann"); err != nil {
			t.Fatal(err)
		}
		if _, err := rated.Call(ctx, "bob"); err != nil {
			t.Fatalf("another key: %v", err)
		}
		_, err := rated.Call(ctx, "ann")
		var rl *limit.RateLimitedError
		if !errors.As(err, &rl) || !errors.Is(err, limit.ErrRateLimited) || errors.Is(err, task.ErrRequeued) {
			t.Fatalf("over the limit: %v", err)
		}
		if rl.Key != "user:ann" || rl.Burst != 1 || rl.RetryAfter < 50*time.Second || rl.RetryAfter > time.Minute {
			t.Fatalf("error %+v", rl)
		}
		if calls != 2 || len(hooked) != 1 || !errors.Is(hooked[0], limit.ErrRateLimited) {
			t.Fatalf("%d calls, hooks saw %v", calls, hooked)
		}

		hooked = nil
		var inner error
		var slow *task.Task[int, int]
		slow = task.New("slow", func(ctx context.Context, depth int) (int, error) {
			if depth == 0 {
				_, inner = slow.Call(ctx, 1) // the only permit is held
			}
			return depth, nil
		}, middleware.ConcurrencyLimit(b.Semaphore, "one", 1, hook, middleware.LimitRetryDelay(time.Second)))
		if _, err := slow.Call(ctx, 0); err != nil {
			t.Fatal(err)
		}
		var cl *limit.ConcurrencyLimitedError
		if !errors.As(inner, &cl) || !errors.Is(inner, limit.ErrConcurrencyLimited) || errors.Is(inner, task.ErrRequeued) {
			t.Fatalf("a second holder: %v", inner)
		}
		if cl.Key != "one" || cl.Limit != 1 || cl.Held != 1 || cl.RetryAfter < 750*time.Millisecond || cl.RetryAfter > 1250*time.Millisecond {
			t.Fatalf("error %+v", cl)
		}
		if len(hooked) != 1 {
			t.Fatalf("hooks saw %v", hooked)
		}
		// The permit went back: a run takes it again.
		if _, err := slow.Call(ctx, 1); err != nil {
			t.Fatal(err)
		}
	})
}

// Under a worker (Invocation.CanRequeue), a run over a limit asks to be requeued
// after the limit's delay, without an attempt, and its cause matches the
// limit's sentinel.
func TestLimitRequeues(t *testing.T) {
	b := memorybackend.New()
	ctx := context.Background()
	noop := func(context.Context, *task.Invocation) (any, error) { return nil, nil }
	rated := middleware.RateLimit(b.RateLimiter(), "k", limit.PerSecond(4), 1)(noop)
	inv := &task.Invocation{ID: "x", Attempt: 1, CanRequeue: true}
	if _, err := rated(ctx, inv); err != nil {
		t.Fatal(err)
	}
	// Another run: its turn is 250 ms away; it comes back RateWait
	// (DefaultRateWait) before it, to wait the rest in place.
	_, err := rated(ctx, &task.Invocation{ID: "x2", Attempt: 1, CanRequeue: true})
	var rq *task.RequeueError
	if !errors.As(err, &rq) || rq.Retry || rq.After <= 100*time.Millisecond || rq.After > 150*time.Millisecond || !errors.Is(err, limit.ErrRateLimited) {
		t.Fatalf("over the rate: %v", err)
	}
	if rl, ok := errors.AsType[*limit.RateLimitedError](err); !ok || rl.RetryAfter <= 200*time.Millisecond || rl.RetryAfter > 250*time.Millisecond {
		t.Fatalf("the turn: %v", err)
	}
	// The same run again is the same turn: allowed, not counted twice.
	if _, err := rated(ctx, inv); err != nil {
		t.Fatalf("the first run again: %v", err)
	}

	var inner error
	var limited task.Func
	limited = middleware.ConcurrencyLimit(b.Semaphore(), "k", 1, middleware.LimitRetryDelay(100*time.Millisecond))(
		func(ctx context.Context, inv *task.Invocation) (any, error) {
			_, inner = limited(ctx, &task.Invocation{ID: "y", Attempt: 1, CanRequeue: true})
			return nil, nil
		})
	if _, err := limited(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if !errors.As(inner, &rq) || rq.Retry || rq.After < 75*time.Millisecond || rq.After > 125*time.Millisecond || !errors.Is(inner, limit.ErrConcurrencyLimited) {
		t.Fatalf("over the concurrency: %v", inner)
	}
}

// The permit goes back on every outcome: success, failure, a panic (caught
// outside by Recover) and a cancelled context.
func TestConcurrencyLimitReleasesOnEveryOutcome(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		boom := errors.New("boom")
		run := task.Chain(middleware.Recover(), middleware.ConcurrencyLimit(b.Semaphore, "k", 1))(
			func(ctx context.Context, inv *task.Invocation) (any, error) {
				switch inv.ID {
				case "fail":
					return nil, boom
				case "panic":
					panic("kaboom")
				case "cancel":
					<-ctx.Done()
					return nil, ctx.Err()
				}
				return nil, nil
			})
		for _, tc := range []struct {
			id   string
			want func(error) bool
		}{
			{"ok", func(err error) bool { return err == nil }},
			{"fail", func(err error) bool { return errors.Is(err, boom) }},
			{"panic", func(err error) bool { return errors.Is(err, task.ErrPanic) }},
			{"cancel", func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
			{"ok", func(err error) bool { return err == nil }},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := run(ctx, &task.Invocation{ID: tc.id, Attempt: 1})
			cancel()
			if !tc.want(err) {
				t.Fatalf("%s: %v", tc.id, err)
			}
		}
		p, err := b.Semaphore.TryAcquire(context.Background(), "k", 1, time.Second)
		if err != nil {
			t.Fatalf("permit kept: %v", err)
		}
		_ = b.Semaphore.Release(context.Background(), p)
	})
}

// A permit lost while the run runs cancels the run's context with
// limit.ErrPermitLost, and the outcome says so.
func TestConcurrencyLimitPermitLost(t *testing.T) {
	b := memorybackend.New()
	sem := &losing{Semaphore: b.Semaphore()}
	run := middleware.ConcurrencyLimit(sem, "k", 2, middleware.PermitTTL(150*time.Millisecond))(
		func(ctx context.Context, inv *task.Invocation) (any, error) {
			select {
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			case <-time.After(5 * time.Second):
				return nil, errors.New("not cancelled")
			}
		})
	_, err := run(context.Background(), &task.Invocation{ID: "x", Attempt: 1})
	if !errors.Is(err, limit.ErrPermitLost) {
		t.Fatalf("outcome %v", err)
	}
}

// losing is a Semaphore whose refreshes find the permit gone.
type losing struct{ limit.Semaphore }

func (l *losing) Refresh(ctx context.Context, p *limit.Permit, ttl time.Duration) error {
	return &limit.PermitLostError{Key: p.Key}
}

func TestLimitRefusesBadConfig(t *testing.T) {
	b := memorybackend.New()
	rl, sem := b.RateLimiter(), b.Semaphore()
	key := func(*task.Invocation) (string, error) { return "k", nil }
	for name, build := range map[string]func(){
		"RateLimit: empty key":        func() { middleware.RateLimit(rl, "", limit.PerSecond(1), 1) },
		"RateLimit: nil limiter":      func() { middleware.RateLimit(nil, "k", limit.PerSecond(1), 1) },
		"RateLimit: zero rate":        func() { middleware.RateLimit(rl, "k", limit.Rate{}, 1) },
		"RateLimit: zero burst":       func() { middleware.RateLimit(rl, "k", limit.PerSecond(1), 0) },
		"RateLimitFunc: nil key":      func() { middleware.RateLimitFunc(rl, nil, limit.PerSecond(1), 1) },
		"ConcurrencyLimit: empty key": func() { middleware.ConcurrencyLimit(sem, "", 1) },
		"ConcurrencyLimit: nil sem":   func() { middleware.ConcurrencyLimit(nil, "k", 1) },
		"ConcurrencyLimit: zero n":    func() { middleware.ConcurrencyLimit(sem, "k", 0) },
		"ConcurrencyLimit: bad TTL":   func() { middleware.ConcurrencyLimit(sem, "k", 1, middleware.PermitTTL(0)) },
		"ConcurrencyLimit: bad renew": func() {
			middleware.ConcurrencyLimit(sem, "k", 1, middleware.PermitTTL(time.Second), middleware.PermitRenewEvery(time.Second))
		},
		"ConcurrencyLimit: bad delay":       func() { middleware.ConcurrencyLimit(sem, "k", 1, middleware.LimitRetryDelay(0)) },
		"ConcurrencyLimitFunc: nil key":     func() { middleware.ConcurrencyLimitFunc(sem, nil, 1) },
		"OnLimited: nil hook":               func() { middleware.OnLimited(nil) },
		"ConcurrencyLimitFunc: fine (ctrl)": func() { middleware.ConcurrencyLimitFunc(sem, key, 1) },
	} {
		func() {
			defer func() {
				v := recover()
				err, _ := v.(error)
				if name == "ConcurrencyLimitFunc: fine (ctrl)" {
					if v != nil {
						t.Errorf("%s panicked: %v", name, v)
					}
					return
				}
				if !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("%s: recovered %v, want ErrInvalidConfig", name, v)
				}
			}()
			build()
		}()
	}
	// A KeyFunc's error, or an empty key, fails the run.
	bad := middleware.RateLimitFunc(rl, func(*task.Invocation) (string, error) { return "", nil }, limit.PerSecond(1), 1)(
		func(context.Context, *task.Invocation) (any, error) { return nil, nil })
	if _, err := bad(context.Background(), &task.Invocation{}); err == nil {
		t.Fatal("an empty key passed")
	}
}

// The hot path: an allowed run through RateLimit, and a run through
// ConcurrencyLimit (acquire, renewal's bookkeeping, release), on memory.
func BenchmarkLimitMemory(b *testing.B) {
	noop := func(context.Context, *task.Invocation) (any, error) { return nil, nil }
	m := memorybackend.New()
	for _, bc := range []struct {
		name string
		run  task.Func
	}{
		{"RateLimit", middleware.RateLimit(m.RateLimiter(), "k", limit.PerSecond(1e9), 1e6)(noop)},
		{"ConcurrencyLimit", middleware.ConcurrencyLimit(m.Semaphore(), "k", 1)(noop)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			inv := &task.Invocation{ID: "run", Attempt: 1}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.run(ctx, inv); err != nil {
					b.Fatal(fmt.Sprint(err))
				}
			}
		})
	}
}

// RateLimit lets one run through per interval. In-process, a run over the
// limit fails with a *limit.RateLimitedError that says when to try again;
// under a worker it would go back to its queue for that long instead,
// without using an attempt.
func ExampleRateLimit() {
	b := memorybackend.New()
	send := task.New("send", func(ctx context.Context, to string) (string, error) { return "sent to " + to, nil },
		middleware.RateLimit(b.RateLimiter(), "smtp", limit.PerMinute(1), 1),
	)
	ctx := context.Background()
	fmt.Println(send.Call(ctx, "ann"))
	_, err := send.Call(ctx, "bob")
	var rl *limit.RateLimitedError
	fmt.Println(errors.Is(err, limit.ErrRateLimited), errors.As(err, &rl) && rl.RetryAfter > 59*time.Second)
	// Output:
	// sent to ann <nil>
	// true true
}

// ConcurrencyLimitFunc keeps at most n runs per key running at once, here
// one import per customer; the permit is renewed while the run runs and
// given back on every outcome.
func ExampleConcurrencyLimitFunc() {
	b := memorybackend.New()
	perCustomer := middleware.KeyFromArgs(func(c string) string { return "import:" + c })
	limited := middleware.ConcurrencyLimitFunc(b.Semaphore(), perCustomer, 1)
	var imp *task.Task[string, string]
	imp = task.New("import", func(ctx context.Context, customer string) (string, error) {
		if customer == "acme" {
			// While this run holds acme's permit, another import of acme
			// is turned away, and one of globex is not.
			_, err := imp.Call(ctx, "acme")
			fmt.Println("acme again:", errors.Is(err, limit.ErrConcurrencyLimited))
			fmt.Println(imp.Call(ctx, "globex"))
		}
		return "imported " + customer, nil
	}, limited)
	fmt.Println(imp.Call(context.Background(), "acme"))
	// Output:
	// acme again: true
	// imported globex <nil>
	// imported acme <nil>
}
