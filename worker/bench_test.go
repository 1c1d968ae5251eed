package worker_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// benchBackend is what benchDrain needs of a backend.
type benchBackend struct {
	queue  queue.Queue
	store  store.Store
	locker lock.Locker
}

// BenchmarkWorkerMemory drains b.N no-op tasks, enqueued first (not
// timed), through a worker on the memory backend, 4 at once: bare, and
// with a lock of their own and a stored result. allocs/op is the whole
// process's allocations per task (worker, queue, policies), without a
// network's noise; run it with a fixed count, -benchtime=20000x say.
func BenchmarkWorkerMemory(b *testing.B) {
	benchDrain(b, 4, func(b *testing.B) benchBackend {
		m := memorybackend.New()
		return benchBackend{m.Queue(), m.Store(), m.Locker()}
	})
}

// BenchmarkWorkerRedis is BenchmarkWorkerMemory on a real Redis
// ($TASKWARE_REDIS_URL; skipped without one unless TASKWARE_REQUIRE_REDIS=1),
// 32 at once as in bench's drains, so that concurrent tasks share
// pipelines as they do under load: allocs/op is the whole process's
// allocations per task, go-redis's included, the enqueue excluded. Run it with a fixed count, say
// -benchtime=20000x, on a Redis of its own.
func BenchmarkWorkerRedis(b *testing.B) {
	benchDrain(b, 32, func(b *testing.B) benchBackend {
		c, prefix := taskwaretest.Redis(b)
		rb := redisbackend.New(c, redisbackend.Prefix(prefix))
		return benchBackend{rb.Queue(), rb.Store(), rb.Locker()}
	})
}

// benchDrain runs the bare and lock+store drains of b.N no-op tasks on the
// backend open makes, concurrency at once.
func benchDrain(b *testing.B, concurrency int, open func(b *testing.B) benchBackend) {
	for _, bc := range []struct {
		name   string
		policy func(be benchBackend) []task.Middleware
	}{
		{"bare", func(benchBackend) []task.Middleware { return nil }},
		{"lock+store", func(be benchBackend) []task.Middleware {
			return []task.Middleware{
				middleware.StoreResult(be.store),
				middleware.WithLockFunc(be.locker, middleware.KeyFromArgs(strconv.Itoa)),
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			be := open(b)
			n := int64(b.N)
			var ran atomic.Int64
			all := make(chan struct{})
			tk := task.New("noop", func(ctx context.Context, i int) (int, error) {
				if ran.Add(1) == n {
					close(all)
				}
				return i, nil
			}, bc.policy(be)...)
			w := worker.New(be.queue, worker.Concurrency(concurrency), worker.PollWait(50*time.Millisecond))
			worker.Register(w, tk)
			args := make([]int, b.N)
			for i := range args {
				args[i] = i
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := worker.EnqueueMany(ctx, worker.NewClient(be.queue, be.store), tk, args); err != nil {
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
