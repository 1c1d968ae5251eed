package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

const (
	// schedulers is how many processes' schedulers the demo plays.
	schedulers = 3
	// tickEvery is the periodic report's schedule.
	tickEvery = 200 * time.Millisecond
	// periodFor is how long the schedulers run.
	periodFor = time.Second
	// emails is how many rate-limited tasks the demo enqueues at once.
	emails = 15
	// emailRate is their limit, with a burst of 1.
	emailRate = 10
)

// flowStats is what the demo's periodic and rate-limited tasks did.
type flowStats struct {
	// Ticks counts the periodic report's ticks the schedulers enqueued,
	// Copies those they found enqueued by another, Runs the report's
	// runs, Skips those that found the previous run still going.
	Ticks, Copies, Runs, Skips int
	// Emails counts the rate-limited runs, Took how long they took, and
	// Limited the runs the limit sent back to wait, MaxAttempt the highest
	// attempt seen (1: limiting uses none).
	Emails, Limited, MaxAttempt int
	Took                        time.Duration
}

// demoFlow runs a periodic report under several schedulers and a burst of
// rate-limited emails through one worker, and prints what they did.
func demoFlow(ctx context.Context, rdb redis.UniversalClient, prefix string, out io.Writer) (flowStats, error) {
	var st flowStats
	backend := redisbackend.New(rdb, redisbackend.Prefix(prefix))
	queue, locker := backend.Queue(), backend.Locker()
	var runs, skips, limited, sent atomic.Int64
	var maxAttempt atomic.Int64
	nightly := task.New("nightly-report", func(ctx context.Context, _ struct{}) (int, error) {
		runs.Add(1)
		time.Sleep(tickEvery + tickEvery/2) // longer than the schedule: the next tick finds it running
		return 42, nil
	}, middleware.SkipLocked(func(context.Context, *task.Invocation, error) { skips.Add(1) }),
		middleware.WithLock(locker, "nightly-report"))
	email := task.New("send-email", func(ctx context.Context, to string) (bool, error) {
		inv, _ := task.InvocationFrom(ctx)
		for a := int64(inv.Attempt); ; {
			m := maxAttempt.Load()
			if a <= m || maxAttempt.CompareAndSwap(m, a) {
				break
			}
		}
		sent.Add(1)
		return true, nil
	}, middleware.RateLimit(backend.RateLimiter(), "smtp", limit.PerSecond(emailRate), 1,
		middleware.OnLimited(func(context.Context, *task.Invocation, error) { limited.Add(1) })))

	w := worker.New(queue, worker.Concurrency(4), worker.PollWait(50*time.Millisecond), worker.PromoteEvery(5*time.Millisecond))
	worker.Register(w, nightly)
	worker.Register(w, email)
	wctx, stopWorker := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(wctx) })
	defer func() { stopWorker(); wg.Wait() }()

	client := worker.NewClient(queue, nil)
	// Three processes' schedulers, one schedule: each tick is enqueued once.
	var mu sync.Mutex
	sctx, stopSchedulers := context.WithTimeout(ctx, periodFor)
	defer stopSchedulers()
	var swg sync.WaitGroup
	for range schedulers {
		s := schedule.New(client, schedule.MissedTicks(schedule.Skip), schedule.OnTick(func(t schedule.Tick) {
			mu.Lock()
			defer mu.Unlock()
			switch t.Status {
			case schedule.Enqueued:
				st.Ticks++
			case schedule.Duplicate:
				st.Copies++
			}
		}))
		schedule.Add(s, "nightly-report", schedule.Every(tickEvery), nightly, struct{}{})
		swg.Go(func() { _ = s.Run(sctx) })
	}

	began := time.Now()
	to := make([]string, emails)
	for i := range to {
		to[i] = fmt.Sprintf("user%d@example.com", i)
	}
	hs, err := worker.EnqueueMany(ctx, client, email, to)
	if err != nil {
		return flowStats{}, err // st is the schedulers' until they stop
	}
	for _, h := range hs {
		if _, err := h.Get(ctx); err != nil {
			return flowStats{}, fmt.Errorf("email %s: %w", h.ID, err)
		}
	}
	st.Took = time.Since(began)
	swg.Wait()
	time.Sleep(tickEvery * 2) // the last tick's run ends
	mu.Lock()
	defer mu.Unlock()
	st.Runs, st.Skips = int(runs.Load()), int(skips.Load())
	st.Emails, st.Limited, st.MaxAttempt = int(sent.Load()), int(limited.Load()), int(maxAttempt.Load())
	if st.Runs+st.Skips == 0 {
		return flowStats{}, errors.New("the periodic report never ran")
	}
	fmt.Fprintf(out, "\nPeriodic: %d schedulers on one %v schedule for %v enqueued %d ticks, each once (%d copies refused\n"+
		"           as duplicates); %d ran, %d found the previous run still holding the lock and were skipped.\n",
		schedulers, tickEvery, periodFor, st.Ticks, st.Copies, st.Runs, st.Skips)
	fmt.Fprintf(out, "Limited:  %d emails at %d/s (burst 1) sent in %v; the limit sent runs back to wait %d times,\n"+
		"           using no attempt (the highest attempt was %d).\n",
		st.Emails, emailRate, st.Took.Round(10*time.Millisecond), st.Limited, st.MaxAttempt)
	return st, nil
}
