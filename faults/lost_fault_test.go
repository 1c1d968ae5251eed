package faults_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// Two workers drain 2,000 tasks, each under a lock with its result stored,
// through a proxy that cuts every connection five times a second, on a
// redis-server of the test's own that is killed (SIGKILL) and started
// again from its append-only file midway. Every task must end succeeded,
// its result readable: delivery is at least once, so some run twice.
func TestFaultNoTaskLost(t *testing.T) {
	const n = 2000
	srv := taskwaretest.StartServer(t)
	direct := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer direct.Close()
	p := taskwaretest.NewProxy(t, srv.Addr())
	faultyClient := redis.NewClient(&redis.Options{Addr: p.Addr(), MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 50 * time.Millisecond,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer faultyClient.Close()
	faulty := redisbackend.New(faultyClient)
	clean := redisbackend.New(direct)

	var runs sync.Map // task ID -> *atomic.Int32
	byID := func(inv *task.Invocation) (string, error) { return inv.ID, nil }
	tk := task.New("echo", func(ctx context.Context, id string) (string, error) {
		c, _ := runs.LoadOrStore(id, new(atomic.Int32))
		c.(*atomic.Int32).Add(1)
		return id, nil
	}, middleware.StoreResult(faulty.Store()), middleware.WithLockFunc(faulty.Locker(), byID))

	ctx := context.Background()
	client := worker.NewClient(clean.Queue(), clean.Store())
	handles := make([]*worker.Handle[string], n)
	for i := range n {
		id := fmt.Sprint("task-", i)
		h, err := worker.Enqueue(ctx, client, tk, id, worker.ID(id))
		if err != nil {
			t.Fatal(err)
		}
		handles[i] = h
	}

	var workerErrs atomic.Int64
	for i := range 2 {
		w := worker.New(faulty.Queue(), worker.Name(fmt.Sprint("w", i)), worker.Concurrency(8), worker.Visibility(2*time.Second),
			worker.PollWait(100*time.Millisecond), worker.Grace(time.Second), worker.OnError(func(error) { workerErrs.Add(1) }))
		worker.Register(w, tk)
		taskwaretest.StartWorker(t, w)
	}

	// Chaos until every task ran: cuts five times a second, and one restart
	// once a third of the tasks ran.
	done := make(chan struct{})
	var cuts, restarts atomic.Int64
	var chaos sync.WaitGroup
	chaos.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			p.Cut()
			cuts.Add(1)
			if restarts.Load() == 0 && ran(&runs) >= n/3 {
				srv.Restart()
				restarts.Add(1)
			}
		}
	})

	deadline := time.Now().Add(2 * time.Minute)
	lost := 0
	for _, h := range handles {
		got, err := "", errors.New("not asked: out of time")
		for time.Now().Before(deadline) {
			gctx, cancel := context.WithDeadline(ctx, deadline)
			got, err = h.Get(gctx)
			cancel()
			if err == nil || !errors.Is(err, task.ErrUnavailable) && gctx.Err() == nil {
				break
			}
			time.Sleep(50 * time.Millisecond) // the server restarts: ask again
		}
		if err != nil || got != h.ID {
			lost++
			if lost <= 3 {
				st, serr := h.State(ctx)
				t.Errorf("task %s: %q, %v; state %+v, %v", h.ID, got, err, st, serr)
			}
		}
	}
	close(done)
	chaos.Wait()
	twice := 0
	runs.Range(func(_, c any) bool {
		if c.(*atomic.Int32).Load() > 1 {
			twice++
		}
		return true
	})
	figure(t, "tasks lost", "%d of %d tasks lost through %d connection cuts and %d Redis restart (SIGKILL, AOF); %d ran twice (at least once), %d worker errors reported",
		lost, n, cuts.Load(), restarts.Load(), twice, workerErrs.Load())
	if restarts.Load() == 0 || cuts.Load() < 5 {
		t.Fatalf("the faults did not happen: %d restarts, %d cuts", restarts.Load(), cuts.Load())
	}
	if lost > 0 {
		t.Fatalf("%d tasks lost", lost)
	}
}

// ran counts the tasks that ran at least once.
func ran(runs *sync.Map) int {
	n := 0
	runs.Range(func(_, _ any) bool { n++; return true })
	return n
}
