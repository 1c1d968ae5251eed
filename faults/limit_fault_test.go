package faults_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A rate limit keeps its rate under load: RateLimit(10/s, burst 1) over a
// worker on default settings, 80 tasks enqueued at once, starts 50 runs in
// the first 5 s (one every 100 ms), give or take one, on memory and Redis.
// A late run uses the turn it was given, so lateness does not pile up.
func TestFaultRateLimitKeepsItsRate(t *testing.T) {
	for _, name := range []string{"memory", "redis"} {
		t.Run(name, func(t *testing.T) {
			b := taskwaretest.New(t, name)
			ctx := context.Background()
			var mu sync.Mutex
			var starts []time.Time
			tk := task.New("rated", func(context.Context, int) (int, error) {
				mu.Lock()
				starts = append(starts, time.Now())
				mu.Unlock()
				return 0, nil
			}, middleware.RateLimit(b.RateLimiter, "api", limit.PerSecond(10), 1))
			c := worker.NewClient(b.Queue, b.Store)
			for i := range 80 {
				if _, err := worker.Enqueue(ctx, c, tk, i); err != nil {
					t.Fatal(err)
				}
			}
			w := worker.New(b.Queue, worker.Grace(time.Second))
			worker.Register(w, tk)
			stop := taskwaretest.StartWorker(t, w)
			defer stop()
			const window = 5 * time.Second
			deadline := time.Now().Add(window + 10*time.Second)
			for {
				mu.Lock()
				done := len(starts) > 0 && time.Since(starts[0]) > window+300*time.Millisecond
				mu.Unlock()
				if done || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			stop()
			mu.Lock()
			defer mu.Unlock()
			if len(starts) == 0 {
				t.Fatal("no run started")
			}
			n := 0
			for _, s := range starts {
				if s.Sub(starts[0]) < window {
					n++
				}
			}
			figure(t, "rate limit under load", "RateLimit(10/s, burst 1) on %s: %d runs in the first 5 s (want 50 ± 1), 80 tasks enqueued at once, default worker", name, n)
			if n > 51 || n < 47 { // 50 ± 1, with a margin below for a busy machine
				t.Errorf("%d runs in 5 s, want 50 ± 1", n)
			}
		})
	}
}
