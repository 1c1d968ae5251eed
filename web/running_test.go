package web

import (
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// A running task shows how long it has run, from the start its worker
// recorded; one whose start is not recorded yet shows none.
func TestRunningFor(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		q := e.b.q
		if err := q.Enqueue(ctx, &queue.Message{ID: "long-1", Task: "email", Queue: "long"}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		ds, err := q.Take(ctx, "long", "worker-9", 1, 0)
		if err != nil || len(ds) != 1 {
			t.Fatalf("Take = %v, %v", ds, err)
		}
		q.Started(ctx, ds[0], "worker-9", time.Now().Add(-90*time.Second))
		var d tasksData
		deadline := time.Now().Add(5 * time.Second)
		for {
			e.api(t, "tasks?queue=long&state=running", &d)
			if len(d.Tasks) == 1 && !d.Tasks[0].StartedAt.IsZero() || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond) // a start is recorded without waiting
		}
		if len(d.Tasks) != 1 || !strings.HasPrefix(d.Tasks[0].RunningFor(), "1m3") {
			t.Fatalf("running tasks %+v; want long-1, running for 1m30s", d.Tasks)
		}
		body := e.page(t, "tasks?queue=long&state=running")
		if got := cell(t, body, "task-long-1", "running-for"); !strings.HasPrefix(got, "1m3") {
			t.Errorf("running for %q, want 1m30s", got)
		}
		if got := d.Live[liveKey("task", "long-1", "running_for")]; !strings.HasPrefix(got, "1m3") {
			t.Errorf("live running for %q, want 1m30s", got)
		}
		// e-1 of the seed is taken, its start not recorded.
		body = e.page(t, "tasks?queue=default&state=running")
		if strings.Contains(body, `data-testid="running-for"`) {
			t.Error("a task whose start is unknown shows a running time")
		}
	})
}

// RunningFor is of running tasks only.
func TestRunningForOnlyRunning(t *testing.T) {
	started := time.Now().Add(-time.Minute)
	if got := (rows.Task{Status: "succeeded", StartedAt: started}).RunningFor(); got != "" {
		t.Errorf("a succeeded task runs for %q", got)
	}
	if got := (rows.Task{Status: "running"}).RunningFor(); got != "" {
		t.Errorf("a task of unknown start runs for %q", got)
	}
}
