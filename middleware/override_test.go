package middleware_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
)

// The header task.HeaderRetries replaces Retry's configured count for one
// run, up to task.MaxHeaderRetries; a malformed one is ignored.
func TestRetryHeaderOverrides(t *testing.T) {
	boom := errors.New("boom")
	fast := middleware.RetryBackoff(time.Millisecond, time.Millisecond)
	tests := []struct {
		name       string
		configured task.Middleware
		header     map[string]string
		runs       int
	}{
		{"no header", middleware.RetryUpTo(1, fast), nil, 2},
		{"other headers", middleware.RetryUpTo(1, fast), map[string]string{"tenant": "a"}, 2},
		{"raised", middleware.RetryUpTo(1, fast), map[string]string{task.HeaderRetries: "2"}, 3},
		{"lowered", middleware.Retry(5, fast), map[string]string{task.HeaderRetries: "1"}, 2},
		{"none", middleware.Retry(5, fast), map[string]string{task.HeaderRetries: "0"}, 1},
		{"capped", middleware.RetryUpTo(0, fast), map[string]string{task.HeaderRetries: "1000"}, task.MaxHeaderRetries + 1},
		{"malformed", middleware.RetryUpTo(1, fast), map[string]string{task.HeaderRetries: "lots"}, 2},
		{"negative", middleware.RetryUpTo(1, fast), map[string]string{task.HeaderRetries: "-3"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{n: 999, err: boom}
			_, err := tt.configured(f.run)(context.Background(), &task.Invocation{ID: "r", Attempt: 1, Headers: tt.header})
			if !errors.Is(err, middleware.ErrRetriesExhausted) || len(f.attempts) != tt.runs {
				t.Fatalf("%v after %d runs, want exhausted after %d", err, len(f.attempts), tt.runs)
			}
		})
	}
}

// Under a worker the header is read again on every attempt: the run that
// reaches the overridden count is the last.
func TestRetryHeaderUnderWorker(t *testing.T) {
	boom := errors.New("boom")
	mw := middleware.RetryUpTo(1, middleware.RetryBackoff(time.Millisecond, time.Millisecond))
	ctx := context.Background()
	h := map[string]string{task.HeaderRetries: "2"}
	for attempt, requeued := range map[int]bool{1: true, 2: true, 3: false} {
		_, err := mw(returns(nil, boom))(ctx, &task.Invocation{Attempt: attempt, Headers: h, CanRequeue: true})
		if errors.Is(err, task.ErrRequeued) != requeued || errors.Is(err, middleware.ErrRetriesExhausted) == requeued {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
}

// The header task.HeaderTimeout replaces Timeout's d for one run, shorter
// or longer; a malformed one is ignored.
func TestTimeoutHeaderOverrides(t *testing.T) {
	tests := []struct {
		name     string
		header   map[string]string
		min, max time.Duration // the deadline the run sees, from its start
	}{
		{"no header", nil, 900 * time.Millisecond, time.Second},
		{"shorter", map[string]string{task.HeaderTimeout: "50ms"}, 0, 50 * time.Millisecond},
		{"longer", map[string]string{task.HeaderTimeout: "1m"}, 59 * time.Second, time.Minute},
		{"capped", map[string]string{task.HeaderTimeout: "1000h"}, task.MaxHeaderTimeout - time.Minute, task.MaxHeaderTimeout},
		{"malformed", map[string]string{task.HeaderTimeout: "50"}, 900 * time.Millisecond, time.Second},
		{"not positive", map[string]string{task.HeaderTimeout: "-5s"}, 900 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var left time.Duration
			fn := func(ctx context.Context, inv *task.Invocation) (any, error) {
				dl, ok := ctx.Deadline()
				if !ok {
					return nil, errors.New("no deadline")
				}
				left = time.Until(dl)
				return nil, nil
			}
			if _, err := middleware.Timeout(time.Second)(fn)(context.Background(), &task.Invocation{Headers: tt.header}); err != nil {
				t.Fatal(err)
			}
			if left < tt.min || left > tt.max {
				t.Fatalf("the run had %v left, want within [%v, %v]", left, tt.min, tt.max)
			}
		})
	}
}

// Without the headers, Retry and Timeout read them at no allocation: the
// chain costs what it did.
func TestOverrideHeadersAllocateNothingWhenAbsent(t *testing.T) {
	ok := returns("ok", nil)
	retry := middleware.RetryUpTo(3)(ok)
	for _, h := range []map[string]string{nil, {"tenant": "a"}, {task.HeaderRetries: strconv.Itoa(3)}} {
		inv := &task.Invocation{Attempt: 1, Headers: h}
		if n := testing.AllocsPerRun(100, func() { _, _ = retry(context.Background(), inv) }); n != 0 {
			t.Errorf("Retry with headers %v: %v allocations, want 0", h, n)
		}
	}
}
