package web

import (
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// A running task's page shows its progress as a bar with an accessible
// label, and the JSON API has it; a task that reported none shows no bar.
func TestTaskProgress(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		q := e.b.q
		for _, id := range []string{"idx-1", "idx-2"} {
			if err := q.Enqueue(ctx, &queue.Message{ID: id, Task: "index", Queue: "pg"}, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := q.Take(ctx, "pg", "worker-9", 1, 0)
		if err != nil || len(ds) != 1 || ds[0].ID != "idx-1" {
			t.Fatalf("Take = %v, %v", ds, err)
		}
		q.Started(ctx, ds[0], "worker-9", time.Now())
		if err := q.Progress(ctx, ds[0], queue.Progress{Done: 40, Total: 100, Message: "indexing <docs>", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		var d taskData
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) { // written without waiting
			e.api(t, "task?queue=pg&id=idx-1", &d)
			if d.Progress != nil || time.Now().After(end) {
				break
			}
		}
		if p := d.Progress; p == nil || p.Done != 40 || p.Total != 100 || p.Message != "indexing <docs>" {
			t.Fatalf("api task: progress %+v, want 40/100 indexing <docs>", p)
		}
		body := e.page(t, "task?queue=pg&id=idx-1")
		want := `<progress value="40" max="100" aria-label="Progress: 40/100 (40%) indexing &lt;docs&gt;"></progress>`
		if !strings.Contains(body, want) {
			t.Fatalf("task page has no %s:\n%s", want, body)
		}
		// The listing of running tasks shows it too.
		list := e.page(t, "tasks?queue=pg&state=running")
		cell(t, list, "task-idx-1", "progress") // fails t if the row has none
		bar := `value="40" max="100" aria-label="Progress: 40/100 (40%) indexing &lt;docs&gt;"></progress>`
		if row := list[strings.Index(list, `data-testid="task-idx-1"`):]; !strings.Contains(row, bar) {
			t.Fatalf("running tasks: no %s in the row of idx-1:\n%s", bar, row)
		}
		if body := e.page(t, "task?queue=pg&id=idx-2"); strings.Contains(body, "<progress") {
			t.Error("a task that reported no progress shows a bar")
		}
	})
}
