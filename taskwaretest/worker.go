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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("taskwaretest: worker Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("taskwaretest: worker Run did not return within 10s of its stop")
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
