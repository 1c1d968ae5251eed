package lock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
)

// Do guards part of a function, like Huey's `with lock_task("import"):`,
// but the lock has an owner and a TTL, and is renewed while fn runs.
func ExampleDo() {
	locker := memorybackend.New().Locker()
	ctx := context.Background()

	err := lock.Do(ctx, locker, "import", func(ctx context.Context) error {
		// Pass the fencing token to the resource the lock protects.
		fence, _ := lock.Fence(ctx)
		fmt.Println("importing with fence", fence)

		// Meanwhile, a second run finds the lock held.
		err := lock.Do(ctx, locker, "import", func(context.Context) error { return nil })
		fmt.Println("second run:", errors.Is(err, lock.ErrLocked))
		return nil
	}, lock.TTL(time.Minute))
	fmt.Println("done:", err)
	// Output:
	// importing with fence 1
	// second run: true
	// done: <nil>
}

// A Guard fixes the policy once: TTL, how long to wait, renewal. Hold is
// the context to work under; it ends if the lease is lost.
func ExampleGuard_Hold() {
	guard, err := lock.NewGuard(memorybackend.New().Locker(), lock.TTL(10*time.Second), lock.Wait(2*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	h, err := guard.Hold(ctx, "user:42")
	if err != nil {
		fmt.Println(err)
		return
	}
	lease := h.Lease()
	fmt.Println("holding", lease.Key, "for", lease.TTL)
	err = doWork(h) // h is a context.Context
	_ = h.Release(ctx)
	fmt.Println(h.Outcome(err))
	// Output:
	// holding user:42 for 10s
	// <nil>
}

func doWork(ctx context.Context) error { return ctx.Err() }

// NewGuard reports a bad option as an error; middleware.WithLock panics
// with the same error when the chain is built.
func ExampleNewGuard() {
	_, err := lock.NewGuard(memorybackend.New().Locker(), lock.TTL(time.Second), lock.RenewEvery(2*time.Second))
	fmt.Println(err)
	// Output:
	// taskware: invalid configuration: lock: RenewEvery (2s) must be shorter than the TTL (1s) less its drift margin
}
