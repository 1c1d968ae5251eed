package bench

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Keys returns n distinct keys under prefix, one per goroutine of a run.
func Keys(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + "g" + strconv.Itoa(i)
	}
	return keys
}

// Drive runs pairs on len(keys) goroutines, goroutine i on keys[i] alone,
// for as long as more, which all goroutines share, returns true. It returns
// the pairs done and the first error, which stops every goroutine.
func Drive(ctx context.Context, c Contender, keys []string, more func() bool) (int64, error) {
	var (
		total    atomic.Int64
		failed   atomic.Bool
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for _, key := range keys {
		wg.Go(func() {
			var n int64
			for !failed.Load() && more() {
				if err := pair(ctx, c, key); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					break
				}
				n++
			}
			total.Add(n)
		})
	}
	wg.Wait()
	return total.Load(), firstErr
}

// Budget returns a more func for Drive that allows n pairs in all.
func Budget(n int64) func() bool {
	var taken atomic.Int64
	return func() bool { return taken.Add(1) <= n }
}

// Result is what Measure saw.
type Result struct {
	Pairs   int64
	Elapsed time.Duration
	Mallocs uint64 // heap allocations in the process while it ran
}

// Add sums two Results, as of one run split in rounds.
func (r Result) Add(o Result) Result {
	return Result{Pairs: r.Pairs + o.Pairs, Elapsed: r.Elapsed + o.Elapsed, Mallocs: r.Mallocs + o.Mallocs}
}

// PerSec is pairs per second.
func (r Result) PerSec() float64 { return float64(r.Pairs) / r.Elapsed.Seconds() }

// AllocsPerPair is heap allocations per pair, everything in the process
// counted: the library's background goroutines too.
func (r Result) AllocsPerPair() float64 { return float64(r.Mallocs) / float64(r.Pairs) }

// Measure drives c on keys for d, after one warm-up pair per key (which
// also loads the library's scripts into Redis).
func Measure(ctx context.Context, c Contender, keys []string, d time.Duration) (Result, error) {
	if _, err := Drive(ctx, c, keys, Budget(int64(len(keys)))); err != nil {
		return Result{}, err
	}
	var stop atomic.Bool
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	n, err := Drive(ctx, c, keys, func() bool { return !stop.Load() })
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return Result{Pairs: n, Elapsed: elapsed, Mallocs: after.Mallocs - before.Mallocs}, err
}
