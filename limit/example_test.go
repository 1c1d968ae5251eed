package limit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/memorybackend"
)

// Allow counts an event if the limit lets it through, and otherwise says
// exactly when to come back.
func ExampleRateLimiter() {
	rl := memorybackend.New().RateLimiter()
	ctx := context.Background()
	for i := range 4 {
		d, err := rl.Allow(ctx, "emails", limit.PerMinute(60), 3) // one a second, 3 at once
		if err != nil {
			fmt.Println(err)
			return
		}
		if d.Allowed {
			fmt.Println(i, "sent;", d.Remaining, "more now")
		} else {
			fmt.Println(i, "refused; retry in about", d.RetryAfter.Round(time.Second))
		}
	}
	// Output:
	// 0 sent; 2 more now
	// 1 sent; 1 more now
	// 2 sent; 0 more now
	// 3 refused; retry in about 1s
}

// GCRA is the algorithm itself, on any clock: here with a burst of 1, one
// event per interval, and the refusal in between says how long to wait.
func ExampleGCRA() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var tat time.Time
	for _, at := range []time.Duration{0, 30 * time.Millisecond, 100 * time.Millisecond} {
		d, next := limit.GCRA(t0.Add(at), tat, 100*time.Millisecond, 1)
		if d.Allowed {
			tat = next
		}
		fmt.Printf("at %v: allowed %v, retry after %v\n", at, d.Allowed, d.RetryAfter)
	}
	// Output:
	// at 0s: allowed true, retry after 0s
	// at 30ms: allowed false, retry after 70ms
	// at 100ms: allowed true, retry after 0s
}

// A Keeper holds a permit while fn runs, renewed, and gives it back on
// every outcome; over the limit, the error says so.
func ExampleKeeper_Do() {
	keeper, err := limit.NewKeeper(memorybackend.New().Semaphore(), 1, limit.TTL(10*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	err = keeper.Do(ctx, "db", func(ctx context.Context) error {
		// Meanwhile, a second holder finds the only permit taken.
		err := keeper.Do(ctx, "db", func(context.Context) error { return nil })
		fmt.Println("second:", errors.Is(err, limit.ErrConcurrencyLimited), err)
		return nil
	})
	fmt.Println("first:", err)
	// Output:
	// second: true limit "db": 1 of 1 permits held
	// first: <nil>
}
