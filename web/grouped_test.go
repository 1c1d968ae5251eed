package web

import (
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// The overview counts each queue's tasks waiting in their groups for a
// batch (queue.Stats.Grouped), in none of its other counts.
func TestOverviewGrouped(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		m := &queue.Message{ID: "g-1", Task: "email", Queue: "side", Payload: []byte(`"x"`), EnqueuedAt: time.Now(),
			Attempt: 1, Group: "k"}
		if err := e.b.q.Enqueue(t.Context(), m, time.Time{}); err != nil {
			t.Fatal(err)
		}
		body := e.page(t, "")
		wantCell(t, body, "queue-side", "grouped", "1")
		wantCell(t, body, "queue-side", "ready", "0")
		wantCell(t, body, "queue-default", "grouped", "0")
	})
}
