package taskware_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// The examples contend three runs for one lock: run-1 goes first, and the
// others start once it is inside the task.
var (
	firstInside chan struct{} // closed when run-1 is inside
	othersDone  chan struct{} // closed when run-2 and run-3 have returned
	othersWait  bool          // run-2 and run-3 wait for the lock
	first       atomic.Bool
)

// syncAccount syncs one account. The first run holds on until the others
// have returned, or a moment if they must wait for it.
func syncAccount(ctx context.Context, account string) (string, error) {
	if first.CompareAndSwap(false, true) {
		close(firstInside)
		if othersWait {
			time.Sleep(50 * time.Millisecond)
		} else {
			<-othersDone
		}
	}
	return "synced " + account, nil
}

// contend runs t three times on one account, with IDs run-1..run-3, and
// prints each outcome in ID order. waits says whether t waits for its lock.
func contend(t *task.Task[string, string], waits bool) {
	firstInside, othersDone, othersWait = make(chan struct{}), make(chan struct{}), waits
	first.Store(false)
	outcomes := make([]string, 3)
	run := func(i int) {
		inv := &task.Invocation{ID: fmt.Sprintf("run-%d", i+1), EnqueuedAt: time.Now(), Attempt: 1, Args: "acme"}
		res, err := t.Invoke(context.Background(), inv)
		switch {
		case task.IsSkipped(err):
			outcomes[i] = "skipped"
		case errors.Is(err, lock.ErrLocked):
			outcomes[i] = "failed: locked"
		case err != nil:
			outcomes[i] = "failed: " + err.Error()
		default:
			outcomes[i] = res
		}
	}
	var wg, others sync.WaitGroup
	wg.Go(func() { run(0) })
	<-firstInside
	others.Go(func() { run(1) })
	others.Go(func() { run(2) })
	others.Wait()
	close(othersDone)
	wg.Wait()
	for i, o := range outcomes {
		fmt.Printf("run-%d: %s\n", i+1, o)
	}
}

func printStore(s store.Store) {
	recs, _ := s.List(context.Background())
	fmt.Println("stored:", len(recs))
	for _, r := range recs {
		fmt.Println("  " + strings.TrimSpace(r.ID+" "+string(r.Status)+" "+r.Kind))
	}
}

// Huey's default: a lock, and a result store that keeps every outcome. Runs
// that find the lock held fail, and the store keeps those failures too.
func Example_hueyDefault() {
	b := memorybackend.New()
	locker, results := b.Locker(), b.Store()
	report := task.New("sync", syncAccount,
		middleware.StoreResult(results),
		middleware.WithLock(locker, "sync"),
	)
	contend(report, false)
	printStore(results)
	// Output:
	// run-1: synced acme
	// run-2: failed: locked
	// run-3: failed: locked
	// stored: 3
	//   run-1 succeeded
	//   run-2 failed lock.locked
	//   run-3 failed lock.locked
}

// Per task: SkipLocked makes "locked" a clean skip, which is not stored and
// not a failure. A hook counts skips, for a metric instead of the store.
func Example_skipLocked() {
	b := memorybackend.New()
	locker, results := b.Locker(), b.Store()
	var skips int
	var mu sync.Mutex
	report := task.New("sync", syncAccount,
		middleware.StoreResult(results),
		middleware.SkipLocked(func(ctx context.Context, inv *task.Invocation, err error) {
			mu.Lock()
			skips++
			mu.Unlock()
		}),
		middleware.WithLock(locker, "sync"),
	)
	contend(report, false)
	printStore(results)
	fmt.Println("skips counted:", skips)
	// Output:
	// run-1: synced acme
	// run-2: skipped
	// run-3: skipped
	// stored: 1
	//   run-1 succeeded
	// skips counted: 2
}

// A global filter, the analogue of overriding Huey's put_result: one
// StoreResult, shared by every task, that leaves "locked" out of the store.
// Callers still see the error.
func Example_globalFilter() {
	b := memorybackend.New()
	locker, results := b.Locker(), b.Store()
	storeAll := middleware.StoreResult(results,
		middleware.IgnoreErrors(lock.ErrLocked),
		middleware.ErrorTTL(time.Hour),
	)
	report := task.New("sync", syncAccount, storeAll, middleware.WithLock(locker, "sync"))
	contend(report, false)
	printStore(results)
	// Output:
	// run-1: synced acme
	// run-2: failed: locked
	// run-3: failed: locked
	// stored: 1
	//   run-1 succeeded
}

// The "mixed" approach: a default chain for most tasks, and a task that
// needs more overrides it with its own.
func Example_mixed() {
	b := memorybackend.New()
	locker, results := b.Locker(), b.Store()
	defaults := task.Chain(
		middleware.StoreResult(results, middleware.IgnoreErrors(lock.ErrLocked)),
		middleware.Expires(10*time.Minute),
	)
	// Most tasks: the defaults, with a skip when locked.
	cleanup := task.New("cleanup", syncAccount, defaults, middleware.SkipLocked(), middleware.WithLock(locker, "cleanup"))
	// Billing must not be skipped quietly: it waits for the lock, and keeps
	// every failure, for a week.
	billing := task.New("billing", syncAccount,
		middleware.StoreResult(results, middleware.ErrorTTL(7*24*time.Hour)),
		middleware.WithLock(locker, "billing", lock.Wait(5*time.Second)),
	)
	contend(cleanup, false)
	contend(billing, true)
	printStore(results)
	// Output:
	// run-1: synced acme
	// run-2: skipped
	// run-3: skipped
	// run-1: synced acme
	// run-2: synced acme
	// run-3: synced acme
	// stored: 3
	//   run-1 succeeded
	//   run-2 succeeded
	//   run-3 succeeded
}

// lock.Do guards part of a function, like Huey's `with lock_task(...)`,
// with a lock per account derived from the arguments.
func Example_lockDo() {
	locker := memorybackend.New().Locker()
	charge := task.New("charge", func(ctx context.Context, account string) (string, error) {
		// Work that needs no lock comes first...
		err := lock.Do(ctx, locker, "account:"+account, func(ctx context.Context) error {
			fence, _ := lock.Fence(ctx)
			fmt.Println("charging", account, "under fence", fence)
			return nil
		}, lock.TTL(30*time.Second))
		return "charged " + account, err
	})
	fmt.Println(charge.Call(context.Background(), "ada"))
	// Output:
	// charging ada under fence 1
	// charged ada <nil>
}
