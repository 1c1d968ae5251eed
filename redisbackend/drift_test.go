package redisbackend_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// Where the Redis backend once did otherwise than the memory backend: each
// test runs over both.

// The record a run's StoreResult writes is written whatever the run's
// outcome, a retry too: the failure of a run that Retry schedules again is
// in the store until the next run replaces it.
func TestStoredFailureOfARetriedRun(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		tk := task.New("flaky", func(ctx context.Context, _ int) (int, error) { return 0, errors.New("boom") },
			middleware.Retry(2, middleware.RetryBackoff(time.Hour, time.Hour)), middleware.StoreResult(b.Store))
		c := worker.NewClient(b.Queue, b.Store)
		h, err := worker.Enqueue(ctx, c, tk, 1)
		if err != nil {
			t.Fatal(err)
		}
		finWorker(t, b, tk)
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, err := h.State(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status == queue.Scheduled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the run was not scheduled again within 5s: %+v", st)
			}
			time.Sleep(10 * time.Millisecond)
		}
		rec, err := b.Store.Get(ctx, h.Queue, h.ID)
		if err != nil {
			t.Fatalf("the failure of the retried run: %v", err)
		}
		if rec.Status != store.Failed || rec.Attempt != 1 || rec.Error != "boom" {
			t.Fatalf("the record of the retried run: %+v, want its failure, attempt 1", rec)
		}
	})
}
