package faults_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// orders are the six orders of StoreResult, Expires and Retry.
var orders = [][3]string{
	{"store", "expires", "retry"}, {"store", "retry", "expires"}, {"expires", "store", "retry"},
	{"expires", "retry", "store"}, {"retry", "store", "expires"}, {"retry", "expires", "store"},
}

// chain builds StoreResult, Expires(expiry) and Retry in order, with
// SkipLocked and a lock per task inside them if locked.
func chain(b *taskwaretest.Backend, order [3]string, expiry time.Duration, locked bool) []task.Middleware {
	var mws []task.Middleware
	for _, p := range order {
		switch p {
		case "store":
			mws = append(mws, middleware.StoreResult(b.Store))
		case "expires":
			mws = append(mws, middleware.Expires(expiry))
		case "retry":
			mws = append(mws, middleware.Retry(3, middleware.RetryBackoff(time.Second, time.Second)))
		}
	}
	if locked { // a lock per task, named by its argument
		mws = append(mws, middleware.SkipLocked(), middleware.WithLockFunc(b.Locker, middleware.KeyFromArgs(func(a string) string { return a })))
	}
	return mws
}

// Every task fails its first run; its retry (half a second to a second
// later) then finds itself expired, or its lock held by someone else for
// a while. In
// every order of StoreResult, Expires and Retry, a task that failed must
// not end as a skip: an expired retry ends as a failure, dead-lettered,
// that carries the first failure; a locked one runs again later, and
// succeeds.
func TestFaultNoSilentSkipAfterFailure(t *testing.T) {
	b := taskwaretest.NewRedis(t)
	ctx := context.Background()
	errFirst := errors.New("first run failed")
	const perCase = 5
	var tasks, silent, expiredFailures, lockedRan, rescheduled atomic.Int64
	var wg sync.WaitGroup
	for oi, order := range orders {
		for _, locked := range []bool{false, true} {
			name := fmt.Sprintf("o%d-expired", oi)
			// The retry comes at least 500ms later; the first run, under
			// load, maybe 100ms after its enqueue (seen with -race -cpu=1).
			expiry := 400 * time.Millisecond
			if locked {
				name, expiry = fmt.Sprintf("o%d-locked", oi), time.Minute
			}
			var failed sync.Map
			tk := task.New(name, func(ctx context.Context, id string) (string, error) {
				if _, again := failed.LoadOrStore(id, true); again {
					return id, nil
				}
				if locked { // someone else takes the lock once this run lets it go, and holds it past the retry
					go func() {
						for range 100 {
							if _, err := b.Locker.TryAcquire(context.Background(), id, 1500*time.Millisecond); err == nil {
								return
							}
							time.Sleep(2 * time.Millisecond)
						}
					}()
				}
				return "", errFirst
			}, append([]task.Middleware{countReschedules(&rescheduled)}, chain(b, order, expiry, locked)...)...)
			w := worker.New(b.Queue, worker.Queues(name), worker.Concurrency(perCase), worker.PollWait(50*time.Millisecond),
				worker.PromoteEvery(10*time.Millisecond))
			worker.Register(w, tk)
			taskwaretest.StartWorker(t, w)
			client := worker.NewClient(b.Queue, b.Store)
			for i := range perCase {
				arg := fmt.Sprint(name, "-", i)
				h, err := worker.Enqueue(ctx, client, tk, arg, worker.OnQueue(name))
				if err != nil {
					t.Fatal(err)
				}
				tasks.Add(1)
				wg.Go(func() {
					got, err := taskwaretest.Get(h, 20*time.Second)
					switch {
					case task.IsSkipped(err):
						silent.Add(1)
						_, ran := failed.Load(arg)
						t.Errorf("%s (%v): a task that failed ended as a skip: %v (its first run ran: %v)", h.ID, order, err, ran)
					case !locked && errors.Is(err, queue.ErrDeadLettered) && strings.Contains(err.Error(), errFirst.Error()):
						expiredFailures.Add(1)
					case locked && err == nil && got == arg:
						lockedRan.Add(1)
					default:
						t.Errorf("%s (%v): %q, %v", h.ID, order, got, err)
					}
				})
			}
		}
	}
	wg.Wait()
	figure(t, "silent skips after a failure", "%d in %d tasks that failed once, over the 6 orders of StoreResult, Expires and Retry: "+
		"%d expired retries ended as dead letters carrying the first failure; %d retries that found their lock held ran later "+
		"(%d times rescheduled)", silent.Load(), tasks.Load(), expiredFailures.Load(), lockedRan.Load(), rescheduled.Load())
	recs, err := b.Store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Status == store.Failed && !strings.Contains(r.Error, errFirst.Error()) {
			t.Errorf("stored failure %s/%s does not carry the first failure: %q", r.Queue, r.ID, r.Error)
		}
		if r.Status == store.Skipped {
			t.Errorf("stored skip %s/%s", r.Queue, r.ID)
		}
	}
}

// countReschedules counts the runs that end requeued without a new
// attempt: reschedules.
func countReschedules(n *atomic.Int64) task.Middleware {
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			var rq *task.RequeueError
			if errors.As(err, &rq) && !rq.Retry {
				n.Add(1)
			}
			return res, err
		}
	}
}
