package taskware_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/taskware/taskware/internal/testkit"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// exclusive is a task body that records how many runs are inside at once.
type exclusive struct {
	inside, max atomic.Int32
	ran         sync.Map // IDs of runs that got in
}

func (e *exclusive) run(hold time.Duration) func(context.Context, string) (string, error) {
	return func(ctx context.Context, id string) (string, error) {
		n := e.inside.Add(1)
		for m := e.max.Load(); n > m && !e.max.CompareAndSwap(m, n); m = e.max.Load() {
		}
		e.ran.Store(id, true)
		time.Sleep(hold)
		e.inside.Add(-1)
		return "done " + id, nil
	}
}

// outcomes of N concurrent runs.
type outcomes struct{ ran, skipped, locked, other int }

func contendN(t *testing.T, tk *task.Task[string, string], n int) outcomes {
	t.Helper()
	var (
		mu    sync.Mutex
		o     outcomes
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("run-%02d", i)
			<-start
			res, err := tk.Invoke(context.Background(), &task.Invocation{ID: id, EnqueuedAt: time.Now(), Attempt: 1, Args: id})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && res == "done "+id:
				o.ran++
			case task.IsSkipped(err) && errors.Is(err, lock.ErrLocked):
				o.skipped++
			case errors.Is(err, lock.ErrLocked) && !task.IsSkipped(err):
				o.locked++
			default:
				o.other++
				t.Errorf("%s: unexpected outcome %v, %v", id, res, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return o
}

// N concurrent runs contend for one key under each policy: exactly one runs
// at a time, and the store holds exactly what the policy says.
func TestPoliciesUnderContention(t *testing.T) {
	const n = 20
	policies := []struct {
		name  string
		chain func(b *testkit.Backend, skipHook middleware.SkipHook) []task.Middleware
		// stored failures, given the outcomes
		wantFailures func(o outcomes) int
		wantSkips    bool
	}{
		{
			name: "huey default",
			chain: func(b *testkit.Backend, _ middleware.SkipHook) []task.Middleware {
				return []task.Middleware{middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "k")}
			},
			wantFailures: func(o outcomes) int { return o.locked },
		},
		{
			name: "skip locked",
			chain: func(b *testkit.Backend, hook middleware.SkipHook) []task.Middleware {
				return []task.Middleware{middleware.StoreResult(b.Store), middleware.SkipLocked(hook), middleware.WithLock(b.Locker, "k")}
			},
			wantFailures: func(outcomes) int { return 0 },
			wantSkips:    true,
		},
		{
			name: "filtered store",
			chain: func(b *testkit.Backend, _ middleware.SkipHook) []task.Middleware {
				return []task.Middleware{
					middleware.StoreResult(b.Store, middleware.IgnoreErrors(lock.ErrLocked)),
					middleware.WithLock(b.Locker, "k"),
				}
			},
			wantFailures: func(outcomes) int { return 0 },
		},
	}
	for _, p := range policies {
		t.Run(p.name, func(t *testing.T) {
			testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
				var body exclusive
				var hooked atomic.Int32
				hook := func(ctx context.Context, inv *task.Invocation, err error) {
					if !errors.Is(err, lock.ErrLocked) || inv.ID == "" {
						t.Errorf("hook saw %v for %q", err, inv.ID)
					}
					hooked.Add(1)
				}
				tk := task.New("report", body.run(30*time.Millisecond), p.chain(b, hook)...)
				o := contendN(t, tk, n)

				t.Logf("outcomes %+v", o)
				if body.max.Load() != 1 {
					t.Fatalf("%d runs inside at once", body.max.Load())
				}
				if o.ran < 1 || o.ran+o.skipped+o.locked != n {
					t.Fatalf("outcomes %+v", o)
				}
				if p.wantSkips != (o.skipped > 0) || (p.wantSkips && o.locked > 0) {
					t.Fatalf("outcomes %+v: skips expected %v", o, p.wantSkips)
				}
				if int(hooked.Load()) != o.skipped {
					t.Fatalf("hook saw %d skips of %d", hooked.Load(), o.skipped)
				}
				recs, err := b.Store.List(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				var ok, failed int
				for _, r := range recs {
					switch r.Status {
					case store.Succeeded:
						ok++
						if _, ran := body.ran.Load(r.ID); !ran || string(r.Value) != `"done `+r.ID+`"` {
							t.Errorf("stored success %s (%s) for a run that did not run", r.ID, r.Value)
						}
					case store.Failed:
						failed++
						if !errors.Is(r.Err(), lock.ErrLocked) || r.Kind != "locked" || r.Task != "report" {
							t.Errorf("stored failure %+v is not a locked one", r)
						}
					default:
						t.Errorf("stored %+v", r)
					}
				}
				if ok != o.ran || failed != p.wantFailures(o) {
					t.Fatalf("store holds %d successes, %d failures; outcomes %+v", ok, failed, o)
				}
				if held, _ := b.Locker.Held(context.Background()); len(held) != 0 {
					t.Fatalf("locks left held: %+v", held)
				}
			})
		})
	}
}

// An expired run is skipped before the lock: it neither waits for nor
// takes it, and is not stored.
func TestExpiredRunTakesNoLock(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		ctx := context.Background()
		var body exclusive
		tk := task.New("report", body.run(0),
			middleware.StoreResult(b.Store),
			middleware.Expires(time.Minute),
			middleware.SkipLocked(),
			middleware.WithLock(b.Locker, "k", lock.Wait(10*time.Second)),
		)
		other, err := b.Locker.TryAcquire(ctx, "k", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = tk.Invoke(ctx, &task.Invocation{ID: "stale", EnqueuedAt: time.Now().Add(-2 * time.Minute), Args: "stale"})
		var exp *middleware.ExpiredError
		if !task.IsSkipped(err) || !errors.As(err, &exp) || errors.Is(err, lock.ErrLocked) || exp.Limit != time.Minute {
			t.Fatalf("stale run: %v", err)
		}
		if time.Since(start) > time.Second {
			t.Fatal("the expired run waited for the lock")
		}
		deadline := time.Now().Add(-time.Second)
		_, err = tk.Invoke(ctx, &task.Invocation{ID: "past-deadline", EnqueuedAt: time.Now(), ExpiresAt: deadline, Args: "x"})
		if !errors.As(err, &exp) || !exp.Deadline.Equal(deadline) {
			t.Fatalf("run past its enqueue deadline: %v", err)
		}
		if _, ran := body.ran.Load("stale"); ran {
			t.Fatal("the expired run ran")
		}
		if recs, _ := b.Store.List(ctx); len(recs) != 0 {
			t.Fatalf("skips were stored: %+v", recs)
		}
		// A fresh run waits for the lock, and runs once it is free.
		time.AfterFunc(50*time.Millisecond, func() { _ = b.Locker.Release(ctx, other) })
		if res, err := tk.Invoke(ctx, &task.Invocation{ID: "fresh", EnqueuedAt: time.Now(), Args: "fresh"}); err != nil || res != "done fresh" {
			t.Fatalf("fresh run: %v, %v", res, err)
		}
	})
}

// Successes and failures live for their own TTLs, and then they are gone.
func TestStoredOutcomesExpire(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		ctx := context.Background()
		unit := time.Minute
		if b.Real {
			unit = 150 * time.Millisecond
		}
		boom := errors.New("boom")
		tk := task.New("flaky", func(ctx context.Context, fail bool) (int, error) {
			if fail {
				return 0, boom
			}
			return 7, nil
		}, middleware.StoreResult(b.Store, middleware.ResultTTL(4*unit), middleware.ErrorTTL(2*unit)))
		if _, err := tk.Invoke(ctx, &task.Invocation{ID: "ok", Args: false}); err != nil {
			t.Fatal(err)
		}
		if _, err := tk.Invoke(ctx, &task.Invocation{ID: "bad", Args: true}); !errors.Is(err, boom) {
			t.Fatalf("the task's own error changed: %v", err)
		}
		okRec, err1 := b.Store.Get(ctx, "ok")
		badRec, err2 := b.Store.Get(ctx, "bad")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if string(okRec.Value) != "7" || badRec.Error != "boom" || badRec.Kind != task.KindError {
			t.Fatalf("records %+v %+v", okRec, badRec)
		}
		near := func(got time.Time, want time.Duration) bool {
			d := time.Until(got)
			return d > want-unit/2 && d <= want
		}
		if !near(okRec.ExpiresAt, 4*unit) || !near(badRec.ExpiresAt, 2*unit) {
			t.Fatalf("expiry in %v and %v, want %v and %v", time.Until(okRec.ExpiresAt), time.Until(badRec.ExpiresAt), 4*unit, 2*unit)
		}
		b.Advance(2*unit + unit/2)
		if _, err := b.Store.Get(ctx, "bad"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("failure outlived its TTL: %v", err)
		}
		if _, err := b.Store.Get(ctx, "ok"); err != nil {
			t.Fatalf("success expired with the failure's TTL: %v", err)
		}
		b.Advance(2 * unit)
		if _, err := b.Store.Get(ctx, "ok"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("success outlived its TTL: %v", err)
		}
	})
}

// A lease lost mid-run cancels the task's ctx with ErrLeaseLost, and the
// stored failure says so.
func TestLeaseLostInTask(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		ctx := context.Background()
		var cause error
		tk := task.New("long", func(ctx context.Context, _ string) (string, error) {
			if err := b.Locker.(interface {
				Break(context.Context, string) error
			}).Break(context.Background(), "k"); err != nil {
				return "", err
			}
			select {
			case <-ctx.Done():
				cause = context.Cause(ctx)
				return "", ctx.Err()
			case <-time.After(5 * time.Second):
				return "", errors.New("not cancelled")
			}
		}, middleware.StoreResult(b.Store), middleware.SkipLocked(), middleware.WithLock(b.Locker, "k", lock.TTL(150*time.Millisecond)))
		_, err := tk.Invoke(ctx, &task.Invocation{ID: "r", Args: "x"})
		if !errors.Is(cause, lock.ErrLeaseLost) || !errors.Is(err, lock.ErrLeaseLost) || task.IsSkipped(err) {
			t.Fatalf("cause %v, outcome %v", cause, err)
		}
		rec, err := b.Store.Get(ctx, "r")
		if err != nil || rec.Status != store.Failed || rec.Kind != "lease_lost" || !errors.Is(rec.Err(), lock.ErrLeaseLost) {
			t.Fatalf("stored %+v, %v", rec, err)
		}
	})
}

// A lock per user, derived from the arguments: different users run at
// once, the same user does not.
func TestLockKeyFromArgs(t *testing.T) {
	type Args struct{ User string }
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		inside := make(chan string, 4)
		release := make(chan struct{})
		tk := task.New("per-user", func(ctx context.Context, a Args) (int64, error) {
			inside <- a.User
			<-release
			f, _ := lock.Fence(ctx)
			return f, nil
		}, middleware.SkipLocked(), middleware.WithLockFunc(b.Locker, middleware.KeyFromArgs(func(a Args) string { return "user:" + a.User })))
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for _, u := range []string{"ada", "bob"} {
			wg.Go(func() {
				f, err := tk.Call(context.Background(), Args{User: u})
				if err == nil && f <= 0 {
					err = fmt.Errorf("no fence in the task's ctx for %s", u)
				}
				errs <- err
			})
		}
		got := map[string]bool{<-inside: true, <-inside: true}
		if !got["ada"] || !got["bob"] {
			t.Fatalf("inside: %v", got)
		}
		if _, err := tk.Call(context.Background(), Args{User: "ada"}); !task.IsSkipped(err) {
			t.Fatalf("same user ran concurrently: %v", err)
		}
		held, _ := b.Locker.Held(context.Background())
		if len(held) != 2 || held[0].Key != "user:ada" || held[1].Key != "user:bob" {
			t.Fatalf("held %+v", held)
		}
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
