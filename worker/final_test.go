package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// lock.Do inside a task that a worker runs takes effect at once: its lock
// is free as soon as Do returns, while the task still runs. Only the run's
// own WithLock release waits for the end of the run.
func TestLockDoInsideWorkerReleasesAtOnce(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		type seen struct{ afterDo []lock.Info }
		got := make(chan seen, 1)
		tk := task.New("guarded", func(ctx context.Context, s string) (string, error) {
			err := lock.Do(ctx, b.Locker, "part", func(context.Context) error { return nil })
			held, herr := b.Locker.Held(context.Background())
			got <- seen{afterDo: held}
			return s, errors.Join(err, herr)
		}, middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "whole"))
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		h, err := worker.Enqueue(context.Background(), worker.NewClient(b.Queue, b.Store), tk, "x")
		if err != nil {
			t.Fatal(err)
		}
		if s, err := getWithin(t, h, 5*time.Second); err != nil || s != "x" {
			t.Fatalf("Get = %q, %v", s, err)
		}
		inside := <-got
		if len(inside.afterDo) != 1 || inside.afterDo[0].Key != "whole" {
			t.Fatalf("after lock.Do returned, inside the task, held %+v; want the run's own lock alone", inside.afterDo)
		}
		b.RequireNoLocks(t)
	})
}

// failSet is a go-redis hook that fails the SET of every result record, as
// a failing Cluster node would: the command never reaches Redis.
type failSet struct{}

var errSetDown = errors.New("result node down")

func (failSet) DialHook(next redis.DialHook) redis.DialHook { return next }

func (failSet) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if isResultSet(cmd) {
			cmd.SetErr(errSetDown)
			return errSetDown
		}
		return next(ctx, cmd)
	}
}

func (failSet) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		kept := cmds[:0:0]
		for _, c := range cmds {
			if isResultSet(c) {
				c.SetErr(errSetDown)
				continue
			}
			kept = append(kept, c)
		}
		return next(ctx, kept)
	}
}

func isResultSet(cmd redis.Cmder) bool {
	args := cmd.Args()
	key, _ := args[min(1, len(args)-1)].(string)
	if p, ok := args[min(1, len(args)-1)].(*string); ok { // the backend passes it by pointer
		key = *p
	}
	return cmd.Name() == "set" && strings.Contains(key, "result:{")
}

// failingStore's deferred writes fail: a store elsewhere that is down.
type failingStore struct{ store.Store }

func (failingStore) FinalPut(*store.Record, time.Duration) (task.FinalWrite, error) {
	return failedWrite{}, nil
}

type failedWrite struct{}

func (failedWrite) Apply(context.Context) error { return errSetDown }

// A result write that fails at the end of a run leaves a terminal state
// that says so (no result), and Get returns at once with an error matching
// store.ErrNotStored, joined with the task's own failure if it failed.
// (The queue's own backend writes the record in the script that ends the
// task, so it cannot fail apart from it: these are stores of other
// backends, one on the same client, whose SET a go-redis hook fails.)
func TestFailedResultWriteIsReported(t *testing.T) {
	boom := errors.New("boom")
	for _, how := range []string{"SET fails", "other store fails"} {
		t.Run(how, func(t *testing.T) {
			taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
				var results store.Store = b.Store
				switch {
				case how == "other store fails":
					results = failingStore{b.Store}
				case b.Client == nil:
					t.Skip("no go-redis client on memory: see the other store")
				default:
					results = redisbackend.New(b.Client, redisbackend.Prefix(b.Prefix()+"elsewhere:")).Store()
					b.Client.(*redis.Client).AddHook(failSet{})
				}
				tk := task.New("echo", func(ctx context.Context, fail bool) (string, error) {
					if fail {
						return "", boom
					}
					return "ok", nil
				}, middleware.StoreResult(results), middleware.WithLock(b.Locker, "k"))
				w := worker.New(b.Queue, fast()...)
				worker.Register(w, tk)
				start(t, w)
				c := worker.NewClient(b.Queue, b.Store)
				for _, fail := range []bool{false, true} {
					h, err := worker.Enqueue(context.Background(), c, tk, fail)
					if err != nil {
						t.Fatal(err)
					}
					begin := time.Now()
					_, err = getWithin(t, h, 5*time.Second)
					if took := time.Since(begin); took > time.Second {
						t.Fatalf("Get took %v", took)
					}
					if !errors.Is(err, store.ErrNotStored) || fail != strings.Contains(fmt.Sprint(err), "boom") {
						t.Fatalf("fail=%v: Get = %v, want store.ErrNotStored (and the failure)", fail, err)
					}
					st, err := h.State(context.Background())
					want := queue.Succeeded
					if fail {
						want = queue.Failed
					}
					if err != nil || st.Status != want || st.Result != queue.ResultLost {
						t.Fatalf("state %+v, %v; want %s with result lost", st, err, want)
					}
				}
				b.RequireNoLocks(t) // the releases in the same round trip still went
			})
		})
	}
}

// plainStore is a store that cannot defer its writes: StoreResult writes
// to it during the run, and the queue does not know of the record.
type plainStore struct{ s store.Store }

func (p plainStore) Put(ctx context.Context, rec *store.Record, ttl time.Duration) error {
	return p.s.Put(ctx, rec, ttl)
}

// A handle still finds the result in a store that writes at once.
func TestResultOfAStoreThatWritesAtOnce(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		tk := task.New("double", func(_ context.Context, n int) (int, error) { return 2 * n, nil },
			middleware.StoreResult(plainStore{b.Store}))
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		h, err := worker.Enqueue(context.Background(), worker.NewClient(b.Queue, b.Store), tk, 21)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := getWithin(t, h, 5*time.Second); err != nil || got != 42 {
			t.Fatalf("Get = %d, %v; want 42", got, err)
		}
	})
}
