package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// LatencyResult is what Latency saw.
type LatencyResult struct {
	Tasks int
	// Rate is the tasks per second enqueued, as held: the tasks after the
	// first over the time from the first enqueue to the last.
	Rate float64
	// P50, P99 and Max are of the tasks' latencies, each the time from just
	// before its enqueue to the start of its run.
	P50, P99, Max time.Duration
}

// latencySettle is how long Latency lets a worker start before the first
// enqueue, so that the worker's start-up is not counted.
const latencySettle = 200 * time.Millisecond

// latencyPacers is how many goroutines enqueue, each task when it is due,
// so that one slow enqueue delays no other.
const latencyPacers = 8

// Latency starts q's worker on an empty queue, then enqueues tasks at a
// steady rate per second for d (one call per task, each when it falls due,
// from a few goroutines), and records for each task the time from just
// before its enqueue to the start of its run. It waits until every task
// ran, then stops the worker; it fails if a task did not run exactly once,
// or if ctx ends first.
func Latency(ctx context.Context, q TaskQueue, rate float64, d time.Duration) (LatencyResult, error) {
	n := int(rate * d.Seconds())
	if rate <= 0 || n < 1 {
		return LatencyResult{}, fmt.Errorf("bench: Latency at %v tasks/s for %v", rate, d)
	}
	base := time.Now()
	since := func() int64 { return int64(time.Since(base)) } // monotonic
	// Atomics: the run of task i reads what its enqueuer wrote, but only
	// Redis orders the two.
	enqueued := make([]atomic.Int64, n)
	started := make([]atomic.Int64, n)
	runs := make([]atomic.Int32, n)
	var left atomic.Int64
	left.Store(int64(n))
	done := make(chan struct{})
	var stray atomic.Int64
	ran := func(i int) {
		now := since()
		if i < 0 || i >= n {
			stray.Add(1)
			return
		}
		if runs[i].Add(1) == 1 {
			started[i].Store(now)
			if left.Add(-1) == 0 {
				close(done)
			}
		}
	}

	stop, err := q.Start(ran)
	if err != nil {
		return LatencyResult{}, err
	}
	select {
	case <-time.After(latencySettle):
	case <-ctx.Done():
	}
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := time.Now()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		last atomic.Int64 // when the last enqueue started
	)
	for range latencyPacers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || pctx.Err() != nil {
					return
				}
				due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				if wait := time.Until(due); wait > 0 {
					select {
					case <-time.After(wait):
					case <-pctx.Done():
						return
					}
				}
				at := since()
				enqueued[i].Store(at)
				if i == n-1 {
					last.Store(at)
				}
				if err := q.EnqueueSerial(pctx, i, i+1, 1); err != nil {
					cancel(fmt.Errorf("enqueue %d: %w", i, err))
					return
				}
			}
		})
	}
	wg.Wait()
	first := enqueued[0].Load()
	select {
	case <-done:
	case <-pctx.Done():
		err = fmt.Errorf("%d of %d tasks ran: %w", int64(n)-left.Load(), n, context.Cause(pctx))
	}
	if serr := stop(); serr != nil {
		err = errors.Join(err, fmt.Errorf("stop: %w", serr))
	}
	if err != nil {
		return LatencyResult{}, err
	}
	if s := stray.Load(); s > 0 {
		return LatencyResult{}, fmt.Errorf("%d runs of tasks that were not enqueued", s)
	}
	lat := make([]time.Duration, n)
	for i := range n {
		if c := runs[i].Load(); c != 1 {
			return LatencyResult{}, fmt.Errorf("task %d ran %d times", i, c)
		}
		lat[i] = time.Duration(started[i].Load() - enqueued[i].Load())
	}
	res := LatencyResult{Tasks: n, P50: Percentile(lat, 50), P99: Percentile(lat, 99), Max: Percentile(lat, 100)}
	if span := time.Duration(last.Load() - first); n > 1 && span > 0 {
		res.Rate = float64(n-1) / span.Seconds()
	}
	return res, nil
}
