package worker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A task enqueued by name with its arguments encoded already runs as one
// enqueued with Enqueue, with Enqueue's options; a duplicate ID, an
// oversized payload and a bad option are refused.
func TestEnqueuePayload(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		double := task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil }, middleware.StoreResult(b.Store))
		c := worker.NewClient(b.Queue, b.Store, worker.MaxPayloadSize(8))
		payload, err := double.Encode(21)
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.EnqueuePayload(ctx, "double", payload, worker.ID("d1"), worker.OnQueue("math"))
		if err != nil || id != "d1" {
			t.Fatalf("EnqueuePayload = %q, %v", id, err)
		}
		w := worker.New(b.Queue, fast(worker.Queues("math=1"))...)
		worker.Register(w, double)
		start(t, w)
		if got, err := getWithin(t, worker.HandleOf(c, double, "math", id), 5*time.Second); err != nil || got != 42 {
			t.Fatalf("result %d, %v; want 42", got, err)
		}
		if _, err := c.EnqueuePayload(ctx, "double", payload, worker.ID("d1"), worker.OnQueue("math")); !errors.Is(err, queue.ErrDuplicate) {
			t.Errorf("the same ID again: %v; want ErrDuplicate", err)
		}
		if _, err := c.EnqueuePayload(ctx, "double", []byte("123456789")); !errors.Is(err, task.ErrTooLarge) {
			t.Errorf("9 bytes over a cap of 8: %v; want ErrTooLarge", err)
		}
		for what, opts := range map[string][]worker.EnqueueOption{"IDs": {worker.IDs("a")}, "no task": nil} {
			name := "double"
			if what == "no task" {
				name = ""
			}
			if _, err := c.EnqueuePayload(ctx, name, payload, opts...); !errors.Is(err, task.ErrInvalidConfig) {
				t.Errorf("%s: %v; want ErrInvalidConfig", what, err)
			}
		}
	})
}
