package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// DrainResult is what Drain saw.
type DrainResult struct {
	Tasks   int
	Elapsed time.Duration
	// Trips is the round trips to Redis while the tasks ran.
	Trips int64
}

// Add sums two DrainResults, as of one run split in rounds.
func (r DrainResult) Add(o DrainResult) DrainResult {
	return DrainResult{Tasks: r.Tasks + o.Tasks, Elapsed: r.Elapsed + o.Elapsed, Trips: r.Trips + o.Trips}
}

// PerSec is tasks per second.
func (r DrainResult) PerSec() float64 { return float64(r.Tasks) / r.Elapsed.Seconds() }

// TripsPerTask is round trips per task.
func (r DrainResult) TripsPerTask() float64 { return float64(r.Trips) / float64(r.Tasks) }

// Drain starts q's worker on the n tasks enqueued on it beforehand, and
// times how long it takes until all of them ran, counting the round trips
// in trips meanwhile. It then stops the worker, and fails if a task did not
// run exactly once, or if ctx ends first.
func Drain(ctx context.Context, q TaskQueue, n int, trips *Trips) (DrainResult, error) {
	if n < 1 {
		return DrainResult{}, fmt.Errorf("bench: Drain of %d tasks", n)
	}
	runs := make([]atomic.Int32, n)
	var left atomic.Int64
	left.Store(int64(n))
	done := make(chan struct{})
	var stray atomic.Int64 // runs of arguments out of range
	ran := func(i int) {
		if i < 0 || i >= n {
			stray.Add(1)
			return
		}
		if runs[i].Add(1) == 1 && left.Add(-1) == 0 {
			close(done)
		}
	}

	trips.Reset()
	start := time.Now()
	stop, err := q.Start(ran)
	if err != nil {
		return DrainResult{}, err
	}
	var res DrainResult
	select {
	case <-done:
		res = DrainResult{Tasks: n, Elapsed: time.Since(start), Trips: trips.Load()}
	case <-ctx.Done():
		err = fmt.Errorf("%d of %d tasks ran: %w", int64(n)-left.Load(), n, context.Cause(ctx))
	}
	if serr := stop(); err == nil && serr != nil {
		err = fmt.Errorf("stop: %w", serr)
	}
	if err != nil {
		return res, err
	}
	if s := stray.Load(); s > 0 {
		return res, fmt.Errorf("%d runs of tasks that were not enqueued", s)
	}
	for i := range runs {
		if c := runs[i].Load(); c != 1 {
			return res, fmt.Errorf("task %d ran %d times", i, c)
		}
	}
	return res, nil
}
