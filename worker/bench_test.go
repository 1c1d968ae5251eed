package worker_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// BenchmarkWorkerMemory drains b.N no-op tasks, enqueued first (not
// timed), through a worker on the memory backend, 4 at once: bare, and
// with a lock of their own and a stored result. allocs/op is the whole
// process's allocations per task (worker, queue, policies), without a
// network's noise; run it with a fixed count, -benchtime=20000x say.
func BenchmarkWorkerMemory(b *testing.B) {
	for _, bc := range []struct {
		name   string
		policy func(m *memorybackend.Backend) []task.Middleware
	}{
		{"bare", func(*memorybackend.Backend) []task.Middleware { return nil }},
		{"lock+store", func(m *memorybackend.Backend) []task.Middleware {
			return []task.Middleware{
				middleware.StoreResult(m.Store()),
				middleware.WithLockFunc(m.Locker(), middleware.KeyFromArgs(strconv.Itoa)),
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := memorybackend.New()
			n := int64(b.N)
			var ran atomic.Int64
			all := make(chan struct{})
			tk := task.New("noop", func(ctx context.Context, i int) (int, error) {
				if ran.Add(1) == n {
					close(all)
				}
				return i, nil
			}, bc.policy(m)...)
			w := worker.New(m.Queue(), worker.Concurrency(4), worker.PollWait(50*time.Millisecond))
			worker.Register(w, tk)
			args := make([]int, b.N)
			for i := range args {
				args[i] = i
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := worker.EnqueueMany(ctx, worker.NewClient(m.Queue(), m.Store()), tk, args); err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			b.ReportAllocs()
			b.ResetTimer()
			go func() { done <- w.Run(ctx) }()
			<-all
			b.StopTimer()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
