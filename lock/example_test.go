package lock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/lock"
)

// Do guards part of a function, like Huey's `with lock_task("import"):`,
// but the lock has an owner and a TTL, and is renewed while fn runs.
func ExampleDo() {
	locker := lock.NewMemory()
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

// NewRedis keeps locks on Redis; here an embedded miniredis stands in.
func ExampleNewRedis() {
	srv, _ := miniredis.Run()
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	locker := lock.NewRedis(client, lock.WithPrefix("myapp:"), lock.WithHolder("worker-1"))
	ctx := context.Background()
	lease, err := locker.TryAcquire(ctx, "nightly-report", 30*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = locker.TryAcquire(ctx, "nightly-report", 30*time.Second)
	fmt.Println(err)

	held, _ := locker.Held(ctx)
	for _, h := range held {
		fmt.Println("held:", h.Key, "by", h.Holder)
	}
	fmt.Println(locker.Release(ctx, lease))
	// Output:
	// lock "nightly-report": held by worker-1 (expires in 30s)
	// held: nightly-report by worker-1
	// <nil>
}

// A Guard fixes the policy once: TTL, how long to wait, renewal. Hold is
// the context to work under; it ends if the lease is lost.
func ExampleGuard_Hold() {
	guard, err := lock.NewGuard(lock.NewMemory(), lock.TTL(10*time.Second), lock.Wait(2*time.Second))
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
	_, err := lock.NewGuard(lock.NewMemory(), lock.TTL(time.Second), lock.RenewEvery(2*time.Second))
	fmt.Println(err)
	// Output:
	// taskware: invalid configuration: lock: RenewEvery (2s) must be shorter than the TTL (1s)
}
