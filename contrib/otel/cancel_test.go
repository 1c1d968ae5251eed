package taskotel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	taskotel "github.com/taskware/taskware/contrib/otel"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// The README's production wiring cancels: the traced Producer is a whole
// queue.Producer, Cancel included (it once hid Cancel, and h.Cancel
// failed with "cannot cancel tasks").
func TestCancelThroughProducer(t *testing.T) {
	b := memorybackend.New()
	client := worker.NewClient(taskotel.Producer(b.Queue()), b.Store())
	report := task.New("report", func(ctx context.Context, day string) (int, error) { return 1, nil })
	h, err := worker.Enqueue(context.Background(), client, report, "2026-12-03", worker.Delay(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Cancel(context.Background())
	if err != nil || out != queue.CancelDone {
		t.Fatalf("Cancel = %q, %v; want %q", out, err, queue.CancelDone)
	}
	if _, err := h.TryGet(context.Background()); !errors.Is(err, queue.ErrCanceled) {
		t.Fatalf("the canceled task's outcome: %v, want queue.ErrCanceled", err)
	}
}
