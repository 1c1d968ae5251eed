package web

import (
	"strings"
	"testing"

	"github.com/taskware/taskware/redisbackend"
)

// The overview shows each queue's partitions, and a split queue's page
// says it is split and how its tasks are listed.
func TestPartitionsShown(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		want := "1"
		if rq, ok := e.b.q.(*redisbackend.Queue); ok {
			if err := rq.SetPartitions(t.Context(), "default", 3); err != nil {
				t.Fatal(err)
			}
			want = "3"
		}
		body := e.page(t, "")
		wantCell(t, body, "queue-default", "partitions", want)
		wantCell(t, body, "queue-side", "partitions", "1")
		tasks := e.page(t, "tasks?queue=default&state=ready")
		if split := strings.Contains(tasks, `data-testid="partitions"`); split != (want == "3") {
			t.Errorf("the page of default says it is split: %v, want %v", split, want == "3")
		}
		if want == "3" && !strings.Contains(tasks, "split into 3 partitions") {
			t.Errorf("the page of default does not say into how many partitions it is split")
		}
	})
}
