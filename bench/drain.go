package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DrainResult is what Drain saw.
type DrainResult struct {
	Tasks   int
	Elapsed time.Duration
	// Trips is the round trips to Redis while the tasks ran.
	Trips int64
	// Mallocs is the heap allocations of this whole process while the
	// tasks ran (runtime.MemStats.Mallocs): the worker's and its Redis
	// client's, and also the bench's own, its wrapper of each library and
	// Drain's bookkeeping.
	Mallocs uint64
	// RedisCPU is the CPU time, system and user, the Redis server used
	// while the tasks ran (INFO cpu): the server may be shared, and the
	// work it did for others counts too. It is 0 if Drain was not given
	// the server (Meter.Server).
	RedisCPU time.Duration
}

// Add sums two DrainResults, as of one run split in rounds.
func (r DrainResult) Add(o DrainResult) DrainResult {
	return DrainResult{Tasks: r.Tasks + o.Tasks, Elapsed: r.Elapsed + o.Elapsed, Trips: r.Trips + o.Trips,
		Mallocs: r.Mallocs + o.Mallocs, RedisCPU: r.RedisCPU + o.RedisCPU}
}

// PerSec is tasks per second.
func (r DrainResult) PerSec() float64 { return float64(r.Tasks) / r.Elapsed.Seconds() }

// TripsPerTask is round trips per task.
func (r DrainResult) TripsPerTask() float64 { return float64(r.Trips) / float64(r.Tasks) }

// AllocsPerTask is heap allocations per task.
func (r DrainResult) AllocsPerTask() float64 { return float64(r.Mallocs) / float64(r.Tasks) }

// RedisMicrosPerTask is the Redis server's CPU time per task, in µs.
func (r DrainResult) RedisMicrosPerTask() float64 {
	return float64(r.RedisCPU) / float64(time.Microsecond) / float64(r.Tasks)
}

// Meter is what Drain measures the cost of a drain with, beside its time.
type Meter struct {
	// Trips counts the round trips of the clients the TaskQueue is on; nil
	// if they count none.
	Trips *Trips
	// Server, if not nil, is a client of the Redis server, read (INFO cpu)
	// before and after the drain for its CPU time.
	Server *redis.Client
}

// reading is a measurement under way, started by Meter.begin.
type reading struct {
	m       Meter
	trips   *Trips
	mallocs uint64
	cpu     time.Duration
	start   time.Time
}

// begin reads what m measures, and starts the clock.
func (m Meter) begin(ctx context.Context) (*reading, error) {
	r := &reading{m: m, trips: m.Trips}
	if r.trips == nil {
		r.trips = new(Trips)
	}
	if m.Server != nil {
		var err error
		if r.cpu, err = RedisCPU(ctx, m.Server); err != nil {
			return nil, fmt.Errorf("INFO cpu: %w", err)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.mallocs = ms.Mallocs
	r.trips.Reset()
	r.start = time.Now()
	return r, nil
}

// end stops the clock, and returns what was measured since begin, for
// the given number of tasks.
func (r *reading) end(ctx context.Context, tasks int) (DrainResult, error) {
	res := DrainResult{Tasks: tasks, Elapsed: time.Since(r.start), Trips: r.trips.Load()}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.Mallocs = ms.Mallocs - r.mallocs
	if r.m.Server != nil {
		cpu, err := RedisCPU(ctx, r.m.Server)
		if err != nil {
			return res, fmt.Errorf("INFO cpu: %w", err)
		}
		res.RedisCPU = cpu - r.cpu
	}
	return res, nil
}

// RoundOrder returns the order in which n contenders take their turns in
// round round: 0..n-1 rotated left by round, so that over n rounds each
// contender takes each place once, and none always drains first, on a
// cold machine, or last.
func RoundOrder(round, n int) []int {
	order := make([]int, n)
	for k := range order {
		order[k] = (round + k) % n
	}
	return order
}

// Drain starts q's worker on the n tasks enqueued on it beforehand, and
// times how long it takes until all of them ran, measuring meanwhile the
// round trips, this process's allocations and the Redis server's CPU time
// with m. It then stops the worker, and fails if a task did not run exactly
// once, or if ctx ends first.
func Drain(ctx context.Context, q TaskQueue, n int, m Meter) (DrainResult, error) {
	if n < 1 {
		return DrainResult{}, fmt.Errorf("bench: Drain of %d tasks", n)
	}
	t := newTally(n)
	r, err := m.begin(ctx)
	if err != nil {
		return DrainResult{}, err
	}
	stop, err := q.Start(t.ran)
	if err != nil {
		return DrainResult{}, err
	}
	var res DrainResult
	select {
	case <-t.done:
		res, err = r.end(ctx, n)
	case <-ctx.Done():
		err = fmt.Errorf("%d of %d tasks ran: %w", t.ranSoFar(), n, context.Cause(ctx))
	}
	if serr := stop(); err == nil && serr != nil {
		err = fmt.Errorf("stop: %w", serr)
	}
	if err != nil {
		return res, err
	}
	return res, t.check("task")
}

// tally counts the runs of n units, numbered 0 to n-1, to tell when each
// ran and whether each ran exactly once.
type tally struct {
	runs        []atomic.Int32
	left, stray atomic.Int64  // units not run yet; runs of numbers out of range
	done        chan struct{} // closed once every unit ran
}

func newTally(n int) *tally {
	t := &tally{runs: make([]atomic.Int32, n), done: make(chan struct{})}
	t.left.Store(int64(n))
	return t
}

// ran counts a run of unit i; the worker's tasks call it.
func (t *tally) ran(i int) {
	if i < 0 || i >= len(t.runs) {
		t.stray.Add(1)
		return
	}
	if t.runs[i].Add(1) == 1 && t.left.Add(-1) == 0 {
		close(t.done)
	}
}

// ranSoFar returns how many units ran so far.
func (t *tally) ranSoFar() int64 { return int64(len(t.runs)) - t.left.Load() }

// check fails if a unit (named noun) did not run exactly once, or a run
// was of no unit.
func (t *tally) check(noun string) error {
	if s := t.stray.Load(); s > 0 {
		return fmt.Errorf("%d runs of %ss that were not enqueued", s, noun)
	}
	for i := range t.runs {
		if c := t.runs[i].Load(); c != 1 {
			return fmt.Errorf("%s %d ran %d times", noun, i, c)
		}
	}
	return nil
}
