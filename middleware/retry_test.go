package middleware_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// flaky fails its first n runs with err, and records the attempts it saw.
type flaky struct {
	n        int
	err      error
	attempts []int
}

func (f *flaky) run(ctx context.Context, inv *task.Invocation) (any, error) {
	f.attempts = append(f.attempts, inv.Attempt)
	if len(f.attempts) <= f.n {
		return nil, f.err
	}
	return "ok", nil
}

func TestRetryInProcess(t *testing.T) {
	boom := errors.New("boom")
	fast := middleware.RetryBackoff(time.Millisecond, 4*time.Millisecond)
	tests := []struct {
		name         string
		fails        int
		err          error
		opts         []middleware.RetryOption
		wantAttempts []int
		wantErr      error
	}{
		{"succeeds at once", 0, boom, nil, []int{1}, nil},
		{"succeeds on the third", 2, boom, nil, []int{1, 2, 3}, nil},
		{"exhausted", 5, boom, nil, []int{1, 2, 3}, middleware.ErrRetriesExhausted},
		{"bad payload not retried", 5, &task.PayloadError{Task: "t", Err: boom}, nil, []int{1}, task.ErrBadPayload},
		{"skips not retried", 5, task.Skip(lock.ErrLocked), nil, []int{1}, task.ErrSkipped},
		{"lease lost retried", 1, lock.ErrLeaseLost, nil, []int{1, 2}, nil},
		{"RetryIf refuses", 5, boom, []middleware.RetryOption{middleware.RetryIf(func(error) bool { return false })}, []int{1}, boom},
		{"RetryIf cannot retry a bad payload", 5, &task.PayloadError{Task: "t", Err: boom}, []middleware.RetryOption{middleware.RetryIf(func(error) bool { return true })}, []int{1}, task.ErrBadPayload},
		{"RetryUnless refuses", 5, &lock.LockedError{Key: "k"}, []middleware.RetryOption{middleware.RetryUnless(lock.ErrLocked)}, []int{1}, lock.ErrLocked},
		{"RetryUnless passes others", 1, boom, []middleware.RetryOption{middleware.RetryUnless(lock.ErrLocked)}, []int{1, 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{n: tt.fails, err: tt.err}
			opts := append([]middleware.RetryOption{fast}, tt.opts...)
			res, err := middleware.Retry(3, opts...)(f.run)(context.Background(), &task.Invocation{ID: "r", Attempt: 1})
			if tt.wantErr == nil && (err != nil || res != "ok") {
				t.Fatalf("outcome %v, %v", res, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("outcome %v, want %v", err, tt.wantErr)
			}
			if len(f.attempts) != len(tt.wantAttempts) {
				t.Fatalf("attempts %v, want %v", f.attempts, tt.wantAttempts)
			}
			for i := range f.attempts {
				if f.attempts[i] != tt.wantAttempts[i] {
					t.Fatalf("attempts %v, want %v", f.attempts, tt.wantAttempts)
				}
			}
		})
	}
}

func TestRetryExhaustedKeepsKind(t *testing.T) {
	f := &flaky{n: 9, err: context.DeadlineExceeded}
	_, err := middleware.Retry(2, middleware.RetryBackoff(time.Millisecond, time.Millisecond))(f.run)(
		context.Background(), &task.Invocation{Attempt: 1})
	var ex *middleware.RetriesExhaustedError
	if !errors.As(err, &ex) || ex.Attempts != 2 || task.KindOf(err) != task.KindTimeout {
		t.Fatalf("outcome %v (kind %q)", err, task.KindOf(err))
	}
}

// Under a worker, Retry asks for a requeue, with a backoff that grows, and
// never sleeps.
func TestRetryRequeuesUnderWorker(t *testing.T) {
	boom := errors.New("boom")
	mw := middleware.Retry(4, middleware.RetryBackoff(100*time.Millisecond, 250*time.Millisecond))
	ctx := context.Background()
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 250 * time.Millisecond} {
		f := &flaky{n: 9, err: boom}
		start := time.Now()
		_, err := mw(f.run)(ctx, &task.Invocation{Attempt: attempt, CanRequeue: true})
		var rq *task.RequeueError
		if !errors.As(err, &rq) || !rq.Retry || !errors.Is(err, boom) || len(f.attempts) != 1 {
			t.Fatalf("attempt %d: %v after %d runs", attempt, err, len(f.attempts))
		}
		if rq.After < want/2 || rq.After > want {
			t.Fatalf("attempt %d: backoff %v, want within [%v, %v]", attempt, rq.After, want/2, want)
		}
		if time.Since(start) > 50*time.Millisecond {
			t.Fatal("Retry slept under a worker")
		}
	}
	f := &flaky{n: 9, err: boom}
	if _, err := mw(f.run)(ctx, &task.Invocation{Attempt: 4, CanRequeue: true}); !errors.Is(err, middleware.ErrRetriesExhausted) || errors.Is(err, task.ErrRequeued) {
		t.Fatalf("last attempt: %v", err)
	}
}

func TestNewPoliciesRejectBadConfig(t *testing.T) {
	for name, build := range map[string]func(){
		"Retry 0":               func() { middleware.Retry(0) },
		"Retry bad backoff":     func() { middleware.Retry(3, middleware.RetryBackoff(time.Second, time.Millisecond)) },
		"Retry nil RetryIf":     func() { middleware.Retry(3, middleware.RetryIf(nil)) },
		"RetryUnless nil":       func() { middleware.Retry(3, middleware.RetryUnless(nil)) },
		"Timeout 0":             func() { middleware.Timeout(0) },
		"RescheduleLocked zero": func() { middleware.RescheduleLocked(0) },
	} {
		func() {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("%s: panic %v", name, err)
				}
			}()
			build()
		}()
	}
}

// A run its worker abandons is not over: neither stored nor retried.
func TestAbandonedRunIsNotFinal(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(task.ErrAbandoned)
	s := memorybackend.New().Store()
	f := &flaky{n: 9, err: context.Canceled}
	run := task.Chain(middleware.StoreResult(s), middleware.Retry(5))(f.run)
	_, err := run(ctx, &task.Invocation{ID: "a", Attempt: 1, CanRequeue: true})
	if !errors.Is(err, context.Canceled) || errors.Is(err, task.ErrRequeued) || len(f.attempts) != 1 {
		t.Fatalf("outcome %v after %d runs", err, len(f.attempts))
	}
	if _, err := s.Get(context.Background(), "", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an abandoned run was stored: %v", err)
	}
}

// RetryUpTo counts retries, Retry runs: RetryUpTo(3) and Retry(4) both run
// a task that keeps failing four times.
func TestRetryUpToCountsRetries(t *testing.T) {
	boom := errors.New("boom")
	fast := middleware.RetryBackoff(time.Millisecond, 2*time.Millisecond)
	for name, tt := range map[string]struct {
		mw   task.Middleware
		runs int
	}{
		"RetryUpTo(3)": {middleware.RetryUpTo(3, fast), 4},
		"Retry(4)":     {middleware.Retry(4, fast), 4},
		"RetryUpTo(0)": {middleware.RetryUpTo(0, fast), 1},
		"Retry(1)":     {middleware.Retry(1, fast), 1},
	} {
		t.Run(name, func(t *testing.T) {
			f := &flaky{n: 99, err: boom}
			_, err := tt.mw(f.run)(context.Background(), &task.Invocation{ID: "r", Attempt: 1})
			var ex *middleware.RetriesExhaustedError
			if !errors.As(err, &ex) || ex.Attempts != tt.runs || !errors.Is(err, boom) {
				t.Fatalf("outcome %v, want exhausted after %d attempts", err, tt.runs)
			}
			if len(f.attempts) != tt.runs {
				t.Fatalf("ran %d times (attempts %v), want %d", len(f.attempts), f.attempts, tt.runs)
			}
		})
	}
	func() {
		defer func() {
			if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) || !strings.Contains(err.Error(), "RetryUpTo") {
				t.Errorf("RetryUpTo(-1): panic %v", err)
			}
		}()
		middleware.RetryUpTo(-1)
	}()
}
