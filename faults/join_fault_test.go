package faults_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A joiner parked on a live worker is not lost when its holder's worker
// dies (here, cut off from Redis: its claims and its lease lapse). The
// joiner's own claim is kept alive while it waits, so nobody takes it
// over; the holder's task is taken over, runs again, and its outcome
// reaches the joiner, which returns it as its own.
func TestFaultJoinHolderWorkerDies(t *testing.T) {
	const visibility = time.Second
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix))
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix))
	ctx := context.Background()

	began, parked := make(chan struct{}, 1), make(chan struct{}, 1)
	var runs, takenOver atomic.Int32
	report := func(b *redisbackend.Backend, work func(ctx context.Context) error) *task.Task[string, string] {
		return task.New("report", func(ctx context.Context, acct string) (string, error) {
			runs.Add(1)
			return "report " + acct, work(ctx)
		},
			middleware.StoreResult(b.Store()),
			middleware.SkipLocked(),
			middleware.JoinLocked(b.Store(), middleware.JoinAs[string](), middleware.JoinWait(20*time.Second)),
			func(next task.Func) task.Func { // tells when a run finds the lock held
				return func(ctx context.Context, inv *task.Invocation) (any, error) {
					res, err := next(ctx, inv)
					if errors.Is(err, lock.ErrLocked) {
						select {
						case parked <- struct{}{}:
						default:
						}
					}
					return res, err
				}
			},
			middleware.WithLock(b.Locker(), "report", lock.TTL(time.Second)),
		)
	}
	opts := func(extra ...worker.Option) []worker.Option {
		return append([]worker.Option{worker.Concurrency(1), worker.Visibility(visibility),
			worker.PollWait(50 * time.Millisecond), worker.PromoteEvery(10 * time.Millisecond),
			worker.Grace(time.Second), worker.OnError(func(error) {})}, extra...)
	}
	// The holder's worker, through the proxy: its run works until its
	// context ends (its lease lost).
	dying := worker.New(faulty.Queue(), opts(worker.Prefetch(0))...) // the joiner is the other's
	worker.Register(dying, report(faulty, func(ctx context.Context) error {
		began <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}))
	client := worker.NewClient(clean.Queue(), clean.Store())
	holder, err := worker.Enqueue(ctx, client, report(clean, nil), "acct-7")
	if err != nil {
		t.Fatal(err)
	}
	taskwaretest.StartWorker(t, dying)
	t.Cleanup(p.Resume) // before the dying worker's stop
	select {
	case <-began:
	case <-time.After(10 * time.Second):
		t.Fatal("the holder did not start")
	}
	joiner, err := worker.Enqueue(ctx, client, report(clean, nil), "acct-7")
	if err != nil {
		t.Fatal(err)
	}
	live := worker.New(clean.Queue(), opts(worker.OnEvent(func(e worker.Event) {
		if e.Kind == worker.EventTakenOver && e.ID == joiner.ID {
			takenOver.Add(1)
		}
	}))...)
	worker.Register(live, report(clean, func(context.Context) error { return nil }))
	taskwaretest.StartWorker(t, live)
	select {
	case <-parked: // the joiner found the lock held, and waits
	case <-time.After(10 * time.Second):
		t.Fatal("the joiner did not find the lock held")
	}
	p.Stall() // the holder's worker is dead to Redis
	start := time.Now()

	got, err := taskwaretest.Get(joiner, 25*time.Second)
	took := time.Since(start)
	hgot, herr := taskwaretest.Get(holder, 5*time.Second)
	figure(t, "join, holder's worker dies", "joiner got %q (%v) after %v; holder %q (%v); %d runs; joiner taken over %d times",
		got, err, took.Round(10*time.Millisecond), hgot, herr, runs.Load(), takenOver.Load())
	if err != nil || got != "report acct-7" || herr != nil || hgot != got {
		t.Fatalf("joiner %q, %v; holder %q, %v: want both the report of the holder's second run", got, err, hgot, herr)
	}
	if takenOver.Load() != 0 {
		t.Errorf("the parked joiner was taken over %d times: its claim was not kept alive", takenOver.Load())
	}
}
