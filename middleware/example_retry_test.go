package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
)

// RetryUpTo counts retries, Retry runs: RetryUpTo(3) runs a task that
// keeps failing four times, the first run and three retries, as Retry(4)
// does.
func ExampleRetryUpTo() {
	runs := 0
	flaky := task.New("flaky", func(ctx context.Context, _ struct{}) (string, error) {
		runs++
		return "", errors.New("the remote end is down")
	}, middleware.RetryUpTo(3, middleware.RetryBackoff(time.Millisecond, time.Millisecond)))

	_, err := flaky.Call(context.Background(), struct{}{})
	fmt.Println(runs, "runs:", err)
	// Output:
	// 4 runs: failed after 4 attempts: the remote end is down
}
