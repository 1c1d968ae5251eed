package taskwaretest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/worker"
)

// StartWorker runs w until t ends, or until stop is called, and fails t if
// Run fails or does not return within 10 seconds of being stopped.
func StartWorker(t testing.TB, w *worker.Worker) (stop func()) {
	t.Helper()
	return Start(t, w)
}

// Runner is what runs until its ctx ends: a *worker.Worker, a
// *schedule.Scheduler.
type Runner interface {
	Run(ctx context.Context) error
}

// Start runs r until t ends, or until stop is called, and fails t if Run
// fails or does not return within 10 seconds of being stopped.
func Start(t testing.TB, r Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("taskwaretest: %T Run: %v", r, err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("taskwaretest: %T Run did not return within 10s of its stop", r)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// Get waits up to d for h's outcome, as h.Get does.
func Get[R any](h *worker.Handle[R], d time.Duration) (R, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return h.Get(ctx)
}
