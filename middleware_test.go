package taskware_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The chains under test, each on lock "k" with a short TTL, so that a lost
// lease shows within about a third of it.
var chains = map[string]func(b *taskwaretest.Backend) []task.Middleware{
	// Huey's default: every outcome stored, "locked" included.
	"huey": func(b *taskwaretest.Backend) []task.Middleware {
		return []task.Middleware{middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "k", lockTTL)}
	},
	// Per task: "locked" is a skip, not stored.
	"skip locked": func(b *taskwaretest.Backend) []task.Middleware {
		return []task.Middleware{middleware.StoreResult(b.Store), middleware.SkipLocked(), middleware.WithLock(b.Locker, "k", lockTTL)}
	},
	// A global filter, Huey's overridden put_result: "locked" fails, unstored.
	"filtered": func(b *taskwaretest.Backend) []task.Middleware {
		return []task.Middleware{middleware.StoreResult(b.Store, middleware.IgnoreErrors(lock.ErrLocked)), middleware.WithLock(b.Locker, "k", lockTTL)}
	},
	// The composition the design recommends.
	"taskware": func(b *taskwaretest.Backend) []task.Middleware {
		return []task.Middleware{
			middleware.StoreResult(b.Store, middleware.ErrorTTL(time.Hour)),
			middleware.Expires(time.Minute),
			middleware.SkipLocked(),
			middleware.WithLock(b.Locker, "k", lockTTL),
		}
	},
	// The same, keeping skips for a caller who waits on them.
	"store skips": func(b *taskwaretest.Backend) []task.Middleware {
		return []task.Middleware{
			middleware.StoreResult(b.Store, middleware.StoreSkips(time.Hour)),
			middleware.Expires(time.Minute),
			middleware.SkipLocked(),
			middleware.WithLock(b.Locker, "k", lockTTL),
		}
	},
}

var lockTTL = lock.TTL(300 * time.Millisecond)

var errBoom = errors.New("boom")

// body is the task under every chain; its argument says how it behaves.
func body(b *taskwaretest.Backend) func(context.Context, string) (string, error) {
	return func(ctx context.Context, how string) (string, error) {
		switch how {
		case "fail":
			return "", errBoom
		case "lose lease":
			if err := b.Locker.Break(context.Background(), "k"); err != nil {
				return "", err
			}
			select {
			case <-ctx.Done():
				return "", context.Cause(ctx)
			case <-time.After(5 * time.Second):
				return "", errors.New("the lease was lost and nobody said so")
			}
		}
		if _, ok := lock.Fence(ctx); !ok {
			return "", errors.New("ran without a fence")
		}
		return "done", nil
	}
}

// Each chain under each kind of contention: the outcome the caller sees,
// and what the store keeps ("<queue>/<id> <status> <kind>"). Every run
// leaves no lock of its own behind.
func TestPolicies(t *testing.T) {
	rows := []struct {
		chain, contention string
		want              string
		stored            []string
	}{
		{"huey", "free", "succeeded", []string{"/r succeeded"}},
		{"huey", "held", "failed: lock.locked", []string{"/r failed lock.locked"}},
		{"huey", "stale", "succeeded", []string{"/r succeeded"}},
		{"huey", "failing", "failed: error", []string{"/r failed error"}},
		{"huey", "lease lost", "failed: lock.lease_lost", []string{"/r failed lock.lease_lost"}},

		{"skip locked", "free", "succeeded", []string{"/r succeeded"}},
		{"skip locked", "held", "skipped: lock.locked", nil},
		{"skip locked", "failing", "failed: error", []string{"/r failed error"}},
		{"skip locked", "lease lost", "failed: lock.lease_lost", []string{"/r failed lock.lease_lost"}},

		{"filtered", "free", "succeeded", []string{"/r succeeded"}},
		{"filtered", "held", "failed: lock.locked", nil},
		{"filtered", "failing", "failed: error", []string{"/r failed error"}},

		{"taskware", "free", "succeeded", []string{"/r succeeded"}},
		{"taskware", "held", "skipped: lock.locked", nil},
		{"taskware", "stale", "skipped: middleware.expired", nil},
		{"taskware", "held and stale", "skipped: middleware.expired", nil}, // expired before any lock
		{"taskware", "failing", "failed: error", []string{"/r failed error"}},
		{"taskware", "lease lost", "failed: lock.lease_lost", []string{"/r failed lock.lease_lost"}},

		{"store skips", "held", "skipped: lock.locked", []string{"/r skipped lock.locked"}},
		{"store skips", "stale", "skipped: middleware.expired", []string{"/r skipped middleware.expired"}},
		{"store skips", "free", "succeeded", []string{"/r succeeded"}},
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, row := range rows {
			t.Run(row.chain+"/"+row.contention, func(t *testing.T) {
				ctx := context.Background()
				// Each row has its own store content: clear what the last left.
				recs, _ := b.Store.List(ctx)
				for _, r := range recs {
					_ = b.Store.Delete(ctx, r.Queue, r.ID)
				}
				tk := task.New("report", body(b), chains[row.chain](b)...)
				how, opts := "run", []taskwaretest.RunOption{taskwaretest.ID("r")}
				switch row.contention {
				case "held", "held and stale":
					other, err := b.Locker.TryAcquire(ctx, "k", time.Minute)
					if err != nil {
						t.Fatal(err)
					}
					defer func() { _ = b.Locker.Release(ctx, other) }()
				case "failing":
					how = "fail"
				case "lease lost":
					how = "lose lease"
				}
				if row.contention == "stale" || row.contention == "held and stale" {
					opts = append(opts, taskwaretest.EnqueuedAgo(2*time.Minute))
				}

				start := time.Now()
				res, err := taskwaretest.Run(t, b, tk, how, opts...)
				taskwaretest.RequireOutcome(t, err, row.want)
				if (err == nil) != (res == "done") {
					t.Fatalf("result %q with outcome %v", res, err)
				}
				if row.contention == "held and stale" && time.Since(start) > time.Second {
					t.Fatal("the expired run waited for the lock")
				}
				if got := b.Records(t); !slices.Equal(got, row.stored) {
					t.Fatalf("store holds %q, want %q", got, row.stored)
				}
				for _, l := range b.Locks(t) {
					if !(l.Key == "k" && (row.contention == "held" || row.contention == "held and stale")) {
						t.Fatalf("lock left held: %+v", l)
					}
				}
			})
		}
	})
}

// N runs contend for one key at once under each policy: exactly one is
// inside at a time, each of the others is locked out, and the store holds
// exactly what the policy says of them.
func TestOneRunInsideAtATime(t *testing.T) {
	const n = 20
	want := map[string]string{"huey": "failed: lock.locked", "skip locked": "skipped: lock.locked", "filtered": "failed: lock.locked"}
	for chain, lockedOut := range want {
		t.Run(chain, func(t *testing.T) {
			taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
				var inside, most atomic.Int32
				tk := task.New("report", func(ctx context.Context, id string) (string, error) {
					in := inside.Add(1)
					for m := most.Load(); in > m && !most.CompareAndSwap(m, in); m = most.Load() {
					}
					time.Sleep(30 * time.Millisecond)
					inside.Add(-1)
					return id, nil
				}, chains[chain](b)...)
				var mu sync.Mutex
				outcomes := map[string]int{}
				var wg sync.WaitGroup
				startLine := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						id := fmt.Sprintf("run-%02d", i)
						<-startLine
						_, err := taskwaretest.Run(t, b, tk, id, taskwaretest.ID(id))
						mu.Lock()
						outcomes[taskwaretest.Outcome(err)]++
						mu.Unlock()
					})
				}
				close(startLine)
				wg.Wait()
				t.Logf("outcomes %v", outcomes)
				if most.Load() != 1 {
					t.Fatalf("%d runs inside at once", most.Load())
				}
				ran := outcomes["succeeded"]
				if ran < 1 || ran+outcomes[lockedOut] != n {
					t.Fatalf("outcomes %v: want successes and %q only", outcomes, lockedOut)
				}
				var ok, failed int
				for _, r := range b.Records(t) {
					if strings.HasSuffix(r, " succeeded") {
						ok++
					} else {
						failed++
					}
				}
				wantFailed := 0
				if chain == "huey" {
					wantFailed = n - ran
				}
				if ok != ran || failed != wantFailed {
					t.Fatalf("store holds %d successes, %d failures; outcomes %v", ok, failed, outcomes)
				}
				b.RequireNoLocks(t)
			})
		})
	}
}

// Successes and failures live for their own TTLs, and then they are gone:
// the store cannot grow without bound.
func TestStoredOutcomesExpire(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		unit := time.Minute
		if b.Real {
			unit = 400 * time.Millisecond // real time: room for a loaded machine
		}
		tk := task.New("flaky", func(ctx context.Context, fail bool) (int, error) {
			if fail {
				return 0, errBoom
			}
			return 7, nil
		}, middleware.StoreResult(b.Store, middleware.ResultTTL(4*unit), middleware.ErrorTTL(2*unit)))
		if _, err := taskwaretest.Run(t, b, tk, false, taskwaretest.ID("ok")); err != nil {
			t.Fatal(err)
		}
		_, err := taskwaretest.Run(t, b, tk, true, taskwaretest.ID("bad"))
		taskwaretest.RequireOutcome(t, err, "failed: error")
		okRec, badRec := b.RequireRecord(t, "", "ok"), b.RequireRecord(t, "", "bad")
		if string(okRec.Value) != "7" || badRec.Error != "boom" || badRec.Kind != task.KindError {
			t.Fatalf("records %+v %+v", okRec, badRec)
		}
		near := func(got time.Time, want time.Duration) bool {
			d := got.Sub(b.Now())
			return d > want-unit/2 && d <= want
		}
		if !near(okRec.ExpiresAt, 4*unit) || !near(badRec.ExpiresAt, 2*unit) {
			t.Fatalf("expiry in %v and %v, want %v and %v", okRec.ExpiresAt.Sub(b.Now()), badRec.ExpiresAt.Sub(b.Now()), 4*unit, 2*unit)
		}
		b.Advance(2*unit + unit/2)
		b.RequireNoRecord(t, "", "bad")
		if rec := b.RequireRecord(t, "", "ok"); rec.Status != store.Succeeded {
			t.Fatalf("record %+v", rec)
		}
		b.Advance(2 * unit)
		b.RequireNoRecord(t, "", "ok")
	})
}

// A lock per user, derived from the arguments: different users run at
// once, the same user does not.
func TestLockKeyFromArgs(t *testing.T) {
	type Args struct{ User string }
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
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
		_, err := tk.Call(context.Background(), Args{User: "ada"})
		taskwaretest.RequireOutcome(t, err, "skipped: lock.locked")
		held := b.Locks(t)
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
